// gpt serve's forward view: tokens, the model diagram and stage view (stages.js), next-token bars,
// attention maps, residual norms, MLP activations, embeddings.
'use strict';

// ---- forward view ----
function samplingRequest() {
  return {
    run: state.model, prompt: $('prompt').value,
    temperature: +$('temperature').value, top_k: Math.max(0, Math.floor(+$('top_k').value || 0)),
    top_p: +$('top_p').value, repetition_penalty: +$('repetition_penalty').value,
  };
}

// The request of the forward view: the sampling options, the chosen token (absent: the last one) and the
// layer and head the stage view opens.
function forwardRequest() {
  const body = { ...samplingRequest(), stage_layer: state.stage.layer || 0, stage_head: state.head || 0 };
  if (state.position !== null) body.position = state.position;
  return body;
}

// ---- the forward view's requests ----
// What changed decides what is asked for, from least to most:
//   'sampling'  a slider or top-k: the bars and the sampling stages ("include": [], about 10 KB);
//   'token'     the chosen token, head or a block's stage: the stage views and bars ("include": ["stages"]);
//   'prompt'    the prompt or the model: the same first, drawn at once, then the maps in a second request
//               (attention, MLP activations, embeddings, latents: most of the bytes), drawn when they come.
// The server keeps the last prompt's forward (serve/forward_cache.h): only a new prompt runs the model.
// One request at a time and no timer: a keystroke is sent at once, and what changes while an answer is
// on its way is sent as one request when it is in. While "stream" runs, the maps wait for its end.
const FORWARD_KINDS = ['sampling', 'token', 'prompt'];
const MAP_PARTS = ['attention', 'gelu', 'embeddings', 'latent'];
// Dispatched on window after each drawn answer (detail: part, started): bench/explainer_latency.js times it.
const FORWARD_DRAWN_EVENT = 'forward-drawn';
let forwardNeed = -1, forwardLoop = null;

function refreshForward(kind = 'prompt') {
  if (!state.model) return Promise.resolve();
  forwardNeed = Math.max(forwardNeed, FORWARD_KINDS.indexOf(kind));
  if (!forwardLoop) {
    forwardLoop = (async () => {
      await null;  // forwardLoop is set before the loop runs, and cleared right after its last check
      try {
        while (forwardNeed >= 0) {
          const kind = FORWARD_KINDS[forwardNeed];
          forwardNeed = -1;
          try {
            await forwardStep(kind);
          } catch (e) {
            showError('forward: ' + e.message);
          }
        }
      } finally {
        forwardLoop = null;
      }
    })();
  }
  return forwardLoop;
}

// The error line: what the maps leave out when the whole view exceeds the server's response bound, else nothing.
function noteForward() {
  const note = state.forward && state.forward.mapsNote;
  showError(note ? 'forward: showing ' + note : '');
}

function forwardDrawn(part, started) {
  window.dispatchEvent(new CustomEvent(FORWARD_DRAWN_EVENT, { detail: { part, started } }));
}

// One answer of the kind asked for (less when what is drawn allows it, more when it does not).
async function forwardStep(kind) {
  // Another model: its configuration first (its layers and heads reset the stage view's choice).
  if (state.config_run !== state.model) await loadModelInfo();
  const request = forwardRequest();
  const drawn = state.forward;
  const samePrompt = drawn && drawn.request.run === request.run && drawn.request.prompt === request.prompt;
  if (!samePrompt) kind = 'prompt';
  else if (kind === 'sampling' && (drawn.request.position !== request.position || !drawn.stages ||
                                   drawn.stages.layer.index !== request.stage_layer || drawn.stages.layer.head !== request.stage_head)) kind = 'token';
  if (kind === 'sampling') {
    const data = await api('/api/forward', { ...request, include: [] });
    if (forwardNeed === 2 || state.forward !== drawn) return;  // a newer prompt is on its way
    const started = performance.now();
    drawn.sampling = data.sampling;
    drawn.request = request;
    drawBars(drawn.sampling, drawn);
    drawStage();
    noteForward();
    forwardDrawn('sampling', started);
    return;
  }
  const data = await api('/api/forward', { ...request, include: ['stages'] });
  if (forwardNeed === 2 && kind !== 'prompt') return;
  const started = performance.now();
  data.request = request;
  data.stages_layer = data.stages ? data.stages.layer.index : -1;
  if (kind === 'token') {
    for (const part of MAP_PARTS) data[part] = drawn[part];  // the same prompt: the maps stand
    data.mapsNote = drawn.mapsNote;
  }
  state.forward = data;
  drawForwardMain(data);
  noteForward();
  if (kind === 'token') {
    forwardDrawn('token', started);
    return;
  }
  for (const id of ['attention', 'gelu', 'embeddings', 'latent']) $(id).classList.add('stale');
  forwardDrawn('main', started);
  if (forwardNeed === 2 || streaming) return;  // a newer prompt, or the stream, comes first
  const maps = await fetchMaps(request);
  if (forwardNeed === 2) return;  // typed on: the next prompt's maps replace these
  const mapsStarted = performance.now();
  for (const part of MAP_PARTS) state.forward[part] = maps[part];
  state.forward.mapsNote = maps.note;
  drawForwardMaps(state.forward);
  noteForward();
  forwardDrawn('maps', mapsStarted);
}

