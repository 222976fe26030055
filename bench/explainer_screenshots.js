// Screenshots of every view of gpt serve's page for docs/explainer.md, at 1280 and 700 px wide, taken
// in real Chromium (Playwright) the way bench/explainer_latency.js drives it:
//   node explainer_screenshots.js URL CHROMIUM PLAYWRIGHT_DIR OUT_DIR RUN
// OUT_DIR/<view>_<width>.png for: training, forward (the diagram with the attention stage open),
// forward_mlp, forward_sampling (logits ÷ T, top-k, the bars), forward_maps (attention maps, residual
// norms, MLP activations), backprop (gradients and one step) and tape (a block's part opened). Each is
// cut to at most MAX_HEIGHT pixels so the pictures stay small. Fails on a console error.
'use strict';

const [url, chromiumPath, playwrightDir, out, run] = process.argv.slice(2);
const { chromium } = require(playwrightDir);
const MAX_HEIGHT = 2000;
const PROMPT = 'The best way to predict the future is to';

// The part of the page from element `from`'s top to element `to`'s bottom (the page scrolled as needed).
async function shoot(page, name, from, to) {
  const box = await page.evaluate(([from, to]) => {
    const a = document.querySelector(from).getBoundingClientRect(), b = document.querySelector(to || from).getBoundingClientRect();
    return { y: a.top + window.scrollY, bottom: b.bottom + window.scrollY };
  }, [from, to]);
  const width = page.viewportSize().width;
  const y = Math.max(0, Math.floor(box.y) - 8);
  const height = Math.min(MAX_HEIGHT, Math.ceil(box.bottom - y) + 8);
  await page.screenshot({ path: `${out}/${name}_${width}.png`, fullPage: true, clip: { x: 0, y, width, height } });
  console.log(`${name}_${width}.png: ${width} × ${height}`);
}

const stageOpen = (page, name) => page.waitForFunction((n) => document.querySelector('#stage-view').dataset.stage === n, name);
const mapsIn = (page) => page.waitForFunction(() => document.querySelectorAll('#attention canvas.attention-map').length > 0 &&
                                                   !document.querySelector('#attention').classList.contains('stale'));

(async () => {
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  const errors = [];
  for (const width of [1280, 700]) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    page.setDefaultTimeout(60000);
    await page.goto(url + '?run=' + encodeURIComponent(run));
    await page.waitForSelector('#chart-loss path.series');
    await page.waitForSelector('#heat-update canvas');
    await page.waitForTimeout(300);
    await shoot(page, 'training', 'header', '#samples');

    await page.click('#tabs button[data-view="forward"]');
    await page.fill('#prompt', PROMPT);
    await page.waitForFunction((n) => document.querySelectorAll('#tokens .token').length === n, PROMPT.length);
    await mapsIn(page);
    // The chosen token: "predict" 's last letter, layer 1, head 2: a row with some structure.
    await page.click('#tokens .token[data-index="20"]');
    await page.waitForFunction(() => document.querySelector('#stage-view').dataset.position === '20');
    await page.click('#stage-attn-1');
    await page.waitForFunction(() => document.querySelector('#stage-view').dataset.layer === '1');
    await page.click('#head-pick button:nth-of-type(3)');
    await page.waitForFunction(() => document.querySelector('#head-pick button.active').textContent === '2');
    await shoot(page, 'forward', 'header', '#stage-view');
    await page.click('#stage-mlp-1');
    await stageOpen(page, 'mlp');
    await shoot(page, 'forward_mlp', '.model-row');
    await page.click('#tokens .token:last-child');
    await page.waitForFunction((n) => document.querySelector('#stage-view').dataset.position === String(n - 1), PROMPT.length);
    await page.fill('#top_k', '10');
    await page.$eval('#top_k', (e) => e.dispatchEvent(new Event('input')));
    await page.$eval('#temperature', (e) => { e.value = '0.7'; e.dispatchEvent(new Event('input')); });
    await page.waitForFunction(() => state.forward.sampling.options.top_k === 10 && Math.abs(state.forward.sampling.options.temperature - 0.7) < 1e-6);
    await page.click('#stage-sampling');
    await stageOpen(page, 'sampling');
    await shoot(page, 'forward_sampling', '.model-row', '#bars');
    await mapsIn(page);
    await shoot(page, 'forward_maps', '#attention', '#gelu');

    await page.click('#tabs button[data-view="backprop"]');
    await page.waitForSelector('#bp-params .gbar');
    await page.waitForSelector('#tape-output svg ellipse');
    await page.click('#bp-step');
    await page.waitForSelector('#bp-step-result .bar.after');
    await shoot(page, 'backprop', '#view-backprop', '#bp-params');
    const blocks = await page.$$eval('details.tape-group', (d) => d.map((x) => x.id));
    const last = blocks.find((id) => id.startsWith('tape-block'));
    await page.click(`#${last} summary`);
    await page.waitForSelector(`#${last} svg ellipse`);
    await shoot(page, 'tape', '#bp-tape');
    await page.close();
  }
  await browser.close();
  if (errors.length) {
    console.error('console errors: ' + errors.join(' | '));
    process.exit(1);
  }
})().catch((e) => { console.error('explainer_screenshots: ' + e.message); process.exit(1); });
