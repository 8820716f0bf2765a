// The validation of a draft: load problems (file, line, message), the test cases run, and why a
// publish would be refused.
import { h } from "./dom.js";

// fileLink opens a file of the draft in the console's editor.
function fileLink(d, file, line) {
  return h("a", { href: `#/draft/${encodeURIComponent(d.id)}/file/${file.split("/").map(encodeURIComponent).join("/")}`, "data-file": file },
    h("code", {}, file + (line ? ":" + line : "")));
}

export function validationView(d, { unplaced, file } = {}) {
  const v = d.validation || { problems: [], cases: { total: 0, passed: 0, failed: 0 }, results: [] };
  const problems = (v.problems || []).filter((p) => !file || p.file !== file || (unplaced || []).includes(p));
  const failed = (v.results || []).filter((r) => !r.passed);
  const blockers = d.publish_blockers || [];
  return h("div", { class: "validation " + (v.ok ? "ok" : "failed"), id: "validation", "data-ok": String(!!v.ok) },
    h("p", { class: "big" }, v.ok ? h("span", { class: "yes" }, "✓ Valid") : h("span", { class: "no" }, "✗ Does not validate"),
      " · ", h("span", { id: "cases-summary", "data-passed": v.cases.passed, "data-total": v.cases.total, "data-failed": v.cases.failed },
        v.cases.total ? `Tests: ${v.cases.passed} of ${v.cases.total} cases pass` : problems.length || (v.problems || []).length ? "Tests not run: the tree does not load" : "No test cases")),
    problems.length ? h("div", {}, h("h3", {}, "Problems"), h("ul", { class: "problems", id: "problems" }, problems.map((p) =>
      h("li", {}, p.file ? fileLink(d, p.file, p.line) : null, " ", p.message)))) : null,
    failed.length ? h("div", {}, h("h3", {}, "Failing cases"), h("ul", { class: "problems", id: "failing-cases" }, failed.slice(0, 50).map((r) =>
      h("li", { "data-case": r.name }, fileLink(d, r.file, r.line), " ", h("strong", {}, r.name), (r.failures || []).length ? h("ul", {}, r.failures.map((f) => h("li", {}, f))) : null)))) : null,
    blockers.length ? h("div", { class: "error" }, h("h3", {}, "Publishing would be refused"), h("ul", { id: "publish-blockers" }, blockers.map((b) => h("li", {}, b)))) : null);
}
