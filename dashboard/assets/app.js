// The goalsearch dashboard: plain JavaScript drawing SVG and canvas from the
// server's JSON API, which it polls. Nothing is loaded from anywhere else.
'use strict';

const CFG = window.GOALSEARCH || { poll_ms: 1000 };
const TOKEN = new URLSearchParams(location.search).get('token') || '';
const SVGNS = 'http://www.w3.org/2000/svg';
const root = document.documentElement;

// What the browser test reads: script errors and how many polls came back.
let scriptErrors = 0, polls = 0;
root.dataset.errors = '0';
window.addEventListener('error', () => { root.dataset.errors = String(++scriptErrors); });
window.addEventListener('unhandledrejection', () => { root.dataset.errors = String(++scriptErrors); });

// ---------------------------------------------------------------- helpers

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, kids);
  return el;
}

function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVGNS, tag);
  setAttrs(el, attrs);
  append(el, kids);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
}

function append(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

async function api(path, params) {
  const u = new URL(path, location.href);
  u.search = '';
  for (const [k, v] of Object.entries(params || {})) u.searchParams.set(k, v);
  const headers = TOKEN ? { 'X-Goalsearch-Token': TOKEN } : {};
  const resp = await fetch(u, { headers, cache: 'no-store' });
  let body;
  try { body = await resp.json(); } catch (e) { body = { error: resp.status + ' ' + resp.statusText }; }
  if (!resp.ok) throw new Error(body.error || resp.statusText);
  return body;
}

const isNum = v => typeof v === 'number' && isFinite(v);

function fmtNum(v, digits = 4) {
  if (!isNum(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return v.toFixed(digits);
}

function meanStd(smp) { return fmtNum(smp.mean) + (isNum(smp.std) ? ' ± ' + smp.std.toFixed(4) : ''); }

function fmtW(v) { return isNum(v) ? (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(3) : '–'; }

function fmtDur(sec) {
  if (!isNum(sec)) return '–';
  if (sec < 1) return (sec * 1000).toFixed(0) + ' ms';
  if (sec < 60) return sec.toFixed(1) + ' s';
  if (sec < 3600) return Math.floor(sec / 60) + ' min ' + Math.round(sec % 60) + ' s';
  return Math.floor(sec / 3600) + ' h ' + Math.round((sec % 3600) / 60) + ' min';
}

// serverSkew is how far the browser's clock is ahead of the server's, from
// the "now" of the latest answer: times (a lease's expiry above all) are the
// server's.
let serverSkew = 0;
function serverNow() { return Date.now() - serverSkew; }
function noteNow(now) { if (now) serverSkew = Date.now() - Date.parse(now); }

function fmtAgo(t, now) {
  if (!t) return '–';
  const sec = ((now ? Date.parse(now) : serverNow()) - Date.parse(t)) / 1000;
  if (sec < 0) return 'in ' + fmtDur(-sec);
  if (sec < 2) return 'just now';
  return fmtDur(sec) + ' ago';
}

function fmtTime(t) {
  if (!t) return '–';
  const d = new Date(t);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

const STATES = ['complete', 'pruned', 'failed', 'running', 'paused', 'queued'];

function stateTag(state) { return h('span', { class: 'state ' + state, text: state }); }

function cssVar(name) { return getComputedStyle(root).getPropertyValue(name).trim() || '#888'; }

// viridis, sampled at 9 points and interpolated: perceptually even, and
// readable by the colour blind.
const VIRIDIS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];

function viridis(t) {
  if (!isNum(t)) return cssVar('--queued');
  t = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(t)), f = t - i;
  const a = hex(VIRIDIS[i]), b = hex(VIRIDIS[i + 1]);
  return 'rgb(' + a.map((x, k) => Math.round(x + (b[k] - x) * f)).join(',') + ')';
}

function hex(c) { return [1, 3, 5].map(i => parseInt(c.slice(i, i + 2), 16)); }

// diverging blue-white-red for atoms and weights.
function diverging(t) {
  t = Math.max(-1, Math.min(1, isNum(t) ? t : 0));
  const w = [247, 247, 247], pos = [33, 102, 172], neg = [178, 24, 43];
  const c = t >= 0 ? pos : neg, f = Math.abs(t);
  return 'rgb(' + w.map((x, k) => Math.round(x + (c[k] - x) * f)).join(',') + ')';
}

function niceTicks(lo, hi, n = 5) {
  if (!(hi > lo)) { hi = lo + 1; lo -= 1; }
  const step0 = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(st => st >= step0) || step0;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(12));
  return out;
}

function extent(values, pad = 0.05) {
  const v = values.filter(isNum);
  if (!v.length) return [0, 1];
  let lo = Math.min(...v), hi = Math.max(...v);
  if (lo === hi) { lo -= Math.abs(lo) * 0.05 || 0.5; hi += Math.abs(hi) * 0.05 || 0.5; }
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

function tickLabel(v, step) {
  const digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step || 1) + 1e-9)));
  return Math.abs(v) >= 1e5 ? v.toExponential(1) : v.toFixed(digits);
}

// ---------------------------------------------------------------- tooltip

const tip = document.getElementById('tip');
function showTip(ev, text) {
  tip.textContent = text;
  tip.hidden = false;
  const x = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
  const y = Math.min(ev.clientY + 14, window.innerHeight - tip.offsetHeight - 8);
  tip.style.left = x + 'px';
  tip.style.top = y + 'px';
}
function hideTip() { tip.hidden = true; }
function tipOn(el, text) {
  el.addEventListener('mousemove', ev => showTip(ev, typeof text === 'function' ? text() : text));
  el.addEventListener('mouseleave', hideTip);
  return el;
}

// ---------------------------------------------------------------- charts