// The maps of a prompt. An answer over the server's 8 MiB bound (a large model at a long prompt) is
// refused with 413 before any work: then every layer's attention without the MLP activations (and those
// of the chosen layer alone), then the chosen layer's maps, then its chosen head's attention alone.
async function fetchMaps(request) {
  const L = request.stage_layer, h = request.stage_head;
  const plans = [
    [[{ include: MAP_PARTS }, '']],
    [[{ include: ['attention', 'embeddings', 'latent'] }, ''], [{ layers: [L], include: ['gelu'] }, `MLP activations: block ${L} only`]],
    [[{ layers: [L], include: MAP_PARTS }, `maps: block ${L} only`]],
    [[{ layers: [L], heads: [h], include: ['attention'] }, `attention: block ${L}, head ${h} only`]],
  ];
  for (const [k, plan] of plans.entries()) {
    try {
      const merged = { note: '' };
      for (const [part, note] of plan) {
        const data = await api('/api/forward', { ...request, ...part });
        for (const name of MAP_PARTS) {
          if (name === 'embeddings') { merged.embeddings = merged.embeddings || data.embeddings; continue; }
          merged[name] = merged[name] ? merged[name].map((m, l) => m || data[name][l]) : data[name];
        }
        if (note) merged.note = note + ' (the whole view exceeds the server\'s response bound)';
      }
      return merged;
    } catch (e) {
      if (e.status !== 413 || k === plans.length - 1) throw e;
    }
  }
}

// Choose the token the stage views and the next-token bars follow (null: the last one).
function chooseToken(i) {
  const T = state.forward ? state.forward.T : 0;
  state.position = i === null || i >= T - 1 ? null : i;
  refreshForward('token');
}

function drawTokens(container, tokens, chosen, onHover, onClick) {
  container.innerHTML = '';
  tokens.forEach((tk, i) => {
    const d = element('div', 'token' + (i === chosen ? ' chosen' : ''), tk.text.replace(/ /g, '␣'));
    d.title = 'bytes: ' + tk.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    d.dataset.index = i;
    d.appendChild(element('small', '', '#' + i + ' id ' + tk.id));
    if (onHover) { d.onmouseenter = () => onHover(i); d.onmouseleave = () => onHover(-1); }
    if (onClick) d.onclick = () => onClick(i);
    container.appendChild(d);
  });
}

function drawBars(sampling, data) {
  const box = $('bars');
  box.innerHTML = '';
  box.appendChild(element('p', 'lead', `${t('chosen')}: #${data.position} ${tokenText(data.tokens[data.position])} → ?`));
  // Linear: the longest bar is the most probable token after temperature.
  const top = Math.max(maxOf(sampling.candidates.map((c) => c.p_temperature)), 1e-30);
  for (const c of sampling.candidates) {
    const row = element('div', 'barrow');
    const track = element('div', 'track');
    const bar = element('div', 'bar' + (c.p_final > 0 ? '' : ' dropped'));
    bar.style.width = (100 * c.p_temperature / top).toFixed(2) + '%';
    bar.dataset.p = c.p_temperature;
    bar.title = `logit ${fmt(c.logit)} → after penalty ${fmt(c.logit_penalised)} → ÷T ${fmt(c.logit_over_t)}\nsoftmax(·/T) ${fmt(c.p_temperature)}\nafter top-k ${fmt(c.p_top_k)}\nafter top-p ${fmt(c.p_final)}`;
    track.appendChild(bar);
    row.append(element('span', 'label', tokenText(c) + ' ' + c.id), track,
      element('span', 'value', (100 * c.p_temperature).toFixed(1) + '% → ' + (c.p_final > 0 ? (100 * c.p_final).toFixed(1) + '%' : 'removed')));
    box.appendChild(row);
  }
  box.appendChild(element('p', 'lead', `${sampling.kept} token(s) survive temperature ${fmt(sampling.options.temperature)}, top-k ${sampling.options.top_k}, top-p ${fmt(sampling.options.top_p)}, repetition penalty ${fmt(sampling.options.repetition_penalty)}.`));
}

