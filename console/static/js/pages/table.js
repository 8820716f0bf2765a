// One rule table: its versions on a timeline and the chosen version's data as grids, with each
// column's description from the table's schema.yaml. Read-only: edits belong to drafts.
import { api, enc } from "../api.js";
import { h, put, fmtDate, shortDigest, loading } from "../dom.js";
import { timeline, inForce } from "../timeline.js";
import { dataView } from "../values.js";
import { startDraft } from "./drafts.js";

export async function render(main, args, _query, current) {
  const id = args[0];
  main.append(h("p", { class: "crumbs" }, h("a", { href: "#/tables" }, "Rule tables"), " / ", id));
  main.append(h("h1", {}, id));
  const body = h("div", {});
  main.append(body);
  loading(body, id);
  const [{ tables }, { decisions }] = await Promise.all([api("/v1/tables"), api("/v1/policies")]);
  if (!current()) return;
  const t = tables.find((x) => x.table === id);
  if (!t) {
    put(body, h("p", { role: "alert" }, "No rule table ", h("code", {}, id), "."));
    return;
  }
  const chosen = t.versions.find((v) => v.version === args[1]) || inForce(t.versions) || t.versions[t.versions.length - 1];
  const readers = decisions.filter((d) => d.versions.some((v) => v.tables.includes(id))).map((d) => d.decision);
  const draftStatus = h("div", { "aria-live": "polite" });
  put(body,
    h("p", { class: "actions" }, h("button", { type: "button", id: "table-draft", onclick: () => startDraft(id, draftStatus) }, "Change it in a new draft"), draftStatus),
    h("p", { class: "meta" }, h("span", { class: "meta-label" }, "Read by: "),
      readers.length ? readers.map((d) => [h("a", { href: "#/decision/" + d }, d), " "]) : h("span", { class: "muted" }, "no decision")),
    h("section", { "aria-labelledby": "tv-h" }, h("h2", { id: "tv-h" }, "Versions"),
      timeline(t.versions, { label: `Versions of ${id}`, href: (v) => `#/table/${id}/${encodeURIComponent(v.version)}`, selected: chosen.version })));
  const detail = h("section", { "aria-labelledby": "data-h", id: "table-version" });
  body.append(detail);
  loading(detail, `version ${chosen.version}`);
  const tv = await api(`/v1/tables/${enc(id)}/versions/${enc(chosen.version)}`);
  if (!current()) return;
  put(detail, 
    h("h2", { id: "data-h" }, `Version ${tv.version}`),
    tv.description ? h("p", { class: "desc" }, tv.description) : null,
    h("dl", { class: "facts-list" },
      h("dt", {}, "Window"), h("dd", {}, `${fmtDate(tv.valid_from)} → ${tv.valid_to ? fmtDate(tv.valid_to) : "open"}`),
      h("dt", {}, "File"), h("dd", {}, h("code", {}, tv.file)),
      h("dt", {}, "Digest"), h("dd", {}, h("code", { title: tv.digest }, shortDigest(tv.digest)))),
    tv.schema && tv.schema.description ? h("p", { class: "desc" }, tv.schema.description) : null,
    h("p", { class: "note" }, "Read-only: the served revision's versions never change. A change is a new version in a draft."),
    dataView(tv.data, tv.schema, 3));
}
