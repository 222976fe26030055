// gpt serve's page: plain JavaScript, SVG and canvas, nothing loaded from the network. Every number
// comes from the JSON API (serve/server.h); this file only draws.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { runs: [], checked: new Set(), model: '', metrics: {}, zoom: null, forward: null, backprop: null };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

// ---- plumbing ----
function showError(message) {
  const box = $('error');
  box.textContent = message || '';
  box.hidden = !message;
}

async function api(path, body) {
  const options = body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({ error: 'HTTP ' + response.status }));
  if (!response.ok) throw new Error(data.error || 'HTTP ' + response.status);
  return data;
}

function svgElement(name, attributes, parent) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', name);
  for (const [k, v] of Object.entries(attributes || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function tooltip(event, text) {
  const t = $('tooltip');
  if (!text) { t.hidden = true; return; }
  t.textContent = text;
  t.hidden = false;
  t.style.left = Math.min(event.clientX + 14, window.innerWidth - t.offsetWidth - 4) + 'px';
  t.style.top = (event.clientY + 14) + 'px';
}

// Math.min(...xs) overflows the call stack past ~100k values: a long run's metrics get there.
const minOf = (xs) => xs.reduce((a, b) => (b < a ? b : a), Infinity);
const maxOf = (xs) => xs.reduce((a, b) => (b > a ? b : a), -Infinity);
const fmt = (x) => x === null || x === undefined ? '–' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : (+x.toPrecision(4)).toString();

// Colour scales: sequential (white → dark blue) for probabilities, log magnitudes; diverging for signed values.
function sequential(t) {
  t = Math.max(0, Math.min(1, t));
  const r = Math.round(255 - t * (255 - 8)), g = Math.round(255 - t * (255 - 48)), b = Math.round(255 - t * (255 - 107));
  return `rgb(${r},${g},${b})`;
}
function viridisLike(t) {  // dark purple → teal → yellow: readable in print and for most colour-blind readers
  t = Math.max(0, Math.min(1, t));
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = t * (stops.length - 1), i = Math.min(Math.floor(x), stops.length - 2), f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
function diverging(v, scale) {
  const t = Math.max(-1, Math.min(1, v / (scale || 1)));
  return t >= 0 ? `rgb(255,${Math.round(255 - 200 * t)},${Math.round(255 - 200 * t)})` : `rgb(${Math.round(255 + 200 * t)},${Math.round(255 + 200 * t)},255)`;
}

// ---- tabs and runs ----
function showView(name) {
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.view === name);
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + name;
  if (name === 'forward') refreshForward();
  if (name === 'backprop') refreshBackprop();
}

async function refreshRuns() {
  const { runs } = await api('/api/runs');
  const names = runs.map((r) => r.name).join('\n');
  if (names !== state.runs.map((r) => r.name).join('\n')) {
    if (state.checked.size === 0 && runs.length) runs.slice(0, 4).forEach((r) => state.checked.add(r.name));
    const list = $('run-list');
    list.innerHTML = '';
    runs.forEach((r, i) => {
      const label = document.createElement('label');
      label.innerHTML = `<input type="checkbox"><span class="swatch" style="background:${COLOURS[i % COLOURS.length]}"></span>`;
      label.append(r.name);
      const box = label.querySelector('input');
      box.checked = state.checked.has(r.name);
      box.onchange = () => { box.checked ? state.checked.add(r.name) : state.checked.delete(r.name); drawTraining(); };
      list.appendChild(label);
    });
    const select = $('model-run');
    const previous = select.value;
    select.innerHTML = '';
    for (const r of runs) select.add(new Option(r.name + (r.checkpoint ? '' : ' (no checkpoint yet)'), r.name));
    select.value = runs.some((r) => r.name === previous) ? previous : (runs.find((r) => r.checkpoint) || runs[0] || {}).name || '';
    state.model = select.value;
  }
  state.runs = runs;
  if (!runs.length) showError('no runs here yet: start gpt train with --out_dir inside the served folder');
}

// Only the records a poll has not seen come back (since=N): append them column by column.
function appendMetrics(old, fresh) {
  for (const key of ['step', 'train_loss', 'val_loss', 'lr', 'grad_norm']) for (const v of fresh[key]) old[key].push(v);
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
function runColour(name) {
  const i = state.runs.findIndex((r) => r.name === name);
  return COLOURS[(i < 0 ? 0 : i) % COLOURS.length];
}

// A line chart of several series over the step axis, with hover read-out and drag-to-zoom.
function lineChart(svg, series, options) {
  svg.innerHTML = '';
  const box = svg.getBoundingClientRect();
  const W = box.width || 600, H = box.height || 260, m = { l: 56, r: 12, t: 10, b: 28 };
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const points = series.flatMap((s) => s.x.map((x, i) => [x, s.y[i]]).filter((p) => p[1] !== null && isFinite(p[1])));
  if (!points.length) { svgElement('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', fill: '#888' }, svg).textContent = 'no data yet'; return; }
  let [x0, x1] = state.zoom || [minOf(points.map((p) => p[0])), maxOf(points.map((p) => p[0]))];
  if (x1 === x0) x1 = x0 + 1;
  const visible = points.filter((p) => p[0] >= x0 && p[0] <= x1);
  const log = options.log && visible.every((p) => p[1] > 0);
  const f = (y) => (log ? Math.log10(y) : y);
  let y0 = minOf(visible.map((p) => f(p[1]))), y1 = maxOf(visible.map((p) => f(p[1])));
  if (!isFinite(y0)) { y0 = 0; y1 = 1; }
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const pad = (y1 - y0) * 0.05, nonNegative = y0 >= 0;
  y0 -= pad; y1 += pad;
  if (nonNegative && !log) y0 = Math.max(y0, 0);  // a loss or a rate: no axis below zero
  const sx = (x) => m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r), sy = (y) => H - m.b - (f(y) - y0) / (y1 - y0) * (H - m.t - m.b);
  for (let k = 0; k <= 4; ++k) {  // axes: 5 ticks each
    const yv = y0 + (y1 - y0) * k / 4, py = H - m.b - k / 4 * (H - m.t - m.b);
    svgElement('line', { x1: m.l, x2: W - m.r, y1: py, y2: py, stroke: '#eee' }, svg);
    svgElement('text', { x: m.l - 4, y: py + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#555' }, svg).textContent = fmt(log ? 10 ** yv : yv);
    const xv = x0 + (x1 - x0) * k / 4;
    svgElement('text', { x: sx(xv), y: H - 8, 'text-anchor': 'middle', 'font-size': 11, fill: '#555' }, svg).textContent = Math.round(xv);
  }
  svgElement('rect', { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, fill: 'none', stroke: '#999' }, svg);
  for (const s of series) {
    const d = s.x.map((x, i) => [x, s.y[i]]).filter((p) => p[1] !== null && isFinite(p[1]) && p[0] >= x0 && p[0] <= x1)
      .map((p, i) => (i ? 'L' : 'M') + sx(p[0]).toFixed(1) + ',' + sy(p[1]).toFixed(1)).join('');
    svgElement('path', { d, fill: 'none', stroke: s.colour, 'stroke-width': 1.6, 'stroke-dasharray': s.dashed ? '5,3' : '', class: 'series', 'data-points': s.x.length }, svg);
  }
  const cursor = svgElement('line', { y1: m.t, y2: H - m.b, stroke: '#888', visibility: 'hidden' }, svg);
  const brush = svgElement('rect', { y: m.t, height: H - m.t - m.b, fill: 'rgba(60,120,200,.15)', visibility: 'hidden' }, svg);
  const stepAt = (event) => { const r = svg.getBoundingClientRect(); return x0 + ((event.clientX - r.left) * W / r.width - m.l) / (W - m.l - m.r) * (x1 - x0); };
  let dragFrom = null;
  svg.onmousedown = (e) => { dragFrom = stepAt(e); };
  svg.onmousemove = (e) => {
    const step = stepAt(e);
    cursor.setAttribute('x1', sx(step)); cursor.setAttribute('x2', sx(step)); cursor.setAttribute('visibility', 'visible');
    if (dragFrom !== null) {
      brush.setAttribute('x', sx(Math.min(dragFrom, step))); brush.setAttribute('width', Math.abs(sx(step) - sx(dragFrom)));
      brush.setAttribute('visibility', 'visible');
    }
    const lines = series.map((s) => {
      let best = -1;
      s.x.forEach((x, i) => { if (s.y[i] !== null && (best < 0 || Math.abs(x - step) < Math.abs(s.x[best] - step))) best = i; });
      return best < 0 ? null : `${s.label}: ${fmt(s.y[best])} @ step ${s.x[best]}`;
    }).filter(Boolean);
    tooltip(e, lines.join('\n'));
  };
  svg.onmouseleave = () => { cursor.setAttribute('visibility', 'hidden'); tooltip(null, ''); };
  svg.onmouseup = (e) => {
    const to = stepAt(e);
    if (dragFrom !== null && Math.abs(sx(to) - sx(dragFrom)) > 5) { state.zoom = [Math.min(dragFrom, to), Math.max(dragFrom, to)]; drawTraining(); }
    dragFrom = null;
  };
  svg.ondblclick = () => { state.zoom = null; drawTraining(); };
}

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
  lineChart($('chart-loss'), loss, {});
  lineChart($('chart-lr'), lr, {});
  lineChart($('chart-grad'), grad, { log: true });
  const m = state.metrics[state.model];
  heatmap($('heat-grad'), m && m.grad_norms, 'gradient norm');
  heatmap($('heat-update'), m && m.update_ratios, 'update ratio');
}

// A [parameter × step] heatmap on a log10 colour scale, with a colour bar whose ticks are powers of ten.
function heatmap(container, data, what) {
  container.innerHTML = '';
  if (!data || !data.steps.length) { container.textContent = 'not logged yet (metrics.jsonl has no ' + what + 's)'; return; }
  const values = [];
  for (const row of data.values) for (const v of row) if (v !== null && v > 0) values.push(v);
  const lo = Math.floor(Math.log10(minOf(values))), hi = Math.ceil(Math.log10(maxOf(values)));
  const span = Math.max(hi - lo, 1);
  const names = data.names;
  // At most 600 columns: a long run shows every k-th logged step.
  const stride = Math.ceil(data.steps.length / 600);
  const columns = data.steps.map((_, i) => i).filter((i) => i % stride === 0);
  const steps = columns.map((i) => data.steps[i]);
  const cellW = Math.max(1, Math.min(24, Math.floor(900 / steps.length))), cellH = 14, labelW = 190;
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
  [0, steps.length - 1].forEach((c) => g.fillText('step ' + steps[c], labelW + c * cellW - (c ? 40 : 0), names.length * cellH + 14));
  const barX = labelW + steps.length * cellW + 10, barH = names.length * cellH;
  for (let y = 0; y < barH; ++y) { g.fillStyle = viridisLike(1 - y / barH); g.fillRect(barX, y, 14, 1); }
  g.fillStyle = '#333';
  for (let e = lo; e <= hi; ++e) {
    const y = barH - (e - lo) / span * barH;
    g.fillRect(barX + 14, y, 4, 1);
    g.font = e === -3 ? 'bold 11px monospace' : '11px monospace';
    g.fillText('1e' + e, barX + 20, Math.min(Math.max(y + 4, 10), barH));
  }
  canvas.onmousemove = (e) => {
    const r = canvas.getBoundingClientRect(), c = Math.floor((e.clientX - r.left - labelW) / cellW), row = Math.floor((e.clientY - r.top) / cellH);
    if (c < 0 || c >= steps.length || row < 0 || row >= names.length) return tooltip(e, '');
    tooltip(e, `${names[row]}\nstep ${steps[c]}: ${fmt(data.values[columns[c]][row])}`);
  };
  canvas.onmouseleave = () => tooltip(null, '');
  container.appendChild(canvas);
}

// ---- forward view ----
function samplingRequest() {
  return {
    run: state.model, prompt: $('prompt').value,
    temperature: +$('temperature').value, top_k: Math.max(0, Math.floor(+$('top_k').value || 0)),
    top_p: +$('top_p').value, repetition_penalty: +$('repetition_penalty').value,
  };
}

let forwardTimer = null;
function scheduleForward() { clearTimeout(forwardTimer); forwardTimer = setTimeout(refreshForward, 150); }

async function refreshForward() {
  if (!state.model) return;
  try {
    const data = await api('/api/forward', samplingRequest());
    state.forward = data;
    drawForward(data);
    showError('');
  } catch (e) {
    showError('forward: ' + e.message);
  }
}

function drawTokens(container, tokens, onHover) {
  container.innerHTML = '';
  tokens.forEach((t, i) => {
    const d = document.createElement('div');
    d.className = 'token';
    d.title = 'bytes: ' + t.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    d.textContent = t.text === ' ' ? '␣' : t.text.replace(/ /g, '␣');
    const small = document.createElement('small');
    small.textContent = '#' + i + ' id ' + t.id;
    d.appendChild(small);
    if (onHover) { d.onmouseenter = () => onHover(i); d.onmouseleave = () => onHover(-1); }
    container.appendChild(d);
  });
}

function drawBars(sampling) {
  const box = $('bars');
  box.innerHTML = '';
  const top = Math.max(maxOf(sampling.candidates.map((c) => c.p_temperature)), 1e-30);  // the longest bar
  for (const c of sampling.candidates) {
    const row = document.createElement('div');
    row.className = 'barrow';
    const label = document.createElement('span');
    label.textContent = JSON.stringify(c.text) + ' ' + c.id;
    const track = document.createElement('div');
    const bar = document.createElement('div');
    bar.className = 'bar' + (c.p_final > 0 ? '' : ' dropped');
    bar.style.width = (100 * c.p_temperature / top).toFixed(2) + '%';
    bar.dataset.p = c.p_temperature;
    bar.title = `logit ${fmt(c.logit)} → after penalty ${fmt(c.logit_penalised)}\nsoftmax(·/T) ${fmt(c.p_temperature)}\nafter top-k ${fmt(c.p_top_k)}\nafter top-p ${fmt(c.p_final)}`;
    track.appendChild(bar);
    const value = document.createElement('span');
    value.textContent = (100 * c.p_temperature).toFixed(1) + '% → ' + (c.p_final > 0 ? (100 * c.p_final).toFixed(1) + '%' : 'removed');
    row.append(label, track, value);
    box.appendChild(row);
  }
  const note = document.createElement('p');
  note.className = 'lead';
  note.textContent = `${sampling.kept} token(s) survive temperature ${fmt(sampling.options.temperature)}, top-k ${sampling.options.top_k}, top-p ${fmt(sampling.options.top_p)}, repetition penalty ${fmt(sampling.options.repetition_penalty)}.`;
  box.appendChild(note);
}

// A [rows × cols] matrix on a canvas, each cell `cell` pixels; diverging colours around 0 unless `colour` given.
function matrixCanvas(matrix, cell, colour, hover) {
  const rows = matrix.length, cols = rows ? matrix[0].length : 0;
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, cols * cell); canvas.height = Math.max(1, rows * cell);
  const g = canvas.getContext('2d');
  const scale = Math.max(1e-9, maxOf(matrix.flat().map(Math.abs)));
  matrix.forEach((row, i) => row.forEach((v, j) => { g.fillStyle = colour ? colour(v) : diverging(v, scale); g.fillRect(j * cell, i * cell, cell, cell); }));
  if (hover) {
    canvas.onmousemove = (e) => {
      const r = canvas.getBoundingClientRect();
      const i = Math.floor((e.clientY - r.top) / r.height * rows), j = Math.floor((e.clientX - r.left) / r.width * cols);
      if (i >= 0 && i < rows && j >= 0 && j < cols) hover(e, i, j, matrix[i][j]);
    };
    canvas.onmouseleave = (e) => hover(e, -1, -1, null);
  }
  return canvas;
}

function figure(caption, element) {
  const f = document.createElement('figure');
  const c = document.createElement('figcaption');
  c.textContent = caption;
  f.append(c, element);
  return f;
}

function drawForward(data) {
  const tokens = data.tokens, T = data.T;
  const label = (i) => JSON.stringify(tokens[i].text);
  drawTokens($('tokens'), tokens);
  drawBars(data.sampling);
  const emb = $('embeddings');
  emb.innerHTML = '';
  const cell = Math.max(3, Math.min(10, Math.floor(280 / Math.max(1, data.embeddings.sum[0].length))));
  for (const [name, m] of [['token embedding (wte)', data.embeddings.token], ['+ position (wpe)', data.embeddings.position], ['= sum', data.embeddings.sum]])
    emb.appendChild(figure(name, matrixCanvas(m, cell, null, (e, i, j, v) => tooltip(e, i < 0 ? '' : `${label(i)} channel ${j}: ${fmt(v)}`))));
  const att = $('attention');
  att.innerHTML = '';
  const size = Math.max(180, Math.min(360, Math.floor((window.innerWidth - 80) / Math.max(1, data.attention[0].length)) - 16));
  const attCell = Math.max(2, Math.floor(size / T));
  data.attention.forEach((heads, l) => {
    const row = document.createElement('div');
    row.className = 'layer';
    heads.forEach((matrix, h) => {
      const canvas = matrixCanvas(matrix, attCell, sequential, (e, i, j, v) => {
        tooltip(e, i < 0 ? '' : `layer ${l} head ${h}\n${label(i)} (#${i}) attends to ${label(j)} (#${j}): ${fmt(v)}` + (j > i ? '  (masked: future)' : ''));
        document.querySelectorAll('#tokens .token').forEach((t, k) => t.classList.toggle('hot', i >= 0 && (k === i || k === j)));
      });
      canvas.className = 'attention-map';
      canvas.onclick = (e) => {
        const r = canvas.getBoundingClientRect();
        attentionSteps(l, h, Math.floor((e.clientY - r.top) / r.height * T), matrix[Math.floor((e.clientY - r.top) / r.height * T)], tokens);
      };
      row.appendChild(figure(`layer ${l} · head ${h}`, canvas));
    });
    att.appendChild(row);
  });
  const series = [{ label: 'embedding', x: [...Array(T).keys()], y: data.residual_norms.embedding, colour: '#888' }];
  data.residual_norms.out.forEach((norms, l) => {
    series.push({ label: `layer ${l} after attention`, x: [...Array(T).keys()], y: data.residual_norms.mid[l], colour: COLOURS[l % COLOURS.length], dashed: true });
    series.push({ label: `layer ${l} after MLP`, x: [...Array(T).keys()], y: norms, colour: COLOURS[l % COLOURS.length] });
  });
  const zoom = state.zoom; state.zoom = null;  // the step zoom belongs to the training charts
  lineChart($('residual'), series, {});
  state.zoom = zoom;
  const gelu = $('gelu');
  gelu.innerHTML = '';
  data.gelu.forEach((m, l) => gelu.appendChild(figure(`layer ${l}: GELU(c_fc(ln_2(x)))  [${T} × ${m[0].length}]`,
    matrixCanvas(m, Math.max(2, Math.min(6, Math.floor(900 / m[0].length))), null, (e, i, j, v) => tooltip(e, i < 0 ? '' : `${label(i)} unit ${j}: ${fmt(v)}`)))));
}

// One row of attention, step by step. The sink gives the probabilities p_ij; softmax only shifts, so
// ln p_ij − max_j ln p_ij = s_ij − max_j s_ij exactly, where s_ij = q_i·k_j/√d: the scores up to the row's
// largest. Then the mask (j > i → −∞) and the softmax (exp, normalise) give p back.
function attentionSteps(layer, head, i, row, tokens) {
  const box = $('attention-steps');
  box.innerHTML = '';
  const logs = row.slice(0, i + 1).map((p) => Math.log(Math.max(p, 1e-45)));
  const top = maxOf(logs);
  const scores = row.map((p, j) => (j <= i ? logs[j] - top : null));
  const title = document.createElement('p');
  title.className = 'lead';
  title.textContent = `layer ${layer} · head ${head} · query #${i} ${JSON.stringify(tokens[i].text)}: ` +
    '① scores q·kⱼ/√d (shown relative to the row\'s largest) → ② causal mask: keys after #' + i + ' get −∞ → ③ softmax: exp and normalise';
  box.appendChild(title);
  const W = Math.max(600, 64 * row.length + 50), H = 205, svg = svgElement('svg', { width: W, height: H, id: 'attention-steps-svg' }, box);
  const lo = Math.min(minOf(scores.filter((v) => v !== null)), -1), x = (j) => 40 + j * (W - 50) / row.length, bw = (W - 50) / row.length - 4;
  [['① score', 20], ['② mask', 80], ['③ softmax', 140]].forEach(([name, y]) => { svgElement('text', { x: 0, y: y + 12, 'font-size': 10 }, svg).textContent = name; });
  row.forEach((p, j) => {
    const s = scores[j];
    const height = s === null ? 0 : Math.max(1, 40 * (1 - s / lo));  // the row's largest score: the full 40 px
    if (s !== null) svgElement('rect', { x: x(j), y: 60 - height, width: bw, height, fill: '#8fb3d9' }, svg);
    svgElement('text', { x: x(j) + bw / 2, y: 20 + 54, 'text-anchor': 'middle', 'font-size': 10, fill: j > i ? '#b00' : '#333' }, svg)
      .textContent = j > i ? '−∞' : s.toFixed(2);
    svgElement('rect', { x: x(j), y: 80, width: bw, height: 40, fill: j > i ? '#f4d0d0' : '#dfe9f3' }, svg);
    svgElement('rect', { x: x(j), y: 140 + 40 * (1 - p), width: bw, height: 40 * p, fill: '#08306b' }, svg);
    svgElement('text', { x: x(j) + bw / 2, y: 190, 'text-anchor': 'middle', 'font-size': 10 }, svg).textContent = (100 * p).toFixed(0) + '%';
    svgElement('text', { x: x(j) + bw / 2, y: 203, 'text-anchor': 'middle', 'font-size': 10, fill: '#456' }, svg).textContent = JSON.stringify(tokens[j].text);
  });
}

async function appendTokens(n) {
  const data = await api('/api/generate', { ...samplingRequest(), n, seed: Math.floor(Math.random() * 1e9) });
  $('prompt').value += data.text;
  return data;
}

let streaming = false;
async function stream() {
  if (streaming) { streaming = false; return; }
  streaming = true;
  $('stream').textContent = 'stop';
  try {
    for (let k = 0; k < 200 && streaming; ++k) {
      const data = await appendTokens(1);
      await refreshForward();
      if (data.end_of_text || !state.forward || state.forward.T >= (state.block_size || Infinity)) break;
    }
  } catch (e) {
    showError('stream: ' + e.message);
  }
  streaming = false;
  $('stream').textContent = 'stream';
}

// ---- backpropagation view ----
function refreshBackprop() {
  const tokens = state.forward ? state.forward.tokens : [];
  const select = $('bp-position');
  const previous = select.value;
  select.innerHTML = '';
  tokens.forEach((t, i) => select.add(new Option(`#${i} ${JSON.stringify(t.text)}`, i)));
  select.value = previous !== '' && +previous < tokens.length ? previous : Math.max(0, tokens.length - 2);
  setDefaultTarget();
  if (!state.forward) refreshForward().then(() => state.forward && refreshBackprop());
  else runBackprop(false);
}

function setDefaultTarget() {
  const tokens = state.forward ? state.forward.tokens : [];
  const p = +$('bp-position').value;
  if (p + 1 < tokens.length) { $('bp-target').value = tokens[p + 1].id; $('bp-target-text').textContent = JSON.stringify(tokens[p + 1].text); }
}

async function runBackprop(step) {
  if (!state.model) return;
  try {
    const body = { run: state.model, prompt: $('prompt').value, position: +$('bp-position').value, target: +$('bp-target').value,
      step, optimizer: $('bp-optimizer').value, lr: +$('bp-lr').value };
    const data = await api('/api/backprop', body);
    state.backprop = data;
    drawBackprop(data);
    showError('');
  } catch (e) {
    showError('backprop: ' + e.message);
  }
}

function gradientBar(container, label, value, max, className) {
  const row = document.createElement('div');
  row.className = 'gbar-row';
  const name = document.createElement('span');
  name.textContent = label;
  const track = document.createElement('div');
  const bar = document.createElement('div');
  bar.className = 'gbar' + (className ? ' ' + className : '');
  // log scale over six decades below the largest value
  const w = value > 0 ? Math.max(0, 1 + Math.log10(value / max) / 6) : 0;
  bar.style.width = (100 * w).toFixed(1) + '%';
  track.appendChild(bar);
  const number = document.createElement('span');
  number.textContent = fmt(value);
  row.append(name, track, number);
  container.appendChild(row);
}

function drawBackprop(data) {
  $('bp-target-text').textContent = JSON.stringify(data.target.text);
  $('bp-loss').textContent = `loss = −log p(${JSON.stringify(data.target.text)} | ${data.position + 1} tokens) = ${fmt(data.loss)}`;
  const inputs = $('bp-inputs');
  inputs.innerHTML = '';
  const maxIn = Math.max(maxOf(data.input_grad_norms), 1e-30);
  data.input_grad_norms.forEach((v, i) => gradientBar(inputs, `#${i} ${JSON.stringify(data.tokens[i].text)}`, v, maxIn));
  const params = $('bp-params');
  params.innerHTML = '';
  const maxP = Math.max(maxOf(data.parameters.map((p) => p.grad_norm)), 1e-30);
  for (const p of data.parameters) {
    gradientBar(params, p.name, p.grad_norm, maxP);
    if (p.heads) for (const part of ['q', 'k', 'v']) p.heads[part].forEach((v, h) => gradientBar(params, `   ${part} head ${h}`, v, maxP, 'head'));
  }
  drawTape($('bp-tape'), data.tape);
  const result = $('bp-step-result');
  result.innerHTML = '';
  if (data.step) {
    const s = data.step;
    const head = document.createElement('p');
    head.className = 'big';
    head.textContent = `one ${s.optimizer} step (lr ${s.lr}) on a scratch copy: loss ${fmt(s.loss_before)} → ${fmt(s.after.loss)}; ` +
      `p(target) ${fmt(data.before.target.p)} → ${fmt(s.after.target.p)} (the checkpoint is unchanged)`;
    result.appendChild(head);
    data.before.top.forEach((t, k) => {
      for (const [p, cls] of [[t.p, ''], [s.after.before_tokens[k].p, ' after']]) {
        const row = document.createElement('div');
        row.className = 'barrow';
        const label = document.createElement('span');
        label.textContent = cls ? 'after' : JSON.stringify(t.text);
        const track = document.createElement('div');
        const bar = document.createElement('div');
        bar.className = 'bar' + cls;
        bar.style.width = (100 * p).toFixed(2) + '%';
        track.appendChild(bar);
        const v = document.createElement('span');
        v.textContent = (100 * p).toFixed(1) + '%';
        row.append(label, track, v);
        result.appendChild(row);
      }
    });
  }
}

// The tape as layers: each node's depth is its longest distance from the loss, so data flows upwards
// to the loss at the top and gradients flow down. Colour: log ‖gradient‖ (grey: no gradient).
function drawTape(container, tape) {
  container.innerHTML = '';
  const nodes = [...tape.tensors.map((t, i) => ({ key: 't' + i, tensor: t })), ...tape.ops.map((o, i) => ({ key: 'o' + i, op: o }))];
  const byKey = Object.fromEntries(nodes.map((n) => [n.key, n]));
  const consumers = {};  // node → the nodes its value flows into
  for (const [kind, from, to] of tape.edges) {
    const a = kind === 'op' ? 'o' + from : 't' + from, b = kind === 'op' ? 't' + to : 'o' + to;
    (consumers[a] = consumers[a] || []).push(b);
  }
  const depth = {};
  const depthOf = (key) => {
    if (depth[key] !== undefined) return depth[key];
    depth[key] = 0;
    const next = consumers[key] || [];
    depth[key] = next.length ? 1 + Math.max(...next.map(depthOf)) : 0;
    return depth[key];
  };
  nodes.forEach((n) => depthOf(n.key));
  const levels = [];
  nodes.forEach((n) => { (levels[depth[n.key]] = levels[depth[n.key]] || []).push(n); });
  const norms = tape.tensors.map((t) => t.grad_norm).filter((v) => v > 0);
  const lo = Math.log10(Math.min(minOf(norms), 1)), hi = Math.log10(Math.max(maxOf(norms), 1e-30));
  const W = Math.max(900, 70 * Math.max(...levels.map((l) => (l ? l.length : 0)))), rowH = 46;
  const svg = svgElement('svg', { width: W, height: levels.length * rowH + 20, id: 'tape-svg' });
  const pos = {};
  levels.forEach((level, d) => (level || []).forEach((n, k) => { pos[n.key] = [(k + 0.5) * W / level.length, 14 + d * rowH]; }));
  for (const [kind, from, to] of tape.edges) {
    const a = pos[kind === 'op' ? 'o' + from : 't' + from], b = pos[kind === 'op' ? 't' + to : 'o' + to];
    svgElement('line', { x1: a[0], y1: a[1], x2: b[0], y2: b[1], stroke: '#bbb', 'stroke-width': 0.8 }, svg);
  }
  for (const n of nodes) {
    const [x, y] = pos[n.key];
    let shape;
    if (n.op) {
      shape = svgElement('rect', { x: x - 30, y: y - 9, width: 60, height: 18, rx: 5, fill: '#fde9c9', stroke: '#c77c02' }, svg);
      svgElement('text', { x, y: y + 4, 'text-anchor': 'middle', 'font-size': 9 }, svg).textContent = n.op.slice(0, 12);
    } else {
      const t = n.tensor;
      const fill = t.grad_norm > 0 ? viridisLike((Math.log10(t.grad_norm) - lo) / Math.max(hi - lo, 1e-9)) : '#eee';
      shape = svgElement('ellipse', { cx: x, cy: y, rx: t.parameter ? 12 : 8, ry: 8, fill, stroke: t.parameter ? '#3d6fa5' : '#777', 'stroke-width': t.parameter ? 2 : 1, class: 'tape-tensor' }, svg);
      n.text = `${t.name || 'tensor'} [${t.shape.join(', ')}]\n‖grad‖ = ${t.grad_norm === null ? 'none (constant)' : fmt(t.grad_norm)}`;
      if (t.name) svgElement('text', { x, y: y + 18, 'text-anchor': 'middle', 'font-size': 8, fill: '#345' }, svg).textContent = t.name;
    }
    shape.onmousemove = (e) => tooltip(e, n.text || n.op);
    shape.onmouseleave = () => tooltip(null, '');
  }
  const legend = document.createElement('p');
  legend.className = 'lead';
  legend.innerHTML = `colour: ‖gradient‖ on a log scale, <span style="color:${viridisLike(0)}">■</span> 1e${Math.floor(lo)} … ` +
    `<span style="color:${viridisLike(1)}">■</span> 1e${Math.ceil(hi)}; grey: a constant (no gradient); thick blue outline: a parameter. Hover a node.`;
  container.append(legend, svg);
}

// ---- wiring ----
async function loadModelInfo() {
  if (!state.model) return;
  try {
    const m = await api('/api/model?run=' + encodeURIComponent(state.model));
    state.block_size = m.config.block_size;
    $('model-info').textContent = `${m.config.n_layer} layers × ${m.config.n_head} heads, C ${m.config.n_embd}, block ${m.config.block_size}, ${m.tokenizer} tokenizer (${m.config.tokens} tokens), ${m.parameter_count.toLocaleString()} parameters`;
  } catch (e) {
    $('model-info').textContent = e.message;
  }
}

function init() {
  for (const b of document.querySelectorAll('#tabs button')) b.onclick = () => showView(b.dataset.view);
  $('model-run').onchange = () => { state.model = $('model-run').value; loadModelInfo(); drawTraining(); if (!$('view-forward').hidden) refreshForward(); };
  for (const id of ['temperature', 'top_p', 'repetition_penalty']) {
    $(id).oninput = () => { $(id + '-out').textContent = $(id).value; scheduleForward(); };
  }
  $('top_k').oninput = scheduleForward;
  $('prompt').oninput = scheduleForward;
  $('next').onclick = async () => {
    if (state.forward && state.block_size && state.forward.T >= state.block_size)
      return showError(`the prompt fills the model's block_size (${state.block_size} tokens): it cannot see a longer context`);
    try { await appendTokens(1); await refreshForward(); } catch (e) { showError('next token: ' + e.message); }
  };
  $('stream').onclick = stream;
  $('bp-position').onchange = () => { setDefaultTarget(); runBackprop(false); };
  $('bp-run').onclick = () => runBackprop(false);
  $('bp-step').onclick = () => runBackprop(true);
  // One poll at a time: the next starts a second after the last one ended, however slow it was.
  const loop = () => pollTraining().finally(() => setTimeout(loop, 1000));
  pollTraining().then(loadModelInfo).finally(() => setTimeout(loop, 1000));
}

init();