function drawAttentionMaps(data) {
  const tokens = data.tokens, T = data.T;
  const att = $('attention');
  att.innerHTML = '';
  if (T < 2) { att.appendChild(element('p', 'lead empty-prompt', t('empty.prompt'))); return; }
  att.appendChild(element('p', 'legend', t('legend.attention')));
  // Layers and heads the request did not ask for ("layers", "heads") are null.
  const shownHeads = data.attention.find((heads) => heads) || [];
  // As many maps in a row as fit at 140 px or more (each also takes 64 px of row labels and a 12 px gap),
  // the rows balanced: 4 heads at 700 px are 2 × 2, not 3 + 1.
  const width = Math.min(window.innerWidth, 1400) - 60, n = Math.max(1, shownHeads.length);
  const fit = Math.max(1, Math.min(n, Math.floor(width / (140 + 76))));
  const columns = Math.ceil(n / Math.ceil(n / fit));
  const size = Math.max(140, Math.min(240, Math.floor(width / columns) - 76));
  const cell = Math.max(2, Math.floor(size / T));
  const names = tokens.map((tk) => tk.text.replace(/ /g, '␣'));
  data.attention.forEach((heads, l) => {
    if (!heads) return;
    const row = element('div', 'layer');
    row.style.maxWidth = columns * (size + 76) + 'px';
    heads.forEach((matrix, h) => {
      if (!matrix) return;
      const canvas = matrixCanvas(matrix, cell, sequentialRGB, (e, i, j, v) => {
        tooltip(e, i < 0 ? '' : `layer ${l} head ${h}\n#${i} ${tokenText(tokens[i])} attends to #${j} ${tokenText(tokens[j])}: ${fmt(v)}` + (j > i ? '  (masked: future)' : ''));
        document.querySelectorAll('#tokens .token').forEach((x, k) => x.classList.toggle('hot', i >= 0 && (k === i || k === j)));
      }, { labels: { rows: names, cols: names }, maxWidth: size + 64 });
      canvas.className = 'attention-map';
      canvas.id = `map-${l}-${h}`;
      canvas.dataset.layer = l; canvas.dataset.head = h;
      // Click a row: open this head's attention stage for that token.
      canvas.onclick = (e) => {
        const [i] = canvas.cellAt(e);
        if (i < 0 || i >= T) return;
        state.stage = { name: 'attn', layer: l }; state.head = h;
        chooseToken(i);
      };
      row.appendChild(figure(`layer ${l} · head ${h}`, canvas));
    });
    att.appendChild(row);
  });
}

// The parts of the forward view an answer of 'token' or 'prompt' changes: the tokens, the diagram and
// stage view, the bars, the residual norms; the maps keep their row outlines in step with the chosen token.
function drawForwardMain(data) {
  const tokens = data.tokens, T = data.T;
  // Hover a token: every attention map outlines its row; click: follow it through the model.
  drawTokens($('tokens'), tokens, data.position, (i) => outlineMapRows(i), (i) => chooseToken(i));
  drawDiagram();
  drawStage();
  drawBars(data.sampling, data);
  outlineMapRows(-1);
  const x = [...Array(T).keys()];
  const series = [{ label: 'embedding', legend: 'x₀ (embedding)', x, y: data.residual_norms.embedding, colour: '#888' }];
  data.residual_norms.out.forEach((norms, l) => {
    const colour = COLOURS[l % COLOURS.length];
    series.push({ label: `layer ${l} after attention`, x, y: data.residual_norms.mid[l], colour, dashed: true });
    series.push({ label: `layer ${l} after MLP`, legend: `${t('block')} ${l}`, x, y: norms, colour });
  });
  lineChart($('residual'), series, { legend: $('residual-legend'), xName: 'position' });
}

// Row i of every attention map outlined (-1: the chosen token's row in the stage view's layer and head).
function outlineMapRows(i) {
  const data = state.forward;
  document.querySelectorAll('#attention canvas.attention-map').forEach((c) => c.highlightRow(i >= 0 ? i
    : (data && +c.dataset.layer === data.stages_layer && +c.dataset.head === state.head ? data.position : -1)));
}

function drawForward(data) {
  drawForwardMain(data);
  drawForwardMaps(data);
}

