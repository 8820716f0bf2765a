// File diffs (from /v1/drafts/{id}/diff and /v1/revisions/{rev}/diff): one collapsible block per file,
// lines marked added, removed or kept, and runs of unchanged lines folded.
import { h } from "./dom.js";

const label = { "+": "added", "-": "removed", " ": "kept" };

export function diffView(files, { open = 6 } = {}) {
  if (!files || !files.length) return h("p", { class: "muted" }, "No changes.");
  return h("div", { class: "diff-files" }, files.map((f, i) => {
    const counts = { "+": 0, "-": 0 };
    for (const l of f.lines || []) if (l.op in counts) counts[l.op]++;
    return h("details", { class: "diff-file status-" + f.status, open: i < open && !f.omitted, "data-path": f.path },
      h("summary", {}, h("span", { class: "badge diff-" + f.status }, f.status), " ", h("code", {}, f.path),
        f.lines ? h("span", { class: "muted" }, ` +${counts["+"]} −${counts["-"]}`) : null),
      f.omitted ? h("p", { class: "muted" }, "Too many files to show every line; export the revision to read it.")
        : h("pre", { class: "diff", tabindex: "0", "aria-label": `Changes to ${f.path}` }, (f.lines || []).map((l) => l.op === "…"
          ? h("span", { class: "line fold" }, `… ${l.skipped} unchanged line${l.skipped === 1 ? "" : "s"}\n`)
          : h("span", { class: "line op-" + (label[l.op] || "kept") }, h("span", { class: "visually-hidden" }, label[l.op] + ": "), (l.op === " " ? "  " : l.op + " ") + l.text + "\n"))));
  }));
}
