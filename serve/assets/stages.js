// gpt serve's model diagram and stage view. The diagram is drawn from the checkpoint's configuration
// (/api/model): embedding and positions → n_layer blocks (norm → attention → + → norm → MLP → +) →
// final norm → logits → temperature, top-k, top-p → probabilities, each box a stage. Clicking one opens
// its view for the chosen token with the numbers the forward computed (/api/forward "stages" and
// "sampling", serve/token_stages.h): this file only lays them out and explains them (text.js).
'use strict';

// ---- the model as its configuration describes it ----
function attentionKind(c) {
  if (c.attention === 'mla') return 'mla';
  if (c.n_kv_head === c.n_head) return 'mha';
  return c.n_kv_head === 1 ? 'mqa' : 'gqa';
}

function attentionLabel(c) {
  const kind = attentionKind(c);
  const base = {
    mha: `MHA · ${c.n_head} heads`, gqa: `GQA · ${c.n_head} q / ${c.n_kv_head} kv`, mqa: `MQA · ${c.n_head} q / 1 kv`,
    mla: `MLA · ${c.n_head} heads · c_KV ${c.kv_latent_dim}`,
  }[kind];
  return base + (c.pos_encoding === 'rope' ? ' · RoPE' : '') + (c.qk_norm ? ' · qk-norm' : '');
}

const normLabel = (c) => (c.norm === 'rmsnorm' ? 'RMSNorm' : 'LayerNorm');
const mlpLabel = (c) => `MLP · ${{ gelu: 'GELU', relu2: 'ReLU²', swiglu: 'SwiGLU' }[c.mlp] || c.mlp} · ${c.mlp_hidden}`;
const positionLabel = (c) => ({ learned: '+ learned positions (wpe)', sinusoidal: '+ sinusoidal positions', rope: 'positions: RoPE, inside attention' }[c.pos_encoding] || c.pos_encoding);

// The stages in the order the forward runs them: [name, layer] (layer null outside the blocks).
function stageOrder(c) {
  const order = [['embed', null]];
  for (let l = 0; l < c.n_layer; ++l) for (const name of ['ln_1', 'attn', 'add_attn', 'ln_2', 'mlp', 'add_mlp']) order.push([name, l]);
  return order.concat([['ln_f', null], ['logits', null], ['sampling', null], ['probs', null]]);
}
const inBlock = (name) => ['ln_1', 'attn', 'add_attn', 'ln_2', 'mlp', 'add_mlp'].includes(name);

// Open a stage (layer: for the stages inside a block). A block's stages need that layer's numbers,
// which the server sends for one layer at a time: another layer means another forward request.
function openStage(name, layer) {
  const l = inBlock(name) ? layer : state.stage.layer;
  const reload = state.forward && state.forward.stages && state.forward.stages.layer.index !== l;
  state.stage = { name, layer: l };
  if (inBlock(name) && state.mapLayer !== 'all') state.mapLayer = l;  // one layer's maps: the block opened
  if (reload) refreshForward('token');
  else { drawDiagram(); drawStage(); refreshForward('maps'); }
}

