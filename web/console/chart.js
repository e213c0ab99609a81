// A small line chart drawn as SVG elements: text as textContent, colours from style.css classes, geometry
// in SVG attributes (no style attribute: the CSP allows styles from 'self' only).
import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 720;
const HEIGHT = 260;
const MARGIN = { top: 12, right: 16, bottom: 28, left: 112 };
const MAX_X_LABELS = 7;
export const SERIES_CLASSES = 9; // .series-0 ... .series-8 in style.css

function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

// `labels`: one per point (the x axis); `series`: [{name, values}] with one integer per label;
// `format(value)`: an axis label's text. Values become floats here only as coordinates.
export function lineChart({ title, description, labels, series, format }) {
  const all = series.flatMap((s) => s.values).concat(0);
  const low = Math.min(...all);
  const high = Math.max(...all);
  const span = high - low || 1;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (i) => MARGIN.left + (labels.length > 1 ? (i * plotWidth) / (labels.length - 1) : plotWidth / 2);
  const y = (value) => MARGIN.top + ((high - value) * plotHeight) / span;
  const titleId = `chart-${Math.random().toString(36).slice(2, 10)}`;

  const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": `${titleId}-t ${titleId}-d`, class: "chart" });
  chart.append(svg("title", { id: `${titleId}-t` }, title), svg("desc", { id: `${titleId}-d` }, description));
  const axes = svg("g", { class: "axis" });
  for (const value of new Set([high, 0, low])) {
    axes.append(svg("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(value), y2: y(value), class: value === 0 ? "zero-line" : "grid" }));
    axes.append(svg("text", { x: MARGIN.left - 6, y: y(value) + 4, "text-anchor": "end" }, format(value)));
  }
  // About seven labels on the x axis at most, the first and the last always among them.
  const last = labels.length - 1;
  const every = Math.ceil(labels.length / MAX_X_LABELS);
  labels.forEach((label, i) => {
    if (i !== last && (i % every !== 0 || last - i < every)) return;
    const anchor = !last ? "middle" : i === 0 ? "start" : i === last ? "end" : "middle";
    axes.append(svg("text", { x: x(i), y: HEIGHT - 8, "text-anchor": anchor }, label));
  });
  chart.append(axes);

  series.forEach((s, n) => {
    const points = s.values.map((value, i) => `${x(i).toFixed(1)},${y(value).toFixed(1)}`).join(" ");
    const line = svg("polyline", { points, fill: "none", "stroke-width": 2, class: `series series-${n % SERIES_CLASSES}`, "data-series": s.name });
    line.append(svg("title", {}, s.name));
    // A dot per day: a one-day period is a point, not a line.
    const dots = svg("g", { class: `series series-${n % SERIES_CLASSES}`, "aria-hidden": "true" });
    s.values.forEach((value, i) => dots.append(svg("circle", { cx: x(i).toFixed(1), cy: y(value).toFixed(1), r: 2.5 })));
    chart.append(line, dots);
  });

  const legend = h("ul", { class: "legend" }, series.map((s, n) => h("li", {}, h("span", { class: `swatch series-${n % SERIES_CLASSES}`, "aria-hidden": "true" }), s.name)));
  return h("figure", { class: "chart" }, chart, legend);
}
