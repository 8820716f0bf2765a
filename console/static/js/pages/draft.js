// The draft page: what it changes (line diffs), whether it validates and its test results, the impact
// of the change on logged decisions (with an as-of shift) charted, and publishing it with a message.
import { api, enc } from "../api.js";
import { h, put, fmtDate, loading, errorBox, announce } from "../dom.js";
import { diffView } from "../diffview.js";
import { validationView } from "../validation.js";
import { barChart, money } from "../chart.js";
import * as drafttable from "./drafttable.js";
import * as draftfile from "./draftfile.js";

function tablesOf(paths) {
  const out = new Set();
  for (const p of paths) {
    const m = /^rules\/([^/]+)\/([^/]+)\//.exec(p);
    if (m) out.add(`${m[1]}.${m[2]}`);
  }
  return [...out].sort();
}

const human = (name) => name.replace(/_/g, " ");

// moneyOutputs are the outputs with a total moved that are decimal strings in the examples (amounts,
// rates); a year or a count is a JSON number.
function moneyOutputs(rep) {
  const text = new Set();
  for (const e of rep.examples || []) {
    for (const [k, v] of Object.entries((e.change && e.change.outputs) || {})) {
      if (typeof v.before === "string" || typeof v.after === "string") text.add(k);
    }
  }
  return Object.entries(rep.outputs || {}).sort()
    .filter(([k, o]) => o.total_delta !== undefined && o.total_delta !== "" && text.has(k));
}

/** headline is the sentence the report leads with: "3 decisions change, total incentive +16,952.58". */
export function headline(rep) {
  const parts = [`${rep.changed} decision${rep.changed === 1 ? "" : "s"} change`];
  // Lead with the totals a decision reports (total_incentive, total_fee) when it has any.
  const amounts = moneyOutputs(rep);
  const totals = amounts.filter(([name]) => name.startsWith("total"));
  for (const [name, o] of totals.length ? totals : amounts) parts.push(`${human(name)} ${money(o.total_delta)}`);
  return parts.join(", ");
}

// outcomeChange reads a change's outcome: [before, after], empty when it stayed.
function outcomeChange(o) {
  const [before, after] = Array.isArray(o) ? o : o ? [o.before, o.after] : ["", ""];
  return before || after ? `${before} → ${after}` : "same";
}

