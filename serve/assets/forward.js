// gpt serve's forward view: tokens, embeddings, attention, residual norms, GELU, next-token bars.
'use strict';

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
    // An answer over the server's 8 MiB bound (a large model at a long prompt) is refused with 413: then
    // the first layer's maps only, then its first head's.
    let data = null, note = '';
    const fallbacks = [{}, { layers: [0] }, { layers: [0], heads: [0] }, { layers: [0], heads: [0], include: ['attention'] }];
    for (const [k, part] of fallbacks.entries()) {
      try {
        data = await api('/api/forward', { ...samplingRequest(), ...part });
        if (part.layers) note = `forward: showing layer 0${part.heads ? ', head 0' : ''}${part.include ? ', attention' : ''} only (the whole view exceeds the server's response bound)`;
        break;
      } catch (e) {
        if (e.status !== 413 || k === fallbacks.length - 1) throw e;
      }
    }
    state.forward = data;
    drawForward(data);
    showError(note);
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
  // highlightRow(i): repaint with row i outlined (-1: none), e.g. when its token is hovered.
  canvas.highlightRow = (highlighted) => {
    matrix.forEach((row, i) => row.forEach((v, j) => { g.fillStyle = colour ? colour(v) : diverging(v, scale); g.fillRect(j * cell, i * cell, cell, cell); }));
    if (highlighted < 0) return;
    g.strokeStyle = '#e8590c'; g.lineWidth = 2;
    g.strokeRect(1, highlighted * cell + 1, cols * cell - 2, cell - 2);
  };
  canvas.highlightRow(-1);
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
  // Hover a token: every attention map outlines its row, what that token attends to.
  drawTokens($('tokens'), tokens, (i) => document.querySelectorAll('#attention canvas.attention-map').forEach((c) => c.highlightRow(i)));
  drawBars(data.sampling);
  const emb = $('embeddings');
  emb.innerHTML = '';
  // Left out (null) when the request did not "include" them: a large model at a long prompt.
  const cell = data.embeddings ? Math.max(3, Math.min(10, Math.floor(280 / Math.max(1, data.embeddings.sum[0].length)))) : 0;
  // Rotary positions (pos_encoding = "rope") have no wpe: positions rotate q and k inside attention.
  const parts = !data.embeddings ? [] : data.embeddings.position
    ? [['token embedding (wte)', data.embeddings.token], ['+ position (wpe)', data.embeddings.position], ['= sum', data.embeddings.sum]]
    : [['token embedding (wte) = the first residual stream; positions: rotary, applied to q and k in attention', data.embeddings.token]];
  for (const [name, m] of parts)
    emb.appendChild(figure(name, matrixCanvas(m, cell, null, (e, i, j, v) => tooltip(e, i < 0 ? '' : `${label(i)} channel ${j}: ${fmt(v)}`))));
  const att = $('attention');
  att.innerHTML = '';
  // Layers and heads the request did not ask for ("layers", "heads") are null.
  const shownHeads = data.attention.find((heads) => heads) || [];
  const size = Math.max(180, Math.min(360, Math.floor((window.innerWidth - 80) / Math.max(1, shownHeads.length)) - 16));
  const attCell = Math.max(2, Math.floor(size / T));
  data.attention.forEach((heads, l) => {
    if (!heads) return;
    const row = document.createElement('div');
    row.className = 'layer';
    heads.forEach((matrix, h) => {
      if (!matrix) return;
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
  // Multi-head latent attention: c_KV = W_DKV·h per token and layer, the only thing its KV cache keeps.
  const latent = $('latent');
  latent.innerHTML = '';
  const latentShown = data.latent.find((m) => m);
  latent.hidden = !latentShown;
  if (latentShown) {
    const lead = document.createElement('p');
    lead.className = 'lead';
    lead.textContent = `Multi-head latent attention: each token's keys and values are rebuilt from one latent row c_KV = W_DKV·h (${latentShown[0].length} numbers per token and layer), which is all the KV cache keeps.`;
    latent.appendChild(lead);
    data.latent.forEach((m, l) => m && latent.appendChild(figure(`layer ${l}: latent c_KV  [${T} × ${m[0].length}]`,
      matrixCanvas(m, Math.max(3, Math.min(10, Math.floor(600 / m[0].length))), null, (e, i, j, v) => tooltip(e, i < 0 ? '' : `${label(i)} latent ${j}: ${fmt(v)}`)))));
  }
  const gelu = $('gelu');
  gelu.innerHTML = '';
  // The MLP's activation as the model computes it (mlp = gelu, relu2 or swiglu: the checkpoint's config).
  const activation = {gelu: 'GELU(c_fc(ln_2(x)))', relu2: 'ReLU(c_fc(ln_2(x)))²', swiglu: 'SiLU(gate) ⊙ value, [gate; value] = c_fc(ln_2(x))'}[state.mlp || 'gelu'];
  data.gelu.forEach((m, l) => m && gelu.appendChild(figure(`layer ${l}: ${activation}  [${T} × ${m[0].length}]`,
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
