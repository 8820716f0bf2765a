// The served revision, where facts come from, and the last reload.
import { api } from "../api.js";
import { h, put, fmtDate, loading, pre } from "../dom.js";

export async function render(main, _args, _query, current) {
  main.append(h("h1", {}, "Status"));
  const body = h("div", {});
  main.append(body);
  loading(body, "status");
  const s = await api("/v1/status");
  if (!current()) return;
  const last = s.last_reload;
  put(body, 
    h("dl", { class: "facts-list", id: "status" },
      h("dt", {}, "Revision served"), h("dd", {}, h("code", { id: "status-revision" }, s.revision)),
      h("dt", {}, "Loaded at"), h("dd", {}, fmtDate(s.loaded_at)),
      h("dt", {}, "Facts from"), h("dd", {}, s.fact_source || "unknown"),
      h("dt", {}, "Started"), h("dd", {}, `${fmtDate(s.started_at)} (up ${s.uptime})`),
      h("dt", {}, "Last reload"), h("dd", { id: "status-reload" }, last
        ? [h("span", { class: last.ok ? "yes" : "no" }, last.ok ? "succeeded" : "failed"), ` at ${fmtDate(last.at)}`, last.error ? ` — ${last.error}` : ""]
        : "none since start")),
    last ? h("details", {}, h("summary", {}, "Last reload report"), pre(last)) : null,
    s.last_good_reload && last && !last.ok ? h("details", {}, h("summary", {}, "Last good reload"), pre(s.last_good_reload)) : null);
}