// frame draws the axes of an x-y chart into a new SVG and returns it with
// its scales. Width is fixed in the viewBox; CSS scales the SVG to the panel.
function frame(opts) {
  const W = opts.width || 640, H = opts.height || 300;
  const m = Object.assign({ l: 54, r: 14, t: 10, b: 38 }, opts.margin || {});
  const [x0, x1] = opts.x, [y0, y1] = opts.y;
  const sx = v => m.l + (v - x0) / (x1 - x0 || 1) * (W - m.l - m.r);
  const sy = v => H - m.b - (v - y0) / (y1 - y0 || 1) * (H - m.t - m.b);
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, 'data-chart': opts.name, role: 'img', 'aria-label': opts.label || opts.name });
  const axis = s('g', { class: 'axis' });
  const yt = niceTicks(y0, y1, opts.yTicks || 5), ys = yt.length > 1 ? yt[1] - yt[0] : 1;
  for (const v of yt) {
    if (v < y0 || v > y1) continue;
    axis.append(s('line', { class: 'gridline', x1: m.l, x2: W - m.r, y1: sy(v), y2: sy(v) }),
      s('text', { x: m.l - 6, y: sy(v) + 4, 'text-anchor': 'end', text: tickLabel(v, ys) }));
  }
  const xt = opts.xInt ? niceTicks(x0, x1, opts.xTicks || 8).filter(v => Number.isInteger(v)) : niceTicks(x0, x1, opts.xTicks || 8);
  const xs = xt.length > 1 ? xt[1] - xt[0] : 1;
  for (const v of xt) {
    if (v < x0 || v > x1) continue;
    axis.append(s('line', { x1: sx(v), x2: sx(v), y1: H - m.b, y2: H - m.b + 4 }),
      s('text', { x: sx(v), y: H - m.b + 16, 'text-anchor': 'middle', text: tickLabel(v, xs) }));
  }
  axis.append(s('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
  if (opts.xLabel) axis.append(s('text', { class: 'axis-label', x: (m.l + W - m.r) / 2, y: H - 4, 'text-anchor': 'middle', text: opts.xLabel }));
  if (opts.yLabel) axis.append(s('text', { class: 'axis-label', x: -(m.t + H - m.b) / 2, y: 13, transform: 'rotate(-90)', 'text-anchor': 'middle', text: opts.yLabel }));
  svg.append(axis);
  return { svg, sx, sy, W, H, m };
}

function pathOf(points) {
  let d = '', pen = false;
  for (const [x, y] of points) {
    if (!isNum(x) || !isNum(y)) { pen = false; continue; }
    d += (pen ? 'L' : 'M') + x.toFixed(1) + ',' + y.toFixed(1);
    pen = true;
  }
  return d;
}

function cross(x, y, r, color, cls) {
  return s('path', { class: cls, d: `M${x - r},${y - r}L${x + r},${y + r}M${x - r},${y + r}L${x + r},${y - r}`, stroke: color, 'stroke-width': 1.8 });
}

// valueColour maps a trial's value to viridis over the values of complete
// trials, bright for better.
function valueScale(trials, maximize) {
  const vals = trials.filter(t => t.state === 'complete' && isNum(t.value)).map(t => t.value);
  const lo = Math.min(...vals), hi = Math.max(...vals);
  return v => {
    if (!isNum(v) || !vals.length) return cssVar('--queued');
    const t = hi > lo ? (v - lo) / (hi - lo) : 1;
    return viridis(maximize ? t : 1 - t);
  };
}

function historyChart(study, trials) {
  const hist = study.history;
  if (!hist.length) return h('div', { class: 'empty', text: 'No trial has finished yet.' });
  const byNum = new Map(trials.map(t => [t.number, t]));
  const maxN = Math.max(...hist.map(p => p.trial), 1);
  const [y0, y1] = extent(hist.map(p => p.value).concat(hist.map(p => p.best_so_far)));
  const f = frame({ name: 'history', x: [-0.5, maxN + 0.5], y: [y0, y1], xInt: true, xLabel: 'trial', yLabel: study.metric });
  const best = [];
  for (const p of hist) {
    if (!isNum(p.best_so_far)) continue;
    if (best.length) best.push([f.sx(p.trial), best[best.length - 1][1]]);
    best.push([f.sx(p.trial), f.sy(p.best_so_far)]);
  }
  if (best.length) {
    best.push([f.sx(maxN + 0.5), best[best.length - 1][1]]);
    f.svg.append(s('path', { class: 'best-line', d: pathOf(best) }));
  }
  const colour = { complete: cssVar('--complete'), pruned: cssVar('--pruned'), failed: cssVar('--failed') };
  for (const p of hist) {
    const t = byNum.get(p.trial);
    const go = () => { location.hash = '#/trial/' + encodeURIComponent(study.name) + '/' + p.trial; };
    const text = `trial ${p.trial} · ${p.state}\n${study.metric} ${fmtNum(p.value)}` + (t ? `\nepochs ${t.last_epoch}` : '') + `\nbest so far ${fmtNum(p.best_so_far)}`;
    let mark;
    if (p.state === 'failed' || !isNum(p.value)) mark = cross(f.sx(p.trial), f.sy(y0) - 6, 4, colour.failed, 'hit point');
    else mark = s('circle', { class: 'hit point ' + p.state, cx: f.sx(p.trial), cy: f.sy(p.value), r: p.state === 'complete' ? 4 : 3.2,
      fill: colour[p.state] || colour.complete, 'fill-opacity': p.state === 'complete' ? 0.85 : 0.7 });
    mark.addEventListener('click', go);
    f.svg.append(tipOn(mark, text));
  }
  return [f.svg, h('div', { class: 'legend' },
    h('span', {}, h('i', { class: 'dot', style: `background:${colour.complete}` }), 'complete'),
    h('span', {}, h('i', { class: 'dot', style: `background:${colour.pruned}` }), 'pruned (value at its last epoch)'),
    h('span', {}, h('i', { style: `background:${colour.failed};height:2px` }), '× failed'),
    h('span', {}, h('i', { style: `background:${cssVar('--best')}` }), 'best so far'))];
}

function curvesChart(study, trials, hidden, onToggle) {
  const withEpochs = trials.filter(t => t.epoch.length && !hidden.has(t.state));
  const legend = curvesLegend(hidden, onToggle);
  if (!withEpochs.length) return [h('div', { class: 'empty', text: hidden.size ? 'No trial of the states shown has an epoch.' : 'No epoch has been reported yet.' }), legend];
  const maxE = Math.max(study.epochs || 1, ...withEpochs.map(t => t.last_epoch));
  const [y0, y1] = extent(withEpochs.flatMap(t => t.val_acc));
  const f = frame({ name: 'curves', x: [Math.min(1, maxE - 1), maxE], y: [y0, y1], xInt: true, xLabel: 'epoch', yLabel: 'validation ' + (study.synthetic ? 'value' : 'accuracy') });
  const colourOf = valueScale(trials, study.direction !== 'minimize');
  const order = { queued: 0, paused: 1, failed: 2, pruned: 3, complete: 4, running: 5 };
  for (const t of withEpochs.slice().sort((a, b) => (order[a.state] - order[b.state]) || (a.number - b.number))) {
    const pts = t.epoch.map((e, i) => [f.sx(e), f.sy(t.val_acc[i])]);
    let stroke, width = 1.4, dash, opacity = 0.8;
    switch (t.state) {
      case 'complete': stroke = colourOf(t.value); break;
      case 'pruned': stroke = cssVar('--pruned'); width = 1.1; opacity = 0.55; break;
      case 'failed': stroke = cssVar('--failed'); dash = '4 3'; opacity = 0.75; break;
      case 'running': stroke = cssVar('--running'); width = 2.4; opacity = 1; break;
      default: stroke = cssVar('--queued'); opacity = 0.6;
    }
    const g = s('g', { class: 'trial-curve', 'data-trial': t.number, 'data-state': t.state, 'data-epochs': t.last_epoch });
    const line = s('path', { class: 'curve', d: pathOf(pts), stroke, 'stroke-width': width, 'stroke-dasharray': dash, opacity });
    g.append(line);
    const last = pts[pts.length - 1];
    if (last && isNum(last[1])) {
      if (t.state === 'pruned') g.append(cross(last[0], last[1], 3, stroke, 'end'));
      if (t.state === 'failed') g.append(s('circle', { cx: last[0], cy: last[1], r: 3, fill: stroke }));
      if (t.state === 'running') g.append(s('circle', { class: 'pulse', cx: last[0], cy: last[1], r: 4.5, fill: stroke }));
    }
    // A wide invisible stroke makes a thin curve easy to point at.
    const hit = s('path', { class: 'hit', d: pathOf(pts), stroke: 'transparent', 'stroke-width': 9, fill: 'none' });
    hit.addEventListener('mouseenter', () => highlight(t.number));
    hit.addEventListener('mouseleave', () => highlight(null));
    hit.addEventListener('click', () => { location.hash = '#/trial/' + encodeURIComponent(study.name) + '/' + t.number; });
    tipOn(hit, () => `trial ${t.number} · ${t.state}\nepoch ${t.last_epoch}: ${fmtNum(t.val_acc[t.val_acc.length - 1])}` + (isNum(t.value) ? `\nvalue ${fmtNum(t.value)}` : '') + (t.reason ? '\n' + t.reason : ''));
    g.append(hit);
    f.svg.append(g);
  }
  return [f.svg, legend];
}

// curvesLegend is the curves' legend, whose entries show and hide the
// trials of their state.
function curvesLegend(hidden, onToggle) {
  const item = (state, swatch, text) => h('span', { class: 'toggle' + (hidden.has(state) ? ' off' : ''), role: 'button', 'data-state': state,
    title: (hidden.has(state) ? 'show ' : 'hide ') + state + ' trials', onclick: () => onToggle(state) }, swatch, text);
  return h('div', { class: 'legend' },
    item('complete', h('i', { style: `background:linear-gradient(90deg,${VIRIDIS[0]},${VIRIDIS[4]},${VIRIDIS[8]})` }), 'complete, by value (bright = better)'),
    item('pruned', h('i', { style: `background:${cssVar('--pruned')}` }), '× pruned'),
    item('failed', h('i', { style: `background:${cssVar('--failed')}` }), '● failed'),
    item('running', h('i', { style: `background:${cssVar('--running')};height:4px` }), 'running'),
    h('span', { class: 'muted', text: '(click to show or hide)' }));
}

// highlight marks trial n (null: none) wherever the study page shows it:
// its curve, its line in the parallel coordinates, its row.
let highlighted = null;
function highlight(n) {
  if (highlighted !== null) for (const el of document.querySelectorAll(`[data-trial="${highlighted}"]`)) el.classList.remove('hl');
  highlighted = n;
  if (n !== null) for (const el of document.querySelectorAll(`[data-trial="${n}"]`)) el.classList.add('hl');
}

// parallelChart draws one axis per searched weight and one for the value;
// dragging along an axis keeps only the trials in that range (brushing),
// which the trial table follows through onBrush.
function parallelChart(study, trials, brushes, onBrush) {
  const done = trials.filter(t => (t.state === 'complete' || t.state === 'pruned') && isNum(t.value));
  if (!done.length) return h('div', { class: 'empty', text: 'No trial with a value yet.' });
  const free = study.free;
  const axes = free.map(i => ({ key: 'w' + i, label: study.labels[i], lo: study.lower[i], hi: study.upper[i], get: t => t.gamma[i] }));
  const [v0, v1] = extent(done.map(t => t.value), 0.02);
  axes.push({ key: 'value', label: study.metric, lo: v0, hi: v1, get: t => t.value });
  const stagger = axes.length > 10, W = Math.max(1160, axes.length * 64), H = stagger ? 344 : 330, m = { l: 40, r: 50, t: stagger ? 40 : 26, b: 30 };
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, 'data-chart': 'parallel' });
  const ax = k => m.l + k * (W - m.l - m.r) / Math.max(1, axes.length - 1);
  const ay = (a, v) => H - m.b - (v - a.lo) / (a.hi - a.lo || 1) * (H - m.t - m.b);
  const colourOf = valueScale(trials, study.direction !== 'minimize');
  const inBrush = t => axes.every(a => { const b = brushes[a.key]; const v = a.get(t); return !b || (v >= b[0] && v <= b[1]); });
  const sorted = done.slice().sort((a, b) => (a.state === b.state ? 0 : a.state === 'pruned' ? -1 : 1) || ((a.value - b.value) * (study.direction === 'minimize' ? -1 : 1)));
  const gl = s('g', {});
  for (const t of sorted) {
    const ok = inBrush(t);
    const d = pathOf(axes.map((a, k) => [ax(k), ay(a, a.get(t))]));
    const p = s('path', { class: 'curve pc-line' + (ok ? '' : ' dim'), d, stroke: t.state === 'pruned' ? cssVar('--queued') : colourOf(t.value),
      'stroke-width': ok ? 1.5 : 1, opacity: ok ? (t.state === 'pruned' ? 0.35 : 0.8) : 0.08, 'data-trial': t.number });
    tipOn(p, () => `trial ${t.number} · ${t.state} · ${fmtNum(t.value)}\n` + free.map(i => study.labels[i] + ' ' + fmtW(t.gamma[i])).join('\n'));
    p.addEventListener('click', () => { location.hash = '#/trial/' + encodeURIComponent(study.name) + '/' + t.number; });
    p.addEventListener('mouseenter', () => highlight(t.number));
    p.addEventListener('mouseleave', () => highlight(null));
    gl.append(p);
  }
  svg.append(gl);
  axes.forEach((a, k) => {
    const x = ax(k), g = s('g', { class: 'axis' });
    g.append(s('line', { x1: x, x2: x, y1: m.t, y2: H - m.b, stroke: cssVar('--muted') }));
    // Long label rows alternate between two lines, so that neighbours do
    // not overlap; bounds are printed where they differ from the axis
    // before (and on the first and the value axis).
    g.append(s('text', { x, y: m.t - 9 - (stagger && k % 2 ? 14 : 0), 'text-anchor': 'middle', text: a.label, style: 'font-weight:600;fill:' + cssVar('--ink') }));
    const prev = axes[k - 1];
    if (k === 0 || a.key === 'value' || prev.lo !== a.lo || prev.hi !== a.hi) {
      g.append(s('text', { x, y: H - m.b + 14, 'text-anchor': 'middle', text: tickLabel(a.lo, (a.hi - a.lo) / 4) }));
      g.append(s('text', { x, y: m.t + 3, 'text-anchor': 'start', dx: 4, text: tickLabel(a.hi, (a.hi - a.lo) / 4), 'font-size': 10 }));
    }
    const b = brushes[a.key];
    if (b) g.append(s('rect', { class: 'brush', x: x - 7, width: 14, y: ay(a, b[1]), height: Math.max(2, ay(a, b[0]) - ay(a, b[1])) }));
    // The grab area, wider than the axis.
    const grab = s('rect', { class: 'pc-axis', x: x - 12, width: 24, y: m.t, height: H - m.t - m.b, fill: 'transparent', 'data-axis': a.key });
    g.append(grab);
    let start = null, rect = null;
    const toV = ev => {
      const pt = svg.createSVGPoint(); pt.x = ev.clientX; pt.y = ev.clientY;
      const y = pt.matrixTransform(svg.getScreenCTM().inverse()).y;
      return a.lo + (H - m.b - Math.min(H - m.b, Math.max(m.t, y))) / (H - m.t - m.b) * (a.hi - a.lo);
    };
    grab.addEventListener('pointerdown', ev => {
      start = toV(ev); grab.setPointerCapture(ev.pointerId);
      rect = s('rect', { class: 'brush', x: x - 7, width: 14, y: ay(a, start), height: 0 });
      g.insertBefore(rect, grab);
    });
    grab.addEventListener('pointermove', ev => {
      if (start === null) return;
      const v = toV(ev), lo = Math.min(start, v), hi = Math.max(start, v);
      rect.setAttribute('y', ay(a, hi)); rect.setAttribute('height', Math.max(1, ay(a, lo) - ay(a, hi)));
    });
    grab.addEventListener('pointerup', ev => {
      if (start === null) return;
      const v = toV(ev), lo = Math.min(start, v), hi = Math.max(start, v);
      start = null;
      const next = Object.assign({}, brushes);
      if (Math.abs(ay(a, lo) - ay(a, hi)) < 3) delete next[a.key]; else next[a.key] = [lo, hi];
      onBrush(next);
    });
    svg.append(g);
  });
  const n = done.filter(inBrush).length, active = Object.keys(brushes).length;
  return [svg, h('div', { class: 'legend' },
    h('span', {}, h('i', { style: `background:linear-gradient(90deg,${VIRIDIS[0]},${VIRIDIS[4]},${VIRIDIS[8]})` }), 'complete, by value (bright = better)'),
    h('span', {}, h('i', { style: `background:${cssVar('--queued')}` }), 'pruned'),
    h('span', {}, active ? [`${n} of ${done.length} trials in the selected ranges · `, h('button', { class: 'link', text: 'clear selection', onclick: () => onBrush({}) })]
      : 'drag along an axis to select a range; the table follows'))];
}

