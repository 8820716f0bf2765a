// Catalog of decisions: each decision's versions on a timeline, the rule tables it reads and its
// catalog rule ids, grouped by domain, with a filter.
import { api } from "../api.js";
import { h, put, announce, loading } from "../dom.js";
import { timeline, inForce } from "../timeline.js";

function unique(xs) { return [...new Set(xs)].sort(); }

export async function render(main, _args, query, current) {
  main.append(h("h1", {}, "Decision catalog"));
  const body = h("div", {});
  main.append(body);
  loading(body, "decisions");
  const { decisions } = await api("/v1/policies");
  if (!current()) return;
  put(body, );
  const filter = h("input", { id: "catalog-filter", type: "search", value: query.get("q") || "", "aria-describedby": "catalog-count", autocomplete: "off" });
  const count = h("p", { id: "catalog-count", class: "muted", "aria-live": "polite" });
  body.append(h("div", { class: "toolbar", role: "search" },
    h("label", { for: "catalog-filter" }, "Filter by decision, table or rule id"), filter), count);
  const domains = new Map();
  for (const d of decisions) {
    const dom = d.decision.split(".")[0];
    if (!domains.has(dom)) domains.set(dom, []);
    domains.get(dom).push(d);
  }
  const cards = [];
  for (const [dom, ds] of domains) {
    const list = h("ul", { class: "cards" });
    for (const d of ds) {
      const tables = unique(d.versions.flatMap((v) => v.tables));
      const rules = unique(d.versions.flatMap((v) => v.rules));
      const now = inForce(d.versions);
      const li = h("li", { class: "card", "data-decision": d.decision },
        h("h3", {}, h("a", { href: "#/decision/" + d.decision }, d.decision)),
        h("p", { class: "muted" }, now ? `in force: ${now.version} (${now.language})` : "no version in force now",
          ` · ${d.versions.length} version${d.versions.length === 1 ? "" : "s"}`,
          d.versions.some((v) => v.commit) ? h("span", { class: "badge" }, "records") : null),
        now && now.description ? h("p", { class: "desc clamp" }, now.description) : null,
        timeline(d.versions, { label: `Versions of ${d.decision}`, href: (v) => `#/decision/${d.decision}?version=${encodeURIComponent(v.version)}` }),
        h("p", { class: "meta" }, h("span", { class: "meta-label" }, "Tables: "),
          tables.length ? tables.map((t) => [h("a", { href: "#/table/" + t }, t), " "]) : h("span", { class: "muted" }, "none")),
        h("p", { class: "meta" }, h("span", { class: "meta-label" }, "Rules: "),
          rules.length ? h("span", { class: "chips" }, rules.map((r) => h("span", { class: "chip" }, r))) : h("span", { class: "muted" }, "none")));
      li.dataset.search = [d.decision, ...tables, ...rules].join(" ").toLowerCase();
      list.append(li);
      cards.push(li);
    }
    body.append(h("section", { class: "domain", "aria-labelledby": "dom-" + dom, "data-domain": dom }, h("h2", { id: "dom-" + dom }, dom), list));
  }
  const apply = () => {
    const q = filter.value.trim().toLowerCase();
    let n = 0;
    for (const c of cards) {
      const show = !q || c.dataset.search.includes(q);
      c.hidden = !show;
      if (show) n++;
    }
    for (const s of body.querySelectorAll("section.domain")) s.hidden = !s.querySelector("li.card:not([hidden])");
    count.textContent = `${n} of ${cards.length} decisions`;
  };
  filter.addEventListener("input", () => { apply(); });
  filter.addEventListener("change", () => announce(count.textContent));
  apply();
}
