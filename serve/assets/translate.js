// gpt serve's forward view of an encoder–decoder run (model = transformer; serve/api_translate.cpp):
// a source and a target (empty: the model's greedy translation), their tokens, the decoder's candidates
// at a chosen position, and three groups of attention maps -- encoder self-attention [S × S], decoder
// self-attention [T × T] (causal) and cross-attention [T × S] -- with the layer picker of the GPT's maps.
// One request at a time; what changes while an answer is on its way is sent as one request when it is in.
'use strict';

const TRANSLATE_DRAWN_EVENT = 'translate-drawn';  // on window after each drawn answer (tests wait for it)
let translateNeed = false, translateLoop = null;

// Every layer's maps of a small model (three groups), one layer of a larger one.
function translateMapLayerDefault(c) {
  return (c.n_encoder_layer + 2 * c.n_decoder_layer) * c.n_head <= 2 * MAPS_AT_ONCE ? 'all' : 0;
}

function refreshTranslate() {
  if (!state.model) return Promise.resolve();
  translateNeed = true;
  if (!translateLoop) {
    translateLoop = (async () => {
      await null;
      try {
        while (translateNeed) {
          translateNeed = false;
          try {
            await translateStep();
          } catch (e) {
            showError('forward: ' + e.message);
          }
        }
      } finally {
        translateLoop = null;
      }
    })();
  }
  return translateLoop;
}

function translateRequest() {
  const target = $('tl-target').value;
  const layers = state.tlLayer === 'all' || state.tlLayer === undefined ? null : [state.tlLayer];
  const body = { run: state.model, source: $('tl-source').value, target: target === '' ? null : target, layers, fit: true };
  if (state.tlPosition !== null && state.tlPosition !== undefined) body.position = state.tlPosition;
  return body;
}

async function translateStep() {
  if (state.config_run !== state.model) await loadModelInfo();
  if (state.kind !== 'transformer') return;
  if ($('tl-source').value === '') {
    state.translate = null;
    for (const id of ['tl-source-tokens', 'tl-decoder-tokens', 'tl-bars', 'tl-layers', 'tl-encoder', 'tl-decoder', 'tl-cross'])
      $(id).innerHTML = '';
    $('tl-note').textContent = t('tl.empty');
    $('tl-cut').hidden = true;
    return;
  }
  const request = translateRequest();
  const data = await api('/api/forward', request);
  if (translateNeed) return;  // typed on: the newer request's answer replaces this one
  data.request = request;
  state.translate = data;
  drawTranslate(data);
  showError('');
  window.dispatchEvent(new CustomEvent(TRANSLATE_DRAWN_EVENT));
}

function chooseDecoderPosition(i) {
  const T = state.translate ? state.translate.T : 0;
  state.tlPosition = i === null || i >= T - 1 ? null : i;
  refreshTranslate();
}

function chooseTranslateLayer(l) {
  state.tlLayer = l;
  refreshTranslate();
}

function drawTranslate(data) {
  if (!data) return;
  $('tl-note').textContent = data.translated ? t('tl.greedy', { text: '“' + data.translation.text + '”' }) : t('tl.given');
  const mark = (box) => box.querySelectorAll('.token').forEach((d, k) => {
    if ((box.id === 'tl-decoder-tokens' ? data.decoder_tokens : data.source_tokens)[k].special) d.classList.add('special');
  });
  drawTokens($('tl-source-tokens'), data.source_tokens, -1, null, null);
  drawTokens($('tl-decoder-tokens'), data.decoder_tokens, data.position, null, (i) => chooseDecoderPosition(i));
  mark($('tl-source-tokens'));
  mark($('tl-decoder-tokens'));
  drawTranslateBars(data);
  drawTranslateLayerPick();
  $('tl-cut').hidden = !data.truncated;
  const sources = data.source_tokens.map((tk) => tk.text.replace(/ /g, '␣'));
  const decoder = data.decoder_tokens.map((tk) => tk.text.replace(/ /g, '␣'));
  drawMapGroup($('tl-encoder'), 'encoder', data.encoder_attention, data.source_tokens, data.source_tokens, sources, sources, null);
  drawMapGroup($('tl-decoder'), 'self', data.decoder_attention, data.decoder_tokens, data.decoder_tokens, decoder, decoder, chooseDecoderPosition);
  drawMapGroup($('tl-cross'), 'cross', data.cross_attention, data.decoder_tokens, data.source_tokens, decoder, sources, chooseDecoderPosition);
}