function importancePanel(imp, study) {
  const out = [];
  if (!imp) return h('div', { class: 'empty', text: 'Loading…' });
  if (!imp.rows.length) {
    out.push(h('div', { class: 'empty', text: `Needs at least ${imp.min_trials} complete trials; ${imp.trials} so far.` }));
  } else {
    const W = 640, row = 22, m = { l: 92, r: 110, t: 4 }, H = m.t + imp.rows.length * row + 6;
    const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, 'data-chart': 'importance' });
    const maxShare = Math.max(0.05, ...imp.rows.map(r => r.share || 0));
    imp.rows.forEach((r, k) => {
      const y = m.t + k * row, w = (r.share || 0) / maxShare * (W - m.l - m.r);
      const up = isNum(r.spearman) ? (r.spearman > 0) === (study.direction !== 'minimize') : null;
      svg.append(s('text', { x: m.l - 8, y: y + 15, 'text-anchor': 'end', text: r.label, style: 'fill:' + cssVar('--ink') }));
      const bar = s('rect', { class: 'imp-bar', x: m.l, y: y + 4, width: Math.max(1, w), height: row - 8, rx: 3, fill: cssVar('--accent') });
      svg.append(tipOn(bar, `${r.label}: ${(100 * (r.share || 0)).toFixed(1)} % of the variance of the values on its own\n` +
        `${(100 * (r.normalized || 0)).toFixed(1)} % of the summed shares\nSpearman ρ with the value ${fmtNum(r.spearman, 2)}`));
      svg.append(s('text', { x: m.l + w + 6, y: y + 15, text: (100 * (r.share || 0)).toFixed(1) + ' %' +
        (up === null ? '' : up ? '   ↑ larger is better' : '   ↓ smaller is better') }));
    });
    out.push(svg);
    out.push(h('p', { class: 'note' }, `Share of the variance of ${imp.trials} complete trials' values that each weight explains on its own: the main effect of a functional ANOVA, estimated from the trials by one-way ANOVA over ${imp.bins} equal-count bins of the weight (ω², ~0 for a weight that does not matter). Arrows: the sign of the rank correlation with the value. Interactions are not counted, and a sampler that concentrates its proposals blurs the estimate.`));
  }
  for (const sens of imp.sensitivity) {
    out.push(h('h2', { style: 'margin-top:14px' }, 'Sensitivity of the best goal', h('span', { class: 'sub' }, 'goalsearch analyze: each weight set to 0, paired over seeds')));
    out.push(h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { text: 'rank' }), h('th', { text: 'weight' }), h('th', { class: 'num', text: 'value' }), h('th', { class: 'num', text: 'Δ val acc when 0' }), h('th', { class: 'num', text: 'seeds' }))),
      h('tbody', {}, sens.rows.map(r => h('tr', {}, h('td', { text: r.rank || '–' }), h('td', { class: 'mono', text: r.atom }), h('td', { class: 'num w', text: fmtW(r.weight) }),
        h('td', { class: 'num', text: r.zero_delta === undefined ? 'not evaluated' : r.zero_n === 0 ? 'every run failed' : fmtNum(r.zero_delta) }), h('td', { class: 'num', text: r.zero_n || '–' })))))));
    out.push(h('p', { class: 'note' }, 'from ', h('a', { href: '#/eval/' + encodeURIComponent(sens.study), text: sens.study }), ` (baseline ${sens.baseline}, val acc ${fmtNum(sens.val_acc)})`));
  }
  return out;
}