// ---- the diagram ----
function drawDiagram() {
  const box = $('diagram');
  const c = state.config;
  box.innerHTML = '';
  if (!c) return;
  const W = 640, rowH = 34, top = 8, rows = c.n_layer + 2;
  const svg = svgElement('svg', { viewBox: `0 0 ${W} ${top + rows * rowH + 4}`, id: 'diagram-svg', role: 'img' }, box);
  svgElement('line', { x1: 52, x2: 52, y1: top + 14, y2: top + (rows - 1) * rowH + 14, stroke: '#9ab', 'stroke-width': 3, class: 'stream' }, svg);
  const selected = (name, layer) => state.stage.name === name && (!inBlock(name) || state.stage.layer === layer);
  const stageBox = (parent, name, layer, x, y, w, text, title) => {
    const g = svgElement('g', { class: 'stage' + (selected(name, layer) ? ' selected' : ''), id: 'stage-' + name + (layer === null ? '' : '-' + layer),
      'data-stage': name, 'data-layer': layer === null ? '' : layer, tabindex: 0 }, parent);
    svgElement('rect', { x, y, width: w, height: 24, rx: 5 }, g);
    svgElement('text', { x: x + w / 2, y: y + 16, 'text-anchor': 'middle' }, g).textContent = text;
    svgElement('title', {}, g).textContent = title || text;
    g.onclick = () => openStage(name === 'pos' ? 'embed' : name, layer);
    g.onkeydown = (e) => { if (e.key === 'Enter') g.onclick(); };
    return g;
  };
  const arrow = (parent, x1, x2, y) => svgElement('line', { x1, x2, y1: y + 12, y2: y + 12, stroke: '#789', 'marker-end': 'url(#arrow)' }, parent);
  const defs = svgElement('defs', {}, svg);
  const marker = svgElement('marker', { id: 'arrow', viewBox: '0 0 6 6', refX: 5, refY: 3, markerWidth: 6, markerHeight: 6, orient: 'auto' }, defs);
  svgElement('path', { d: 'M0,0 L6,3 L0,6 z', fill: '#789' }, marker);

  let y = top;
  svgElement('text', { x: 0, y: y + 16, class: 'row-label' }, svg).textContent = t('d.tokens');
  stageBox(svg, 'embed', null, 60, y, 250, `${t('st.embed')} wte [${c.tokens} × ${c.n_embd}]`);
  stageBox(svg, 'pos', null, 322, y, 318, positionLabel(c));
  for (let l = 0; l < c.n_layer; ++l) {
    y = top + (l + 1) * rowH;
    const g = svgElement('g', { class: 'block', id: 'block-' + l, 'data-layer': l }, svg);
    svgElement('text', { x: 0, y: y + 16, class: 'row-label' }, g).textContent = `${t('block')} ${l}`;
    stageBox(g, 'ln_1', l, 60, y, 80, normLabel(c), `ln_1: ${normLabel(c)}`);
    arrow(g, 140, 150, y);
    stageBox(g, 'attn', l, 150, y, 178, attentionLabel(c));
    arrow(g, 328, 336, y);
    stageBox(g, 'add_attn', l, 336, y, 26, '+', 'x + attention(ln_1(x))');
    arrow(g, 362, 370, y);
    stageBox(g, 'ln_2', l, 370, y, 80, normLabel(c), `ln_2: ${normLabel(c)}`);
    arrow(g, 450, 458, y);
    stageBox(g, 'mlp', l, 458, y, 144, mlpLabel(c));
    arrow(g, 602, 610, y);
    stageBox(g, 'add_mlp', l, 610, y, 26, '+', 'h + MLP(ln_2(h))');
  }
  y = top + (c.n_layer + 1) * rowH;
  svgElement('text', { x: 0, y: y + 16, class: 'row-label' }, svg).textContent = t('d.output');
  stageBox(svg, 'ln_f', null, 60, y, 110, `${t('st.ln_f')}`, `ln_f: ${normLabel(c)}`);
  arrow(svg, 170, 180, y);
  stageBox(svg, 'logits', null, 180, y, 130, `${t('st.logits')} [${c.tokens}]`, c.tie_embeddings ? 'logits = ln_f(x) · wteᵀ' : 'logits = ln_f(x) · lm_headᵀ');
  arrow(svg, 310, 320, y);
  stageBox(svg, 'sampling', null, 320, y, 170, t('st.sampling'));
  arrow(svg, 490, 500, y);
  stageBox(svg, 'probs', null, 500, y, 140, t('st.probs'));
}

// ---- the stage view ----
function explain(parent, text) {
  parent.appendChild(element('p', 'explain', text));
}

function section(parent, title, id) {
  const s = element('div', 'stage-section');
  if (id) s.id = id;
  if (title) s.appendChild(element('h4', '', title));
  parent.appendChild(s);
  return s;
}

