// gpt serve's page: the wiring of the views (text.js, common.js, training.js, forward.js, stages.js,
// backprop.js come first).
'use strict';

// ---- wiring ----
function showView(name) {
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.view === name);
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + name;
  if (name === 'forward') refreshForward();
  if (name === 'backprop') refreshBackprop();
  if (name === 'training') drawTraining();
}

async function loadModelInfo() {
  if (!state.model) return;
  const run = state.model;
  try {
    const m = await api('/api/model?run=' + encodeURIComponent(run));
    if (run !== state.model) return;
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
    $('model-info').textContent = `${m.config.n_layer} layers × ${m.config.n_head} heads, C ${m.config.n_embd}, block ${m.config.block_size}, ${m.tokenizer} tokenizer (${m.config.tokens} tokens), ${m.parameter_count.toLocaleString()} parameters`;
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
  };
  for (const b of document.querySelectorAll('#tabs button')) b.onclick = () => showView(b.dataset.view);
  $('model-run').onchange = () => {
    state.model = $('model-run').value;
    state.checked.add(state.model);
    runColour(state.model);
    state.position = null;
    loadModelInfo().then(() => { if (!$('view-forward').hidden) refreshForward(); });
    drawTraining();
  };
  for (const id of ['temperature', 'top_p', 'repetition_penalty']) {
    $(id).oninput = () => { $(id + '-out').textContent = $(id).value; refreshForward('sampling'); };
  }
  $('top_k').oninput = () => refreshForward('sampling');
  $('prompt').oninput = () => { state.position = null; refreshForward('prompt'); };
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