// goalChart draws a goal's weights as bars around 0; fixed weights are grey.
// For atoms, scaleWithout names a coordinate (H_res) left out of the scale,
// whose bar is cut at the edge when it is larger.
function goalChart(labels, gamma, fixed, name, scaleWithout) {
  const W = 640, row = 20, m = { l: 92, r: 56, t: 4 }, H = m.t + labels.length * row + 4;
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, 'data-chart': name || 'goal' });
  const maxAbs = Math.max(1e-9, ...gamma.filter((v, i) => isNum(v) && labels[i] !== scaleWithout).map(Math.abs));
  const mid = m.l + (W - m.l - m.r) / 2, half = (W - m.l - m.r) / 2;
  svg.append(s('line', { x1: mid, x2: mid, y1: 0, y2: H, stroke: cssVar('--line') }));
  labels.forEach((l, i) => {
    const v = gamma[i], y = m.t + i * row, cut = isNum(v) && Math.abs(v) > maxAbs, w = isNum(v) ? Math.min(1, Math.abs(v) / maxAbs) * half : 0;
    const isFixed = fixed && Object.prototype.hasOwnProperty.call(fixed, l);
    svg.append(s('text', { x: m.l - 8, y: y + 14, 'text-anchor': 'end', text: l, style: 'fill:' + cssVar('--ink') }));
    svg.append(tipOn(s('rect', { x: v >= 0 ? mid : mid - w, y: y + 3, width: Math.max(1, w), height: row - 6, rx: 2,
      fill: isFixed ? cssVar('--queued') : v >= 0 ? cssVar('--pos') : cssVar('--neg'), opacity: 0.85 }), `${l} = ${fmtNum(v, 6)}${isFixed ? ' (fixed)' : ''}`));
    if (cut) svg.append(s('text', { x: v >= 0 ? mid + w - 12 : mid - w + 4, y: y + 14, text: '≫', style: 'fill:#fff;font-weight:700' }));
    svg.append(s('text', { x: W - m.r + 50, y: y + 14, 'text-anchor': 'end', class: 'mono', text: fmtW(v) + (isFixed ? ' fixed' : '') }));
  });
  return svg;
}

function lineChart(name, series, opts) {
  const all = series.flatMap(sr => sr.y);
  const xs = series.flatMap(sr => sr.x);
  if (!xs.length) return h('div', { class: 'empty', text: 'No epoch has been reported yet.' });
  const [y0, y1] = extent(all);
  const f = frame({ name, x: [Math.min(...xs, 1) - (xs.length === 1 ? 1 : 0), Math.max(...xs, opts.maxX || 1)], y: [y0, y1], xInt: true, xLabel: 'epoch', yLabel: opts.yLabel, height: opts.height || 260 });
  for (const sr of series) {
    f.svg.append(s('path', { class: 'curve', d: pathOf(sr.x.map((x, i) => [f.sx(x), f.sy(sr.y[i])])), stroke: sr.colour, 'stroke-width': sr.width || 2, 'stroke-dasharray': sr.dash }));
    sr.x.forEach((x, i) => {
      if (isNum(sr.y[i])) f.svg.append(tipOn(s('circle', { cx: f.sx(x), cy: f.sy(sr.y[i]), r: sr.x.length > 40 ? 1.6 : 3, fill: sr.colour }), `${sr.name}, epoch ${x}: ${fmtNum(sr.y[i])}`));
    });
  }
  return [f.svg, h('div', { class: 'legend' }, series.map(sr => h('span', {}, h('i', { style: `background:${sr.colour}` }), sr.name)))];
}

// atomsHeat draws per-neuron atoms as a heat map (rows neurons, columns
// atoms) on a canvas, coloured around 0. The scale is the 98th percentile of
// |atom| without H_res, which is an entropy left over, not an atom, and
// would wash the atoms out; larger values saturate.
function atomsHeat(labels, atoms) {
  const n = atoms.length, k = labels.length, cw = 24;
  const canvas = h('canvas', { class: 'heat', width: k * cw, height: n, 'data-chart': 'atoms-heat', style: `height:${Math.min(420, Math.max(90, n * 3))}px` });
  const ctx = canvas.getContext('2d');
  const mags = [];
  for (const row of atoms) row.forEach((v, j) => { if (isNum(v) && labels[j] !== 'H_res') mags.push(Math.abs(v)); });
  mags.sort((x, y) => x - y);
  const scale = Math.max(1e-12, mags.length ? mags[Math.min(mags.length - 1, Math.floor(0.98 * mags.length))] : 1);
  atoms.forEach((row, i) => row.forEach((v, j) => { ctx.fillStyle = diverging((v || 0) / scale); ctx.fillRect(j * cw, i, cw, 1); }));
  tipOn(canvas, () => '');
  canvas.addEventListener('mousemove', ev => {
    const r = canvas.getBoundingClientRect();
    const j = Math.min(k - 1, Math.floor((ev.clientX - r.left) / r.width * k)), i = Math.min(n - 1, Math.floor((ev.clientY - r.top) / r.height * n));
    showTip(ev, `neuron ${i + 1} of ${n}, ${labels[j]}: ${fmtNum(atoms[i][j], 4)} bits`);
  });
  // Column labels, rotated, in an SVG as wide as the canvas.
  const head = s('svg', { class: 'chart', viewBox: `0 0 ${k * cw} 84`, preserveAspectRatio: 'none' });
  labels.forEach((l, j) => head.append(s('text', { x: j * cw + cw / 2 + 3, y: 82, transform: `rotate(-60 ${j * cw + cw / 2 + 3} 82)`, class: 'mono', 'font-size': 9, text: l })));
  return h('div', {}, head, canvas, h('div', { class: 'legend' },
    h('span', {}, h('i', { style: `background:linear-gradient(90deg,${diverging(-1)},${diverging(0)},${diverging(1)});width:60px;height:8px` }),
      `−${fmtNum(scale, 3)} to +${fmtNum(scale, 3)} bits (98th percentile of |atom| without H_res; beyond saturates)`)));
}

// ---------------------------------------------------------------- live

const live = document.getElementById('live');
let lastOK = 0;
function markLive(err) {
  if (err) {
    live.className = 'live err';
    live.textContent = 'cannot reach goalsearch: ' + err.message;
    live.title = 'the search (or dashboard) that served this page may have stopped; the page keeps trying';
    return;
  }
  lastOK = Date.now();
  root.dataset.polls = String(++polls);
  live.className = 'live ok';
  live.textContent = 'live';
  live.title = 'updated every ' + (CFG.poll_ms / 1000) + ' s';
}

