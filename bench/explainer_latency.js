// gpt serve's page, timed as a learner meets it: real Chromium (Playwright), default request headers.
// The browser half of bench/explainer_latency.sh:
//   node explainer_latency.js measure URL CHROMIUM PLAYWRIGHT_DIR OUT.json LABEL REPEATS RUN...
//   node explainer_latency.js table AFTER.json [BEFORE.json]     (prints the markdown table)
// For each RUN (a run folder the server serves) and each interaction, REPEATS times, the time from the
// input event (its event.timeStamp, the moment the browser created it) until the page has drawn the
// answer: the page's drawForward has run with the new numbers and the next frame has been painted
// (requestAnimationFrame, then a task). The page is not changed for this: drawForward, which every
// version of the page calls once per applied answer, is wrapped after load. Interactions:
//   type   a character typed at the end of a 63-token prompt (the answer has 64 tokens)
//   slider the temperature slider moved one step with the arrow keys (a 64-token prompt)
//   next   "next token" on a 63-token prompt (generate one token, then the forward view of 64)
//   stream "stream" from a 24-token prompt to 64 tokens: tokens per second, click to last paint
// Each API answer's size comes from the page's Resource Timing entries (encodedBodySize: bytes on the
// wire; decodedBodySize: after any Content-Encoding), and each interaction is split into: waiting before
// the first request (debounce), the server (requestStart..responseStart), the transfer
// (responseStart..responseEnd), and the page (JSON parsing, drawForward, style, layout, paint).
'use strict';

const fs = require('fs');

// 64 characters of plain ASCII: 64 tokens with a character tokenizer.
const PROMPT = 'First Citizen: Before we proceed any further, hear me speak. All';
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN; };

// Runs in the page before its own scripts: event times, fetches in flight, a large resource-timing buffer,
// and a record of each drawn answer from the page's 'forward-drawn' event (forward.js; part: 'sampling',
// 'token', 'main' — the tokens, stage view and bars of a new prompt — or 'maps', the maps that follow).
function instrumentPage() {
  window.__bench = { renders: [], events: [], inflight: 0 };
  performance.setResourceTimingBufferSize(1000000);
  for (const type of ['input', 'click'])
    window.addEventListener(type, (e) => window.__bench.events.push({ type, id: (e.target && e.target.id) || '', t: e.timeStamp }), true);
  const fetch0 = window.fetch;
  window.fetch = async (...args) => {
    window.__bench.inflight += 1;
    try { return await fetch0(...args); } finally { window.__bench.inflight -= 1; }
  };
  window.__bench.record = (part, start) => {
    const f = typeof state !== 'undefined' ? state.forward : null;
    const record = { part, start, end: performance.now(), painted: 0, T: document.querySelectorAll('#tokens .token').length,
                     temperature: f && f.sampling ? f.sampling.options.temperature : NaN };
    window.__bench.renders.push(record);
    requestAnimationFrame(() => setTimeout(() => { record.painted = performance.now(); }, 0));
  };
  window.addEventListener('forward-drawn', (e) => window.__bench.record(e.detail.part, e.detail.started));
}

// A page without the 'forward-drawn' event (before it was added): drawForward, which it calls once per
// answer to draw the whole view, is wrapped after load and counts as part 'all'.
function wrapDrawForward() {
  if (typeof FORWARD_DRAWN_EVENT !== 'undefined') return 'event';
  if (typeof drawForward !== 'function') throw new Error('the page has neither the forward-drawn event nor drawForward');
  const original = drawForward;
  window.drawForward = function (data) {
    const start = performance.now();
    const result = original.apply(this, arguments);
    window.__bench.record('all', start);
    return result;
  };
  return 'wrapped drawForward';
}

// Quiet: nothing in flight and nothing drawn for 400 ms (an earlier interaction's answers are all in).
async function idle(page) {
  await page.waitForFunction(() => {
    const b = window.__bench, last = b.renders[b.renders.length - 1];
    if (b.inflight > 0 || (last && !last.painted)) return false;
    const now = performance.now();
    if (!b.quietSince || b.busyMark !== b.renders.length) { b.quietSince = now; b.busyMark = b.renders.length; }
    return now - b.quietSince > 400;
  }, null, { polling: 50 });
}

