// gpt serve's backpropagation view: one example's gradients, the tape, one step on a scratch copy.
'use strict';

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