// The maps: attention, embeddings, MLA latents, MLP activations (absent until the second answer is in).
function drawForwardMaps(data) {
  const tokens = data.tokens, T = data.T;
  const label = (i) => tokenText(tokens[i]);
  for (const id of ['attention', 'gelu', 'embeddings', 'latent']) $(id).classList.remove('stale');
  if (!data.attention) return;
  drawAttentionMaps(data);
  outlineMapRows(-1);
  const emb = $('embeddings');
  emb.innerHTML = '';
  // Left out (null) when the request did not "include" them: a large model at a long prompt.
  const cell = data.embeddings ? Math.max(2, Math.min(10, Math.floor(600 / Math.max(1, data.embeddings.sum[0].length)))) : 0;
  // Rotary positions (pos_encoding = "rope") have no wpe: positions rotate q and k inside attention.
  const parts = !data.embeddings ? [] : data.embeddings.position
    ? [['token embedding (wte)', data.embeddings.token], ['+ position (wpe)', data.embeddings.position], ['= sum', data.embeddings.sum]]
    : [['token embedding (wte) = the first residual stream; positions: rotary, applied to q and k in attention', data.embeddings.token]];
  for (const [name, m] of parts)
    emb.appendChild(figure(name, matrixCanvas(m, cell, null, (e, i, j, v) => tooltip(e, i < 0 ? '' : `${label(i)} channel ${j}: ${fmt(v)}`))));
  if (parts.length) emb.appendChild(element('p', 'legend', t('legend.diverging')));
  // Multi-head latent attention: c_KV = W_DKV·h per token and layer, the only thing its KV cache keeps.
  const latent = $('latent');
  latent.innerHTML = '';
  const latentShown = data.latent.find((m) => m);
  latent.hidden = !latentShown;
  if (latentShown) {
    latent.appendChild(element('p', 'lead', `Multi-head latent attention: each token's keys and values are rebuilt from one latent row c_KV = W_DKV·h (${latentShown[0].length} numbers per token and layer), which is all the KV cache keeps.`));
    data.latent.forEach((m, l) => m && latent.appendChild(figure(`layer ${l}: latent c_KV  [${T} × ${m[0].length}]`,
      matrixCanvas(m, Math.max(3, Math.min(10, Math.floor(600 / m[0].length))), null, (e, i, j, v) => tooltip(e, i < 0 ? '' : `${label(i)} latent ${j}: ${fmt(v)}`)))));
  }
  const gelu = $('gelu');
  gelu.innerHTML = '';
  // The MLP's activation as the model computes it (mlp = gelu, relu2 or swiglu: the checkpoint's config).
  const activation = {gelu: 'GELU(c_fc(ln_2(x)))', relu2: 'ReLU(c_fc(ln_2(x)))²', swiglu: 'SiLU(gate) ⊙ value, [gate; value] = c_fc(ln_2(x))'}[state.mlp || 'gelu'];
  data.gelu.forEach((m, l) => m && gelu.appendChild(figure(`layer ${l}: ${activation}  [${T} × ${m[0].length}]`,
    matrixCanvas(m, Math.max(2, Math.min(6, Math.floor(640 / m[0].length))), null, (e, i, j, v) => tooltip(e, i < 0 ? '' : `${label(i)} unit ${j}: ${fmt(v)}`), { maxWidth: 640 }))));
  if (data.gelu.some((m) => m)) gelu.appendChild(element('p', 'legend', t('legend.diverging')));
}

async function appendTokens(n) {
  const data = await api('/api/generate', { ...samplingRequest(), n, seed: Math.floor(Math.random() * 1e9) });
  $('prompt').value += data.text;
  state.position = null;  // follow the new last token
  return data;
}

let streaming = false;
const STREAM_REDRAW_MS = 150;
async function stream() {
  if (streaming) { streaming = false; return; }
  streaming = true;
  $('stream').textContent = 'stop';
  try {
    // The tokens come as fast as the server generates them. The forward view follows without holding
    // them up: one redraw at a time, at most one per STREAM_REDRAW_MS (the thread that draws the view is
    // the one that asks for the next token: a redraw per token would set the stream's pace).
    let redrawn = -Infinity;
    for (let k = 0; k < 200 && streaming; ++k) {
      const data = await appendTokens(1);
      if (!forwardLoop && performance.now() - redrawn >= STREAM_REDRAW_MS) { redrawn = performance.now(); refreshForward(); }
      if (data.end_of_text || data.length >= (state.block_size || Infinity)) break;
    }
  } catch (e) {
    showError('stream: ' + e.message);
  }
  streaming = false;
  $('stream').textContent = 'stream';
  refreshForward();  // the maps, which waited for the stream's end
}
