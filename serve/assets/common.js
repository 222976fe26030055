// gpt serve's page, shared pieces: state, requests, tooltips, colour scales, matrices, vectors, the line
// chart. Plain JavaScript, SVG and canvas, nothing loaded from the network; every number comes from the
// JSON API (serve/server.h), these files only draw. text.js and this file load first; training.js,
// forward.js, stages.js, backprop.js, app.js follow.
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  runs: [], checked: new Set(), model: '', metrics: {}, zoom: null, forward: null, backprop: null,
  config: null,     // the model run's configuration (/api/model)
  config_run: null, // the run it is of
  position: null,   // the chosen token (null: the last one)
  stage: { name: 'attn', layer: 0 }, head: 0,  // the stage the diagram opened, the head it shows
  mapLayer: 'all',  // the layer whose maps are shown ('all': every layer; forward.js)
  kind: 'gpt',      // the model run's kind (/api/model "model"): gpt, bert or transformer
  translate: null, tlPosition: null, tlLayer: 'all',  // a transformer run's forward view (translate.js)
};
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

// A token's text as the server wrote it (already readable: \n, \t, \xNN), in quotes, spaces shown as ␣.
const tokenText = (token) => '“' + token.text.replace(/ /g, '␣') + '”';

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
  // Kept on screen: left of the cursor near the right edge, above it near the bottom.
  t.style.left = Math.max(4, Math.min(event.clientX + 14, window.innerWidth - t.offsetWidth - 4)) + 'px';
  const below = event.clientY + 14;
  t.style.top = (below + t.offsetHeight > window.innerHeight - 4 ? Math.max(4, event.clientY - t.offsetHeight - 8) : below) + 'px';
}

// Math.min(...xs) overflows the call stack past ~100k values: a long run's metrics get there.
const minOf = (xs) => xs.reduce((a, b) => (b < a ? b : a), Infinity);
const maxOf = (xs) => xs.reduce((a, b) => (b > a ? b : a), -Infinity);
const fmt = (x) => x === null || x === undefined ? '–' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2).replace(/\.?0+e/, 'e') : (+x.toPrecision(4)).toString();  // 5e-4, not 5.00e-4

// Round axis ticks: about n values at 1, 2 or 5 × 10^k spacing inside [lo, hi].
function niceTicks(lo, hi, n) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, n), power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

