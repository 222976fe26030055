// gpt serve's encoder–decoder view (serve/assets/translate.js) timed in real Chromium: typing one more
// character of the source (the page asks for the greedy translation and the maps of the new pair) and of
// the target (the maps of that pair), from the key event to the first frame painted after the page's
// state holds the new pair and its cross-attention maps are drawn. A timing: run it on a quiet machine.
//   node bench/explainer_translate_latency.js URL RUN CHROMIUM PLAYWRIGHT_DIR [REPEATS (default 9)]
// URL: a running `gpt serve` (e.g. http://127.0.0.1:8799/), RUN: the name of a model = transformer run.
// Prints one markdown table (median, min–max in ms) and the console errors seen.
'use strict';

const SOURCE = 'transformer', TARGET = 'remrofsnar';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Types `key` into `selector` (whose value is `before`) and returns the ms from the keydown to the painted
// frame after the page's state holds `want` tokens in `field` (S: source, T: bos + target) with its maps.
async function timeKey(page, selector, before, key, field, want) {
  await page.fill(selector, before);
  await page.waitForFunction(([field, n]) => state.translate && state.translate[field] === n &&
    document.querySelectorAll('#tl-cross canvas.attention-map').length > 0, [field, want - 1]);
  await page.waitForTimeout(300);  // the previous answers are all in
  await page.focus(selector);
  await page.keyboard.press('End');
  await page.evaluate(() => {
    window.__t = { down: 0 };
    document.addEventListener('keydown', (e) => { window.__t.down = e.timeStamp; }, { once: true, capture: true });
  });
  await page.keyboard.type(key);
  return page.evaluate(([field, n]) => new Promise((resolve) => {
    const poll = () => {
      const s = state.translate;
      if (s && s[field] === n && document.querySelectorAll('#tl-cross canvas.attention-map').length > 0)
        requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - window.__t.down)));
      else requestAnimationFrame(poll);
    };
    poll();
  }), [field, want]);
}

async function main() {
  const [url, run, chromiumPath, playwrightDir, repeatsText] = process.argv.slice(2);
  if (!playwrightDir) {
    console.error('usage: node bench/explainer_translate_latency.js URL RUN CHROMIUM PLAYWRIGHT_DIR [REPEATS]');
    process.exit(2);
  }
  const repeats = +(repeatsText || 9);
  const { chromium } = require(playwrightDir);
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.setDefaultTimeout(60000);
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll('#model-run option').length > 0);
  await page.selectOption('#model-run', run);
  await page.waitForFunction(() => state.kind === 'transformer');
  await page.click('#tabs button[data-view="forward"]');
  const source = [], target = [];
  for (let k = 0; k < repeats; ++k) {
    await page.fill('#tl-target', '');
    source.push(await timeKey(page, '#tl-source', SOURCE.slice(0, -1), SOURCE.slice(-1), 'S', SOURCE.length));
    await page.fill('#tl-source', SOURCE);
    target.push(await timeKey(page, '#tl-target', TARGET.slice(0, -1), TARGET.slice(-1), 'T', TARGET.length + 1));
  }
  await browser.close();
  const row = (name, xs) => `| ${name} | ${Math.round(median(xs))} | ${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))} |`;
  console.log(`| interaction (${repeats} times) | median ms | min–max |\n|---|---:|---|`);
  console.log(row(`type the source's last character ("${SOURCE}": greedy translation + maps)`, source));
  console.log(row(`type the target's last character ("${TARGET}": maps of the pair)`, target));
  console.log(`console errors: ${errors.length}${errors.length ? ' (' + [...new Set(errors)].join('; ') + ')' : ''}`);
}

main().catch((e) => { console.error('explainer_translate_latency: ' + e.message); process.exit(1); });
