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

let forwardTimer = null;
function scheduleForward() { clearTimeout(forwardTimer); forwardTimer = setTimeout(refreshForward, 150); }

// The request of the forward view: the sampling options, the chosen token (absent: the last one) and the
// layer and head the stage view opens.
function forwardRequest() {
  const body = { ...samplingRequest(), stage_layer: state.stage.layer || 0, stage_head: state.head || 0 };
  if (state.position !== null) body.position = state.position;
  return body;
}

let forwardSequence = 0;  // answers that arrive after a newer request was sent are dropped
async function refreshForward() {
  if (!state.model) return;
  const sequence = ++forwardSequence;
  try {
    // An answer over the server's 8 MiB bound (a large model at a long prompt) is refused with 413: then
    // the first layer's maps only, then its first head's.
    let data = null, note = '';
    const fallbacks = [{}, { layers: [0] }, { layers: [0], heads: [0] }, { layers: [0], heads: [0], include: ['attention', 'stages'] }];
    for (const [k, part] of fallbacks.entries()) {
      try {
        data = await api('/api/forward', { ...forwardRequest(), ...part });
        if (part.layers) note = `forward: showing layer 0${part.heads ? ', head 0' : ''}${part.include ? ', attention' : ''} only (the whole view exceeds the server's response bound)`;
        break;
      } catch (e) {
        if (e.status !== 413 || k === fallbacks.length - 1) throw e;
      }
    }
    if (sequence !== forwardSequence) return;
    state.forward = data;
    drawForward(data);
    showError(note);
  } catch (e) {
    if (sequence === forwardSequence) showError('forward: ' + e.message);
  }
}

// Choose the token the stage views and the next-token bars follow (null: the last one).
function chooseToken(i) {
  const T = state.forward ? state.forward.T : 0;
  state.position = i === null || i >= T - 1 ? null : i;
  refreshForward();
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
  const width = Math.min(window.innerWidth, 1400) - 60;
  const size = Math.max(140, Math.min(240, Math.floor(width / Math.max(1, shownHeads.length)) - 80));
  const cell = Math.max(2, Math.floor(size / T));
  const names = tokens.map((tk) => tk.text.replace(/ /g, '␣'));
  data.attention.forEach((heads, l) => {
    if (!heads) return;
    const row = element('div', 'layer');
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
      if (l === data.stages_layer && h === state.head) canvas.highlightRow(data.position);
      row.appendChild(figure(`layer ${l} · head ${h}`, canvas));
    });
    att.appendChild(row);
  });
}

function drawForward(data) {
  const tokens = data.tokens, T = data.T;
  const label = (i) => tokenText(tokens[i]);
  data.stages_layer = data.stages ? data.stages.layer.index : -1;
  // Hover a token: every attention map outlines its row; click: follow it through the model.
  drawTokens($('tokens'), tokens, data.position, (i) => document.querySelectorAll('#attention canvas.attention-map')
    .forEach((c) => c.highlightRow(i >= 0 ? i : (+c.dataset.layer === data.stages_layer && +c.dataset.head === state.head ? data.position : -1))),
  (i) => chooseToken(i));
  drawDiagram();
  drawStage();
  drawBars(data.sampling, data);
  drawAttentionMaps(data);
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
  const x = [...Array(T).keys()];
  const series = [{ label: 'embedding', legend: 'x₀ (embedding)', x, y: data.residual_norms.embedding, colour: '#888' }];
  data.residual_norms.out.forEach((norms, l) => {
    const colour = COLOURS[l % COLOURS.length];
    series.push({ label: `layer ${l} after attention`, x, y: data.residual_norms.mid[l], colour, dashed: true });
    series.push({ label: `layer ${l} after MLP`, legend: `${t('block')} ${l}`, x, y: norms, colour });
  });
  lineChart($('residual'), series, { legend: $('residual-legend'), xName: 'position' });
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