function impactReport(rep) {
  const out = h("div", { id: "impact-report", "data-changed": rep.changed, "data-read": rep.read });
  out.append(h("p", { class: "big", id: "impact-headline" }, headline(rep)),
    h("p", { id: "impact-counts" }, `${rep.read} logged decisions read, ${rep.replayed} replayed, ${rep.unchanged} unchanged, ${rep.changed} changed, ${rep.skipped} skipped`,
      rep.as_of_shift ? `; as of shifted ${rep.as_of_shift}` : "", ` (${rep.elapsed}).`));
  for (const w of rep.warnings || []) out.append(h("p", { class: "error", role: "alert" }, h("strong", {}, "Warning: "), w));
  const skipped = Object.entries(rep.skipped_by_reason || {});
  if (skipped.length) out.append(h("p", {}, "Skipped: ", skipped.map(([k, n]) => `${n} ${k}`).join("; ")));
  // What flips: outcome changes (before → after), the decisions whose outcome stays but whose outputs
  // move, and those replayed unchanged.
  const flips = Object.entries(rep.by_outcome || {}).sort((a, b) => b[1] - a[1]);
  const flipped = flips.reduce((n, [, c]) => n + c, 0);
  const bars = flips.map(([k, n]) => ({ label: k.replace(" -> ", " → "), value: n, text: String(n), cls: /error/.test(k) ? "err" : "flip" }));
  if (rep.changed - flipped > 0) bars.push({ label: "same outcome, outputs move", value: rep.changed - flipped, text: String(rep.changed - flipped) });
  if (rep.unchanged > 0) bars.push({ label: "unchanged", value: rep.unchanged, text: String(rep.unchanged), cls: "same" });
  if (rep.skipped > 0) bars.push({ label: "skipped", value: rep.skipped, text: String(rep.skipped), cls: "err" });
  if (bars.length) {
    out.append(h("h3", {}, "What flips"), barChart(bars, { id: "chart-flips", title: `Replayed decisions: ${flipped} change outcome, ${rep.changed - flipped} keep it with outputs moved, ${rep.unchanged} unchanged`, kind: "count" }));
  }
  const outputs = Object.entries(rep.outputs || {}).sort();
  const moneyOut = moneyOutputs(rep);
  if (moneyOut.length) {
    out.append(h("h3", {}, "Money moved per output"), barChart(moneyOut.map(([k, o]) => ({ label: k, value: Number(o.total_delta), text: money(o.total_delta) })),
      { id: "chart-money", title: "Total change per output over the changed decisions", kind: "money" }));
  }
  if (outputs.length) {
    out.append(h("div", { class: "grid-wrap", role: "region", tabindex: "0", "aria-label": "Outputs that change (scrolls)" },
      h("table", { class: "grid", id: "impact-outputs" },
        h("caption", {}, "Outputs that change"),
        h("thead", {}, h("tr", {}, ["Output", "Decisions changed", "Total moved", "Not numeric"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, outputs.map(([k, o]) => h("tr", { "data-output": k },
          h("th", { scope: "row" }, k), h("td", {}, String(o.changed)), h("td", { class: "num" }, o.total_delta ? money(o.total_delta) : "—"), h("td", {}, String(o.non_numeric || 0))))))));
  }
  const added = Object.entries(rep.reasons_added || {});
  const removed = Object.entries(rep.reasons_removed || {});
  if (added.length || removed.length) {
    out.append(h("h3", {}, "Reasons"), h("ul", {},
      added.map(([c, n]) => h("li", {}, "added ", h("code", {}, c), ` in ${n}`)),
      removed.map(([c, n]) => h("li", {}, "removed ", h("code", {}, c), ` in ${n}`))));
  }
  const ex = (rep.examples || []).filter((e) => e.change || e.error);
  if (ex.length) {
    out.append(h("h3", {}, "Examples"), h("div", { class: "grid-wrap", role: "region", tabindex: "0", "aria-label": "Examples (scrolls)" },
      h("table", { class: "grid", id: "impact-examples" },
        h("caption", { class: "visually-hidden" }, "Changed decisions"),
        h("thead", {}, h("tr", {}, ["Decision", "As of → replayed at", "Outcome", "Outputs before → after"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, ex.map((e) => {
          const c = e.change || {};
          const outs = Object.entries(c.outputs || {});
          return h("tr", {},
            h("td", {}, h("a", { href: "#/lookup/" + enc(e.decision_id) }, e.decision), h("br"), h("code", { class: "muted" }, e.decision_id.slice(0, 13))),
            h("td", {}, `${fmtDate(e.as_of)} → ${fmtDate(e.replay_as_of)}`),
            h("td", {}, e.error ? h("span", { class: "no" }, e.error) : outcomeChange(c.outcome)),
            h("td", {}, outs.length ? h("ul", { class: "plain" }, outs.map(([k, v]) => h("li", {}, h("code", {}, k), `: ${JSON.stringify(v.before)} → ${JSON.stringify(v.after)}`, v.delta ? ` (${money(v.delta)})` : ""))) : "—"));
        })))));
  }
  return out;
}

export async function render(main, args, query, current) {
  const id = args[0];
  if (args[1] === "table" && args[2]) return drafttable.render(main, id, args[2], args[3], current);
  if (args[1] === "file" && args[2]) return draftfile.render(main, id, args.slice(2).join("/"), current);
  main.append(h("p", { class: "crumbs" }, h("a", { href: "#/drafts" }, "Drafts"), " / ", id));
  main.append(h("h1", {}, `Draft ${id}`));
  const body = h("div", {});
  main.append(body);
  loading(body, "the draft and its validation");
  const [d, diff, { decisions }, { tables }] = await Promise.all([api("/v1/drafts/" + enc(id)), api(`/v1/drafts/${enc(id)}/diff`), api("/v1/policies"), api("/v1/tables")]);
  if (!current()) return;
  const paths = Object.keys(d.changes || {}).sort();
  const touched = tablesOf(paths);
  const readers = decisions.filter((x) => x.versions.some((v) => v.tables.some((t) => touched.includes(t)))).map((x) => x.decision);
  const open = !d.published;

  put(body,
    h("dl", { class: "facts-list", id: "draft-meta" },
      h("dt", {}, "Base"), h("dd", {}, `r${d.base}`),
      h("dt", {}, "Author"), h("dd", {}, d.author || "—"),
      h("dt", {}, "Edited"), h("dd", {}, fmtDate(d.updated_at)),
      h("dt", {}, "State"), h("dd", {}, open ? "open" : h("a", { href: "#/revisions" }, `published as r${d.published}`))));

  // Rule tables: the ones changed, and any other to edit.
  const pick = h("select", { id: "draft-table-pick" }, tables.map((t) => h("option", { value: t.table, selected: touched[0] === t.table }, t.table)));
  body.append(h("section", { "aria-labelledby": "dt-h" }, h("h2", { id: "dt-h" }, "Rule tables"),
    touched.length ? h("ul", { class: "links", id: "draft-tables" }, touched.map((t) => h("li", {}, h("a", { href: `#/draft/${enc(id)}/table/${enc(t)}` }, `Edit ${t}`)))) : h("p", { class: "muted" }, "No table changed yet."),
    paths.length ? h("p", { class: "meta" }, h("span", { class: "meta-label" }, "Files changed: "), paths.map((p) => [h("a", { href: `#/draft/${enc(id)}/file/${p.split("/").map(enc).join("/")}` }, h("code", {}, p)), " "])) : null,
    open ? h("form", { class: "inline-form", onsubmit: (e) => { e.preventDefault(); location.hash = `#/draft/${enc(id)}/table/${enc(pick.value)}`; } },
      h("label", { for: "draft-table-pick" }, "Edit a rule table"), pick, h("button", { type: "submit" }, "Open its grid")) : null));

  body.append(h("section", { "aria-labelledby": "dc-h", id: "draft-changes" }, h("h2", { id: "dc-h" }, "Changes"),
    h("p", { class: "muted" }, `${d.diff.added.length} added, ${d.diff.changed.length} changed, ${d.diff.removed.length} removed from r${d.base}.`),
    diffView(diff.files)));

  body.append(h("section", { "aria-labelledby": "dv-h" }, h("h2", { id: "dv-h" }, "Validation and tests"), validationView(d)));

  // Impact.
  const shift = h("input", { id: "imp-shift", type: "text", value: query.get("shift") || "+1y", spellcheck: "false", autocomplete: "off", "aria-describedby": "imp-shift-help" });
  const decs = h("input", { id: "imp-decisions", type: "text", value: readers.join(", "), spellcheck: "false", autocomplete: "off", "aria-describedby": "imp-dec-help" });
  const from = h("input", { id: "imp-from", type: "text", spellcheck: "false", autocomplete: "off", placeholder: "2025-01-01T00:00:00+08:00" });
  const to = h("input", { id: "imp-to", type: "text", spellcheck: "false", autocomplete: "off", placeholder: "(now)" });
  const impactOut = h("div", { id: "impact-result", "aria-live": "polite" });
  const impactForm = h("form", { id: "impact-form", class: "panel impact-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "imp-shift" }, "As-of shift"), shift,
      h("p", { id: "imp-shift-help", class: "help" }, "Replay each decision as if made this much later (+1y: last year's traffic under next year's tables). Empty: at its own as of.")),
    h("div", { class: "field" }, h("label", { for: "imp-decisions" }, "Decisions"), decs,
      h("p", { id: "imp-dec-help", class: "help" }, "Comma-separated; empty: every decision. Prefilled with those reading the tables changed.")),
    h("div", { class: "field" }, h("label", { for: "imp-from" }, "Logged from"), from),
    h("div", { class: "field" }, h("label", { for: "imp-to" }, "Logged before"), to),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "imp-run" }, "Run impact")));
  impactForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const req = { as_of_shift: shift.value.trim() };
    const ds = decs.value.split(",").map((s) => s.trim()).filter(Boolean);
    if (ds.length) req.decisions = ds;
    if (from.value.trim()) req.from = from.value.trim();
    if (to.value.trim()) req.to = to.value.trim();
    put(impactOut, h("p", { role: "status", class: "loading" }, "Replaying logged decisions against the draft…"));
    try {
      const rep = await api(`/v1/drafts/${enc(id)}/impact`, { method: "POST", body: req });
      if (!current()) return;
      put(impactOut, impactReport(rep));
      announce("Impact: " + headline(rep));
    } catch (err) {
      put(impactOut, errorBox(err, "Impact could not run"));
    }
  });
  body.append(h("section", { "aria-labelledby": "di-h", id: "draft-impact" }, h("h2", { id: "di-h" }, "Impact on logged decisions"),
    h("p", { class: "muted" }, "Replays logged decisions (their input and the facts they were made on) against the draft and reports what would change."),
    impactForm, impactOut));

  // Publish.
  if (open) {
    const msg = h("input", { id: "pub-message", type: "text", required: true, autocomplete: "off", "aria-describedby": "pub-help" });
    const pubOut = h("div", { id: "publish-result", "aria-live": "polite" });
    const form = h("form", { id: "publish-form", class: "panel inline-form", novalidate: true },
      h("label", { for: "pub-message" }, "Message"), msg,
      h("button", { type: "submit", class: "primary", id: "pub-run", disabled: !d.validation.ok || (d.publish_blockers || []).length > 0 }, "Publish"),
      h("p", { id: "pub-help", class: "muted" }, "Publishing needs the publish scope. Every replica builds the new revision, runs every test case and switches to it within seconds."),
      pubOut);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!msg.value.trim()) {
        msg.setAttribute("aria-invalid", "true");
        put(pubOut, h("p", { class: "field-error", role: "alert" }, "Say what the change is: a message is required."));
        msg.focus();
        return;
      }
      msg.removeAttribute("aria-invalid");
      put(pubOut, h("p", { role: "status", class: "loading" }, "Publishing…"));
      try {
        const rev = await api(`/v1/drafts/${enc(id)}/publish`, { method: "POST", body: { message: msg.value.trim() } });
        put(pubOut, h("p", { class: "published", id: "published", "data-seq": rev.seq, role: "status" }, h("strong", {}, `Published as r${rev.seq}`), ` (${rev.tree.slice(0, 19)}…). `,
          h("a", { href: "#/revisions" }, "See the revision history")));
        form.querySelector("#pub-run").disabled = true;
        announce(`Published as r${rev.seq}`);
      } catch (err) {
        put(pubOut, errorBox(err, "Not published"));
        announce("Not published: " + err.message);
      }
    });
    body.append(h("section", { "aria-labelledby": "dp-h", id: "draft-publish" }, h("h2", { id: "dp-h" }, "Publish"),
      !d.validation.ok ? h("p", { class: "no" }, "The draft does not validate: fix it before publishing.") : null, form));
  }
}
