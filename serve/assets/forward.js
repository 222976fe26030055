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
// bert: "mask" puts a [MASK] at the chosen token (the box beside the sliders).
function forwardRequest() {
  const body = { ...samplingRequest(), stage_layer: state.stage.layer || 0, stage_head: state.head || 0 };
  if (state.position !== null) body.position = state.position;
  if (state.kind === 'bert' && $('mask').checked) body.mask = true;
  return body;
}

// The model reads the same tokens in both requests: the same prompt and, with a [MASK], at the same place.
const sameInput = (a, b) => a.run === b.run && a.prompt === b.prompt && !!a.mask === !!b.mask &&
  (!a.mask || a.position === b.position);

// ---- the forward view's requests ----
// What changed decides what is asked for, from least to most:
//   'sampling'  a slider or top-k: the bars and the sampling stages ("include": [], about 10 KB);
//   'token'     the chosen token, head or a block's stage: the stage views and bars ("include": ["stages"]);
//   'prompt'    the prompt or the model: the same first, drawn at once, then the maps.
// The maps (attention, MLP activations, embeddings, latents: most of the bytes) come in an answer of
// their own, for the layers on screen only (state.mapLayer: every layer of a small model, one layer of a
// large one, picked above the maps or following the block the stage view opens), asked for whenever the
// maps drawn are not those of the prompt and layers shown ('maps': the picker) and drawn when they come.
// The server answers them with "fit": what fits its response bound, the rest left out and said so in a
// note above the maps (never a refused request). The server keeps the last prompt's forward
// (serve/forward_cache.h): only a new prompt runs the model. One request at a time and no timer: a
// keystroke is sent at once, and what changes while an answer is on its way is sent as one request when
// it is in. While "stream" runs, the maps wait for its end.
const FORWARD_KINDS = ['sampling', 'token', 'prompt'];
const MAP_PARTS = ['attention', 'gelu', 'embeddings', 'latent'];
// Every layer's maps at once up to this many heads in all (the default 4 × 4 model); one layer above it
// (GPT-2 small's 12 × 12 would be 144 attention maps, 12 MLP maps: megabytes the learner would scroll past).
const MAPS_AT_ONCE = 16;
// Dispatched on window after each drawn answer (detail: part, started): bench/explainer_latency.js times it.
const FORWARD_DRAWN_EVENT = 'forward-drawn';
let forwardNeed = -1, forwardLoop = null;

