// A timeline of versions by their windows [valid_from, valid_to): a list for screen readers and
// keyboards, drawn as bars on a shared axis.
import { h, fmtDate } from "./dom.js";

const DAY = 86400000;

/** inForce is the version whose window holds the instant, or undefined. */
export function inForce(versions, at = new Date()) {
  return versions.find((v) => new Date(v.valid_from) <= at && (!v.valid_to || at < new Date(v.valid_to)));
}

/**
 * timeline renders versions [{version, valid_from, valid_to, description}] with links from
 * href(version) and the selected one marked.
 */
export function timeline(versions, { label, href, selected } = {}) {
  if (!versions.length) return h("p", { class: "muted" }, "No versions.");
  const now = new Date();
  const froms = versions.map((v) => new Date(v.valid_from).getTime());
  const tos = versions.map((v) => (v.valid_to ? new Date(v.valid_to).getTime() : NaN)).filter((x) => !isNaN(x));
  const start = Math.min(...froms, now.getTime() - 365 * DAY);
  let end = Math.max(...froms, ...tos, now.getTime());
  end += Math.max((end - start) * 0.08, 90 * DAY); // room to show that a window stays open
  const pct = (t) => ((t - start) / (end - start)) * 100;
  const current = inForce(versions, now);
  const years = [];
  for (let y = new Date(start).getUTCFullYear() + 1; y <= new Date(end).getUTCFullYear(); y++) years.push(y);
  const axis = h("div", { class: "tl-axis", "aria-hidden": "true" },
    years.map((y) => { const t = h("span", { class: "tl-tick" }, String(y)); t.style.left = pct(Date.UTC(y, 0, 1) - 8 * 3600000) + "%"; return t; }),
  );
  const nowMark = h("span", { class: "tl-now", "aria-hidden": "true", title: "now" });
  nowMark.style.left = pct(now.getTime()) + "%";
  const rows = versions.map((v) => {
    const from = new Date(v.valid_from).getTime();
    const to = v.valid_to ? new Date(v.valid_to).getTime() : end;
    const bar = h("span", { class: "tl-bar" + (v.valid_to ? "" : " open") + (v === current ? " current" : ""), "aria-hidden": "true" });
    bar.style.left = pct(from) + "%";
    bar.style.width = Math.max(pct(to) - pct(from), 0.8) + "%";
    const window = `${fmtDate(v.valid_from)} → ${v.valid_to ? fmtDate(v.valid_to) : "open"}`;
    const name = href
      ? h("a", { href: href(v), "aria-current": v.version === selected ? "true" : null }, v.version)
      : h("span", {}, v.version);
    return h("li", { class: "tl-row" + (v.version === selected ? " selected" : "") },
      h("span", { class: "tl-label" }, name,
        h("span", { class: "tl-window" }, window),
        v === current ? h("span", { class: "badge now" }, "in force") : null),
      h("span", { class: "tl-track" }, bar));
  });
  return h("figure", { class: "timeline" },
    h("figcaption", { class: "visually-hidden" }, label || "Versions by validity window"),
    h("div", { class: "tl-head" }, h("span", { class: "tl-label" }), h("span", { class: "tl-track" }, axis, nowMark)),
    h("ol", { class: "tl-rows", "aria-label": label || "Versions by validity window" }, rows));
}
