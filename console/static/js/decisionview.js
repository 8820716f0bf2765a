// Renders a decision envelope for a reader: outcome, reasons, outputs, the versions it used, and
// the facts and table data it saw (when explained or logged).
import { h, fmtDate, shortDigest, pre } from "./dom.js";
import { settings, grid } from "./values.js";

function isRecordArray(v) {
  return Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === "object" && !Array.isArray(x));
}

export function outcomeBadge(outcome) {
  return h("span", { class: "outcome outcome-" + outcome, id: "outcome", "data-outcome": outcome }, outcome);
}

function reasonsTable(reasons) {
  if (!reasons || !reasons.length) return h("p", { class: "muted", id: "reasons" }, "No reasons: nothing held it back.");
  return h("div", { class: "grid-wrap", role: "region", tabindex: "0", "aria-label": "Reasons (scrolls)" },
    h("table", { class: "grid", id: "reasons" },
      h("caption", { class: "visually-hidden" }, "Reasons"),
      h("thead", {}, h("tr", {}, ["Code", "Rule", "Message", "Effect"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, reasons.map((r) => h("tr", { class: "effect-" + r.effect },
        h("td", {}, h("code", {}, r.code)), h("td", {}, r.rule), h("td", {}, r.message), h("td", {}, r.effect))))));
}

/** factsView shows each fact (or table) by name: records as grids, objects as settings. */
export function factsView(facts, prefix) {
  const names = Object.keys(facts || {}).sort();
  if (!names.length) return h("p", { class: "muted" }, "None.");
  return h("div", { class: "facts" }, names.map((n) => {
    const v = facts[n];
    let view;
    if (isRecordArray(v)) view = grid(v, { caption: n });
    else if (v && typeof v === "object" && !Array.isArray(v)) view = settings(v);
    else if (Array.isArray(v) && !v.length) view = h("p", { class: "muted" }, "(no rows)");
    else view = pre(v);
    return h("section", { class: "fact", "aria-labelledby": `${prefix}-${n}` }, h("h4", { id: `${prefix}-${n}` }, n), view);
  }));
}

/** decisionView renders an envelope; logged adds the recorded input and facts of a logged decision. */
export function decisionView(d, logged) {
  const out = h("div", { class: "decision-view" });
  out.append(h("div", { class: "summary" },
    h("p", { class: "big" }, "Outcome: ", outcomeBadge(d.outcome)),
    h("p", {}, "Decision id ", h("a", { href: "#/lookup/" + d.decision_id, id: "decision-id" }, d.decision_id),
      logged ? null : h("span", { class: "muted" }, " (open it in the lookup once it is logged)"))));
  out.append(h("section", { "aria-labelledby": "reasons-h" }, h("h3", { id: "reasons-h" }, "Reasons"), reasonsTable(d.reasons)));
  const outputs = d.outputs || {};
  out.append(h("section", { "aria-labelledby": "outputs-h", id: "outputs" }, h("h3", { id: "outputs-h" }, "Outputs"),
    Object.keys(outputs).length ? settings(outputs) : h("p", { class: "muted" }, "No outputs.")));
  out.append(h("section", { "aria-labelledby": "versions-h2" }, h("h3", { id: "versions-h2" }, "Versions used"),
    h("dl", { class: "facts-list", id: "versions-used" },
      h("dt", {}, "Policy"), h("dd", {}, h("a", { href: `#/decision/${d.decision}?version=${encodeURIComponent(d.policy.version)}` }, `${d.decision} ${d.policy.version}`),
        ` (${d.policy.language}${d.policy.pinned ? ", pinned" : ""}) `, h("code", { title: d.policy.digest }, shortDigest(d.policy.digest))),
      h("dt", {}, "As of"), h("dd", {}, `${fmtDate(d.as_of)} (${d.as_of_source})`),
      h("dt", {}, "Revision"), h("dd", {}, h("code", { title: d.revision }, shortDigest(d.revision))),
      h("dt", {}, "Rule tables"), h("dd", {}, (d.tables || []).length
        ? h("ul", { class: "links" }, d.tables.map((t) => h("li", {}, `${t.name}: `,
          h("a", { href: `#/table/${t.table}/${encodeURIComponent(t.version)}` }, `${t.table} ${t.version}`),
          t.at ? h("span", { class: "muted" }, ` (chosen at ${fmtDate(t.at)})`) : null)))
        : h("span", { class: "muted" }, "none")))));
  if (d.commit) {
    out.append(h("section", { "aria-labelledby": "commit-h" }, h("h3", { id: "commit-h" }, "Recording"),
      h("p", {}, d.commit.dry_run ? "Dry run: nothing was recorded." : d.commit.committed ? "Recorded in the ledger." : d.commit.replayed ? "Replayed: the same request was recorded before." : "Not recorded."),
      d.commit.entries && d.commit.entries.length ? grid(d.commit.entries, { caption: "Ledger entries" }) : null));
  }
  const facts = logged ? logged.facts : d.explain && d.explain.facts;
  if (facts) {
    out.append(h("section", { "aria-labelledby": "facts-h", id: "facts-seen" }, h("h3", { id: "facts-h" }, "Facts seen"), factsView(facts, "fact")));
  }
  if (d.explain && d.explain.rules) {
    out.append(h("details", { class: "rules-seen" }, h("summary", {}, "Rule-table data seen"), factsView(d.explain.rules, "rule")));
  }
  return out;
}
