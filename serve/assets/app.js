// gpt serve's page: the wiring of the views (text.js, common.js, training.js, forward.js, stages.js,
// backprop.js come first).
'use strict';

// ---- wiring ----
// The tabs: a transformer run's forward pass is its own section (translate.js); the backpropagation
// view is a GPT's only (its tab is hidden for the other kinds, and says why).
function showView(name) {
  if (name === 'backprop' && state.kind !== 'gpt') name = 'training';
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.view === name);
  const section = name === 'forward' && state.kind === 'transformer' ? 'translate' : name;
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + section;
  if (section === 'forward') refreshForward();
  if (section === 'translate') refreshTranslate();
  if (section === 'backprop') refreshBackprop();
  if (section === 'training') drawTraining();
}

const activeView = () => document.querySelector('#tabs button.active').dataset.view;

// What the page shows of the run's kind: bert has no next token or stream (it does not generate) but a
// [MASK] at the chosen token, and its bars are its prediction at the position; a transformer's forward
// pass is the translate section; only a GPT has the backpropagation view.
function applyKind() {
  const kind = state.kind, bert = kind === 'bert';
  const backprop = document.querySelector('#tabs button[data-view="backprop"]');
  backprop.hidden = kind !== 'gpt';
  backprop.title = kind === 'gpt' ? '' : t('kind.no_backprop', { kind });
  $('next').hidden = $('stream').hidden = bert;
  $('mask-label').hidden = !bert;
  $('bars-title').dataset.i18n = bert ? 'h.bars.bert' : 'h.bars';
  $('bars-sub').dataset.i18n = bert ? 's.bars.bert' : 's.bars';
  $('attention-sub').dataset.i18n = bert ? 's.attention.bert' : 's.attention';
  applyLanguage();
  showView(activeView());
}

async function loadModelInfo() {
  if (!state.model) return;
  const run = state.model;
  try {
    const m = await api('/api/model?run=' + encodeURIComponent(run));
    if (run !== state.model) return;
    const kind = m.model || 'gpt';
    if (kind === 'transformer') {
      const c = m.config;
      if (state.kind !== 'transformer' || !state.config || state.config.n_head !== c.n_head ||
          state.config.n_encoder_layer !== c.n_encoder_layer || state.config.n_decoder_layer !== c.n_decoder_layer)
        state.tlLayer = translateMapLayerDefault(c);
      state.tlPosition = null;
      state.config = { ...c, tokens: c.target_vocab_size };  // tokens: the training view's ln V line
      state.config_run = run;
      const changed = state.kind !== kind;
      state.kind = kind;
      $('model-info').textContent = `transformer: ${c.n_encoder_layer} encoder + ${c.n_decoder_layer} decoder layers × ${c.n_head} heads, C ${c.n_embd}, source ${c.source_block_size} / target ${c.target_block_size} tokens, ${m.tokenizer} tokenizer (${c.target_vocab_size} tokens with bos, eos), ${m.parameter_count.toLocaleString()} parameters`;
      if (changed) applyKind();
      if (!$('view-training').hidden) drawTraining();
      return;
    }
    // Another model: its layers and heads start from the first.
    if (!state.config || state.config.n_layer !== m.config.n_layer || state.config.n_head !== m.config.n_head) {
      state.stage = { name: state.stage.name, layer: 0 };
      state.head = 0;
      // Every layer's maps of a small model, the first layer's of a large one (forward.js, MAPS_AT_ONCE).
      state.mapLayer = m.config.n_layer * m.config.n_head <= MAPS_AT_ONCE ? 'all' : 0;
    }
    state.config = m.config;
    state.config_run = run;
    state.block_size = m.config.block_size;
    state.mlp = m.config.mlp || 'gelu';
    const changed = state.kind !== kind;
    state.kind = kind;
    if (changed) applyKind();
    $('model-info').textContent = `${kind === 'bert' ? 'bert: ' : ''}${m.config.n_layer} layers × ${m.config.n_head} heads, C ${m.config.n_embd}, block ${m.config.block_size}, ${m.tokenizer} tokenizer (${m.config.tokens} tokens), ${m.parameter_count.toLocaleString()} parameters`;
    drawDiagram();
    if (!$('view-training').hidden) drawTraining();
  } catch (e) {
    state.config = null;
    $('model-info').textContent = e.message;
  }
}

// The step size of "take one step", on a log slider (10^-5 … 1) and as a number. Each optimizer starts
// from a step that moves p(target) visibly without memorising the example (on a small trained model SGD
// at 0.1 took it from 0.14 to 0.995; AdamW's first step moves every weight by about lr, so it gets less).
const DEFAULT_LR = { sgd: 1e-3, adamw: 1e-4 };
function wireStepSize() {
  const set = (v) => { $('bp-lr').value = v; $('bp-lr-range').value = Math.log10(v); };
  $('bp-lr-range').oninput = () => { $('bp-lr').value = +(10 ** +$('bp-lr-range').value).toPrecision(2); };
  $('bp-lr').oninput = () => { const v = +$('bp-lr').value; if (v > 0) $('bp-lr-range').value = Math.log10(v); };
  $('bp-optimizer').onchange = () => set(DEFAULT_LR[$('bp-optimizer').value]);
  set(DEFAULT_LR.sgd);
}

function init() {
  applyLanguage();
  $('lang').value = language;
  $('lang').onchange = () => {
    setLanguage($('lang').value);
    if (streaming) $('stream').textContent = t('fw.stop');
    if (state.forward) drawForward(state.forward);
    if (!$('view-training').hidden) drawTraining();
    if (state.backprop && !$('view-backprop').hidden) drawBackprop(state.backprop);
    if (state.translate && !$('view-translate').hidden) drawTranslate(state.translate);
  };
  for (const b of document.querySelectorAll('#tabs button')) b.onclick = () => showView(b.dataset.view);
  $('model-run').onchange = () => {
    state.model = $('model-run').value;
    state.checked.add(state.model);
    runColour(state.model);
    state.position = null;
    state.translate = null;
    loadModelInfo().then(() => {
      if (!$('view-forward').hidden) refreshForward();
      if (!$('view-translate').hidden) refreshTranslate();
    });
    drawTraining();
  };
  for (const id of ['temperature', 'top_p', 'repetition_penalty']) {
    $(id).oninput = () => { $(id + '-out').textContent = $(id).value; refreshForward('sampling'); };
  }
  $('top_k').oninput = () => refreshForward('sampling');
  $('prompt').oninput = () => { state.position = null; refreshForward('prompt'); };
  $('mask').onchange = () => refreshForward('prompt');
  wireTranslate();
  $('next').onclick = async () => {
    if (state.forward && state.block_size && state.forward.T >= state.block_size)
      return showError(t('fw.full', { n: state.block_size }));
    try { await appendTokens(1); await refreshForward(); } catch (e) { showError('next token: ' + e.message); }
  };
  $('stream').onclick = stream;
  $('bp-position').onchange = () => { setTargetOptions(); runBackprop(false); };
  $('bp-target').onchange = () => runBackprop(false);
  $('bp-run').onclick = () => runBackprop(false);
  $('bp-step').onclick = () => runBackprop(true);
  wireStepSize();
  // One poll at a time: the next starts a second after the last one ended, however slow it was.
  const loop = () => pollTraining().finally(() => setTimeout(loop, 1000));
  pollTraining().finally(() => setTimeout(loop, 1000));
}

init();