function statsLine(values) {
  const n = values.length, mean = values.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n), rms = Math.sqrt(values.reduce((a, b) => a + b * b, 0) / n);
  return t('l.mean_std', { mean: fmt(mean), std: fmt(std), rms: fmt(rms) });
}

function drawStage() {
  const view = $('stage-view');
  view.innerHTML = '';
  const data = state.forward, c = state.config;
  if (!data || !c) return;
  if (!data.stages) { view.appendChild(element('p', 'lead', 'the stage views were left out of this answer (response bound)')); return; }
  const s = data.stages, L = s.layer, i = data.position, name = state.stage.name;
  const order = stageOrder(c);
  const at = order.findIndex(([n, l]) => n === name && (l === null || l === state.stage.layer));
  // Title and navigation: previous / next stage in the order the forward runs them.
  const head = element('div', 'stage-head');
  const prev = element('button', '', '◀'), next = element('button', '', '▶');
  prev.id = 'stage-prev'; next.id = 'stage-next';
  prev.disabled = at <= 0; next.disabled = at >= order.length - 1;
  prev.onclick = () => openStage(...order[at - 1]);
  next.onclick = () => openStage(...order[at + 1]);
  const where = inBlock(name) ? `${t('block')} ${L.index} · ` : '';
  const title = element('h3', '', `${where}${t('st.' + name)} — ${t('chosen')} #${i} ${tokenText(data.tokens[i])}`);
  title.id = 'stage-title';
  head.append(prev, title, next);
  view.appendChild(head);
  view.dataset.stage = name;
  view.dataset.layer = inBlock(name) ? L.index : '';
  view.dataset.position = i;
  const draw = { embed: stageEmbedding, ln_1: stageNorm, ln_2: stageNorm, ln_f: stageNorm, attn: stageAttention,
    add_attn: stageResidual, add_mlp: stageResidual, mlp: stageMLP, logits: stageOutput, sampling: stageOutput, probs: stageOutput }[name];
  draw(view, data, c, name);
}

function stageEmbedding(view, data, c) {
  const e = data.stages.embedding;
  explain(view, t('x.embed', { C: c.n_embd }));
  explain(view, t('x.pos.' + c.pos_encoding, { scale: fmt(e.token_scale) }));
  view.appendChild(vectorView(e.token, 'stage-token-row', t('l.token_row') + (e.token_scale !== 1 ? ' ' + t('l.scaled') : '')));
  if (e.position) view.appendChild(vectorView(e.position, 'stage-position-row', t('l.position_row')));
  view.appendChild(vectorView(e.sum, 'stage-sum', t('l.sum')));
}

function stageNorm(view, data, c, name) {
  const s = data.stages, L = s.layer;
  const [input, output] = { ln_1: [L.input, L.ln_1], ln_2: [L.residual_mid, L.ln_2], ln_f: [s.final_input, s.ln_f] }[name];
  if (name === 'ln_f') explain(view, t('x.ln_f', { norm: normLabel(c) }));
  explain(view, t('x.norm.' + (c.norm === 'rmsnorm' ? 'rmsnorm' : 'layernorm')));
  view.appendChild(vectorView(input, 'stage-norm-in', t('l.input')));
  view.appendChild(element('p', 'stats', statsLine(input)));
  view.appendChild(vectorView(output, 'stage-norm-out', t('l.output') + ' ' + normLabel(c)));
  view.appendChild(element('p', 'stats', statsLine(output)));
}

function stageResidual(view, data, c, name) {
  const L = data.stages.layer;
  explain(view, t('x.residual'));
  const [x, f, sum, fName] = name === 'add_attn' ? [L.input, L.attn_out, L.residual_mid, t('l.attn_out')] : [L.residual_mid, L.mlp_out, L.out, t('l.mlp_out')];
  view.appendChild(vectorView(x, 'stage-residual-in', t('l.input')));
  view.appendChild(vectorView(f, 'stage-residual-add', '+ ' + fName));
  view.appendChild(vectorView(sum, 'stage-residual-out', '= ' + (name === 'add_attn' ? t('l.mid') : t('l.block_out'))));
}

