// One file of a draft as text (a tests.yaml, a manifest, a table version), edited in place and
// validated on save like every edit.
import { api, enc } from "../api.js";
import { h, put, loading, errorBox, announce } from "../dom.js";
import { validationView } from "../validation.js";

export async function render(main, id, path, current) {
  main.append(h("p", { class: "crumbs" }, h("a", { href: "#/drafts" }, "Drafts"), " / ", h("a", { href: "#/draft/" + enc(id) }, id), " / ", path));
  main.append(h("h1", {}, path));
  const body = h("div", {});
  main.append(body);
  loading(body, path);
  const url = `/v1/drafts/${enc(id)}/files/${path.split("/").map(enc).join("/")}`;
  const [f, d] = await Promise.all([api(url), api("/v1/drafts/" + enc(id))]);
  if (!current()) return;
  const open = !d.published;
  const area = h("textarea", { id: "file-content", rows: "28", spellcheck: "false", readonly: !open, "aria-describedby": "file-help" });
  area.value = f.content;
  const result = h("div", { id: "file-result", "aria-live": "polite" });
  const form = h("form", { id: "file-form", novalidate: true },
    h("div", { class: "field wide" }, h("label", { for: "file-content" }, "Content (YAML)"), area,
      h("p", { id: "file-help", class: "help" }, f.status === "unchanged" ? "As published in the draft's base." : `This draft ${f.status === "added" ? "adds" : "changes"} the file.`,
        " A rule table's data is easier to edit in its grid; published policy and table versions never change (add a version instead).")),
    open ? h("p", { class: "actions sticky-actions" }, h("button", { type: "submit", class: "primary", id: "file-save" }, "Save and validate"),
      " ", h("a", { href: "#/draft/" + enc(id) }, "Back to the draft")) : h("p", { class: "note" }, "The draft was published: read-only."),
    result);
  put(body, form);
  put(result, validationView(d));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    put(result, h("p", { role: "status", class: "loading" }, "Saving and running every test case…"));
    try {
      const nd = await api(url, { method: "PUT", text: area.value });
      if (!current()) return;
      put(result, validationView(nd));
      announce(nd.validation.ok ? `Saved; valid, ${nd.validation.cases.passed} of ${nd.validation.cases.total} cases pass` : "Saved; the draft does not validate");
    } catch (err) {
      put(result, errorBox(err, "Not saved"));
    }
  });
}
