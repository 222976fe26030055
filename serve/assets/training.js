// gpt serve's training view: runs, metrics polled incrementally, curves and heatmaps (common.js first).
'use strict';

// ---- runs ----
// A run keeps its colour while the page is open, whatever runs appear later (first seen, first colour;
// the opened run is seen first).
function runColour(name) {
  state.colours = state.colours || {};
  if (!(name in state.colours)) state.colours[name] = COLOURS[Object.keys(state.colours).length % COLOURS.length];
  return state.colours[name];
}

async function refreshRuns() {
  const { runs } = await api('/api/runs');
  // Rebuilt when a run appears or goes, or gains its first checkpoint (the select's label says so).
  const signature = runs.map((r) => r.name + (r.checkpoint ? '+' : '-')).join('\n');
  if (signature !== state.runsSignature) {
    state.runsSignature = signature;
    const select = $('model-run');
    const previous = select.value || new URLSearchParams(location.search).get('run') || '';
    select.innerHTML = '';
    for (const r of runs) select.add(new Option(r.name + (r.checkpoint ? '' : ' (no checkpoint yet)'), r.name));
    select.value = runs.some((r) => r.name === previous) ? previous : (runs.find((r) => r.checkpoint) || runs[0] || {}).name || '';
    const gained = select.value && select.value === state.model && !state.runs.find((r) => r.name === state.model && r.checkpoint) &&
      runs.find((r) => r.name === state.model && r.checkpoint);
    if (select.value !== state.model || gained) {
      state.model = select.value;
      if (state.model) { runColour(state.model); state.checked.add(state.model); }  // the opened run is shown
      state.runs = runs;
      loadModelInfo();
    }
    const list = $('run-list');
    list.innerHTML = '';
    runs.forEach((r) => {
      const label = document.createElement('label');
      label.innerHTML = `<input type="checkbox"><span class="swatch" style="background:${runColour(r.name)}"></span>`;
      label.append(r.name);
      const box = label.querySelector('input');
      box.checked = state.checked.has(r.name);
      box.onchange = () => { box.checked ? state.checked.add(r.name) : state.checked.delete(r.name); drawTraining(); };
      list.appendChild(label);
    });
  }
  state.runs = runs;
  if (!runs.length) showError('no runs here yet: start gpt train with --out_dir inside the served folder');
}

// Only the records a poll has not seen come back (since=N): append them column by column.
function appendMetrics(old, fresh) {
  for (const key of ['step', 'train_loss', 'val_loss', 'lr', 'grad_norm', 'samples']) for (const v of fresh[key]) old[key].push(v);
  for (const key of ['grad_norms', 'update_ratios']) {
    old[key].names = fresh[key].names;
    for (const v of fresh[key].steps) old[key].steps.push(v);
    for (const v of fresh[key].values) old[key].values.push(v);
  }
  old.records = fresh.records;
  return old;
}

async function pollTraining() {
  try {
    await refreshRuns();
    const wanted = new Set([...state.checked, state.model]);
    for (const name of wanted) {
      if (!name || !state.runs.some((r) => r.name === name)) { delete state.metrics[name]; continue; }
      const old = state.metrics[name];
      const fresh = await api('/api/metrics?run=' + encodeURIComponent(name) + '&since=' + (old ? old.records : 0));
      state.metrics[name] = old && fresh.from > 0 ? appendMetrics(old, fresh) : fresh;
    }
    if (!$('view-training').hidden) drawTraining();
    if ($('error').textContent.startsWith('metrics:')) showError('');
  } catch (e) {
    showError('metrics: ' + e.message);
  }
}

// ---- training view ----
function drawTraining() {
  const loss = [], lr = [], grad = [];
  for (const name of state.checked) {
    const m = state.metrics[name];
    if (!m) continue;
    const colour = runColour(name);
    loss.push({ label: name + ' train', x: m.step, y: m.train_loss, colour });
    loss.push({ label: name + ' val', x: m.step, y: m.val_loss, colour, dashed: true });
    lr.push({ label: name, x: m.step, y: m.lr, colour });
    grad.push({ label: name, x: m.step, y: m.grad_norm, colour });
  }
  // ln V: the loss of a uniform guess over the opened run's vocabulary, where training starts.
  const V = state.config && state.checked.has(state.model) ? state.config.tokens : null;
  const lines = V ? [{ y: Math.log(V), label: `ln V = ln ${V} = ${fmt(Math.log(V))}` }] : [];
  const zoom = { zoom: true, redraw: drawTraining };
  lineChart($('chart-loss'), loss, { ...zoom, lines, yName: t('axis.loss') });
  lineChart($('chart-lr'), lr, { ...zoom, yName: t('axis.lr') });
  lineChart($('chart-grad'), grad, { ...zoom, log: true, yName: t('axis.grad') });
  const m = state.metrics[state.model];
  heatmap($('heat-grad'), m && m.grad_norms, t('axis.grad'), false);
  heatmap($('heat-update'), m && m.update_ratios, t('axis.update'), true);
  drawSamples($('samples'), m && m.samples);
}