function stageAttention(view, data, c) {
  const L = data.stages.layer, i = data.position, h = Math.min(state.head, L.heads.length - 1), H = L.heads[h];
  const kind = attentionKind(c);
  explain(view, t('x.attn.' + kind, { H: c.n_head, Hkv: c.n_kv_head, group: c.n_head / c.n_kv_head, d: L.head_dim, dc: c.kv_latent_dim, dR: c.rope_head_dim }));
  explain(view, t(state.kind === 'bert' ? 'x.attn.flow.bert' : 'x.attn.flow'));
  // The head picker: another head of this layer (its keys and values come with the next request).
  const picker = element('div', 'head-pick');
  picker.id = 'head-pick';
  picker.appendChild(element('span', '', t('head') + ': '));
  L.heads.forEach((_, k) => {
    const b = element('button', k === h ? 'active' : '', String(k));
    b.onclick = () => { state.head = k; refreshForward('token'); };
    picker.appendChild(b);
  });
  view.appendChild(picker);

  // ① q, k, v
  const s1 = section(view, '① q, k, v', 'stage-qkv');
  const peers = L.heads.map((x, k) => (x.kv_head === H.kv_head ? k : -1)).filter((k) => k >= 0);
  const share = kind === 'mha' || kind === 'mla' ? '' : t('x.qkv.share', { g: H.kv_head, peers: peers.join(', ') });
  explain(s1, t('x.qkv', { h, rope: c.pos_encoding === 'rope' ? t('x.qkv.rope') : '', qknorm: c.qk_norm ? t('x.qkv.qknorm') : '', share }));
  s1.appendChild(vectorView(H.q, 'stage-q', `q (${t('head')} ${h})`));
  s1.appendChild(vectorView(H.k, 'stage-k', `k (kv ${t('head')} ${H.kv_head})`));
  s1.appendChild(vectorView(H.v, 'stage-v', `v (kv ${t('head')} ${H.kv_head})`));
  if (L.latent) s1.appendChild(vectorView(L.latent, 'stage-latent', t('l.latent')));

  // ② scores, ③ mask, ④ softmax: one table, a row per token j (future tokens masked).
  const s2 = section(view, '② q·kⱼ/√d  ③ mask  ④ softmax', 'stage-scores-section');
  explain(s2, t('x.scores', { sqrt: fmt(1 / L.scale) }));
  explain(s2, t(state.kind === 'bert' ? 'x.mask.bert' : 'x.mask'));
  explain(s2, t('x.softmax'));
  const table = element('table', 'scores');
  table.id = 'stage-scores';
  const header = element('tr');
  for (const text of ['j', 'token', 'q·kⱼ/√d', 'mask', 'pⱼ', '']) header.appendChild(element('th', '', text));
  table.appendChild(header);
  const top = Math.max(maxOf(H.probs), 1e-30);
  data.tokens.forEach((tk, j) => {
    const masked = j > i && state.kind !== 'bert';  // bert: bidirectional, every key is read
    const row = element('tr', masked ? 'masked' : '');
    row.append(element('td', '', String(j)), element('td', 'tok', tokenText(tk)),
      element('td', 'score', masked ? '—' : fmt(H.scores[j])), element('td', 'mask', masked ? '−∞' : '0'),
      element('td', 'p', masked ? '0' : fmt(H.probs[j])));
    const cell = element('td', 'pbar');
    const bar = element('div', 'bar');
    bar.style.width = masked ? '0' : (100 * H.probs[j] / top).toFixed(1) + '%';  // linear; the largest weight is full width
    cell.appendChild(bar);
    row.appendChild(cell);
    if (masked) row.title = t('l.masked');
    table.appendChild(row);
  });
  s2.appendChild(table);

  // ⑤ the weighted sum of the values
  const s3 = section(view, '⑤ Σⱼ pⱼ vⱼ', 'stage-weighted');
  explain(s3, t('x.weighted'));
  if (L.head === h) {
    const values = L.head_detail.values;
    const names = data.tokens.slice(0, H.probs.length).map((tk, j) => `p=${fmt(H.probs[j])} ${tk.text.replace(/ /g, '␣')}`);
    s3.appendChild(figure(t('l.values'), matrixCanvas(values, Math.max(9, Math.min(14, Math.floor(420 / values[0].length))), null,
      (e, j, k, v) => tooltip(e, j < 0 ? '' : `v${j}[${k}] = ${fmt(v)}, weight p${j} = ${fmt(H.probs[j])}`), { labels: { rows: names, cols: [], width: 120, chars: 16 }, maxWidth: 560 })));
  }
  s3.appendChild(vectorView(H.output, 'stage-o', `o = Σ pⱼ vⱼ (${t('head')} ${h})`));

  // ⑥ the heads concatenated, c_proj
  const s4 = section(view, '⑥ concat · c_proj', 'stage-proj');
  explain(s4, t('x.proj', { H: c.n_head, d: L.head_dim, C: c.n_embd }));
  s4.appendChild(vectorView(L.concat, 'stage-concat', t('l.heads_concat')));
  s4.appendChild(vectorView(L.attn_out, 'stage-attn-out', t('l.attn_out')));
}

