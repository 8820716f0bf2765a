// Plain SVG bar charts for the impact report: what flips, and the money moved per output. Each chart
// is an image with a title and a description; the numbers are also in the report's tables.
import { h } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** money formats a decimal string with thousands separators and a sign: "5650.86" -> "+5,650.86". */
export function money(dec, { sign = true } = {}) {
  if (dec === undefined || dec === null || dec === "") return "";
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(String(dec));
  if (!m) return String(dec);
  const int = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const neg = m[1] === "-" && !/^0+(\.0+)?$/.test(m[2] + (m[3] || ""));
  return (neg ? "-" : sign ? "+" : "") + int + (m[3] || "");
}

/**
 * barChart draws items [{label, value, text}] as horizontal bars from a zero line (negative values
 * to its left), value the bar's length and text what is printed next to it.
 */
export function barChart(items, { id, title, description, kind = "count" } = {}) {
  const rowH = 30;
  const labelW = 210;
  const width = 680;
  const valueW = 170;
  const plot = width - labelW - valueW;
  const max = Math.max(...items.map((i) => Math.abs(i.value)), 1e-9);
  const hasNeg = items.some((i) => i.value < 0);
  const zero = labelW + (hasNeg ? plot / 2 : 0);
  const scale = (hasNeg ? plot / 2 : plot) / max;
  const height = items.length * rowH + 14;
  const titleId = id + "-title";
  const descId = id + "-desc";
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-labelledby": titleId, "aria-describedby": descId, class: "chart " + kind, id },
    s("title", { id: titleId }, title),
    s("desc", { id: descId }, description || items.map((i) => `${i.label}: ${i.text}`).join("; ")));
  items.forEach((it, n) => {
    const y = 7 + n * rowH;
    const len = Math.max(Math.abs(it.value) * scale, it.value === 0 ? 0 : 2);
    const x = it.value < 0 ? zero - len : zero;
    svg.append(
      s("text", { x: labelW - 8, y: y + rowH / 2 + 4, "text-anchor": "end", class: "chart-label" }, it.label),
      s("rect", { x, y: y + 4, width: len, height: rowH - 10, rx: 3, class: "bar " + (it.value < 0 ? "neg" : "pos") + (it.cls ? " " + it.cls : "") }),
      s("text", { x: it.value < 0 ? labelW + plot + 8 : x + len + 6, y: y + rowH / 2 + 4, class: "chart-value" }, it.text));
  });
  svg.append(s("line", { x1: zero, x2: zero, y1: 2, y2: height - 2, class: "axis" }));
  return h("figure", { class: "chart-figure" }, svg, h("figcaption", { class: "muted" }, title));
}
