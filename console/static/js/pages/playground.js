// Playground: run any decision on the served revision with an input seeded from the decision's
// sample (fixtures/requests/) or from a logged decision, and read what it decided and why.
import { api, enc, ApiError } from "../api.js";
import { h, put, errorBox, announce, loading } from "../dom.js";
import { decisionView } from "../decisionview.js";

export async function render(main, args, query, current) {
  main.append(h("h1", {}, "Playground"));
  const body = h("div", {});
  main.append(body);
  loading(body, "decisions");
  const { decisions } = await api("/v1/policies");
  if (!current()) return;
  const id = args[0] || (decisions[0] && decisions[0].decision);
  const info = decisions.find((d) => d.decision === id);
  if (!info) {
    put(body, h("p", { role: "alert" }, "No decision ", h("code", {}, id), ". ", h("a", { href: "#/playground" }, "Pick another")));
    return;
  }
  const commit = info.versions.some((v) => v.commit);

  const sel = h("select", { id: "pg-decision", name: "decision" },
    decisions.map((d) => h("option", { value: d.decision, selected: d.decision === id }, d.decision)));
  const version = h("select", { id: "pg-version", name: "version", "aria-describedby": "pg-version-help" },
    h("option", { value: "" }, "chosen by as of"),
    info.versions.map((v) => h("option", { value: v.version }, v.version)));
  const asOf = h("input", { id: "pg-asof", name: "as_of", type: "text", placeholder: "2025-02-01T12:00:00+08:00", "aria-describedby": "pg-asof-help", spellcheck: "false", autocomplete: "off" });
  const input = h("textarea", { id: "pg-input", name: "input", rows: "14", spellcheck: "false", "aria-describedby": "pg-input-help pg-input-error" });
  const inputError = h("p", { id: "pg-input-error", class: "field-error", "aria-live": "polite" });
  const explain = h("input", { id: "pg-explain", type: "checkbox", checked: true });
  const dryRun = h("input", { id: "pg-dryrun", type: "checkbox", checked: commit });
  const fromId = h("input", { id: "pg-from", type: "text", value: query.get("from") || "", spellcheck: "false", autocomplete: "off" });
  const seedStatus = h("p", { id: "pg-seed-status", class: "muted", "aria-live": "polite" });
  const result = h("div", { id: "pg-result", "aria-live": "polite" });

  const fill = (req) => {
    input.value = JSON.stringify(req.input === undefined ? {} : req.input, null, 2);
    asOf.value = req.as_of || "";
    version.value = req.version && info.versions.some((v) => v.version === req.version) ? req.version : "";
    input.removeAttribute("aria-invalid");
    inputError.textContent = "";
  };
  const loadSample = async () => {
    seedStatus.textContent = "Loading the sample…";
    try {
      fill(await api("/v1/samples/" + enc(id)));
      seedStatus.textContent = `Sample input of ${id} loaded (fixtures/requests/${id}.json).`;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        fill({ input: {} });
        seedStatus.textContent = `${id} has no sample request; write the input by hand.`;
      } else seedStatus.textContent = "The sample could not be loaded: " + e.message;
    }
  };
  const loadLogged = async (logged) => {
    seedStatus.textContent = "Loading the logged decision…";
    try {
      const rec = await api("/v1/decisions/" + enc(logged));
      if (rec.decision !== id) {
        location.hash = `#/playground/${rec.decision}?from=${enc(logged)}`;
        return;
      }
      fill({ input: rec.input, as_of: rec.as_of });
      seedStatus.textContent = `Input and as of of logged decision ${logged} loaded.`;
    } catch (e) {
      seedStatus.textContent = "The logged decision could not be loaded: " + e.message;
    }
  };

  const form = h("form", { id: "pg-form", class: "playground", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "pg-decision" }, "Decision"), sel),
    h("div", { class: "field" }, h("label", { for: "pg-version" }, "Version"), version,
      h("p", { id: "pg-version-help", class: "help" }, "Leave it to the as of instant, or pin a version.")),
    h("div", { class: "field" }, h("label", { for: "pg-asof" }, "As of"), asOf,
      h("p", { id: "pg-asof-help", class: "help" }, "RFC 3339 with an offset; empty means now.")),
    h("fieldset", { class: "seed" }, h("legend", {}, "Seed the input"),
      h("button", { type: "button", id: "pg-sample", onclick: loadSample }, "Load the sample"),
      h("span", { class: "or" }, "or"),
      h("label", { for: "pg-from" }, "Logged decision id"), fromId,
      h("button", { type: "button", id: "pg-load-logged", onclick: () => fromId.value.trim() && loadLogged(fromId.value.trim()) }, "Load its input"),
      seedStatus),
    h("div", { class: "field wide" }, h("label", { for: "pg-input" }, "Input (JSON)"), input,
      h("p", { id: "pg-input-help", class: "help" }, "The request's input object; edit it freely."), inputError),
    h("div", { class: "field checks" },
      h("span", {}, explain, h("label", { for: "pg-explain" }, "Show the facts seen (explain)")),
      h("span", {}, dryRun, h("label", { for: "pg-dryrun" }, "Dry run (record nothing)")),
      commit ? h("p", { class: "help" }, "This decision records ledger entries when it allows; keep dry run on to try it without recording.") : null),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "pg-run", class: "primary" }, "Run decision")));

  sel.addEventListener("change", () => { location.hash = "#/playground/" + sel.value; });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    let parsed;
    try {
      parsed = JSON.parse(input.value);
    } catch (err) {
      input.setAttribute("aria-invalid", "true");
      inputError.textContent = "The input is not valid JSON: " + err.message;
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    inputError.textContent = "";
    const req = { input: parsed, explain: explain.checked };
    if (asOf.value.trim()) req.as_of = asOf.value.trim();
    if (version.value) req.version = version.value;
    if (dryRun.checked) req.dry_run = true;
    put(result, h("p", { role: "status" }, "Running…"));
    try {
      const d = await api("/v1/decisions/" + enc(id), { method: "POST", body: req });
      put(result, h("h2", {}, "Result"), decisionView(d));
      announce(`${id}: ${d.outcome}, ${d.reasons.length} reason${d.reasons.length === 1 ? "" : "s"}`);
    } catch (err) {
      put(result, errorBox(err, "The decision failed"));
      announce("The decision failed: " + err.message);
    }
  });

  put(body, 
    h("p", { class: "crumbs" }, "Runs on the served revision. ", h("a", { href: "#/decision/" + id }, `About ${id}`)),
    form, result);
  if (query.get("from")) await loadLogged(query.get("from"));
  else await loadSample();
}