function stageMLP(view, data, c) {
  const L = data.stages.layer;
  explain(view, t('x.mlp.' + c.mlp, { C: c.n_embd, D: c.mlp_hidden }));
  view.appendChild(vectorView(L.ln_2, 'stage-mlp-in', 'ln_2(h)'));
  if (c.mlp === 'swiglu') {
    const D = L.activation.length;
    view.appendChild(vectorView(L.fc.slice(0, D), 'stage-fc', t('l.fc') + ' → ' + t('l.gate')));
    view.appendChild(vectorView(L.fc.slice(D), 'stage-fc-value', t('l.fc') + ' → ' + t('l.value')));
  } else {
    view.appendChild(vectorView(L.fc, 'stage-fc', t('l.fc')));
  }
  view.appendChild(vectorView(L.activation, 'stage-activation', t('l.activation') + ' ' + ({ gelu: 'GELU', relu2: 'ReLU²', swiglu: 'SiLU(a) ⊙ b' }[c.mlp] || c.mlp)));
  view.appendChild(vectorView(L.mlp_out, 'stage-mlp-out', t('l.mlp_out')));
}

// logits, ÷T with top-k and top-p, probabilities: one table of the 20 most probable tokens, the stage's
// column highlighted.
function stageOutput(view, data, c, name) {
  const sampling = data.sampling;
  if (name === 'logits') explain(view, t('x.logits', { V: c.tokens, head: t(c.tie_embeddings ? 'x.logits.tied' : 'x.logits.untied') }));
  if (name === 'sampling') explain(view, t('x.sampling'));
  if (name === 'probs') explain(view, t('x.probs'));
  explain(view, t('x.probs.note', { kept: sampling.kept }));
  const o = sampling.options;
  const table = element('table', 'candidates');
  table.id = 'stage-candidates';
  const columns = [['token', null], ['logit', 'logits'], [`logit / T (T = ${fmt(o.temperature)})`, 'sampling'], ['softmax(·/T)', 'sampling'],
    [`top-k (k = ${o.top_k || 'off'})`, 'sampling'], [`top-p (p = ${fmt(o.top_p)})`, 'probs']];
  const header = element('tr');
  columns.forEach(([text, stage]) => header.appendChild(element('th', stage === name ? 'here' : '', text)));
  table.appendChild(header);
  for (const cand of sampling.candidates) {
    const row = element('tr', cand.p_final > 0 ? '' : 'removed');
    const cells = [tokenText(cand) + ' ' + cand.id, fmt(cand.logit), fmt(cand.logit_over_t), fmt(cand.p_temperature),
      cand.p_top_k > 0 ? fmt(cand.p_top_k) : '✕', cand.p_final > 0 ? fmt(cand.p_final) : '✕'];
    cells.forEach((text, k) => row.appendChild(element('td', columns[k][1] === name ? 'here' : '', text)));
    table.appendChild(row);
  }
  view.appendChild(table);
}
