// Drafts: start one on the latest revision, and the drafts being edited with the files they change.
import { api, enc } from "../api.js";
import { h, put, fmtDate, loading, errorBox, announce } from "../dom.js";

/** startDraft creates a draft on the latest revision and opens it (at a table when given). */
export async function startDraft(table, status) {
  if (status) put(status, h("span", { role: "status" }, "Starting a draft…"));
  try {
    const d = await api("/v1/drafts", { method: "POST", body: {} });
    announce(`Draft ${d.id} started on r${d.base}`);
    location.hash = table ? `#/draft/${enc(d.id)}/table/${enc(table)}` : `#/draft/${enc(d.id)}`;
  } catch (e) {
    if (status) put(status, errorBox(e, "The draft could not be started"));
    else throw e;
  }
}

export async function render(main, _args, _query, current) {
  main.append(h("h1", {}, "Drafts"));
  const status = h("div", { "aria-live": "polite" });
  main.append(h("p", {}, "A draft is a set of changes on top of the latest published revision. It is validated on every edit, can be tried on logged decisions (impact) and is published as a new revision."),
    h("p", { class: "actions" }, h("button", { type: "button", class: "primary", id: "draft-start", onclick: () => startDraft(null, status) }, "Start a draft")),
    status);
  const body = h("div", {});
  main.append(body);
  loading(body, "drafts");
  const { drafts } = await api("/v1/drafts");
  if (!current()) return;
  if (!drafts.length) {
    put(body, h("p", { class: "muted" }, "No drafts yet."));
    return;
  }
  put(body, h("div", { class: "grid-wrap", role: "region", tabindex: "0", "aria-label": "Drafts (scrolls)" },
    h("table", { class: "grid", id: "drafts" },
      h("caption", { class: "visually-hidden" }, "Drafts"),
      h("thead", {}, h("tr", {}, ["Draft", "Base", "Author", "Edited", "Files changed", "State"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, drafts.map((d) => h("tr", {},
        h("td", {}, h("a", { href: "#/draft/" + enc(d.id) }, d.id)),
        h("td", {}, `r${d.base}`),
        h("td", {}, d.author || h("span", { class: "muted" }, "—")),
        h("td", {}, fmtDate(d.updated_at)),
        h("td", {}, d.paths.length ? h("ul", { class: "plain" }, d.paths.map((p) => h("li", {}, h("code", {}, p)))) : h("span", { class: "muted" }, "none yet")),
        h("td", {}, d.published ? h("a", { href: "#/revisions" }, `published as r${d.published}`) : "open")))))));
}
