// gpt serve's backpropagation view: one example's gradients, the tape, one step on a scratch copy.
'use strict';

// ---- backpropagation view ----
function refreshBackprop() {
  const tokens = state.forward ? state.forward.tokens : [];
  const select = $('bp-position');
  const previous = select.value;
  select.innerHTML = '';
  tokens.forEach((tk, i) => select.add(new Option(`#${i} ${tokenText(tk)}`, i)));
  select.value = previous !== '' && +previous < tokens.length ? previous : Math.max(0, tokens.length - 2);
  setTargetOptions();
  if (!state.forward) refreshForward().then(() => state.forward && refreshBackprop());
  else runBackprop(false);
}

// The target picker: the token that follows in the prompt, then what the model predicts at that position
// (the last backward's top 10, or the forward view's bars when they are for the same position).
function setTargetOptions() {
  const tokens = state.forward ? state.forward.tokens : [];
  const p = +$('bp-position').value;
  const select = $('bp-target');
  const previous = select.dataset.position === String(p) ? select.value : '';
  const options = [];
  if (p + 1 < tokens.length) options.push([tokens[p + 1], t('bp.next_in_prompt')]);
  const predicted = state.backprop && state.backprop.position === p ? state.backprop.before.top
    : state.forward && state.forward.position === p ? state.forward.sampling.candidates.slice(0, 10).map((c) => ({ ...c, p: c.p_temperature })) : [];
  for (const tk of predicted) if (!options.some(([o]) => o.id === tk.id)) options.push([tk, t('bp.predicted', { p: (100 * tk.p).toFixed(1) })]);
  select.innerHTML = '';
  for (const [tk, why] of options) select.add(new Option(`${tokenText(tk)} (id ${tk.id}, ${why})`, tk.id));
  select.dataset.position = p;
  if (previous && options.some(([o]) => String(o.id) === previous)) select.value = previous;
}

async function runBackprop(step) {
  if (!state.model || $('bp-target').value === '') return;
  try {
    const body = { run: state.model, prompt: $('prompt').value, position: +$('bp-position').value, target: +$('bp-target').value,
      step, optimizer: $('bp-optimizer').value, lr: +$('bp-lr').value };
    const data = await api('/api/backprop', body);
    state.backprop = data;
    setTargetOptions();
    drawBackprop(data);
    showError('');
  } catch (e) {
    showError('backprop: ' + e.message);
  }
}

// One bar: linear (the largest value is the full width), or on a log scale over six decades below the
// largest (the scale row drawn by logScaleRow says so).
function gradientBar(container, label, value, max, className, log) {
  const row = element('div', 'gbar-row');
  const track = element('div', 'track');
  const bar = element('div', 'gbar' + (className ? ' ' + className : ''));
  const w = log ? (value > 0 ? Math.max(0, 1 + Math.log10(value / max) / 6) : 0) : value / max;
  bar.style.width = (100 * w).toFixed(1) + '%';
  bar.dataset.value = value;
  track.appendChild(bar);
  row.append(element('span', 'label', label), track, element('span', 'value', fmt(value)));
  container.appendChild(row);
}

function logScaleRow(container, max) {
  const row = element('div', 'gbar-row scale');
  const track = element('div', 'track axis');
  for (let k = 0; k <= 6; k += 2) {
    const tick = element('span', 'tick', fmt(max * 10 ** (k - 6)));
    tick.style.left = (100 * k / 6).toFixed(1) + '%';
    track.appendChild(tick);
  }
  row.append(element('span', 'label', 'log scale, ‖∇‖:'), track, element('span', 'value', ''));
  container.appendChild(row);
}