async function setPrompt(page, text) {
  await page.fill('#prompt', text);
  await page.waitForFunction((n) => window.__bench.renders.some((r) => r.painted && r.T === n), [...text].length);
  await idle(page);
}

// One interaction: trigger it, wait for the first painted answer that satisfies `want` (T: tokens drawn,
// temperature: of the bars) and, for a new prompt, for its maps too; split the time between the event
// and the first paint.
async function measure(page, trigger, eventType, eventId, want) {
  await idle(page);
  const mark = await page.evaluate(() => ({ renders: window.__bench.renders.length, events: window.__bench.events.length }));
  await trigger();
  const handle = await page.waitForFunction(([mark, eventType, eventId, want]) => {
    const b = window.__bench;
    const event = b.events.slice(mark.events).find((e) => e.type === eventType && e.id === eventId);
    if (!event) return false;
    const after = b.renders.slice(mark.renders);
    const first = after.findIndex((r) => r.part !== 'maps' && (want.T === undefined || r.T === want.T) &&
      (want.temperature === undefined || Math.abs(r.temperature - want.temperature) < 1e-3));
    if (first < 0 || !after[first].painted) return false;
    const render = after[first];
    // A new prompt's maps come in a second answer (part 'maps'); a whole-view answer ('all') has them.
    const complete = !want.maps || render.part === 'all' ? render : after.slice(first + 1).find((r) => r.part === 'maps');
    if (!complete || !complete.painted) return false;
    const api = (until) => performance.getEntriesByType('resource')
      .filter((e) => /\/api\/(forward|generate)/.test(e.name) && e.startTime >= event.t && e.responseEnd <= until)
      .map((e) => ({ path: new URL(e.name).pathname, start: e.startTime, requestStart: e.requestStart, responseStart: e.responseStart,
                     responseEnd: e.responseEnd, bytes: e.encodedBodySize, decoded: e.decodedBodySize, status: e.responseStatus }));
    return { event: event.t, render, complete, requests: api(render.start), all: api(complete.start) };
  }, [mark, eventType, eventId, want], { polling: 'raf', timeout: 120000 });
  const r = await handle.jsonValue();
  const requests = r.requests;
  const sum = (f) => requests.reduce((a, q) => a + f(q), 0);
  const lastEnd = requests.length ? Math.max(...requests.map((q) => q.responseEnd)) : r.event;
  return {
    total: r.render.painted - r.event,
    complete: r.complete.painted - r.event,
    wait: requests.length ? requests[0].start - r.event : 0,
    server: sum((q) => q.responseStart - q.requestStart),
    transfer: sum((q) => q.responseEnd - q.responseStart),
    parse: r.render.start - lastEnd,          // JSON parsing and anything else before the drawing
    draw: r.render.end - r.render.start,      // the page's drawing code (DOM, canvases)
    paint: r.render.painted - r.render.end,   // style, layout, paint of the next frame
    requests: r.all.map((q) => ({ path: q.path, bytes: q.bytes, decoded: q.decoded, status: q.status })),
  };
}

// "stream" from a 24-token prompt to 64 tokens: tokens per second from the click to the last paint.
async function measureStream(page, blockSize) {
  await setPrompt(page, PROMPT.slice(0, 24));
  const mark = await page.evaluate(() => ({ renders: window.__bench.renders.length, events: window.__bench.events.length }));
  await page.click('#stream');
  await page.waitForFunction((mark) => window.__bench.renders.slice(mark.renders).some((r) => r.painted && r.T >= 64), mark,
    { polling: 'raf', timeout: 300000 });
  if (blockSize > 64) await page.click('#stream');  // stop (a 64-token model stops by itself at block_size)
  await page.waitForFunction(() => document.querySelector('#stream').textContent === 'stream', null, { timeout: 120000 });
  await idle(page);
  const r = await page.evaluate((mark) => {
    const b = window.__bench;
    const click = b.events.slice(mark.events).find((e) => e.type === 'click' && e.id === 'stream');
    const last = b.renders.slice(mark.renders).find((x) => x.T >= 64);
    const requests = performance.getEntriesByType('resource')
      .filter((e) => /\/api\/(forward|generate)/.test(e.name) && e.startTime >= click.t && e.responseEnd <= last.start);
    const server = requests.reduce((a, e) => a + e.responseStart - e.requestStart, 0);
    const transfer = requests.reduce((a, e) => a + e.responseEnd - e.responseStart, 0);
    return { seconds: (last.painted - click.t) / 1000, server: server / 1000, transfer: transfer / 1000 };
  }, mark);
  return { tokens_per_s: 40 / r.seconds, seconds: r.seconds, server_s: r.server, transfer_s: r.transfer };
}