// The text sampled at each evaluation (gpt train --eval_sample_tokens), newest first: how the model's
// writing changes as the loss falls.
function drawSamples(container, samples) {
  container.innerHTML = '';
  if (!samples || !samples.length) { container.textContent = t('tr.no_samples'); return; }
  const shown = samples.slice().reverse().slice(0, 8);
  if (samples.length > shown.length) container.append(t('tr.latest', { n: shown.length, m: samples.length }));
  for (const s of shown) {
    const item = document.createElement('div');
    item.className = 'sample';
    const step = document.createElement('b');
    step.textContent = t('axis.step') + ' ' + s.step;
    const text = document.createElement('pre');
    text.textContent = s.text;
    item.append(step, text);
    container.appendChild(item);
  }
}

// A [parameter × step] heatmap on a log10 colour scale, with a colour bar whose ticks are powers of ten
// (ruleOfThumb: the update ratio's 1e-3 in bold). what: the quantity's name, in the page's language.
function heatmap(container, data, what, ruleOfThumb) {
  container.innerHTML = '';
  if (!data || !data.steps.length) { container.textContent = t('tr.not_logged', { what }); return; }
  const values = [];
  for (const row of data.values) for (const v of row) if (v !== null && v > 0) values.push(v);
  const lo = Math.floor(Math.log10(minOf(values))), hi = Math.ceil(Math.log10(maxOf(values)));
  const span = Math.max(hi - lo, 1);
  const names = data.names;
  // At most 600 columns: a long run shows every k-th logged step.
  const stride = Math.ceil(data.steps.length / 400);
  const columns = data.steps.map((_, i) => i).filter((i) => i % stride === 0);
  const steps = columns.map((i) => data.steps[i]);
  const cellW = Math.max(1, Math.min(24, Math.floor(600 / steps.length))), cellH = 14, labelW = 190;
  const canvas = document.createElement('canvas');
  canvas.width = labelW + steps.length * cellW + 90; canvas.height = names.length * cellH + 30;
  const g = canvas.getContext('2d');
  g.font = '11px monospace'; g.fillStyle = '#333';
  names.forEach((n, r) => g.fillText(n.length > 28 ? '…' + n.slice(-27) : n, 2, r * cellH + 11));
  columns.forEach((i, c) => names.forEach((_, r) => {
    const v = data.values[i][r];
    g.fillStyle = v === null || v === undefined || v <= 0 ? '#eee' : viridisLike((Math.log10(v) - lo) / span);
    g.fillRect(labelW + c * cellW, r * cellH, cellW, cellH - 1);
  }));
  g.fillStyle = '#333';
  [0, steps.length - 1].forEach((c) => g.fillText(t('axis.step') + ' ' + steps[c], labelW + c * cellW - (c ? 40 : 0), names.length * cellH + 14));
  const barX = labelW + steps.length * cellW + 10, barH = names.length * cellH;
  for (let y = 0; y < barH; ++y) { g.fillStyle = viridisLike(1 - y / barH); g.fillRect(barX, y, 14, 1); }
  g.fillStyle = '#333';
  for (let e = lo; e <= hi; ++e) {
    const y = barH - (e - lo) / span * barH;
    g.fillRect(barX + 14, y, 4, 1);
    g.font = e === -3 && ruleOfThumb ? 'bold 11px monospace' : '11px monospace';  // the rule of thumb's 1e-3
    g.fillText('1e' + e, barX + 20, Math.min(Math.max(y + 4, 10), barH));
  }
  canvas.onmousemove = (e) => {
    const r = canvas.getBoundingClientRect(), k = canvas.width / r.width;  // the canvas may be drawn narrower (max-width)
    const c = Math.floor(((e.clientX - r.left) * k - labelW) / cellW), row = Math.floor((e.clientY - r.top) * k / cellH);
    if (c < 0 || c >= steps.length || row < 0 || row >= names.length) return tooltip(e, '');
    tooltip(e, `${names[row]}\n${t('axis.step')} ${steps[c]}: ${fmt(data.values[columns[c]][row])}`);
  };
  canvas.onmouseleave = () => tooltip(null, '');
  container.appendChild(canvas);
}
