// One decision: its versions on a timeline, and for the chosen version its window, language,
// rule tables, facts and catalog rule ids.
import { api, enc } from "../api.js";
import { h, put, fmtDate, shortDigest, loading } from "../dom.js";
import { timeline, inForce } from "../timeline.js";
import { startDraft } from "./drafts.js";

export async function render(main, args, query, current) {
  const id = args[0];
  main.append(h("p", { class: "crumbs" }, h("a", { href: "#/catalog" }, "Catalog"), " / ", id));
  main.append(h("h1", {}, id));
  const body = h("div", {});
  main.append(body);
  loading(body, id);
  const info = await api("/v1/policies/" + enc(id));
  if (!current()) return;
  put(body, );
  const vs = info.versions;
  const chosen = vs.find((v) => v.version === query.get("version")) || inForce(vs) || vs[vs.length - 1];
  body.append(
    h("p", { class: "actions" },
      h("a", { class: "button", href: "#/playground/" + id }, "Try it in the playground")),
    h("section", { "aria-labelledby": "versions-h" },
      h("h2", { id: "versions-h" }, "Versions"),
      timeline(vs, { label: `Versions of ${id}`, href: (v) => `#/decision/${id}?version=${encodeURIComponent(v.version)}`, selected: chosen && chosen.version })));
  if (!chosen) return;
  const v = chosen;
  const draftStatus = h("div", { "aria-live": "polite" });
  body.append(h("section", { "aria-labelledby": "version-h", class: "panel", id: "version-detail" },
    h("h2", { id: "version-h" }, `Version ${v.version}`),
    v.description ? h("p", { class: "desc" }, v.description) : null,
    h("dl", { class: "facts-list" },
      h("dt", {}, "Window"), h("dd", {}, `${fmtDate(v.valid_from)} → ${v.valid_to ? fmtDate(v.valid_to) : "open"}`),
      h("dt", {}, "Language"), h("dd", {}, v.language),
      h("dt", {}, "Records (commit)"), h("dd", {}, v.commit ? "yes: an allowed decision records ledger entries" : "no"),
      h("dt", {}, "Source"), h("dd", {}, h("code", {}, v.dir)),
      h("dt", {}, "Digest"), h("dd", {}, h("code", { title: v.digest }, shortDigest(v.digest)))),
    h("h3", {}, "Rule tables it reads"),
    v.tables.length ? h("ul", { class: "links", id: "decision-tables" }, v.tables.map((t) => h("li", {}, h("a", { href: "#/table/" + t }, t), " ",
      h("button", { type: "button", class: "small", "data-table": t, onclick: () => startDraft(t, draftStatus) }, `Change ${t} in a new draft`)))) : h("p", { class: "muted" }, "None."),
    draftStatus,
    h("h3", {}, "Facts it loads"),
    v.facts.length ? h("ul", { class: "chips" }, v.facts.map((f) => h("li", { class: "chip" }, f))) : h("p", { class: "muted" }, "None."),
    h("h3", {}, "Catalog rules"),
    v.rules.length ? h("ul", { class: "chips", id: "decision-rules" }, v.rules.map((r) => h("li", { class: "chip" }, r))) : h("p", { class: "muted" }, "None.")));
}