async function measureAll(url, chromiumPath, playwrightDir, out, label, repeats, runs) {
  const { chromium } = require(playwrightDir);
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = [], encodings = new Set();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', async (r) => {
    if (r.url().includes('/api/')) encodings.add((await r.allHeaders())['content-encoding'] || 'identity');
  });
  page.setDefaultTimeout(120000);
  await page.addInitScript(instrumentPage);
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll('#model-run option').length > 0);
  const hook = await page.evaluate(wrapDrawForward);
  const result = { label, url, hook, date: new Date().toISOString(), repeats, models: {} };
  for (const run of runs) {
    await page.selectOption('#model-run', run);
    const info = await page.evaluate(async (run) => (await fetch('/api/model?run=' + encodeURIComponent(run))).json(), run);
    const c = info.config;
    await page.click('#tabs button[data-view="forward"]');
    const model = { run, shape: `${c.n_layer}×${c.n_head}, C ${c.n_embd}, vocab ${c.vocab_size}${c.tokens !== c.vocab_size ? ` (${c.tokens} used)` : ''}, block ${c.block_size}`,
                    parameters: info.parameter_count, interactions: {} };
    const add = (name, m) => { (model.interactions[name] = model.interactions[name] || []).push(m); };
    process.stderr.write(`${label} ${run} (${model.shape}): `);
    for (let k = 0; k < repeats; ++k) {
      await setPrompt(page, PROMPT.slice(0, 63));
      await page.press('#prompt', 'End');
      add('type', await measure(page, () => page.keyboard.type(PROMPT[63]), 'input', 'prompt', { T: 64, maps: true }));
      const key = k % 2 ? 'ArrowLeft' : 'ArrowRight';
      const t0 = await page.$eval('#temperature', (e) => +e.value);
      const t1 = Math.round(100 * Math.min(2, Math.max(0, t0 + (k % 2 ? -0.05 : 0.05)))) / 100;
      add('slider', await measure(page, () => page.press('#temperature', key), 'input', 'temperature', { temperature: t1 }));
      await setPrompt(page, PROMPT.slice(0, 63));
      add('next', await measure(page, () => page.click('#next'), 'click', 'next', { maps: true }));
      process.stderr.write('.');
    }
    model.stream = [];
    for (let k = 0; k < Math.max(1, Math.ceil(repeats / 2)); ++k) { model.stream.push(await measureStream(page, c.block_size)); process.stderr.write('s'); }
    process.stderr.write('\n');
    result.models[run] = model;
  }
  result.errors = errors;
  result.content_encodings = [...encodings];
  await browser.close();
  fs.writeFileSync(out, JSON.stringify(result, null, 1));
  if (errors.length) {  // e.g. a refused request (pages before the maps' "fit": a 413 per prompt on GPT-2's shape)
    const counts = new Map();
    for (const e of errors) counts.set(e, (counts.get(e) || 0) + 1);
    console.error('console errors: ' + [...counts].map(([e, n]) => `${n} × ${e}`).join(' | '));
  }
}

// ---- the table ----
const ms = (x) => (Number.isFinite(x) ? Math.round(x).toString() : '–');
const kb = (x) => (Number.isFinite(x) ? (x / 1024 < 10 ? (x / 1024).toFixed(1) : Math.round(x / 1024).toString()) + ' KB' : '–');

