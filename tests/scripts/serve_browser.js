// The browser half of serve_browser.sh: node serve_browser.js URL CHROMIUM SHOTS_DIR PLAYWRIGHT_DIR LIVE_TRAIN_COMMAND...
// The runs served: tiny (2 layers × 2 heads, learned positions, LayerNorm, GELU), tiny_bert (the same as
// model = bert), translate (model = transformer: 2 encoder layers, 1 decoder layer, 2 heads), variant (3 layers,
// 4 query heads over 2 key/value heads, RoPE, RMSNorm, SwiGLU) and wide (6 layers × 8 heads, C 32, block
// 256: its maps at a long prompt exceed the response bound); live is started by this script.
'use strict';
const { spawn } = require('child_process');
const [url, chromiumPath, shots, playwrightDir, ...liveCommand] = process.argv.slice(2);
const { chromium } = require(playwrightDir);

let failures = 0;
function check(condition, what) {
  console.log((condition ? 'ok: ' : 'FAIL: ') + what);
  if (!condition) failures += 1;
}

// Numbers as the page prints them (4 significant digits, or 3 in exponent form) against the API's.
const near = (shown, sent) => Math.abs(shown - sent) <= 5e-3 * Math.abs(sent) + 1e-6;
const allNear = (shown, sent) => shown.length === sent.length && shown.every((v, k) => near(v, sent[k]));
// Wait (up to 5 s) until a condition on what the response listener has recorded holds.
const until = async (condition) => { for (let k = 0; k < 100 && !condition(); ++k) await new Promise((r) => setTimeout(r, 50)); };
const cellsOf = (page, id) => page.$$eval(`#${id} .num`, (cells) => cells.map((c) => parseFloat(c.textContent)));