// Colour scales as [r, g, b] (for canvases' pixels) and as CSS strings: sequential (white → dark blue) for
// probabilities, log magnitudes; diverging (blue − white + red) for signed values.
function sequentialRGB(t) {
  t = Math.max(0, Math.min(1, t || 0));
  return [Math.round(255 - t * (255 - 8)), Math.round(255 - t * (255 - 48)), Math.round(255 - t * (255 - 107))];
}
function divergingRGB(v, scale) {
  const t = Math.max(-1, Math.min(1, (v || 0) / (scale || 1)));
  const a = Math.round(255 - 200 * Math.abs(t));
  return t >= 0 ? [255, a, a] : [a, a, 255];
}
const css = (rgb) => `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
const sequential = (t) => css(sequentialRGB(t));
function viridisLike(t) {  // dark purple → teal → yellow: readable in print and for most colour-blind readers
  t = Math.max(0, Math.min(1, t));
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = t * (stops.length - 1), i = Math.min(Math.floor(x), stops.length - 2), f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
const diverging = (v, scale) => css(divergingRGB(v, scale));

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function figure(caption, child) {
  const f = document.createElement('figure');
  f.append(element('figcaption', '', caption), child);
  return f;
}

// A [rows × cols] matrix on a canvas, each cell `cell` CSS pixels (fractions allowed: a wide matrix is
// squeezed to fit `maxWidth`), painted once through ImageData. colourRGB(v) → [r, g, b]; diverging around
// 0 by default. labels (optional): {rows, cols} token texts drawn on the left and top when the cells are
// tall enough to read. hover(event, i, j, value): i = -1 on leaving. canvas.highlightRow(i) outlines row i.
function matrixCanvas(matrix, cell, colourRGB, hover, options) {
  options = options || {};
  const rows = matrix.length, cols = rows ? matrix[0].length : 0;
  const maxWidth = options.maxWidth || 640;
  const scale = Math.max(1e-9, maxOf(matrix.map((r) => maxOf(r.map((v) => Math.abs(v || 0))))));
  const colour = colourRGB || ((v) => divergingRGB(v, scale));
  // Labels on every row when the cells are tall enough to read, else on every k-th (long prompts).
  const labelled = options.labels && cell >= 3, every = Math.max(1, Math.ceil(9 / cell));
  const left = labelled ? options.labels.width || 64 : 0, top = labelled && options.labels.cols.length ? 52 : 0;
  const cw = Math.min(cell, (maxWidth - left) / Math.max(1, cols)), ch = options.square ? cw : cell;
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.ceil(left + cols * cw)); canvas.height = Math.max(1, Math.ceil(top + rows * ch));
  const pixels = document.createElement('canvas');  // one pixel per cell, scaled up without smoothing
  pixels.width = Math.max(1, cols); pixels.height = Math.max(1, rows);
  const image = pixels.getContext('2d').createImageData(pixels.width, pixels.height);
  matrix.forEach((row, i) => row.forEach((v, j) => {
    const [r, g, b] = v === null ? [238, 238, 238] : colour(v), k = 4 * (i * cols + j);
    image.data[k] = r; image.data[k + 1] = g; image.data[k + 2] = b; image.data[k + 3] = 255;
  }));
  pixels.getContext('2d').putImageData(image, 0, 0);
  const g = canvas.getContext('2d');
  canvas.highlightRow = (highlighted) => {
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.imageSmoothingEnabled = cw < 1 || ch < 1;  // squeezed: average the cells rather than drop some
    g.drawImage(pixels, left, top, cols * cw, rows * ch);
    if (labelled) {
      g.fillStyle = '#333'; g.font = `${Math.max(8, Math.min(11, Math.floor(ch * every) - 1))}px monospace`; g.textBaseline = 'middle';
      options.labels.rows.forEach((text, i) => {
        if (i % every) return;
        g.textAlign = 'right'; g.fillText(text.slice(0, options.labels.chars || 7), left - 3, top + (i + 0.5) * ch);
      });
      options.labels.cols.forEach((text, j) => {
        if (j % every) return;
        g.save(); g.translate(left + (j + 0.5) * cw, top - 3); g.rotate(-Math.PI / 3); g.textAlign = 'left'; g.fillText(text.slice(0, 7), 0, 0); g.restore();
      });
    }
    if (highlighted < 0 || highlighted === undefined) return;
    g.strokeStyle = '#e8590c'; g.lineWidth = 2;
    g.strokeRect(left + 1, top + highlighted * ch + 1, cols * cw - 2, ch - 2);
  };
  canvas.highlightRow(-1);
  // The centre of cell (i, j) in CSS pixels from the canvas's top left (to drive the page from a script).
  canvas.cellCentre = (i, j) => {
    const r = canvas.getBoundingClientRect();
    return [(left + (j + 0.5) * cw) * r.width / canvas.width, (top + (i + 0.5) * ch) * r.height / canvas.height];
  };
  canvas.cellAt = (e) => {
    const r = canvas.getBoundingClientRect(), sx = canvas.width / r.width, sy = canvas.height / r.height;
    return [Math.floor(((e.clientY - r.top) * sy - top) / ch), Math.floor(((e.clientX - r.left) * sx - left) / cw)];
  };
  if (hover) {
    canvas.onmousemove = (e) => {
      const [i, j] = canvas.cellAt(e);
      if (i >= 0 && i < rows && j >= 0 && j < cols) hover(e, i, j, matrix[i][j]);
      else hover(e, -1, -1, null);
    };
    canvas.onmouseleave = (e) => hover(e, -1, -1, null);
  }
  return canvas;
}

// A vector as a row of numbered cells coloured around 0 (short vectors: every number readable), or as a
// strip of coloured cells wrapped into rows with hover read-out (long ones). id: the element's id.
function vectorView(values, id, label) {
  const box = element('div', 'vector');
  if (id) box.id = id;
  box.dataset.n = values.length;
  if (label) box.appendChild(element('div', 'vector-label', `${label}  [${values.length}]`));
  const scale = Math.max(1e-9, maxOf(values.map((v) => Math.abs(v || 0))));
  if (values.length <= 64) {
    const cells = element('div', 'cells');
    values.forEach((v, k) => {
      const c = element('span', 'num', fmt(v));
      c.style.background = diverging(v, scale);
      c.title = `[${k}] ${v}`;
      cells.appendChild(c);
    });
    box.appendChild(cells);
  } else {
    const perRow = Math.min(values.length, 128), rows = [];
    for (let k = 0; k < values.length; k += perRow) rows.push(values.slice(k, k + perRow).concat(Array(Math.max(0, k + perRow - values.length)).fill(null)));
    box.appendChild(matrixCanvas(rows, 5, (v) => divergingRGB(v, scale), (e, i, j, v) =>
      tooltip(e, i < 0 || v === null ? '' : `[${i * perRow + j}] ${fmt(v)}`)));
    box.appendChild(element('div', 'vector-range', `min ${fmt(minOf(values))} · max ${fmt(maxOf(values))} · ${t('legend.diverging')}`));
  }
  return box;
}

// A line chart of several series over x (the step axis, or positions), with round ticks, axis titles
// (options.xName, default the step; options.yName: words of the page's language, text.js), hover
// read-out, optional horizontal reference lines (options.lines: [{y, label}]) and a legend
// (options.legend: a container, filled with one entry per series that has `legend` set). Drag to zoom x
// (options.zoom: read and set through state.zoom and redrawn by options.redraw); double-click zooms out.
function lineChart(svg, series, options) {
  svg.innerHTML = '';
  const box = svg.getBoundingClientRect();
  const W = box.width || 600, H = box.height || 260, m = { l: 60, r: 12, t: 10, b: 28 };
  const xName = options.xName || t('axis.step');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const points = series.flatMap((s) => s.x.map((x, i) => [x, s.y[i]]).filter((p) => p[1] !== null && isFinite(p[1])));
  if (options.legend) drawLegend(options.legend, series);
  if (!points.length) { svgElement('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', fill: '#888' }, svg).textContent = t('chart.empty'); return; }
  let [x0, x1] = (options.zoom && state.zoom) || [minOf(points.map((p) => p[0])), maxOf(points.map((p) => p[0]))];
  if (x1 === x0) x1 = x0 + 1;
  const visible = points.filter((p) => p[0] >= x0 && p[0] <= x1);
  const lines = (options.lines || []).filter((l) => isFinite(l.y));
  const log = options.log && visible.every((p) => p[1] > 0);
  const f = (y) => (log ? Math.log10(y) : y);
  const ys = visible.map((p) => f(p[1])).concat(lines.map((l) => f(l.y)));
  let y0 = minOf(ys), y1 = maxOf(ys);
  if (!isFinite(y0)) { y0 = 0; y1 = 1; }
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const pad = (y1 - y0) * 0.05, nonNegative = y0 >= 0;
  y0 -= pad; y1 += pad;
  if (nonNegative && !log) y0 = Math.max(y0, 0);  // a loss or a rate: no axis below zero
  const sx = (x) => m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r), sy = (y) => H - m.b - (f(y) - y0) / (y1 - y0) * (H - m.t - m.b);
  // y ticks: round values (powers of ten on a log axis); x ticks: round steps (integers).
  let yTicks = log ? niceTicks(Math.ceil(y0), Math.floor(y1), 4).filter(Number.isInteger).map((e) => 10 ** e) : niceTicks(y0, y1, 4);
  if (log && yTicks.length < 2) yTicks = niceTicks(10 ** y0, 10 ** y1, 4).filter((v) => v > 0);  // less than two decades
  for (const yv of yTicks) {
    const py = sy(yv);
    svgElement('line', { x1: m.l, x2: W - m.r, y1: py, y2: py, stroke: '#eee' }, svg);
    svgElement('text', { x: m.l - 4, y: py + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#555' }, svg).textContent = fmt(yv);
  }
  for (const xv of niceTicks(x0, x1, Math.max(2, Math.floor((W - m.l) / 90))).filter((v) => Number.isInteger(v) || x1 - x0 < 4))
    svgElement('text', { x: sx(xv), y: H - 8, 'text-anchor': 'middle', 'font-size': 11, fill: '#555', class: 'x-tick' }, svg).textContent = xv;
  svgElement('rect', { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, fill: 'none', stroke: '#999' }, svg);
  // Axis titles: x in the corner left of the first tick, y turned along the axis.
  svgElement('text', { x: m.l - 4, y: H - 8, 'text-anchor': 'end', 'font-size': 11, fill: '#333', class: 'axis-title x-title' }, svg).textContent = xName;
  if (options.yName) {
    svgElement('text', { x: 0, y: 0, transform: `translate(11, ${m.t + (H - m.t - m.b) / 2}) rotate(-90)`, 'text-anchor': 'middle',
                         'font-size': 11, fill: '#333', class: 'axis-title y-title' }, svg).textContent = options.yName;
  }
  for (const l of lines) {
    svgElement('line', { x1: m.l, x2: W - m.r, y1: sy(l.y), y2: sy(l.y), stroke: '#999', 'stroke-dasharray': '2,3', class: 'reference' }, svg);
    svgElement('text', { x: W - m.r - 4, y: sy(l.y) - 4, 'text-anchor': 'end', 'font-size': 11, fill: '#777' }, svg).textContent = l.label;
  }
  for (const s of series) {
    const d = s.x.map((x, i) => [x, s.y[i]]).filter((p) => p[1] !== null && isFinite(p[1]) && p[0] >= x0 && p[0] <= x1)
      .map((p, i) => (i ? 'L' : 'M') + sx(p[0]).toFixed(1) + ',' + sy(p[1]).toFixed(1)).join('');
    svgElement('path', { d, fill: 'none', stroke: s.colour, 'stroke-width': 1.6, 'stroke-dasharray': s.dashed ? '5,3' : '', class: 'series', 'data-points': s.x.length }, svg);
  }
  const cursor = svgElement('line', { y1: m.t, y2: H - m.b, stroke: '#888', visibility: 'hidden' }, svg);
  const brush = svgElement('rect', { y: m.t, height: H - m.t - m.b, fill: 'rgba(60,120,200,.15)', visibility: 'hidden' }, svg);
  const stepAt = (event) => { const r = svg.getBoundingClientRect(); return x0 + ((event.clientX - r.left) * W / r.width - m.l) / (W - m.l - m.r) * (x1 - x0); };
  let dragFrom = null;
  svg.onmousedown = (e) => { dragFrom = options.zoom ? stepAt(e) : null; };
  svg.onmousemove = (e) => {
    const step = stepAt(e);
    cursor.setAttribute('x1', sx(step)); cursor.setAttribute('x2', sx(step)); cursor.setAttribute('visibility', 'visible');
    if (dragFrom !== null) {
      brush.setAttribute('x', sx(Math.min(dragFrom, step))); brush.setAttribute('width', Math.abs(sx(step) - sx(dragFrom)));
      brush.setAttribute('visibility', 'visible');
    }
    const read = series.map((s) => {
      let best = -1;
      s.x.forEach((x, i) => { if (s.y[i] !== null && (best < 0 || Math.abs(x - step) < Math.abs(s.x[best] - step))) best = i; });
      return best < 0 ? null : `${s.label}: ${fmt(s.y[best])} @ ${xName} ${s.x[best]}`;
    }).filter(Boolean);
    tooltip(e, read.join('\n'));
  };
  svg.onmouseleave = () => { cursor.setAttribute('visibility', 'hidden'); tooltip(null, ''); };
  svg.onmouseup = (e) => {
    const to = stepAt(e);
    if (dragFrom !== null && Math.abs(sx(to) - sx(dragFrom)) > 5) { state.zoom = [Math.min(dragFrom, to), Math.max(dragFrom, to)]; options.redraw(); }
    dragFrom = null;
  };
  svg.ondblclick = () => { if (options.zoom) { state.zoom = null; options.redraw(); } };
}

// One entry per series with a `legend` text: a line swatch (dashed when the series is) and the text.
function drawLegend(container, series) {
  container.innerHTML = '';
  for (const s of series) {
    if (!s.legend) continue;
    const item = element('span', 'legend-item');
    const swatch = svgElement('svg', { width: 22, height: 8 });
    svgElement('line', { x1: 0, x2: 22, y1: 4, y2: 4, stroke: s.colour, 'stroke-width': 2, 'stroke-dasharray': s.dashed ? '5,3' : '' }, swatch);
    item.append(swatch, s.legend);
    container.appendChild(item);
  }
}