function summary(measurements) {
  const m = (f) => median(measurements.map(f));
  const sizes = measurements[0].requests.map((q, k) => `${q.path.replace('/api/', '')} ${q.status === 413 ? '413 ' : ''}${kb(median(measurements.map((x) => (x.requests[k] || {}).bytes)))}`);
  const fallbacks = false;
  return { total: m((x) => x.total), complete: m((x) => x.complete ?? x.total), wait: m((x) => x.wait), server: m((x) => x.server), transfer: m((x) => x.transfer),
           page: m((x) => x.parse + x.draw + x.paint), draw: m((x) => x.draw), sizes: sizes.join(' + ') + (fallbacks ? ' (413 fallback)' : ''),
           min: Math.min(...measurements.map((x) => x.total)), max: Math.max(...measurements.map((x) => x.total)) };
}

function table(afterPath, beforePath) {
  const after = JSON.parse(fs.readFileSync(afterPath));
  const before = beforePath ? JSON.parse(fs.readFileSync(beforePath)) : null;
  const names = { type: 'type a character', slider: 'temperature slider', next: '"next token"' };
  const lines = [];
  lines.push(`Median of ${after.repeats} (min–max); ms from the input event to the painted frame with the new numbers ` +
             '(the tokens, the stage view, the bars); "with maps": until the attention, MLP and embedding maps are redrawn too. ' +
             'Split of the first: wait (before the first request) / server / transfer / page (parse + draw + paint). Answers: bytes of each API answer, in order.', '');
  const side = (name) => `${name}: first | ${name}: with maps | ${name}: wait / server / transfer / page | ${name}: answers | `;
  lines.push('| model | interaction | ' + (before ? side('before') : '') + side('after'));
  lines.push('|---|---|' + (before ? '---:|---:|---|---|' : '') + '---:|---:|---|---|');
  for (const [run, model] of Object.entries(after.models)) {
    const old = before && before.models[run];
    const cells = (s) => [`${ms(s.total)} (${ms(s.min)}–${ms(s.max)})`, ms(s.complete), `${ms(s.wait)} / ${ms(s.server)} / ${ms(s.transfer)} / ${ms(s.page)}`, s.sizes];
    for (const name of Object.keys(names)) {
      const row = [model.run + ` (${model.shape})`, names[name]];
      if (before) row.push(...(old ? cells(summary(old.interactions[name])) : ['–', '–', '–', '–']));
      row.push(...cells(summary(model.interactions[name])));
      lines.push('| ' + row.join(' | ') + ' |');
    }
    const st = (m) => {
      const tps = median(m.stream.map((s) => s.tokens_per_s));
      return [`${tps.toFixed(1)} tok/s`, '', `server ${(1000 * median(m.stream.map((s) => s.server_s / 40))).toFixed(0)} ms/token, transfer ${(1000 * median(m.stream.map((s) => s.transfer_s / 40))).toFixed(0)} ms/token`, ''];
    };
    const row = [model.run + ` (${model.shape})`, '"stream", 24 → 64 tokens'];
    if (before) row.push(...(old ? st(old) : ['–', '–', '–', '–']));
    row.push(...st(model));
    lines.push('| ' + row.join(' | ') + ' |');
  }
  for (const r of before ? [before, after] : [after])
    lines.push('', `${r.label} (${r.hook}): Content-Encoding of the API answers: ${r.content_encodings.join(', ')}; console errors: ${r.errors.length}` +
               (r.errors.length ? ` (${[...new Set(r.errors)].join('; ')})` : ''));
  console.log(lines.join('\n'));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'measure') {
  const [url, chromiumPath, playwrightDir, out, label, repeats, ...runs] = args;
  measureAll(url, chromiumPath, playwrightDir, out, label, +repeats, runs).catch((e) => { console.error('explainer_latency: ' + e.message); process.exit(1); });
} else if (mode === 'table') {
  table(args[0], args[1]);
} else {
  console.error('usage: node explainer_latency.js measure URL CHROMIUM PLAYWRIGHT_DIR OUT.json LABEL REPEATS RUN... | table AFTER.json [BEFORE.json]');
  process.exit(2);
}
