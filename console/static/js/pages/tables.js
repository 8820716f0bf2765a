// Every rule table with its versions on a timeline and the decisions that read it.
import { api } from "../api.js";
import { h, put, loading } from "../dom.js";
import { timeline } from "../timeline.js";

export async function render(main, _args, _query, current) {
  main.append(h("h1", {}, "Rule tables"));
  const body = h("div", {});
  main.append(body);
  loading(body, "rule tables");
  const [{ tables }, { decisions }] = await Promise.all([api("/v1/tables"), api("/v1/policies")]);
  if (!current()) return;
  const readers = new Map();
  for (const d of decisions) for (const v of d.versions) for (const t of v.tables) {
    if (!readers.has(t)) readers.set(t, new Set());
    readers.get(t).add(d.decision);
  }
  put(body, h("ul", { class: "cards" }, tables.map((t) => {
    const rs = [...(readers.get(t.table) || [])].sort();
    return h("li", { class: "card", "data-table": t.table },
      h("h2", { class: "h3" }, h("a", { href: "#/table/" + t.table }, t.table)),
      timeline(t.versions, { label: `Versions of ${t.table}`, href: (v) => `#/table/${t.table}/${encodeURIComponent(v.version)}` }),
      h("p", { class: "meta" }, h("span", { class: "meta-label" }, "Read by: "),
        rs.length ? rs.map((d) => [h("a", { href: "#/decision/" + d }, d), " "]) : h("span", { class: "muted" }, "no decision")));
  })));
}
