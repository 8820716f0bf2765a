// Decision lookup by id: the logged decision's outcome, reasons, outputs, versions, input and facts.
import { api, enc } from "../api.js";
import { h, put, errorBox, pre, fmtDate, announce } from "../dom.js";
import { decisionView } from "../decisionview.js";

export async function render(main, args, _query, current) {
  main.append(h("h1", {}, "Decision lookup"));
  const input = h("input", { id: "lookup-id", name: "id", type: "text", required: true, value: args[0] || "", spellcheck: "false", autocomplete: "off", "aria-describedby": "lookup-help" });
  const form = h("form", { class: "inline-form", id: "lookup-form" },
    h("label", { for: "lookup-id" }, "Decision id"), input,
    h("button", { type: "submit" }, "Look up"),
    h("p", { id: "lookup-help", class: "muted" }, "The decision_id of any logged decision (the in-memory default keeps the latest 10,000)."));
  const result = h("div", { id: "lookup-result", "aria-live": "polite" });
  main.append(form, result);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const id = input.value.trim();
    if (id) location.hash = "#/lookup/" + enc(id);
  });
  if (!args[0]) return;
  result.append(h("p", { role: "status" }, "Looking up…"));
  let rec;
  try {
    rec = await api("/v1/decisions/" + enc(args[0]));
  } catch (e) {
    if (current()) put(result, errorBox(e, "No decision"));
    return;
  }
  if (!current()) return;
  const env = typeof rec.envelope === "string" ? JSON.parse(rec.envelope) : rec.envelope;
  put(result, 
    h("h2", {}, `${rec.decision} ${rec.version}`),
    h("p", { class: "muted" }, `Recorded ${fmtDate(rec.recorded_at)} · as of ${fmtDate(rec.as_of)} · `,
      h("a", { href: `#/playground/${rec.decision}?from=${enc(rec.decision_id)}` }, "Run it again in the playground")),
    decisionView(env, rec),
    h("section", { "aria-labelledby": "input-h" }, h("h3", { id: "input-h" }, "Input"), pre(rec.input)));
  announce(`Decision ${rec.decision}: ${rec.outcome}`);
}
