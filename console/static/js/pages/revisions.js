// Revision history: every published revision with its author, message and files changed, its line
// diff from its parent on demand, and a rollback (publishing an earlier tree again; publish scope).
import { api, enc } from "../api.js";
import { h, put, fmtDate, loading, errorBox, announce, shortDigest } from "../dom.js";
import { diffView } from "../diffview.js";

// flash is the rollback just made, shown once when the page renders again.
let flash = null;

export async function render(main, _args, _query, current) {
  main.append(h("h1", {}, "Revision history"));
  main.append(h("p", { class: "muted" }, "Each publish is an immutable revision. Every replica serves the latest one whose test cases pass; rolling back publishes an earlier tree again as a new revision."));
  const note = h("div", { id: "revisions-note", "aria-live": "polite" });
  if (flash) {
    note.append(h("p", { class: "published", role: "status", id: "rolled-back", "data-seq": flash.seq }, h("strong", {}, `Published r${flash.seq}`), `, the tree of r${flash.from}.`));
    flash = null;
  }
  const body = h("div", {});
  main.append(note, body);
  loading(body, "revisions");
  const [{ revisions }, status] = await Promise.all([api("/v1/revisions"), api("/v1/status").catch(() => ({}))]);
  if (!current()) return;
  const serving = status.published && status.published.serving ? status.published.serving.seq : 0;
  if (!revisions.length) {
    put(body, h("p", { class: "muted" }, "Nothing is published yet: the replicas serve their compiled-in tree."));
    return;
  }
  const head = revisions[0].seq;
  put(body, h("ol", { class: "revisions", id: "revisions", reversed: true }, revisions.map((r) => {
    const diffOut = h("div", { class: "rev-diff", id: `rev-diff-${r.seq}`, "aria-live": "polite" });
    const showBtn = h("button", { type: "button", class: "small", "aria-expanded": "false", "aria-controls": `rev-diff-${r.seq}`, "data-action": "diff" }, `Show the changes of r${r.seq}`);
    showBtn.addEventListener("click", async () => {
      if (showBtn.getAttribute("aria-expanded") === "true") {
        put(diffOut);
        showBtn.setAttribute("aria-expanded", "false");
        showBtn.textContent = `Show the changes of r${r.seq}`;
        return;
      }
      put(diffOut, h("p", { role: "status" }, "Loading the diff…"));
      try {
        const d = await api(`/v1/revisions/${r.seq}/diff`);
        put(diffOut, diffView(d.files, { open: 4 }));
        showBtn.setAttribute("aria-expanded", "true");
        showBtn.textContent = `Hide the changes of r${r.seq}`;
      } catch (e) {
        put(diffOut, errorBox(e, "The diff could not be loaded"));
      }
    });
    const rb = h("div", { class: "rollback", id: `rollback-${r.seq}` });
    let rbBtn = null;
    if (r.seq !== head) {
      rbBtn = h("button", { type: "button", class: "small danger", "data-action": "rollback", "aria-controls": `rollback-${r.seq}` }, `Roll back to r${r.seq}`);
      rbBtn.addEventListener("click", () => {
        const msg = h("input", { type: "text", id: `rb-msg-${r.seq}`, value: `roll back to r${r.seq}`, autocomplete: "off" });
        const out = h("div", { "aria-live": "polite" });
        const form = h("form", { class: "inline-form panel" },
          h("label", { for: `rb-msg-${r.seq}` }, "Message"), msg,
          h("button", { type: "submit", class: "primary", id: `rb-confirm-${r.seq}` }, `Publish r${r.seq}'s tree again`),
          h("button", { type: "button", class: "secondary", onclick: () => { put(rb); rbBtn.focus(); } }, "Cancel"),
          h("p", { class: "muted" }, "Needs the publish scope. Every replica switches back within seconds."), out);
        form.addEventListener("submit", async (e) => {
          e.preventDefault();
          put(out, h("p", { role: "status" }, "Publishing…"));
          try {
            const rev = await api(`/v1/revisions/${r.seq}/rollback`, { method: "POST", body: { message: msg.value.trim() } });
            announce(`Rolled back: r${rev.seq} restores r${r.seq}`);
            flash = { seq: rev.seq, from: r.seq };
            window.dispatchEvent(new HashChangeEvent("hashchange"));
          } catch (err) {
            put(out, errorBox(err, "Not rolled back"));
          }
        });
        put(rb, form);
        msg.focus();
      });
    }
    const d = r.diff || { added: [], changed: [], removed: [] };
    return h("li", { class: "panel revision", "data-seq": r.seq },
      h("h2", { class: "h3" }, `r${r.seq}`, r.seq === serving ? h("span", { class: "badge now" }, "serving") : null,
        r.seq === head ? h("span", { class: "badge" }, "latest") : null),
      h("p", { class: "rev-message" }, r.message),
      h("p", { class: "muted" }, `${r.author} · ${fmtDate(r.created_at)} · `, h("code", { title: r.tree }, shortDigest(r.tree)),
        r.parent ? ` · parent r${r.parent}` : " · first revision", r.restored_from ? ` · restores r${r.restored_from}` : ""),
      h("p", { class: "meta" }, `+${d.added.length} added, ~${d.changed.length} changed, −${d.removed.length} removed`),
      h("p", { class: "actions" }, showBtn, " ", rbBtn), rb, diffOut);
  })));
}