function refreshForward(kind = 'prompt') {
  if (!state.model || state.kind === 'transformer') return Promise.resolve();  // translate.js shows those
  forwardNeed = Math.max(forwardNeed, FORWARD_KINDS.indexOf(kind));  // 'maps': -1, only the maps' check below
  if (!forwardLoop) {
    forwardLoop = (async () => {
      await null;  // forwardLoop is set before the loop runs, and cleared right after its last check
      try {
        while (forwardNeed >= 0 || mapsDue()) {
          const kind = forwardNeed >= 0 ? FORWARD_KINDS[forwardNeed] : 'maps';
          forwardNeed = -1;
          try {
            await (kind === 'maps' ? mapsStep() : forwardStep(kind));
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

// The layers whose maps are shown: null (every one) or [l].
const mapLayers = () => (state.mapLayer === 'all' || state.mapLayer === undefined ? null : [state.mapLayer]);
const mapsKey = (request) => JSON.stringify([request.run, request.prompt, !!request.mask && request.position, mapLayers()]);
// The maps drawn are not those of the prompt and layers shown (and the stream is not running).
function mapsDue() {
  const f = state.forward;
  return !!f && !streaming && f.mapsKey !== mapsKey(f.request);
}

function forwardDrawn(part, started) {
  window.dispatchEvent(new CustomEvent(FORWARD_DRAWN_EVENT, { detail: { part, started } }));
}

// One answer of the kind asked for (less when what is drawn allows it, more when it does not).
async function forwardStep(kind) {
  // Another model: its configuration first (its layers and heads reset the stage view's choice).
  if (state.config_run !== state.model) await loadModelInfo();
  if (state.kind === 'transformer') return;  // the run became a transformer's: translate.js draws it
  const request = forwardRequest();
  const drawn = state.forward;
  const samePrompt = drawn && sameInput(drawn.request, request);
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
    showError('');
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
    data.mapsKey = drawn.mapsKey;
    data.mapsCut = drawn.mapsCut;
  }
  state.forward = data;
  drawForwardMain(data);
  showError('');
  if (kind === 'token') {
    forwardDrawn('token', started);
    return;
  }
  for (const id of ['attention', 'gelu', 'embeddings', 'latent']) $(id).classList.add('stale');
  forwardDrawn('main', started);
  // The maps follow (refreshForward's loop: mapsDue), unless a newer prompt or the stream comes first.
}

// The maps of the prompt drawn, for the layers shown, as much of them as the server's bound allows.
async function mapsStep() {
  const f = state.forward, key = mapsKey(f.request), layers = mapLayers();
  const boxes = ['attention', 'gelu', 'embeddings', 'latent'].map($);
  for (const box of boxes) box.classList.add('stale');  // greyed until the answer is drawn
  let maps;
  try {
    maps = await api('/api/forward', { ...f.request, layers, include: MAP_PARTS, fit: true });
  } catch (e) {
    f.mapsKey = key;  // not asked again for this prompt and these layers
    for (const box of boxes) box.classList.remove('stale');
    throw e;
  }
  if (forwardNeed === 2 || state.forward !== f) return;  // typed on: the next prompt's maps replace these
  const started = performance.now();
  for (const part of MAP_PARTS) f[part] = maps[part];
  f.mapsKey = key;
  f.mapsCut = maps.truncated ? { layers } : null;  // the note above the maps says what is left out
  drawForwardMaps(f);
  forwardDrawn('maps', started);
}

// What an answer with "fit" left out, as a sentence (in the page's language): which maps are shown of
// those asked for (every one of `layers`, null: of every layer).
function mapsNote(maps, layers) {
  const c = state.config, L = layers ? layers.length : c.n_layer;
  const count = (list) => list.filter((m) => m).length;
  const parts = [];
  const heads = maps.attention.reduce((n, layer) => n + (layer ? count(layer) : 0), 0);
  if (heads < L * c.n_head) parts.push(t('maps.cut.attention', { n: heads, m: L * c.n_head }));
  if (count(maps.gelu) < L) parts.push(t('maps.cut.gelu', { n: count(maps.gelu), m: L }));
  if (maps.latent.length && count(maps.latent) < L) parts.push(t('maps.cut.latent', { n: count(maps.latent), m: L }));
  if (!maps.embeddings) parts.push(t('maps.cut.embeddings'));
  return t('maps.truncated', { parts: parts.join('; '), T: maps.T });
}

// Show the maps of layer l ('all': of every layer).
function chooseMapLayer(l) {
  state.mapLayer = l;
  refreshForward('maps');
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
  // A GPT's bars are its next token; a bert's are its prediction for the token at the position itself
  // ("predicts": "token"), or for a [MASK] put there ("masked").
  const what = data.predicts === 'token' ? t('bars.bert.token') : data.predicts === 'masked' ? t('bars.bert.masked') : '?';
  box.appendChild(element('p', 'lead', `${t('chosen')}: #${data.position} ${tokenText(data.tokens[data.position])} → ${what}`));
  // Linear: the longest bar is the most probable token after temperature.
  const top = Math.max(maxOf(sampling.candidates.map((c) => c.p_temperature)), 1e-30);
  for (const c of sampling.candidates) {
    const row = element('div', 'barrow');
    const track = element('div', 'track');
    const bar = element('div', 'bar' + (c.p_final > 0 ? '' : ' dropped'));
    bar.style.width = (100 * c.p_temperature / top).toFixed(2) + '%';
    bar.dataset.p = c.p_temperature;
    bar.title = t('bars.title', { logit: fmt(c.logit), penalised: fmt(c.logit_penalised), over_t: fmt(c.logit_over_t),
                                  p: fmt(c.p_temperature), k: fmt(c.p_top_k), final: fmt(c.p_final) });
    track.appendChild(bar);
    row.append(element('span', 'label', tokenText(c) + ' ' + c.id), track,
      element('span', 'value', (100 * c.p_temperature).toFixed(1) + '% → ' + (c.p_final > 0 ? (100 * c.p_final).toFixed(1) + '%' : t('bars.removed'))));
    box.appendChild(row);
  }
  box.appendChild(element('p', 'lead', t('bars.kept', { kept: sampling.kept, T: fmt(sampling.options.temperature), k: sampling.options.top_k,
                                                     p: fmt(sampling.options.top_p), penalty: fmt(sampling.options.repetition_penalty) })));
}

// The layers the maps show: every one, or one (forward.js's mapLayers), picked here.
function drawMapLayerPick(box) {
  const c = state.config;
  if (!c) return;
  const pick = element('div', 'head-pick map-pick');
  pick.id = 'map-layers';
  pick.appendChild(element('span', '', t('maps.layers') + ' '));
  for (const l of ['all', ...Array(c.n_layer).keys()]) {
    const b = element('button', state.mapLayer === l ? 'active' : '', l === 'all' ? t('maps.all') : String(l));
    b.dataset.layer = l;
    b.onclick = () => chooseMapLayer(l);
    pick.appendChild(b);
  }
  box.appendChild(pick);
}

function drawAttentionMaps(data) {
  const tokens = data.tokens, T = data.T;
  const att = $('attention');
  att.innerHTML = '';
  if (T < 2) { att.appendChild(element('p', 'lead empty-prompt', t('empty.prompt'))); return; }
  drawMapLayerPick(att);
  if (data.mapsCut && state.config) att.appendChild(element('p', 'maps-note', mapsNote(data, data.mapsCut.layers)));
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
        tooltip(e, i < 0 ? '' : `${t('layer')} ${l} · ${t('head')} ${h}\n` + t('maps.hover', { i, a: tokenText(tokens[i]), j, b: tokenText(tokens[j]), v: fmt(v) }) +
          (j > i && state.kind !== 'bert' ? '  ' + t('maps.masked') : ''));
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
      row.appendChild(figure(`${t('layer')} ${l} · ${t('head')} ${h}`, canvas));
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
  const series = [{ label: t('res.embedding'), legend: t('res.embedding.legend'), x, y: data.residual_norms.embedding, colour: '#888' }];
  data.residual_norms.out.forEach((norms, l) => {
    const colour = COLOURS[l % COLOURS.length];
    series.push({ label: t('res.after_attn', { l }), x, y: data.residual_norms.mid[l], colour, dashed: true });
    series.push({ label: t('res.after_mlp', { l }), legend: `${t('block')} ${l}`, x, y: norms, colour });
  });
  lineChart($('residual'), series, { legend: $('residual-legend'), xName: t('axis.position'), yName: '‖x‖' });
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
    ? [[t('emb.token'), data.embeddings.token], [t('emb.position'), data.embeddings.position], [t('emb.sum'), data.embeddings.sum]]
    : [[t('emb.rope'), data.embeddings.token]];
  for (const [name, m] of parts)
    emb.appendChild(figure(name, matrixCanvas(m, cell, null, (e, i, j, v) => tooltip(e, i < 0 ? '' : `${label(i)} ${t('emb.channel')} ${j}: ${fmt(v)}`))));
  if (parts.length) emb.appendChild(element('p', 'legend', t('legend.diverging')));
  // Multi-head latent attention: c_KV = W_DKV·h per token and layer, the only thing its KV cache keeps.
  const latent = $('latent');
  latent.innerHTML = '';
  const latentShown = data.latent.find((m) => m);
  latent.hidden = !latentShown;
  if (latentShown) {
    latent.appendChild(element('p', 'lead', t('latent.lead', { n: latentShown[0].length })));
    data.latent.forEach((m, l) => m && latent.appendChild(figure(`${t('layer')} ${l}: ${t('l.latent')}  [${T} × ${m[0].length}]`,
      matrixCanvas(m, Math.max(3, Math.min(10, Math.floor(600 / m[0].length))), null, (e, i, j, v) => tooltip(e, i < 0 ? '' : `${label(i)} ${t('l.latent')} ${j}: ${fmt(v)}`)))));
  }
  const gelu = $('gelu');
  gelu.innerHTML = '';
  // The MLP's activation as the model computes it (mlp = gelu, relu2 or swiglu: the checkpoint's config).
  const activation = {gelu: 'GELU(c_fc(ln_2(x)))', relu2: 'ReLU(c_fc(ln_2(x)))²', swiglu: 'SiLU(gate) ⊙ value, [gate; value] = c_fc(ln_2(x))'}[state.mlp || 'gelu'];
  data.gelu.forEach((m, l) => m && gelu.appendChild(figure(`${t('layer')} ${l}: ${activation}  [${T} × ${m[0].length}]`,
    matrixCanvas(m, Math.max(2, Math.min(6, Math.floor(640 / m[0].length))), null, (e, i, j, v) => tooltip(e, i < 0 ? '' : `${label(i)} ${t('mlp.unit')} ${j}: ${fmt(v)}`), { maxWidth: 640 }))));
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
  $('stream').textContent = t('fw.stop');
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
  $('stream').textContent = t('fw.stream');
  refreshForward();  // the maps, which waited for the stream's end
}
