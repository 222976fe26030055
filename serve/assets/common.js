// gpt serve's page, shared pieces: state, requests, tooltips, colour scales, the line chart. Plain
// JavaScript, SVG and canvas, nothing loaded from the network; every number comes from the JSON API
// (serve/server.h), these files only draw. Loaded first; training.js, forward.js, backprop.js, app.js follow.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { runs: [], checked: new Set(), model: '', metrics: {}, zoom: null, forward: null, backprop: null };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

// ---- plumbing ----
function showError(message) {
  const box = $('error');
  box.textContent = message || '';
  box.hidden = !message;
}

async function api(path, body) {
  const options = body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({ error: 'HTTP ' + response.status }));
  if (!response.ok) throw Object.assign(new Error(data.error || 'HTTP ' + response.status), { status: response.status });
  return data;
}

function svgElement(name, attributes, parent) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', name);
  for (const [k, v] of Object.entries(attributes || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function tooltip(event, text) {
  const t = $('tooltip');
  if (!text) { t.hidden = true; return; }
  t.textContent = text;
  t.hidden = false;
  t.style.left = Math.min(event.clientX + 14, window.innerWidth - t.offsetWidth - 4) + 'px';
  t.style.top = (event.clientY + 14) + 'px';
}

// Math.min(...xs) overflows the call stack past ~100k values: a long run's metrics get there.
const minOf = (xs) => xs.reduce((a, b) => (b < a ? b : a), Infinity);
const maxOf = (xs) => xs.reduce((a, b) => (b > a ? b : a), -Infinity);
const fmt = (x) => x === null || x === undefined ? '–' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : (+x.toPrecision(4)).toString();

// Colour scales: sequential (white → dark blue) for probabilities, log magnitudes; diverging for signed values.
function sequential(t) {
  t = Math.max(0, Math.min(1, t));
  const r = Math.round(255 - t * (255 - 8)), g = Math.round(255 - t * (255 - 48)), b = Math.round(255 - t * (255 - 107));
  return `rgb(${r},${g},${b})`;
}
function viridisLike(t) {  // dark purple → teal → yellow: readable in print and for most colour-blind readers
  t = Math.max(0, Math.min(1, t));
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = t * (stops.length - 1), i = Math.min(Math.floor(x), stops.length - 2), f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
function diverging(v, scale) {
  const t = Math.max(-1, Math.min(1, v / (scale || 1)));
  return t >= 0 ? `rgb(255,${Math.round(255 - 200 * t)},${Math.round(255 - 200 * t)})` : `rgb(${Math.round(255 + 200 * t)},${Math.round(255 + 200 * t)},255)`;
}

// A line chart of several series over the step axis, with hover read-out and drag-to-zoom.
function lineChart(svg, series, options) {
  svg.innerHTML = '';
  const box = svg.getBoundingClientRect();
  const W = box.width || 600, H = box.height || 260, m = { l: 56, r: 12, t: 10, b: 28 };
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const points = series.flatMap((s) => s.x.map((x, i) => [x, s.y[i]]).filter((p) => p[1] !== null && isFinite(p[1])));
  if (!points.length) { svgElement('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', fill: '#888' }, svg).textContent = 'no data yet'; return; }
  let [x0, x1] = state.zoom || [minOf(points.map((p) => p[0])), maxOf(points.map((p) => p[0]))];
  if (x1 === x0) x1 = x0 + 1;
  const visible = points.filter((p) => p[0] >= x0 && p[0] <= x1);
  const log = options.log && visible.every((p) => p[1] > 0);
  const f = (y) => (log ? Math.log10(y) : y);
  let y0 = minOf(visible.map((p) => f(p[1]))), y1 = maxOf(visible.map((p) => f(p[1])));
  if (!isFinite(y0)) { y0 = 0; y1 = 1; }
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const pad = (y1 - y0) * 0.05, nonNegative = y0 >= 0;
  y0 -= pad; y1 += pad;
  if (nonNegative && !log) y0 = Math.max(y0, 0);  // a loss or a rate: no axis below zero
  const sx = (x) => m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r), sy = (y) => H - m.b - (f(y) - y0) / (y1 - y0) * (H - m.t - m.b);
  for (let k = 0; k <= 4; ++k) {  // axes: 5 ticks each
    const yv = y0 + (y1 - y0) * k / 4, py = H - m.b - k / 4 * (H - m.t - m.b);
    svgElement('line', { x1: m.l, x2: W - m.r, y1: py, y2: py, stroke: '#eee' }, svg);
    svgElement('text', { x: m.l - 4, y: py + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#555' }, svg).textContent = fmt(log ? 10 ** yv : yv);
    const xv = x0 + (x1 - x0) * k / 4;
    svgElement('text', { x: sx(xv), y: H - 8, 'text-anchor': 'middle', 'font-size': 11, fill: '#555' }, svg).textContent = Math.round(xv);
  }
  svgElement('rect', { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, fill: 'none', stroke: '#999' }, svg);
  for (const s of series) {
    const d = s.x.map((x, i) => [x, s.y[i]]).filter((p) => p[1] !== null && isFinite(p[1]) && p[0] >= x0 && p[0] <= x1)
      .map((p, i) => (i ? 'L' : 'M') + sx(p[0]).toFixed(1) + ',' + sy(p[1]).toFixed(1)).join('');
    svgElement('path', { d, fill: 'none', stroke: s.colour, 'stroke-width': 1.6, 'stroke-dasharray': s.dashed ? '5,3' : '', class: 'series', 'data-points': s.x.length }, svg);
  }
  const cursor = svgElement('line', { y1: m.t, y2: H - m.b, stroke: '#888', visibility: 'hidden' }, svg);
  const brush = svgElement('rect', { y: m.t, height: H - m.t - m.b, fill: 'rgba(60,120,200,.15)', visibility: 'hidden' }, svg);
  const stepAt = (event) => { const r = svg.getBoundingClientRect(); return x0 + ((event.clientX - r.left) * W / r.width - m.l) / (W - m.l - m.r) * (x1 - x0); };
  let dragFrom = null;
  svg.onmousedown = (e) => { dragFrom = stepAt(e); };
  svg.onmousemove = (e) => {
    const step = stepAt(e);
    cursor.setAttribute('x1', sx(step)); cursor.setAttribute('x2', sx(step)); cursor.setAttribute('visibility', 'visible');
    if (dragFrom !== null) {
      brush.setAttribute('x', sx(Math.min(dragFrom, step))); brush.setAttribute('width', Math.abs(sx(step) - sx(dragFrom)));
      brush.setAttribute('visibility', 'visible');
    }
    const lines = series.map((s) => {
      let best = -1;
      s.x.forEach((x, i) => { if (s.y[i] !== null && (best < 0 || Math.abs(x - step) < Math.abs(s.x[best] - step))) best = i; });
      return best < 0 ? null : `${s.label}: ${fmt(s.y[best])} @ step ${s.x[best]}`;
    }).filter(Boolean);
    tooltip(e, lines.join('\n'));
  };
  svg.onmouseleave = () => { cursor.setAttribute('visibility', 'hidden'); tooltip(null, ''); };
  svg.onmouseup = (e) => {
    const to = stepAt(e);
    if (dragFrom !== null && Math.abs(sx(to) - sx(dragFrom)) > 5) { state.zoom = [Math.min(dragFrom, to), Math.max(dragFrom, to)]; drawTraining(); }
    dragFrom = null;
  };
  svg.ondblclick = () => { state.zoom = null; drawTraining(); };
}
