// A rule table in a draft: its versions on a timeline, a form that adds next year's version (a copy of
// the latest, the previous window closed by the server), and the added version's data as editable
// grids validated against the table's schema.yaml, problems shown at their cells.
import { api, enc } from "../api.js";
import { h, put, fmtDate, loading, errorBox, announce } from "../dom.js";
import { timeline } from "../timeline.js";
import { dataView } from "../values.js";
import { dataEditor } from "../editgrid.js";
import { validationView } from "../validation.js";

// nextVersion proposes the version after latest: 2024 -> 2025, valid from the end of its window or one
// year after its start, and, when latest's window is closed and whole years long, as long a window.
function nextVersion(latest) {
  if (!latest) return { version: "", from: "", to: "" };
  const version = /^\d{4}$/.test(latest.version) ? String(Number(latest.version) + 1) : latest.version + ".next";
  const year = (s) => (/^\d{4}-/.test(s || "") ? Number(s.slice(0, 4)) : NaN);
  let from = latest.valid_to || "";
  if (!from && !isNaN(year(latest.valid_from))) from = String(year(latest.valid_from) + 1) + latest.valid_from.slice(4);
  let to = "";
  const span = year(latest.valid_to) - year(latest.valid_from);
  if (latest.valid_to && span > 0 && latest.valid_to.slice(4) === latest.valid_from.slice(4)) to = String(year(from) + span) + from.slice(4);
  return { version, from, to };
}

const statusText = { added: "added in this draft", changed: "published, edited in this draft (publishing will be refused)", published: "published: never changes" };