function drawBackprop(data) {
  $('bp-loss').textContent = `loss = −log p(${tokenText(data.target)} | ${data.position + 1} tokens) = ${fmt(data.loss)}`;
  const inputs = $('bp-inputs');
  inputs.innerHTML = '';
  const maxIn = Math.max(maxOf(data.input_grad_norms), 1e-30);
  data.input_grad_norms.forEach((v, i) => gradientBar(inputs, `#${i} ${tokenText(data.tokens[i])}`, v, maxIn));
  const params = $('bp-params');
  params.innerHTML = '';
  const maxP = Math.max(maxOf(data.parameters.map((p) => p.grad_norm)), 1e-30);
  logScaleRow(params, maxP);
  for (const p of data.parameters) {
    gradientBar(params, p.name, p.grad_norm, maxP, '', true);
    if (p.heads) for (const part of ['q', 'k', 'v']) p.heads[part].forEach((v, h) => gradientBar(params, `   ${part} head ${h}`, v, maxP, 'head', true));
  }
  drawTape($('bp-tape'), data.tape);
  const result = $('bp-step-result');
  result.innerHTML = '';
  if (data.step) {
    const s = data.step;
    const head = document.createElement('p');
    head.className = 'big';
    head.textContent = t('bp.step_result', { optimizer: s.optimizer, lr: s.lr, before: fmt(s.loss_before), after: fmt(s.after.loss),
                                             p0: fmt(data.before.target.p), p1: fmt(s.after.target.p) });
    result.appendChild(head);
    const afterWord = t('bp.after');  // (the callback's t is a token)
    data.before.top.forEach((t, k) => {
      for (const [p, cls] of [[t.p, ''], [s.after.before_tokens[k].p, ' after']]) {
        const row = document.createElement('div');
        row.className = 'barrow';
        const label = document.createElement('span');
        label.textContent = cls ? afterWord : tokenText(t);
        const track = element('div', 'track');
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

// The tape, grouped: the output (loss, logits, ln_f), each block from the last to the first, the
// embedding. Each node's depth is its longest distance from the loss (data flows up to the loss,
// gradients down); a block's nodes lie between the depth of its output h.<l>.out (named by the server)
// and the block below's; parameters go by their names. Each group is a <details>, drawn when opened.
function drawTape(container, tape) {
  container.innerHTML = '';
  const nodes = [...tape.tensors.map((tn, i) => ({ key: 't' + i, tensor: tn })), ...tape.ops.map((o, i) => ({ key: 'o' + i, op: o }))];
  const consumers = {};  // node → the nodes its value flows into
  const edgeKeys = tape.edges.map(([kind, from, to]) => (kind === 'op' ? ['o' + from, 't' + to] : ['t' + from, 'o' + to]));
  for (const [a, b] of edgeKeys) (consumers[a] = consumers[a] || []).push(b);
  const depth = {};
  const depthOf = (key) => {  // iterative: a deep model's tape is longer than the call stack
    const stack = [key];
    while (stack.length) {
      const k = stack[stack.length - 1];
      if (depth[k] !== undefined) { stack.pop(); continue; }
      const next = (consumers[k] || []).filter((n) => depth[n] === undefined);
      if (next.length) { stack.push(...next); continue; }
      depth[k] = (consumers[k] || []).length ? 1 + Math.max(...consumers[k].map((n) => depth[n])) : 0;
      stack.pop();
    }
    return depth[key];
  };
  nodes.forEach((n) => depthOf(n.key));
  const named = {};
  tape.tensors.forEach((tn, i) => { if (tn.name) named[tn.name] = depth['t' + i]; });
  const layers = Object.keys(named).map((name) => /^h\.(\d+)\.out$/.exec(name)).filter(Boolean).map((m) => +m[1]).sort((a, b) => a - b);
  const outDepth = layers.map((l) => named[`h.${l}.out`]);
  const embeddingDepth = named.embedding !== undefined ? named.embedding : Infinity;
  const groupOf = (n) => {
    const name = n.tensor && n.tensor.name;
    const block = name && /^h\.(\d+)\./.exec(name);
    if (block) return 'block ' + block[1];
    if (name && /^(wte|wpe)\./.test(name)) return 'embedding';
    if (name && /^(ln_f|lm_head)\./.test(name)) return 'output';
    const d = depth[n.key];
    if (d >= embeddingDepth) return 'embedding';
    for (let k = 0; k < layers.length; ++k)
      if (d >= outDepth[k] && d < (k > 0 ? outDepth[k - 1] : embeddingDepth)) return 'block ' + layers[k];
    return 'output';
  };
  const groups = new Map([['output', []], ...layers.slice().reverse().map((l) => ['block ' + l, []]), ['embedding', []]]);
  nodes.forEach((n) => { n.group = groupOf(n); (groups.get(n.group) || groups.get('output')).push(n); });
  const norms = tape.tensors.map((tn) => tn.grad_norm).filter((v) => v > 0);
  const lo = Math.log10(Math.min(minOf(norms), 1)), hi = Math.log10(Math.max(maxOf(norms), 1e-30));
  const legend = element('p', 'lead');
  legend.innerHTML = t('bp.tape_legend', { lo: `<span style="color:${viridisLike(0)}">■</span> 1e${Math.floor(lo)}`,
                                           hi: `<span style="color:${viridisLike(1)}">■</span> 1e${Math.ceil(hi)}` });
  container.appendChild(legend);
  for (const [name, members] of groups) {
    if (!members.length) continue;
    const details = element('details', 'tape-group');
    details.id = 'tape-' + name.replace(' ', '-');
    const largest = maxOf(members.filter((n) => n.tensor && n.tensor.grad_norm > 0).map((n) => n.tensor.grad_norm));
    details.appendChild(element('summary', '', `${name}: ${members.filter((n) => n.op).length} ops, ${members.filter((n) => n.tensor).length} tensors` +
      (isFinite(largest) ? `, largest ‖∇‖ ${fmt(largest)}` : '')));
    details.ontoggle = () => { if (details.open && !details.querySelector('svg')) details.appendChild(tapeGroupSvg(members, edgeKeys, depth, lo, hi)); };
    container.appendChild(details);
    if (name === 'output') details.open = true;
  }
}

// One group of the tape as an SVG: a row per depth, edges inside the group.
function tapeGroupSvg(members, edgeKeys, depth, lo, hi) {
  const levels = new Map();
  members.slice().sort((a, b) => depth[a.key] - depth[b.key]).forEach((n) => {
    if (!levels.has(depth[n.key])) levels.set(depth[n.key], []);
    levels.get(depth[n.key]).push(n);
  });
  const rows = [...levels.values()], W = 640, rowH = 40;
  const svg = svgElement('svg', { viewBox: `0 0 ${W} ${rows.length * rowH + 16}`, class: 'tape-svg' });
  const pos = {};
  rows.forEach((level, d) => level.forEach((n, k) => { pos[n.key] = [(k + 0.5) * W / level.length, 14 + d * rowH]; }));
  for (const [a, b] of edgeKeys) {
    if (!pos[a] || !pos[b]) continue;
    svgElement('line', { x1: pos[a][0], y1: pos[a][1], x2: pos[b][0], y2: pos[b][1], stroke: '#bbb', 'stroke-width': 0.8 }, svg);
  }
  for (const n of members) {
    const [x, y] = pos[n.key];
    let shape;
    if (n.op) {
      const w = Math.max(60, 5.5 * n.op.length + 12);  // the op's whole name inside its box (9 px text)
      shape = svgElement('rect', { x: x - w / 2, y: y - 9, width: w, height: 18, rx: 5, fill: '#fde9c9', stroke: '#c77c02' }, svg);
      svgElement('text', { x, y: y + 4, 'text-anchor': 'middle', 'font-size': 9 }, svg).textContent = n.op;
    } else {
      const tn = n.tensor;
      const fill = tn.grad_norm > 0 ? viridisLike((Math.log10(tn.grad_norm) - lo) / Math.max(hi - lo, 1e-9)) : '#eee';
      shape = svgElement('ellipse', { cx: x, cy: y, rx: tn.parameter ? 12 : 8, ry: 8, fill, stroke: tn.parameter ? '#3d6fa5' : '#777', 'stroke-width': tn.parameter ? 2 : 1, class: 'tape-tensor' }, svg);
      n.text = `${tn.name || 'tensor'} [${tn.shape.join(', ')}]\n‖grad‖ = ${tn.grad_norm === null ? 'none (constant)' : fmt(tn.grad_norm)}`;
      if (tn.name) svgElement('text', { x, y: y + 18, 'text-anchor': 'middle', 'font-size': 8, fill: '#345' }, svg).textContent = tn.name.replace(/^h\.\d+\./, '');
    }
    shape.onmousemove = (e) => tooltip(e, n.text || n.op);
    shape.onmouseleave = () => tooltip(null, '');
  }
  return svg;
}
