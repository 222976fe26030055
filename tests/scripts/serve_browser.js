// The browser half of serve_browser.sh: node serve_browser.js URL CHROMIUM SHOTS_DIR PLAYWRIGHT_DIR LIVE_TRAIN_COMMAND...
'use strict';
const { spawn } = require('child_process');
const [url, chromiumPath, shots, playwrightDir, ...liveCommand] = process.argv.slice(2);
const { chromium } = require(playwrightDir);

let failures = 0;
function check(condition, what) {
  console.log((condition ? 'ok: ' : 'FAIL: ') + what);
  if (!condition) failures += 1;
}

(async () => {
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.setDefaultTimeout(30000);
  let live = null;
  let stage = 'start';
  try {
    await page.goto(url);
    stage = 'open';
    // Training view: the run's loss curve.
    await page.waitForSelector('#chart-loss path.series');
    await page.waitForSelector('#heat-grad canvas');
    check(true, 'training view: loss curve and gradient-flow heatmap render');
    await page.waitForSelector('#samples .sample pre');
    check(await page.$$eval('#samples .sample pre', (p) => p.filter((x) => x.textContent.length > 0).length) > 0,
          'training view: the samples taken at evaluations are listed');
    await page.screenshot({ path: shots + '/training.png', fullPage: true });

    // Forward view: type a prompt.
    stage = 'forward';
    await page.click('#tabs button[data-view="forward"]');
    await page.fill('#prompt', 'the quick');
    await page.waitForFunction(() => document.querySelectorAll('#tokens .token').length === 9);
    await page.waitForFunction(() => document.querySelectorAll('#attention canvas.attention-map').length === 4);
    check(true, 'forward view: 9 tokens and 2 x 2 attention maps');
    check(await page.$$eval('#gelu canvas', (c) => c.length) === 2, 'GELU activations of both layers');
    await page.hover('#tokens .token:nth-child(6)');  // token #5: each map outlines its row
    check(await page.$eval('#attention canvas.attention-map', (c) => {
      const [r, g, b] = c.getContext('2d').getImageData(c.width / 2, Math.floor(c.height * 5 / 9) + 1, 1, 1).data;
      return r === 0xe8 && g === 0x59 && b === 0x0c;
    }), 'hovering a token outlines its row in the attention maps');
    const map = await page.$('#attention canvas.attention-map');
    const box = await map.boundingBox();
    await map.click({ position: { x: box.width / 2, y: box.height * 5.5 / 9 } });  // query #5: keys #6.. masked
    await page.waitForSelector('#attention-steps-svg');
    check(await page.$$eval('#attention-steps-svg text', (t) => t.filter((x) => x.textContent.includes('%')).length) === 9 &&
          await page.$$eval('#attention-steps-svg text', (t) => t.filter((x) => x.textContent === '−∞').length) === 3,
          "clicking a map's row shows its score → mask → softmax steps");
    const bars = () => page.$$eval('#bars .bar', (b) => b.map((x) => x.dataset.p).join(','));
    const before = await bars();
    check(before.split(',').length === 20, 'top-20 bars');
    await page.$eval('#temperature', (e) => { e.value = '1.8'; e.dispatchEvent(new Event('input')); });
    await page.waitForFunction((old) => [...document.querySelectorAll('#bars .bar')].map((x) => x.dataset.p).join(',') !== old, before);
    check(true, 'moving the temperature slider changes the bars');
    await page.screenshot({ path: shots + '/forward.png', fullPage: true });
    await page.click('#next');
    await page.waitForFunction(() => document.querySelector('#prompt').value.length > 9);
    await page.waitForFunction(() => document.querySelectorAll('#tokens .token').length === 10);
    check(true, '"next token" appends a token to the prompt');

    // Backpropagation view.
    stage = 'backprop';
    await page.click('#tabs button[data-view="backprop"]');
    await page.waitForSelector('#bp-params .gbar');
    await page.waitForSelector('#tape-svg ellipse');
    const gradBars = await page.$$eval('#bp-params .gbar', (b) => b.filter((x) => parseFloat(x.style.width) > 0).length);
    check(gradBars > 10, `backprop view: ${gradBars} non-empty gradient bars`);
    await page.click('#bp-step');
    await page.waitForSelector('#bp-step-result .bar.after');
    check(true, '"take one step" shows the probabilities before and after');
    await page.screenshot({ path: shots + '/backprop.png', fullPage: true });

    // A live run: start gpt train and watch its loss curve grow.
    stage = 'live run';
    await page.click('#tabs button[data-view="training"]');
    live = spawn(liveCommand[0], liveCommand.slice(1), { stdio: 'ignore' });
    await page.waitForSelector('#run-list label:nth-child(1)');
    await page.waitForFunction(() => [...document.querySelectorAll('#run-list label')].some((l) => l.textContent === 'live'));
    await page.$$eval('#run-list label', (labels) => {
      const box = labels.find((l) => l.textContent === 'live').querySelector('input');
      if (!box.checked) box.click();
    });
    const points = () => page.$$eval('#chart-loss path.series', (p) => Math.max(...p.map((x) => +x.dataset.points)));
    await page.waitForFunction(() => [...document.querySelectorAll('#chart-loss path.series')].some((p) => +p.dataset.points > 40));
    stage = 'live run: growing';
    const first = await points();
    await page.waitForFunction((n) => Math.max(...[...document.querySelectorAll('#chart-loss path.series')].map((p) => +p.dataset.points)) > n, first);
    const second = await points();
    check(second > first, `the live run's loss curve grows (${first} -> ${second} points)`);
    await page.screenshot({ path: shots + '/training_live.png', fullPage: true });
  } catch (e) {
    check(false, `browser run, at ${stage}: ` + e.message.split('\n')[0]);
    await page.screenshot({ path: shots + '/failure.png', fullPage: true }).catch(() => {});
  }
  if (live && live.exitCode === null) {  // SIGTERM: gpt train saves a checkpoint and exits; wait for it
    const exited = new Promise((resolve) => live.on('exit', resolve));
    live.kill('SIGTERM');
    await exited;
  }
  check(errors.length === 0, 'no console errors' + (errors.length ? ': ' + errors.join(' | ') : ''));
  await browser.close();
  console.log(failures ? `${failures} failed` : 'serve_browser: all passed');
  process.exit(failures ? 1 : 0);
})();
