// gpt serve's page: the wiring of the views (common.js, training.js, forward.js, backprop.js come first).
'use strict';

// ---- wiring ----
function showView(name) {
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.view === name);
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + name;
  if (name === 'forward') refreshForward();
  if (name === 'backprop') refreshBackprop();
}

async function loadModelInfo() {
  if (!state.model) return;
  try {
    const m = await api('/api/model?run=' + encodeURIComponent(state.model));
    state.block_size = m.config.block_size;
    state.mlp = m.config.mlp || 'gelu';
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