function drawTranslateBars(data) {
  const box = $('tl-bars');
  box.innerHTML = '';
  const e = data.expected;
  box.appendChild(element('p', 'lead', t('tl.chosen', { p: data.position, tok: tokenText(data.decoder_tokens[data.position]),
                                                          next: tokenText(e), pe: (100 * e.p).toFixed(1) + '%' })));
  const top = Math.max(maxOf(data.candidates.map((c) => c.p)), 1e-30);
  for (const c of data.candidates) {
    const row = element('div', 'barrow' + (c.id === e.id ? ' expected' : ''));
    const track = element('div', 'track');
    const bar = element('div', 'bar');
    bar.style.width = (100 * c.p / top).toFixed(2) + '%';
    bar.dataset.p = c.p;
    track.appendChild(bar);
    row.append(element('span', 'label', tokenText(c) + ' ' + c.id), track, element('span', 'value', (100 * c.p).toFixed(1) + '%'));
    box.appendChild(row);
  }
}

// The layers whose maps are shown: every one, or one of the deeper stack.
function drawTranslateLayerPick() {
  const c = state.config, box = $('tl-layers');
  box.innerHTML = '';
  if (!c) return;
  const pick = element('div', 'head-pick map-pick');
  pick.appendChild(element('span', '', t('maps.layers') + ' '));
  for (const l of ['all', ...Array(Math.max(c.n_encoder_layer, c.n_decoder_layer)).keys()]) {
    const b = element('button', state.tlLayer === l ? 'active' : '', l === 'all' ? t('maps.all') : String(l));
    b.dataset.layer = l;
    b.onclick = () => chooseTranslateLayer(l);
    pick.appendChild(b);
  }
  box.appendChild(pick);
}

// One group of maps [L][H][rows][cols] (null: not sent), one row of figures per layer. onRow(i): a click
// on row i (the decoder's groups: choose that position).
function drawMapGroup(box, group, maps, rowTokens, colTokens, rowNames, colNames, onRow) {
  box.innerHTML = '';
  const shown = maps.find((heads) => heads && heads.some((m) => m)) || [];
  const width = Math.min(window.innerWidth, 1400) - 60, n = Math.max(1, shown.filter((m) => m).length);
  const fit = Math.max(1, Math.min(n, Math.floor(width / (140 + 76))));
  const columns = Math.ceil(n / Math.ceil(n / fit));
  const size = Math.max(140, Math.min(240, Math.floor(width / columns) - 76));
  const cell = Math.max(2, Math.floor(size / Math.max(rowNames.length, colNames.length)));
  const causal = group === 'self';
  maps.forEach((heads, l) => {
    if (!heads || !heads.some((m) => m)) return;
    const row = element('div', 'layer');
    heads.forEach((matrix, h) => {
      if (!matrix) return;
      const canvas = matrixCanvas(matrix, cell, sequentialRGB, (e, i, j, v) => {
        tooltip(e, i < 0 ? '' : `${t('layer')} ${l} · ${t('head')} ${h}\n` +
          t('maps.hover', { i, a: tokenText(rowTokens[i]), j, b: tokenText(colTokens[j]), v: fmt(v) }) +
          (causal && j > i ? '  ' + t('maps.masked') : ''));
      }, { labels: { rows: rowNames, cols: colNames }, maxWidth: size + 64, square: true });
      canvas.className = 'attention-map';
      canvas.id = `tl-${group}-${l}-${h}`;
      canvas.dataset.layer = l; canvas.dataset.head = h;
      if (onRow) canvas.onclick = (e) => {
        const [i] = canvas.cellAt(e);
        if (i >= 0 && i < rowNames.length) onRow(i);
      };
      row.appendChild(figure(`${t('layer')} ${l} · ${t('head')} ${h}  [${matrix.length} × ${matrix[0].length}]`, canvas));
    });
    box.appendChild(row);
  });
  if (state.translate && onRow) box.querySelectorAll('canvas.attention-map').forEach((c) => c.highlightRow(state.translate.position));
}

// Beam search (or greedy at beam 1) through /api/translate: the output, which can be used as the target.
async function runTranslate() {
  const box = $('tl-result');
  box.innerHTML = '';
  try {
    const beam = Math.max(1, Math.floor(+$('tl-beam').value || 1));
    const data = await api('/api/translate', { run: state.model, source: $('tl-source').value, beam,
                                              length_penalty: +$('tl-length-penalty').value || 0 });
    box.appendChild(element('span', '', t('tl.result', { beam: data.beam, lp: fmt(data.length_penalty), text: '“' + data.text + '”',
                                                      logp: fmt(data.log_prob), cut: data.finished ? '' : t('tl.cut') }) + ' '));
    const use = element('button', '', t('tl.use'));
    use.onclick = () => { $('tl-target').value = data.text; state.tlPosition = null; refreshTranslate(); };
    box.appendChild(use);
    showError('');
  } catch (e) {
    showError('translate: ' + e.message);
  }
}

function wireTranslate() {
  $('tl-source').oninput = () => { state.tlPosition = null; refreshTranslate(); };
  $('tl-target').oninput = () => { state.tlPosition = null; refreshTranslate(); };
  $('tl-translate').onclick = runTranslate;
}