(async () => {
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  // Default request headers: the page's own fetches, as a learner's browser sends them (Accept-Encoding
  // included), so a compressed or oversized answer would be seen here.
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = [], responses = [], refused = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', async (r) => {
    if (!r.url().includes('/api/')) return;
    // A response still arriving when the test closes the page rejects: nothing left to check then (an
    // unhandled rejection would end node with "Target page … has been closed" after every check passed).
    const headers = await r.allHeaders().catch(() => null);
    if (headers === null) return;
    const body = r.request().postData();
    responses.push({ url: r.url(), encoding: headers['content-encoding'] || '', length: +(headers['content-length'] || 0),
                     include: body && JSON.parse(body).include });
    // A refused request (the browser logs it as a console error): which one, and the server's message.
    if (r.status() >= 400) refused.push(`${r.status()} ${r.url()} ${r.request().postData() || ''} -> ${await r.text().catch(() => '')}`);
  });
  page.setDefaultTimeout(30000);
  // The page's own request for what it shows (forwardRequest, stages.js/forward.js), answered again.
  const apiForward = () => page.evaluate(() => api('/api/forward', forwardRequest()));
  const stageIs = (name, layer) => page.waitForFunction(([n, l]) => {
    const v = document.querySelector('#stage-view');
    return v.dataset.stage === n && (l === null || v.dataset.layer === String(l));
  }, [name, layer]);
  let live = null;
  let stage = 'start';
  try {
    await page.goto(url);
    stage = 'training';
    await page.waitForSelector('#chart-loss path.series');
    await page.waitForSelector('#heat-grad canvas');
    check(true, 'training view: loss curve and gradient-flow heatmap render');
    check(await page.$$eval('#run-list input', (boxes) => boxes.filter((b) => b.checked).length) === 1 &&
          await page.$eval('#model-run', (s) => s.value) === 'tiny',
          'training view: the opened run (tiny) is the one shown, not every run');
    await page.waitForSelector('#chart-loss line.reference', { state: 'attached' });  // a horizontal line has no height: never "visible"
    const lnV = await page.$eval('#chart-loss', (svg) => [...svg.querySelectorAll('text')].map((x) => x.textContent).find((x) => x.startsWith('ln V')));
    check(/ln V = ln \d+ = \d/.test(lnV || ''), `the loss chart draws the uniform-guess line (${lnV})`);
    const ticks = await page.$$eval('#chart-loss text.x-tick', (t) => t.map((x) => +x.textContent));
    const spacing = ticks.slice(1).map((v, k) => v - ticks[k]);
    check(ticks.length >= 2 && spacing.every((d) => d === spacing[0]) && /^(1|2|5)0*$/.test(String(spacing[0])) && ticks.every((v) => v % spacing[0] === 0),
          `step ticks are round (${ticks.join(', ')})`);
    await page.waitForSelector('#samples .sample pre');
    check(await page.$$eval('#samples .sample pre', (p) => p.filter((x) => x.textContent.length > 0).length) > 0,
          'training view: the samples taken at evaluations are listed');
    await page.screenshot({ path: shots + '/training.png', fullPage: true });

    // ---- forward view: the diagram, the stage views, the maps ----
    stage = 'forward';
    await page.click('#tabs button[data-view="forward"]');
    await page.fill('#prompt', 'the quick');
    await page.waitForFunction(() => document.querySelectorAll('#tokens .token').length === 9);
    await page.waitForFunction(() => document.querySelectorAll('#attention canvas.attention-map').length === 4);
    check(true, 'forward view: 9 tokens and 2 x 2 attention maps');
    check(await page.$$eval('#gelu canvas', (c) => c.length) === 2, 'MLP activations of both layers');
    check(await page.$$eval('#tokens .token', (t) => t.map((x) => x.firstChild.textContent).join('')) === 'the␣quick',
          'token text is shown once, not escaped twice');
    const config = await page.evaluate(() => state.config);
    check(await page.$$eval('#diagram .block', (b) => b.length) === config.n_layer &&
          await page.$$eval('#diagram .stage', (s) => s.length) === 2 + 6 * config.n_layer + 4,
          `the diagram draws the model's ${config.n_layer} blocks (${2 + 6 * config.n_layer + 4} stages)`);

    // The attention stage (open by default) against the API: q, k, v of the chosen token (the last).
    await stageIs('attn', 0);
    let data = await apiForward();
    let head = data.stages.layer.heads[0];
    check(data.position === 8 && allNear(await cellsOf(page, 'stage-q'), head.q) && allNear(await cellsOf(page, 'stage-k'), head.k) &&
          allNear(await cellsOf(page, 'stage-v'), head.v), "the attention stage shows the API's q, k and v of token #8, head 0");
    const softmaxRow = () => page.$$eval('#stage-scores tr:not(.masked) td.p', (c) => c.map((x) => parseFloat(x.textContent)));
    let row = await softmaxRow();
    check(row.length === 9 && Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 2e-3 && allNear(row, data.attention[0][0][8].slice(0, 9)),
          "its softmax row sums to 1 and is the attention map's row");
    check(allNear(await cellsOf(page, 'stage-o'), head.output), 'the weighted sum Σ pⱼ vⱼ is the API\'s head output');

    // Choose token #5: three later tokens are masked; the row still sums to 1.
    await page.click('#tokens .token[data-index="5"]');
    await page.waitForFunction(() => document.querySelector('#stage-view').dataset.position === '5');
    row = await softmaxRow();
    check(row.length === 6 && await page.$$eval('#stage-scores tr.masked', (r) => r.length) === 3 &&
          Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 2e-3, 'token #5: 6 keys weighted, 3 future keys masked, the row sums to 1');
    // Another head, then a map's row: layer 1, head 1, query #7.
    await page.click('#head-pick button:nth-of-type(2)');
    await page.waitForFunction(() => document.querySelector('#head-pick button.active').textContent === '1');
    data = await apiForward();
    check(allNear(await cellsOf(page, 'stage-q'), data.stages.layer.heads[1].q), "head 1's q is the API's");
    const map = await page.$('#map-1-1');
    const [x, y] = await map.evaluate((c) => c.cellCentre(7, 2));  // query #7, key #2
    await map.click({ position: { x, y } });
    await stageIs('attn', 1);
    await page.waitForFunction(() => document.querySelector('#stage-view').dataset.position === '7');
    data = await apiForward();
    check(data.stages.layer.index === 1 && allNear(await cellsOf(page, 'stage-k'), data.stages.layer.heads[1].k),
          "clicking a map's row opens that layer and head for that token");
    await page.hover('#tokens .token:nth-child(6)');  // token #5: each map outlines its row
    check(await page.$eval('#map-0-0', (c) => {
      const g = c.getContext('2d');
      for (let y = 0; y < c.height; ++y) {
        const [r, gr, b] = g.getImageData(c.width - 3, y, 1, 1).data;
        if (r === 0xe8 && gr === 0x59 && b === 0x0c) return true;
      }
      return false;
    }), 'hovering a token outlines its row in the attention maps');

    // Every other stage opens with numbers, in the forward's order.
    for (const [id, name] of [['embed', 'embed'], ['pos', 'embed'], ['ln_1-1', 'ln_1'], ['add_attn-1', 'add_attn'], ['ln_2-1', 'ln_2'],
                              ['mlp-1', 'mlp'], ['add_mlp-1', 'add_mlp'], ['ln_f', 'ln_f'], ['logits', 'logits'], ['sampling', 'sampling'], ['probs', 'probs']]) {
      await page.click('#stage-' + id);
      await stageIs(name, null);
      check(await page.$$eval('#stage-view .explain', (p) => p.length) > 0 &&
            await page.$$eval('#stage-view .vector, #stage-view table', (v) => v.length) > 0, `stage ${id}: explained, with its numbers`);
    }
    data = await apiForward();
    check(allNear(await page.$$eval('#stage-candidates tr td:nth-child(2)', (c) => c.map((x) => parseFloat(x.textContent))),
                  data.sampling.candidates.map((c) => c.logit)), "the logits table is the API's, for the chosen token");
    await page.click('#stage-embed');
    await stageIs('embed', null);
    check(allNear(await cellsOf(page, 'stage-sum'), data.stages.embedding.sum), "the embedding stage's x₀ is the API's");

    // The language switch, remembered across a reload.
    await page.selectOption('#lang', 'ko');
    check(/[가-힣]/.test(await page.$eval('#stage-view .explain', (p) => p.textContent)), 'the explanations switch to Korean');
    await page.reload();
    await page.click('#tabs button[data-view="forward"]');
    await page.fill('#prompt', 'the quick');
    await page.waitForSelector('#stage-view .explain');
    check(await page.$eval('#lang', (s) => s.value) === 'ko' && /[가-힣]/.test(await page.$eval('#stage-view .explain', (p) => p.textContent)),
          'the language is remembered (localStorage)');
    await page.selectOption('#lang', 'en');

    // The next-token bars move with the temperature; "next token" appends one.
    const bars = () => page.$$eval('#bars .bar', (b) => b.map((x) => x.dataset.p).join(','));
    const before = await bars();
    check(before.split(',').length === 20, 'top-20 bars');
    const answered = responses.length;
    await page.$eval('#temperature', (e) => { e.value = '1.8'; e.dispatchEvent(new Event('input')); });
    await page.waitForFunction((old) => [...document.querySelectorAll('#bars .bar')].map((x) => x.dataset.p).join(',') !== old, before);
    check(true, 'moving the temperature slider changes the bars');
    await until(() => responses.slice(answered).some((r) => r.url.endsWith('/api/forward')));  // the listener runs a little later
    const sliderAnswers = responses.slice(answered).filter((r) => r.url.endsWith('/api/forward'));
    check(sliderAnswers.length === 1 && Array.isArray(sliderAnswers[0].include) && sliderAnswers[0].include.length === 0,
          `the slider asks for the sampling alone (${JSON.stringify(sliderAnswers.map((r) => [r.include, r.length]))})`);
    await page.screenshot({ path: shots + '/forward.png', fullPage: true });
    const beforeNext = responses.length;
    await page.click('#next');
    await page.waitForFunction(() => document.querySelector('#prompt').value.length > 9);
    await page.waitForFunction(() => document.querySelectorAll('#tokens .token').length === 10);
    check(true, '"next token" appends a token to the prompt');
    await page.waitForFunction(() => document.querySelectorAll('#attention canvas.attention-map').length === 4 &&
                                     !document.querySelector('#attention').classList.contains('stale'));
    await until(() => responses.slice(beforeNext).filter((r) => r.url.endsWith('/api/forward')).length >= 2);
    const includes = responses.slice(beforeNext).filter((r) => r.url.endsWith('/api/forward')).map((r) => (r.include || []).join('+'));
    check(includes.length === 2 && includes[0] === 'stages' && includes[1].includes('attention'),
          `a new prompt: its stage view and bars first, then its maps (${includes.join(', ')})`);

    // An empty prompt: a message, not maps of one cell.
    await page.fill('#prompt', '');
    await page.waitForSelector('#attention .empty-prompt');
    check(await page.$$eval('#attention canvas', (c) => c.length) === 0, 'an empty prompt says so instead of drawing 1 × 1 maps');

    // Another model: 3 blocks of grouped-query attention with RoPE, RMSNorm and SwiGLU.
    stage = 'variant';
    await page.selectOption('#model-run', 'variant');
    await page.fill('#prompt', 'a stitch');
    await page.waitForFunction(() => state.config && state.config.n_layer === 3 && document.querySelectorAll('#diagram .block').length === 3);
    const labels = await page.$eval('#diagram', (d) => d.textContent);
    check(/GQA · 4 q \/ 2 kv · RoPE/.test(labels) && labels.includes('RMSNorm') && labels.includes('SwiGLU') && labels.includes('RoPE, inside attention'),
          'the diagram draws the variant as it is built (GQA, RoPE, RMSNorm, SwiGLU, 3 blocks)');
    await page.click('#stage-attn-2');
    await stageIs('attn', 2);
    await page.waitForFunction(() => document.querySelectorAll('#tokens .token').length === 8);
    data = await apiForward();
    check(data.stages.layer.index === 2 && allNear(await cellsOf(page, 'stage-v'), data.stages.layer.heads[0].v) &&
          Math.abs((await softmaxRow()).reduce((a, b) => a + b, 0) - 1) < 2e-3, "the variant's block 2: the API's v, a softmax row summing to 1");

    // Many layers and heads at a long prompt (6 × 8 at 250 tokens): every head's map would be ~20 MB, over
    // the server's 8 MiB bound. The page asks for one layer's maps (the first), the picker shows any other
    // or all of them; "all" gets what fits, with a note saying what is left out, and never a refused
    // request (the browser would log a 413 as a console error: checked at the end).
    stage = 'many heads';
    const mapsShown = () => page.$$eval('#attention canvas.attention-map', (c) => c.map((x) => +x.dataset.layer));
    const mapsFor = (layer, n) => page.waitForFunction(([layer, n]) => {
      const maps = [...document.querySelectorAll('#attention canvas.attention-map')];
      return !document.querySelector('#attention').classList.contains('stale') && maps.length === n && maps.every((m) => +m.dataset.layer === layer);
    }, [layer, n]);
    await page.selectOption('#model-run', 'wide');
    const longPrompt = 'the quick brown fox jumps over the lazy dog; a stitch in time saves nine. '.repeat(4).slice(0, 250);
    await page.fill('#prompt', longPrompt);
    await page.waitForFunction(() => state.config && state.config.n_layer === 6 && document.querySelectorAll('#tokens .token').length === 250);
    await mapsFor(0, 8);
    check(await page.$$eval('#map-layers button', (b) => b.map((x) => x.textContent + (x.classList.contains('active') ? '*' : '')).join(' ')) === 'all 0* 1 2 3 4 5',
          "6 layers × 8 heads: the maps of layer 0 are shown, with a picker of the others");
    check(await page.$('#attention .maps-note') === null, 'one layer fits the bound: no note');
    await page.click('#map-layers button[data-layer="all"]');
    await page.waitForSelector('#attention .maps-note');
    const shown = await mapsShown(), note = await page.$eval('#attention .maps-note', (p) => p.textContent);
    check(shown.length > 0 && shown.length < 48 && new RegExp(`attention of ${shown.length} of 48 heads`).test(note) && /8 MiB/.test(note),
          `"all" at 250 tokens: ${shown.length} of 48 maps, the rest named in a note ("${note.slice(0, 90)}…")`);
    await page.click('#map-layers button[data-layer="4"]');
    await mapsFor(4, 8);
    check(await page.$('#attention .maps-note') === null, 'the picker shows layer 4\'s 8 maps');
    await page.click('#stage-attn-2');
    await stageIs('attn', 2);
    await mapsFor(2, 8);
    check(true, "opening block 2's attention stage shows layer 2's maps");
    await page.fill('#prompt', 'the quick');  // short again before another model (block_size 16) reads it
    await page.waitForFunction(() => document.querySelectorAll('#tokens .token').length === 9);

    // 700 px wide: nothing wider than the window.
    stage = '700 px';
    await page.setViewportSize({ width: 700, height: 1000 });
    await page.selectOption('#model-run', 'tiny');
    await page.fill('#prompt', 'the quick brown');
    await page.waitForFunction(() => document.querySelectorAll('#tokens .token').length === 15 && state.config.n_layer === 2);
    await page.click('#stage-mlp-0');
    await stageIs('mlp', 0);
    check(await page.evaluate(() => document.documentElement.scrollWidth) <= 700, 'the forward view fits 700 px');

    // ---- backpropagation view ----
    stage = 'backprop';
    await page.click('#tabs button[data-view="backprop"]');
    await page.waitForSelector('#bp-params .gbar');
    await page.waitForSelector('#tape-output svg ellipse');
    const gradBars = await page.$$eval('#bp-params .gbar', (b) => b.filter((x) => parseFloat(x.style.width) > 0).length);
    check(gradBars > 10, `backprop view: ${gradBars} non-empty gradient bars on a labelled log scale`);
    check(await page.$$eval('details.tape-group', (d) => d.length) === 4, 'the tape is grouped: output, block 1, block 0, embedding');
    await page.click('#tape-block-0 summary');
    await page.waitForSelector('#tape-block-0 svg ellipse');
    const targets = await page.$$eval('#bp-target option', (o) => o.map((x) => x.textContent));
    check(targets.length > 1 && /next in the prompt/.test(targets[0]), `the target is picked from tokens (${targets.length} choices)`);
    const inputs = await page.$$eval('#bp-inputs .gbar', (b) => b.map((x) => [parseFloat(x.style.width), +x.dataset.value]));
    const largest = Math.max(...inputs.map(([, v]) => v));
    check(inputs.every(([w, v]) => Math.abs(w - 100 * v / largest) < 0.2), 'input-gradient bars are linear in the value');
    check(await page.$eval('#bp-lr', (e) => +e.value) === 0.001, 'the default step size is 0.001');
    await page.click('#bp-step');
    await page.waitForSelector('#bp-step-result .bar.after');
    check(true, '"take one step" shows the probabilities before and after');
    check(await page.evaluate(() => document.documentElement.scrollWidth) <= 700, 'the backpropagation view fits 700 px');
    await page.screenshot({ path: shots + '/backprop.png', fullPage: true });
    await page.setViewportSize({ width: 1280, height: 1000 });

    // ---- model = transformer (run translate: 2 encoder layers, 1 decoder layer, 2 heads) ----
    stage = 'transformer';
    await page.selectOption('#model-run', 'translate');
    await page.waitForFunction(() => state.kind === 'transformer' && !document.querySelector('#view-training').hidden);
    check(await page.$eval('#tabs button[data-view="backprop"]', (b) => b.hidden), 'a transformer run: no backpropagation tab (the page shows its training view)');
    await page.waitForSelector('#chart-loss path.series');
    check(true, "the transformer run's training curves render");
    await page.click('#tabs button[data-view="forward"]');
    check(await page.$eval('#view-forward', (v) => v.hidden) && !(await page.$eval('#view-translate', (v) => v.hidden)),
          'its forward pass is the source and target view');
    await page.fill('#tl-source', 'abcdef');
    await page.waitForFunction(() => state.translate && state.translate.S === 6 && document.querySelectorAll('#tl-cross canvas.attention-map').length > 0);
    const tdata = await page.evaluate(() => state.translate);
    const groups = await page.evaluate(() => ['encoder', 'decoder', 'cross'].map((g) => document.querySelectorAll(`#tl-${g} canvas.attention-map`).length));
    check(groups.join() === '4,2,2', `three groups of maps: encoder 2 x 2, decoder self 1 x 2, cross 1 x 2 (${groups.join(', ')})`);
    check(tdata.translated && (await page.$eval('#tl-note', (p) => p.textContent)).includes('“' + tdata.translation.text + '”'),
          `an empty target: the model's greedy translation is shown and read (${tdata.translation.text})`);
    check(await page.$$eval('#tl-source-tokens .token', (x) => x.length) === 6 && await page.$$eval('#tl-decoder-tokens .token', (x) => x.length) === tdata.T &&
          await page.$eval('#tl-decoder-tokens .token', (x) => x.firstChild.textContent) === '<bos>', 'the source tokens, and bos + the target');
    const captions = await page.$$eval('.tl-group figcaption', (c) => c.map((x) => x.textContent));
    check(captions.filter((c) => c.endsWith('[6 × 6]')).length === 4 && captions.filter((c) => c.endsWith(`[${tdata.T} × ${tdata.T}]`)).length === 2 &&
          captions.filter((c) => c.endsWith(`[${tdata.T} × 6]`)).length === 2, 'encoder maps S × S, decoder T × T, cross T × S');
    check(await page.$$eval('#tl-bars .barrow', (b) => b.length) === 20, "the decoder's 20 candidates at the last position");
    await page.fill('#tl-target', 'fed');
    await page.waitForFunction(() => state.translate && state.translate.T === 4 && !state.translate.translated);
    await page.click('#tl-decoder-tokens .token[data-index="1"]');
    await page.waitForFunction(() => state.translate.position === 1);
    check((await page.$eval('#tl-bars p', (p) => p.textContent)).includes('“e”'), 'a typed target, position 1 clicked: the bars say the target has "e" there');
    const cross = await page.$('#tl-cross-0-1');
    const [cx, cy] = await cross.evaluate((c) => c.cellCentre(2, 0));
    await cross.click({ position: { x: cx, y: cy } });
    await page.waitForFunction(() => state.translate.position === 2);
    check(true, "clicking a cross-attention map's row chooses that decoder position");
    await page.fill('#tl-beam', '3');
    await page.click('#tl-translate');
    await page.waitForSelector('#tl-result button');
    check(/beam 3/.test(await page.$eval('#tl-result', (r) => r.textContent)), 'beam translation shows its output');
    await page.screenshot({ path: shots + '/transformer.png', fullPage: true });

    // ---- model = bert (run tiny_bert): full maps, the bars at the position, [MASK] ----
    stage = 'bert';
    await page.selectOption('#model-run', 'tiny_bert');
    await page.waitForFunction(() => state.kind === 'bert' && !document.querySelector('#view-forward').hidden);
    check(await page.$eval('#next', (b) => b.hidden) && await page.$eval('#stream', (b) => b.hidden) && !(await page.$eval('#mask-label', (b) => b.hidden)),
          'bert: no next-token or stream button; a [MASK] box');
    await page.fill('#prompt', 'the quick');
    // bert's maps drawn (not those of the run shown before, nor the first answer's, which has none).
    await page.waitForFunction(() => state.forward && state.forward.request.run === 'tiny_bert' && state.forward.request.prompt === 'the quick' &&
      state.forward.mapsKey === mapsKey(state.forward.request) && state.forward.attention[0] && state.forward.attention[0][0] &&
      !document.querySelector('#attention').classList.contains('stale') && document.querySelectorAll('#attention canvas.attention-map').length === 4);
    // Cell (0, 8): above the diagonal, masked (white) in a GPT's map, a weight in bert's.
    const pixel = await page.$eval('#map-0-0', (c) => {
      const [x, y] = c.cellCentre(0, 8), r = c.getBoundingClientRect();
      return [...c.getContext('2d').getImageData(Math.floor(x * c.width / r.width), Math.floor(y * c.height / r.height), 1, 1).data].slice(0, 3);
    });
    const zero = await page.evaluate(() => sequentialRGB(0));
    check(pixel.join() !== zero.join(), `bert: the map is drawn whole (cell (0, 8) above the diagonal: ${pixel} vs 0 = ${zero})`);
    check((await page.$eval('#bars p', (p) => p.textContent)).includes(await page.evaluate(() => t('bars.bert.token'))) &&
          await page.$eval('#bars-title', (h) => h.textContent) === await page.evaluate(() => t('h.bars.bert')),
          'bert: the bars are labelled as the prediction for the token at the position');
    check(await page.$$eval('#stage-scores tr.masked', (r) => r.length) === 0, 'bert: the stage view masks no key');
    await page.click('#tokens .token[data-index="4"]');
    await page.check('#mask');
    await page.waitForFunction(() => state.forward && state.forward.predicts === 'masked' && state.forward.position === 4);
    check((await page.$eval('#tokens .token[data-index="4"]', (x) => x.firstChild.textContent)) === '[MASK]' &&
          (await page.$eval('#bars p', (p) => p.textContent)).includes(await page.evaluate(() => t('bars.bert.masked'))),
          'bert, [MASK] at token #4: the token shown masked, the bars its prediction');
    await page.screenshot({ path: shots + '/bert.png', fullPage: true });

    // A live run: start gpt train and watch its loss curve grow.
    stage = 'live run';
    await page.click('#tabs button[data-view="training"]');
    const colour = await page.$eval('#run-list label:last-child .swatch', (s) => s.style.background);  // variant's
    live = spawn(liveCommand[0], liveCommand.slice(1), { stdio: 'ignore' });
    await page.waitForFunction(() => [...document.querySelectorAll('#run-list label')].some((l) => l.textContent === 'live'));
    await page.$$eval('#run-list label', (labels) => {
      const box = labels.find((l) => l.textContent === 'live').querySelector('input');
      if (!box.checked) box.click();
    });
    check(await page.$eval('#run-list label:last-child .swatch', (s) => s.style.background) === colour, "a new run does not change the others' colours");
    const points = () => page.$$eval('#chart-loss path.series', (p) => Math.max(...p.map((x) => +x.dataset.points)));
    await page.waitForFunction(() => [...document.querySelectorAll('#chart-loss path.series')].some((p) => +p.dataset.points > 40));
    stage = 'live run: growing';
    const first = await points();
    await page.waitForFunction((n) => Math.max(...[...document.querySelectorAll('#chart-loss path.series')].map((p) => +p.dataset.points)) > n, first);
    const second = await points();
    check(second > first, `the live run's loss curve grows (${first} -> ${second} points)`);
    await page.screenshot({ path: shots + '/training_live.png', fullPage: true });
    await page.setViewportSize({ width: 700, height: 1000 });
    check(await page.evaluate(() => document.documentElement.scrollWidth) <= 700, 'the training view fits 700 px');
    // SIGTERM: gpt train saves its first checkpoint and exits; the run's label says so on the next poll.
    stage = 'live run: checkpoint';
    check(/no checkpoint yet/.test(await page.$eval('#model-run option[value="live"]', (o) => o.textContent)), 'the live run has no checkpoint yet');
    const exited = new Promise((resolve) => live.on('exit', resolve));
    live.kill('SIGTERM');
    await exited;
    await page.waitForFunction(() => document.querySelector('#model-run option[value="live"]').textContent === 'live');
    check(true, "the run's \"(no checkpoint yet)\" label goes once it has saved one");
  } catch (e) {
    check(false, `browser run, at ${stage}: ` + e.message.split('\n')[0]);
    await page.screenshot({ path: shots + '/failure.png', fullPage: true }).catch(() => {});
  }
  if (live && live.exitCode === null) {  // SIGTERM: gpt train saves a checkpoint and exits; wait for it
    const exited = new Promise((resolve) => live.on('exit', resolve));
    live.kill('SIGTERM');
    await exited;
  }
  const compressed = responses.filter((r) => r.encoding);
  check(responses.length > 10 && compressed.length === 0, `${responses.length} API answers, none compressed` + (compressed.length ? ': ' + compressed[0].url : ''));
  check(responses.every((r) => r.length <= 8 * 1024 * 1024), 'every API answer within the 8 MiB bound');
  check(refused.length === 0, 'no request refused' + (refused.length ? ': ' + refused.join(' | ') : ''));
  check(errors.length === 0, 'no console errors' + (errors.length ? ': ' + errors.join(' | ') + (refused.length ? '; refused: ' + refused.join(' | ') : '') : ''));
  await browser.close();
  console.log(failures ? `${failures} failed` : 'serve_browser: all passed');
  process.exit(failures ? 1 : 0);
})();