// poller calls fn now and then every ms after each call ends, until stopped.
function poller(fn, ms) {
  let timer = null, stopped = false;
  // At a fixed rate: a slow answer does not push the next poll back.
  const tick = async () => {
    const start = Date.now();
    try { await fn(); markLive(); } catch (e) { markLive(e); }
    if (!stopped) timer = setTimeout(tick, Math.max(100, ms - (Date.now() - start)));
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

// ---------------------------------------------------------------- views

const main = document.getElementById('main');
const crumbs = document.getElementById('crumbs');

function setCrumbs(...parts) {
  crumbs.replaceChildren();
  parts.forEach((p, i) => {
    if (i) crumbs.append(h('span', { class: 'sep', text: '›' }));
    crumbs.append(p.href ? h('a', { href: p.href, text: p.text }) : h('b', { text: p.text }));
  });
}

function panel(title, sub, body, cls) {
  return h('section', { class: 'panel ' + (cls || '') }, h('h2', {}, title, sub ? h('span', { class: 'sub', text: sub }) : null), body);
}

function replace(el, ...kids) { el.replaceChildren(); append(el, kids); }

function stat(k, v, cls) { return h('div', { class: 'stat' }, h('div', { class: 'k', text: k }), h('div', { class: 'v ' + (cls || ''), text: v })); }

function progressBar(c) {
  const total = Math.max(1, c.total);
  return h('div', { class: 'bar', title: STATES.map(st => `${c[st]} ${st}`).join(', ') },
    STATES.map(st => c[st] ? h('i', { style: `width:${100 * c[st] / total}%;background:var(--${st})` }) : null));
}

// sparkline draws the best value so far over a study's finished trials.
function sparkline(values) {
  const W = 120, H = 24, v = values.map(x => isNum(x) ? x : null);
  const fin = v.filter(x => x !== null);
  const svg = s('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, width: W, height: H, 'data-chart': 'spark' });
  if (fin.length < 2) return svg;
  const lo = Math.min(...fin), hi = Math.max(...fin);
  const pts = v.map((x, i) => [2 + i / (v.length - 1) * (W - 4), x === null ? NaN : H - 3 - (hi > lo ? (x - lo) / (hi - lo) : 0.5) * (H - 6)]);
  svg.append(s('path', { d: pathOf(pts), fill: 'none', stroke: cssVar('--best'), 'stroke-width': 1.6 }));
  return svg;
}

function studiesView() {
  setCrumbs({ text: 'studies' });
  root.dataset.view = 'studies';
  const body = h('div', {});
  replace(main, body);
  return poller(async () => {
    const d = await api('api/studies');
    document.title = 'goalsearch · ' + (d.store || 'studies');
    const searches = d.studies.filter(x => x.kind === 'search'), evals = d.studies.filter(x => x.kind === 'evaluation');
    const head = h('div', { class: 'head' }, h('div', { class: 'title' }, h('h1', { text: 'Studies' }), h('div', { class: 'muted', text: d.store ? 'in ' + d.store : '' })));
    if (!d.studies.length) {
      replace(body, head, h('div', { class: 'panel' }, h('p', {}, 'No studies in this store yet. Start one in another terminal:'),
        h('pre', { class: 'mono' }, 'goalsearch search --study demo --setup sphere --dim 5 --sampler tpe --trials 200 --sleep 1s --dashboard 127.0.0.1:8080')));
      return;
    }
    const table = h('table', { id: 'studies-table' },
      h('thead', {}, h('tr', {}, ['study', 'setup', 'sampler', 'trials', '', 'best', 'best so far', 'best trial', 'last activity', 'wall time'].map(x => h('th', { text: x })))),
      h('tbody', {}, searches.map(st => h('tr', { class: 'click', onclick: () => { location.hash = '#/study/' + encodeURIComponent(st.name); } },
        h('td', {}, h('a', { href: '#/study/' + encodeURIComponent(st.name), text: st.name }), st.counts.running ? [' ', h('span', { class: 'badge live', text: st.counts.running + ' running' })] : null),
        h('td', { text: st.setup }), h('td', { text: st.sampler + (st.pruner ? ' + ' + st.pruner : '') }),
        h('td', { class: 'num', text: `${st.counts.complete + st.counts.pruned + st.counts.failed} / ${st.counts.total}` }),
        h('td', {}, progressBar(st.counts)),
        h('td', { class: 'num', text: fmtNum(st.best_value) }), h('td', {}, sparkline(st.progress || [])),
        h('td', { class: 'num', text: st.best_trial === undefined ? '–' : '#' + st.best_trial }),
        h('td', { text: fmtAgo(st.last_activity, d.now) }), h('td', { class: 'num', text: fmtDur(st.wall_seconds) })))));
    const parts = [head];
    if (searches.length) parts.push(panel('Searches', searches.length + (searches.length === 1 ? ' study' : ' studies'), h('div', { class: 'table-wrap' }, table), 'wide'));
    if (evals.length) {
      parts.push(panel('Evaluations', 'best goals and presets re-trained on fresh seeds, with the test set', h('div', { class: 'table-wrap' }, h('table', { id: 'evals-table' },
        h('thead', {}, h('tr', {}, ['study', 'kind', 'of', 'setup', 'seeds', 'runs', '', 'best test acc'].map(x => h('th', { text: x })))),
        h('tbody', {}, evals.map(st => h('tr', { class: 'click', onclick: () => { location.hash = '#/eval/' + encodeURIComponent(st.name); } },
          h('td', {}, h('a', { href: '#/eval/' + encodeURIComponent(st.name), text: st.name })), h('td', { text: st.eval_kind || '–' }),
          h('td', {}, st.group && searches.some(x => x.name === st.group) ? h('a', { href: '#/study/' + encodeURIComponent(st.group), text: st.group }) : st.group || '–'),
          h('td', { text: st.setup }), h('td', { class: 'num', text: st.seeds || '–' }),
          h('td', { class: 'num', text: `${st.counts.complete + st.counts.pruned + st.counts.failed} / ${st.counts.total}` }), h('td', {}, progressBar(st.counts)),
          h('td', { class: 'num', text: fmtNum(st.best_value) })))))), 'wide'));
    }
    replace(body, parts);
  }, Math.max(CFG.poll_ms, 2000));
}

// parseFilter turns "value>0.9 state=complete {1}<0 worker" into a test of
// a trial: comparisons on value, epoch, gen, trial number and any weight
// label, and bare words matched against state, worker and reason.
function parseFilter(text, labels) {
  const tests = [];
  for (const tok of text.split(/[\s,]+/).filter(Boolean)) {
    const m = tok.match(/^(.+?)(<=|>=|!=|=|<|>)(.+)$/);
    if (!m) {
      const w = tok.toLowerCase();
      tests.push(t => t.state.includes(w) || (t.worker || '').toLowerCase().includes(w) || (t.reason || '').toLowerCase().includes(w) || String(t.number) === w);
      continue;
    }
    const [, key, op, raw] = m;
    const num = Number(raw);
    let get;
    const li = labels.indexOf(key);
    if (li >= 0) get = t => t.gamma[li];
    else if (key === 'value') get = t => t.value;
    else if (key === 'epoch' || key === 'epochs') get = t => t.last_epoch;
    else if (key === 'gen' || key === 'generation') get = t => t.generation;
    else if (key === 'trial' || key === '#') get = t => t.number;
    else if (key === 'state') get = t => t.state;
    else if (key === 'worker') get = t => t.worker || '';
    else return { error: `unknown field "${key}": use value, epoch, gen, trial, state, worker or a weight (${labels.join(' ')})` };
    const cmp = {
      '<': (a, b) => a < b, '>': (a, b) => a > b, '<=': (a, b) => a <= b, '>=': (a, b) => a >= b,
      '=': (a, b) => a === b || String(a) === String(b), '!=': (a, b) => !(a === b || String(a) === String(b)),
    }[op];
    tests.push(t => { const v = get(t); return v !== null && v !== undefined && cmp(typeof v === 'number' ? v : String(v), isNaN(num) || typeof v !== 'number' ? raw : num); });
  }
  return { test: t => tests.every(f => f(t)) };
}

function studyView(name) {
  setCrumbs({ text: 'studies', href: '#/' }, { text: name });
  root.dataset.view = 'study';
  document.title = 'goalsearch · ' + name;
  const trials = new Map();
  let study = null, imp = null, brushes = {}, hidden = new Set(), sort = { key: 'number', asc: true }, filter = '', stateFilter = '', showAll = false, lastSig = '';
  const headEl = h('div', {}), statsEl = h('div', { class: 'stats' });
  const bestEl = h('div', {}), boardEl = h('div', {});
  const histEl = h('div', {}), curvesEl = h('div', {}), pcEl = h('div', {}), impEl = h('div', {}), workersEl = h('div', {}), evalsEl = h('div', {}), tableEl = h('div', {});
  const filterInput = h('input', { type: 'search', placeholder: 'filter: value>0.9  state=complete  epoch>=10  {1}{2}<0  or any word (state, worker, reason)', 'aria-label': 'filter trials' });
  filterInput.addEventListener('input', () => { filter = filterInput.value; drawTable(); });
  const chipsEl = h('div', { class: 'toolbar', style: 'margin:0' });
  const filterMsg = h('span', { class: 'muted small' });
  replace(main, headEl, statsEl,
    h('div', { class: 'grid' },
      panel('Best goal', 'the best complete trial\'s weights', bestEl),
      panel('Leaderboard', 'the best complete trials', boardEl)),
    h('div', { class: 'grid' },
      panel('Optimisation history', 'every finished trial, and the best value so far', histEl),
      panel('Learning curves', 'validation value per epoch, every trial', curvesEl)),
    h('div', { class: 'grid' },
      panel('Parallel coordinates', 'the searched goal weights and the value', pcEl, 'wide')),
    h('div', { class: 'grid' },
      panel('Weight importance', 'from the trials alone', impEl),
      h('div', {}, panel('Running trials', 'who trains what', workersEl), h('div', { style: 'height:16px' }), panel('Evaluations', 'of this study\'s goals', evalsEl))),
    panel('Trials', 'click a column to sort, a row to open the trial', [h('div', { class: 'toolbar' }, filterInput, chipsEl), filterMsg, tableEl], 'wide'));

  const list = () => [...trials.values()].sort((a, b) => a.number - b.number);

  function drawHead() {
    const c = study.counts;
    replace(headEl, h('div', { class: 'head' }, h('div', { class: 'title' },
      h('h1', { text: study.name }),
      h('div', { class: 'tags' },
        h('span', { class: 'tag' }, 'setup ', h('b', { text: study.setup }), study.hidden ? ` · ${study.hidden} hidden` : '', study.epochs ? ` · ${study.epochs} epochs` : ''),
        h('span', { class: 'tag' }, 'sampler ', h('b', { text: study.sampler })),
        study.pruner ? h('span', { class: 'tag' }, 'pruner ', h('b', { text: study.pruner })) : null,
        h('span', { class: 'tag' }, study.direction + ' ', h('b', { text: study.metric })),
        h('span', { class: 'tag' }, 'seed ', h('b', { text: study.seed })),
        study.unit_norm ? h('span', { class: 'tag', text: 'unit norm' }) : null,
        Object.keys(study.fixed || {}).length ? h('span', { class: 'tag', text: 'fixed: ' + Object.entries(study.fixed).map(([k, v]) => k + ' = ' + v).join(', ') }) : null)),
      h('div', { class: 'muted small', text: 'created ' + fmtTime(study.created) })));
    const best = study.leaderboard[0];
    replace(statsEl,
      stat('trials', String(c.total)), stat('complete', String(c.complete)), stat('pruned', String(c.pruned)), stat('failed', String(c.failed)),
      stat('running', String(c.running)), stat('queued', String(c.queued + c.paused)),
      stat('best ' + study.metric, best ? fmtNum(best.value) : '–', 'best'), stat('best trial', best ? '#' + best.trial : '–'),
      stat('training time', fmtDur(study.wall_seconds)));
  }

  function drawWorkers() {
    const running = list().filter(t => t.state === 'running');
    if (!running.length) { replace(workersEl, h('div', { class: 'empty', text: 'No trial is running.' })); return; }
    const now = serverNow();
    replace(workersEl, h('div', { class: 'table-wrap' }, h('table', { id: 'workers-table' },
      h('thead', {}, h('tr', {}, ['worker', 'trial', 'attempt', 'epoch', 'latest', 'started', study.lease_seconds ? 'lease' : null].filter(x => x !== null).map(x => h('th', { text: x })))),
      h('tbody', {}, running.map(t => {
        const lease = t.lease_expiry ? (new Date(t.lease_expiry) - now) / 1000 : null;
        return h('tr', {}, h('td', { class: 'mono', text: t.worker || '–' }),
          h('td', {}, h('a', { href: '#/trial/' + encodeURIComponent(name) + '/' + t.number, text: '#' + t.number })),
          h('td', { class: 'num', text: t.attempt }), h('td', { class: 'num', text: `${t.last_epoch} / ${t.budget || study.epochs || '?'}` }),
          h('td', { class: 'num', text: fmtNum(t.val_acc[t.val_acc.length - 1]) }), h('td', { text: fmtAgo(t.started) }),
          study.lease_seconds ? h('td', { style: lease !== null && lease < 0 ? 'color:var(--failed)' : '', text: lease === null ? '–' : lease >= 0 ? 'expires in ' + fmtDur(lease) : 'expired ' + fmtDur(-lease) + ' ago: another worker will take it' }) : null);
      })))));
  }

  function drawEvals() {
    if (!study.evaluations.length) { replace(evalsEl, h('div', { class: 'empty' }, 'None yet: ', h('code', { text: `goalsearch evaluate ${name} --top 3 --seeds 3` }))); return; }
    replace(evalsEl, h('table', {}, h('tbody', {}, study.evaluations.map(e => h('tr', {},
      h('td', {}, h('a', { href: '#/eval/' + encodeURIComponent(e.name), text: e.name })), h('td', { text: e.eval_kind }),
      h('td', { class: 'num', text: `${e.counts.complete}/${e.counts.total} runs` }), h('td', {}, progressBar(e.counts)))))));
  }

  function redrawPC() { replace(pcEl, parallelChart(study, list(), brushes, onBrush)); }
  function onBrush(b) { brushes = b; redrawPC(); drawTable(); }

  const columns = () => {
    const cols = [
      { key: 'number', label: '#', num: true, get: t => t.number, cell: t => h('a', { href: '#/trial/' + encodeURIComponent(name) + '/' + t.number, text: t.number }) },
      { key: 'state', label: 'state', get: t => STATES.indexOf(t.state), cell: t => stateTag(t.state) },
      { key: 'value', label: study.metric, num: true, get: t => t.value, cell: t => fmtNum(t.value) },
      { key: 'epoch', label: 'epochs', num: true, get: t => t.last_epoch, cell: t => t.last_epoch + (t.state === 'running' ? ' / ' + (t.budget || study.epochs || '?') : '') },
      { key: 'generation', label: 'gen', num: true, get: t => t.generation, cell: t => t.generation },
      { key: 'wall', label: 'wall', num: true, get: t => t.wall_seconds, cell: t => fmtDur(t.wall_seconds) },
      { key: 'finished', label: 'finished', get: t => t.finished || '', cell: t => t.finished ? fmtTime(t.finished) : t.state === 'running' ? 'started ' + fmtAgo(t.started) : '–' },
    ];
    for (const i of study.free) cols.push({ key: 'w' + i, label: study.labels[i], num: true, weight: true, get: t => t.gamma[i], cell: t => fmtW(t.gamma[i]) });
    cols.push({ key: 'reason', label: 'reason', get: t => t.reason || '', cell: t => t.reason || '' });
    return cols;
  };

  function drawTable() {
    const ts = list();
    const counts = {};
    for (const t of ts) counts[t.state] = (counts[t.state] || 0) + 1;
    replace(chipsEl, ['', ...STATES.filter(st => counts[st])].map(st => h('button', { class: 'chip' + (stateFilter === st ? ' on' : ''),
      onclick: () => { stateFilter = st; drawTable(); } }, st || 'all', h('span', { class: 'n', text: st ? counts[st] : ts.length }))));
    const f = parseFilter(filter, study.labels);
    filterMsg.textContent = f.error || '';
    const pcAxes = Object.entries(brushes);
    let rows = ts.filter(t => (!stateFilter || t.state === stateFilter) && (f.error || f.test(t)) && pcAxes.every(([k, [lo, hi]]) => {
      const v = k === 'value' ? t.value : t.gamma[+k.slice(1)];
      return isNum(v) && v >= lo && v <= hi;
    }));
    const cols = columns(), col = cols.find(c => c.key === sort.key) || cols[0];
    rows.sort((a, b) => {
      let x = col.get(a), y = col.get(b);
      const nx = x === null || x === undefined || (typeof x === 'number' && !isFinite(x)), ny = y === null || y === undefined || (typeof y === 'number' && !isFinite(y));
      if (nx || ny) return nx && ny ? a.number - b.number : nx ? 1 : -1; // missing values last either way
      const c = x < y ? -1 : x > y ? 1 : a.number - b.number;
      return sort.asc ? c : -c;
    });
    const total = rows.length, limit = 250;
    if (!showAll) rows = rows.slice(0, limit);
    const table = h('table', { id: 'trial-table', 'data-rows': total },
      h('thead', {}, h('tr', {}, cols.map(c => h('th', {
        class: 'sortable' + (c.num ? ' num' : '') + (c.key === sort.key ? ' sorted' + (sort.asc ? ' asc' : '') : ''),
        onclick: () => { sort = { key: c.key, asc: c.key === sort.key ? !sort.asc : !(c.key === 'value' && study.direction !== 'minimize') }; drawTable(); },
      }, c.label)))),
      h('tbody', {}, rows.map(t => h('tr', { class: 'click', 'data-trial': t.number, 'data-state': t.state,
        onmouseenter: () => highlight(t.number), onmouseleave: () => highlight(null),
        onclick: ev => { if (ev.target.tagName !== 'A') location.hash = '#/trial/' + encodeURIComponent(name) + '/' + t.number; } },
        cols.map(c => { const v = c.cell(t); return h('td', { class: (c.num ? 'num' : '') + (c.weight ? ' w' + (c.get(t) < 0 ? ' neg' : '') : '') }, v); })))));
    replace(tableEl, h('div', { class: 'table-wrap' }, table),
      total > limit ? h('p', { class: 'muted small' }, showAll ? `${total} trials. ` : `${limit} of ${total} trials shown. `,
        h('button', { class: 'link', text: showAll ? 'show fewer' : 'show all', onclick: () => { showAll = !showAll; drawTable(); } })) :
        h('p', { class: 'muted small', text: `${total} of ${ts.length} trials` }));
  }

  function drawBest() {
    const best = study.leaderboard[0];
    if (!best) {
      replace(bestEl, h('div', { class: 'empty', text: 'No trial has completed yet.' }));
      replace(boardEl, h('div', { class: 'empty', text: 'No trial has completed yet.' }));
      return;
    }
    replace(bestEl, goalChart(study.labels, best.gamma, study.fixed, 'best-goal'),
      h('p', { class: 'note' }, h('a', { href: '#/trial/' + encodeURIComponent(name) + '/' + best.trial, text: 'trial ' + best.trial }), `: ${study.metric} ${fmtNum(best.value)} after ${best.epochs} epochs`));
    const maxAbs = Math.max(1e-9, ...study.leaderboard.flatMap(e => study.free.map(i => Math.abs(e.gamma[i] || 0))));
    replace(boardEl, h('div', { class: 'table-wrap' }, h('table', { id: 'leaderboard' },
      h('thead', {}, h('tr', {}, h('th', { text: '' }), h('th', { text: 'trial' }), h('th', { class: 'num', text: study.metric }), h('th', { text: 'goal (blue +, red −)' }))),
      h('tbody', {}, study.leaderboard.map(e => h('tr', { class: 'click', 'data-trial': e.trial, onclick: () => { location.hash = '#/trial/' + encodeURIComponent(name) + '/' + e.trial; },
        onmouseenter: () => highlight(e.trial), onmouseleave: () => highlight(null) },
        h('td', { class: 'muted', text: e.rank }), h('td', {}, h('a', { href: '#/trial/' + encodeURIComponent(name) + '/' + e.trial, text: '#' + e.trial })),
        h('td', { class: 'num', text: fmtNum(e.value) }),
        h('td', {}, h('span', { class: 'cells', title: study.free.map(i => study.labels[i] + ' ' + fmtW(e.gamma[i])).join('\n') },
          study.free.map(i => h('i', { style: 'background:' + diverging((e.gamma[i] || 0) / maxAbs) }))))))))));
  }

  function drawCurves() {
    replace(curvesEl, curvesChart(study, list(), hidden, st => { if (hidden.has(st)) hidden.delete(st); else hidden.add(st); drawCurves(); }));
  }

  function drawAll() {
    drawHead();
    drawBest();
    replace(histEl, historyChart(study, list()));
    drawCurves();
    redrawPC();
    replace(impEl, importancePanel(imp, study));
    drawWorkers();
    drawEvals();
    drawTable();
  }

  let fetchedSummaryFor = '';
  return poller(async () => {
    // Ask for what is new: trials above the highest known, and those known
    // unfinished, which may have changed or finished since.
    const known = list();
    const from = known.length ? known[known.length - 1].number + 1 : 0;
    const watch = known.filter(t => !['complete', 'pruned', 'failed'].includes(t.state)).map(t => t.number);
    const params = { study: name, from };
    if (watch.length) params.watch = watch.join(',');
    const d = await api('api/trials', params);
    noteNow(d.now);
    for (const t of d.trials) trials.set(t.number, t);
    const sig = list().map(t => t.number + t.state[0] + t.last_epoch).join(' ');
    const fin = list().map(t => t.number + t.state).join(' ');
    if (study && fin === fetchedSummaryFor) {
      // Only epochs (or nothing, or leases) changed: the history, the
      // summary and the importance did not.
      if (sig !== lastSig) { drawCurves(); drawTable(); }
      drawWorkers();
      lastSig = sig;
      root.dataset.trials = String(trials.size);
      return;
    }
    // A trial started or finished: draw what the trials say at once, then
    // the summary and the importance, which change only then.
    if (study) { drawCurves(); drawTable(); drawWorkers(); }
    study = await api('api/study', { study: name });
    imp = await api('api/importance', { study: name });
    fetchedSummaryFor = fin;
    lastSig = sig;
    drawAll();
    root.dataset.trials = String(trials.size);
  }, CFG.poll_ms);
}

// On a trial's page, ← and → open the previous and the next trial.
window.addEventListener('keydown', ev => {
  if (root.dataset.view !== 'trial' || ev.target.tagName === 'INPUT' || ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const a = document.querySelector(ev.key === 'ArrowLeft' ? 'a[data-nav=prev]' : ev.key === 'ArrowRight' ? 'a[data-nav=next]' : null);
  if (a) location.hash = a.getAttribute('href');
});

function trialView(name, number) {
  setCrumbs({ text: 'studies', href: '#/' }, { text: name }, { text: 'trial ' + number });
  root.dataset.view = 'trial';
  document.title = `goalsearch · ${name} #${number}`;
  let study = null, stop = null, lastSig = '', studyHref = '#/';
  const body = h('div', {});
  replace(main, body);
  stop = poller(async () => {
    if (!study) {
      study = await api('api/study', { study: name });
      studyHref = '#/' + (study.kind === 'evaluation' ? 'eval' : 'study') + '/' + encodeURIComponent(name);
      setCrumbs({ text: 'studies', href: '#/' }, { text: name, href: studyHref }, { text: 'trial ' + number });
    }
    const d = await api('api/trial', { study: name, number });
    noteNow(d.now);
    const t = d.trial;
    const sig = t.state + t.last_epoch;
    if (sig === lastSig) return;
    lastSig = sig;
    const labels = d.labels;
    const series = [{ name: 'validation', x: t.epoch, y: t.val_acc, colour: cssVar('--accent'), width: 2.4 }];
    if (t.train_acc && !study.synthetic) series.push({ name: 'training', x: t.epoch, y: t.train_acc, colour: cssVar('--running'), width: 1.6 });
    if (t.test_acc) series.push({ name: 'test', x: t.epoch, y: t.test_acc, colour: cssVar('--best'), width: 1.6, dash: '5 3' });
    const details = [
      ['state', stateTag(t.state)], [study.metric, fmtNum(t.value, 6)], ['epochs', t.last_epoch + (t.budget ? ' of ' + t.budget : study.epochs ? ' of ' + study.epochs : '')],
      ['seed', h('span', { class: 'mono', text: t.seed })], ['generation', t.generation], ['attempt', t.attempt], ['worker', t.worker || '–'],
      ['created', fmtTime(t.created)], ['started', fmtTime(t.started)], ['finished', fmtTime(t.finished)], ['training time', fmtDur(t.wall_seconds)],
      t.checkpoint_epoch ? ['checkpoint', 'epoch ' + t.checkpoint_epoch] : null,
      t.lease_expiry ? ['lease', 'until ' + fmtTime(t.lease_expiry)] : null,
      t.reason ? ['reason', h('span', { style: 'color:var(--failed)', text: t.reason })] : null,
    ].filter(Boolean);
    for (const [k, v] of Object.entries(t.final || {}).sort()) details.push(['final ' + k, fmtNum(v, 6)]);
    const parts = [
      h('div', { class: 'head' }, h('div', { class: 'title' }, h('h1', {}, `Trial ${t.number} `, stateTag(t.state)), h('div', { class: 'muted' }, 'of ', h('a', { href: studyHref, text: name }))),
        h('div', { class: 'small' },
          t.number > 0 ? h('a', { 'data-nav': 'prev', href: '#/trial/' + encodeURIComponent(name) + '/' + (t.number - 1), text: '← trial ' + (t.number - 1) }) : null,
          t.number > 0 && t.number + 1 < study.counts.total ? h('span', { class: 'muted', text: '  ·  ' }) : null,
          t.number + 1 < study.counts.total ? h('a', { 'data-nav': 'next', href: '#/trial/' + encodeURIComponent(name) + '/' + (t.number + 1), text: 'trial ' + (t.number + 1) + ' →' }) : null)),
      h('div', { class: 'grid' },
        panel('Goal', study.synthetic ? `the ${labels.length} coordinates` : `weights of the ${labels.length} atoms`, goalChart(labels, t.gamma, study.fixed, 'goal')),
        panel('Details', '', h('dl', { class: 'kv' }, details.map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)])))),
      h('div', { class: 'grid' },
        panel('Learning curve', study.synthetic ? 'value per epoch' : 'accuracy per epoch', lineChart('trial-curve', series, { yLabel: study.synthetic ? 'value' : 'accuracy', maxX: t.budget || study.epochs })),
        t.train_loss && !study.synthetic ? panel('Training loss', '', lineChart('trial-loss', [{ name: 'training loss', x: t.epoch, y: t.train_loss, colour: cssVar('--pruned') }], { yLabel: 'loss', maxX: t.budget || study.epochs })) : null),
    ];
    if (t.atoms && t.atoms.length) {
      parts.push(h('div', { class: 'grid' },
        panel('Mean atoms', `over ${t.atoms.length} hidden neurons, last epoch (bits)`, [goalChart(labels, t.atoms_mean, null, 'atoms-mean', 'H_res'),
          h('p', { class: 'note', text: 'Scaled to the atoms; H_res, the entropy no atom explains, is cut where larger (≫).' })]),
        panel('Atoms per neuron', 'rows: neurons; columns: atoms', atomsHeat(labels, t.atoms))));
    } else if (t.state === 'complete' && !study.synthetic) {
      parts.push(h('p', { class: 'muted', text: 'This trial stored no atoms.' }));
    }
    replace(body, parts);
  }, CFG.poll_ms);
  return () => stop();
}

function evalView(name) {
  setCrumbs({ text: 'studies', href: '#/' }, { text: name });
  root.dataset.view = 'eval';
  document.title = 'goalsearch · ' + name;
  const body = h('div', {});
  replace(main, body);
  let lastSig = '';
  return poller(async () => {
    const e = await api('api/evaluation', { study: name });
    const sig = JSON.stringify(e.counts) + e.goals.map(g => g.runs.map(r => r.state + r.last_epoch).join()).join();
    if (sig === lastSig) return;
    lastSig = sig;
    if (e.error) { replace(body, h('div', { class: 'error-box', text: e.error })); return; }
    const palette = ['--accent', '--best', '--running', '--paused', '--pruned', '--failed'].map(cssVar);
    const series = e.goals.filter(g => g.curve_epoch.length).slice(0, 12).map((g, i) => ({ name: g.name, x: g.curve_epoch, y: g.curve_test_acc || g.curve_val_acc, colour: palette[i % palette.length], width: 1.8 }));
    const table = h('table', { id: 'eval-table' },
      h('thead', {}, h('tr', {}, h('th', { text: 'goal' }), h('th', { text: 'runs' }), h('th', { class: 'num', text: 'val acc' }), h('th', { class: 'num', text: 'test acc' }),
        e.seeds.map(sd => h('th', { class: 'num mono', title: 'seed ' + sd, text: 'seed ' + (sd.length > 8 ? sd.slice(0, 6) + '…' : sd) })))),
      h('tbody', {}, e.goals.map(g => h('tr', {},
        h('td', {}, g.trial >= 0 && e.group ? h('a', { href: '#/trial/' + encodeURIComponent(e.group) + '/' + g.trial, text: g.name }) : g.name, g.heuristic ? [' ', h('span', { class: 'badge', text: 'heuristic' })] : null),
        h('td', {}, progressBar(Object.assign({ total: g.runs.length }, Object.fromEntries(STATES.map(st => [st, g.runs.filter(r => r.state === st).length]))))),
        h('td', { class: 'num', text: meanStd(g.val_acc) }), h('td', { class: 'num', text: meanStd(g.test_acc) }),
        e.seeds.map(sd => {
          const r = g.runs.find(x => x.seed === sd);
          if (!r) return h('td', { class: 'num muted', text: '–' });
          return h('td', { class: 'num' }, h('a', { class: 'run ' + r.state, href: '#/trial/' + encodeURIComponent(name) + '/' + r.trial,
            title: `${r.state}, epoch ${r.last_epoch}` + (r.reason ? ': ' + r.reason : '') + `\nval ${fmtNum(r.val_acc)}, test ${fmtNum(r.test_acc)}`,
            text: r.state === 'complete' ? fmtNum(r.test_acc) : r.state === 'running' ? 'epoch ' + r.last_epoch : r.state }));
        })))));
    replace(body,
      h('div', { class: 'head' }, h('div', { class: 'title' }, h('h1', { text: name }), h('div', { class: 'tags' },
        h('span', { class: 'tag' }, 'kind ', h('b', { text: e.kind })),
        h('span', { class: 'tag' }, 'goals from ', e.group && e.group !== 'presets' ? h('a', { href: '#/study/' + encodeURIComponent(e.group), text: e.group }) : h('b', { text: e.group })),
        h('span', { class: 'tag' }, 'setup ', h('b', { text: e.setup }), ` · ${e.hidden} hidden · ${e.epochs} epochs`),
        h('span', { class: 'tag', text: `${e.seeds.length} seeds: ${e.seeds.join(', ')}` }))), h('div', { class: 'muted small', text: 'created ' + fmtTime(e.created) })),
      h('div', { class: 'stats' }, stat('goals', String(e.goals.length)), stat('runs', String(e.counts.total)), stat('complete', String(e.counts.complete)),
        stat('running', String(e.counts.running)), stat('failed', String(e.counts.failed))),
      panel('Goals over seeds', 'test accuracy per seed (the cell opens the run); mean ± standard deviation', h('div', { class: 'table-wrap' }, table), 'wide'),
      h('div', { style: 'height:16px' }),
      h('div', { class: 'grid' }, panel('Mean learning curves', series.length && e.goals[0].curve_test_acc ? 'test accuracy, mean over complete runs' : 'validation accuracy, mean over complete runs',
        lineChart('eval-curves', series, { yLabel: 'accuracy', maxX: e.epochs }))),
      e.note ? h('p', { class: 'muted', text: e.note }) : null);
  }, Math.max(CFG.poll_ms, 2000));
}

// ---------------------------------------------------------------- router

let stopView = null;
function route() {
  if (stopView) stopView();
  hideTip();
  window.scrollTo(0, 0);
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  const dec = decodeURIComponent;
  if (parts[0] === 'study' && parts[1]) stopView = studyView(dec(parts[1]));
  else if (parts[0] === 'trial' && parts[1] && parts[2]) stopView = trialView(dec(parts[1]), +parts[2]);
  else if (parts[0] === 'eval' && parts[1]) stopView = evalView(dec(parts[1]));
  else stopView = studiesView();
}
window.addEventListener('hashchange', route);
route();