export async function render(main, id, table, wanted, current) {
  main.append(h("p", { class: "crumbs" }, h("a", { href: "#/drafts" }, "Drafts"), " / ", h("a", { href: "#/draft/" + enc(id) }, id), " / ", table));
  main.append(h("h1", {}, table));
  const body = h("div", {});
  main.append(body);
  loading(body, table);
  const [t, draft] = await Promise.all([api(`/v1/drafts/${enc(id)}/tables/${enc(table)}`), api(`/v1/drafts/${enc(id)}`)]);
  if (!current()) return;
  const open = !draft.published;
  const versions = t.versions;
  const byFrom = [...versions].sort((a, b) => new Date(a.valid_from) - new Date(b.valid_from));
  const latest = byFrom[byFrom.length - 1];
  const chosen = versions.find((v) => v.version === wanted) || [...byFrom].reverse().find((v) => v.status === "added") || latest;

  put(body,
    h("p", {}, "In draft ", h("a", { href: "#/draft/" + enc(id), id: "back-to-draft" }, id), ` on r${draft.base}`,
      open ? "" : h("strong", {}, ` · published as r${draft.published}; read-only`), ". ",
      h("a", { href: "#/draft/" + enc(id) }, "Changes, tests, impact and publish →")),
    t.schema && t.schema.description ? h("p", { class: "desc" }, t.schema.description) : null,
    h("section", { "aria-labelledby": "dtv-h" }, h("h2", { id: "dtv-h" }, "Versions in the draft"),
      timeline(versions, { label: `Versions of ${table} in draft ${id}`, href: (v) => `#/draft/${enc(id)}/table/${enc(table)}/${enc(v.version)}`, selected: chosen && chosen.version }),
      h("ul", { class: "plain status-list" }, versions.map((v) => h("li", { "data-version": v.version }, h("strong", {}, v.version), `: ${statusText[v.status] || v.status}`)))));

  if (open && latest) {
    const nv = nextVersion(latest);
    const vIn = h("input", { id: "nv-version", type: "text", value: nv.version, required: true, spellcheck: "false", autocomplete: "off", "aria-describedby": "nv-help" });
    const fIn = h("input", { id: "nv-from", type: "text", value: nv.from, required: true, spellcheck: "false", autocomplete: "off", "aria-describedby": "nv-help" });
    const tIn = h("input", { id: "nv-to", type: "text", value: nv.to, spellcheck: "false", autocomplete: "off", placeholder: "(open)", "aria-describedby": "nv-help" });
    const out = h("div", { "aria-live": "polite" });
    const form = h("form", { class: "panel new-version", id: "nv-form" },
      h("h2", { class: "h3" }, "Add next year's version"),
      h("div", { class: "inline-fields" },
        h("span", { class: "field" }, h("label", { for: "nv-version" }, "Version"), vIn),
        h("span", { class: "field" }, h("label", { for: "nv-from" }, "Valid from"), fIn),
        h("span", { class: "field" }, h("label", { for: "nv-to" }, "Valid to"), tIn),
        h("button", { type: "submit", id: "nv-add" }, `Copy ${latest.version} as the new version`)),
      h("p", { id: "nv-help", class: "help" }, `A copy of version ${latest.version} valid from this instant (RFC 3339 with its offset) to valid to (empty: open); `,
        `the window of ${latest.version}${latest.valid_to ? " already ends there or before" : " is closed there"}. Then edit the copy below.`),
      out);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      put(out, h("p", { role: "status" }, "Adding…"));
      try {
        await api(`/v1/drafts/${enc(id)}/versions`, { method: "POST", body: { table, version: vIn.value.trim(), valid_from: fIn.value.trim(), valid_to: tIn.value.trim() } });
        announce(`Version ${vIn.value.trim()} added`);
        const target = `#/draft/${enc(id)}/table/${enc(table)}/${enc(vIn.value.trim())}`;
        if (location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange")); else location.hash = target;
      } catch (err) {
        put(out, errorBox(err, "The version was not added"));
      }
    });
    body.append(form);
  }
  if (!chosen) return;

  const section = h("section", { "aria-labelledby": "dver-h", id: "draft-version", "data-version": chosen.version, "data-status": chosen.status });
  body.append(section);
  section.append(h("h2", { id: "dver-h" }, `Version ${chosen.version}`, h("span", { class: "badge status-" + chosen.status }, chosen.status)),
    h("dl", { class: "facts-list" },
      h("dt", {}, "Window"), h("dd", {}, `${fmtDate(chosen.valid_from)} → ${chosen.valid_to ? fmtDate(chosen.valid_to) : "open"}`),
      h("dt", {}, "File"), h("dd", {}, h("code", {}, chosen.file))));
  if (chosen.error) {
    section.append(h("div", { class: "error", role: "alert" }, h("p", {}, `${chosen.file} does not read as YAML: ${chosen.error}`)));
    return;
  }
  if (!(open && chosen.status === "added")) {
    section.append(h("p", { class: "note" }, chosen.status === "added" ? "The draft was published: read-only." : "A published version never changes: add a new version to change a number."),
      dataView(chosen.data, t.schema, 3));
    return;
  }

  const editor = dataEditor(chosen.data, t.schema);
  const desc = h("input", { id: "te-description", type: "text", value: chosen.description || "", autocomplete: "off" });
  const result = h("div", { id: "te-result", "aria-live": "polite" });
  const form = h("form", { id: "te-form", novalidate: true },
    h("div", { class: "field wide" }, h("label", { for: "te-description" }, "Description"), desc),
    editor.el,
    h("p", { class: "actions sticky-actions" }, h("button", { type: "submit", class: "primary", id: "te-save" }, "Save and validate"),
      h("span", { class: "muted" }, " Saved to the draft; nothing is served until the draft is published.")),
    result);
  section.append(form);

  const show = (d, focus) => {
    const problems = (d.validation && d.validation.problems) || [];
    const mine = problems.filter((p) => p.file === chosen.file);
    const unplaced = editor.mark(mine);
    put(result, validationView(d, { unplaced, file: chosen.file }));
    const first = editor.firstInvalid();
    if (focus && first) first.focus();
    return mine.length;
  };
  show(draft, false);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    put(result, h("p", { role: "status", class: "loading" }, "Saving and running every test case…"));
    try {
      const d = await api(`/v1/drafts/${enc(id)}/tables/${enc(table)}/versions/${enc(chosen.version)}`, { method: "PUT", body: { data: editor.read(), description: desc.value } });
      if (!current()) return;
      const n = show(d, true);
      announce(n ? `Saved; ${n} problem${n === 1 ? "" : "s"} in this version, shown at the cells` : d.validation.ok ? `Saved; valid, ${d.validation.cases.passed} of ${d.validation.cases.total} cases pass` : "Saved; the draft does not validate");
    } catch (err) {
      put(result, errorBox(err, "The version was not saved"));
    }
  });
}
