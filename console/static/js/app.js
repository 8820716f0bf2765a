// The console's shell: the served-revision banner, the API key field and a fragment router
// (#/page/arg...). A page is a module exporting render(main, args, query); adding one (drafts,
// revisions) is one entry in routes and one link in index.html's nav.
import { api, apiKey, setApiKey } from "./api.js";
import { h, clear, announce, errorBox } from "./dom.js";
import * as catalog from "./pages/catalog.js";
import * as decision from "./pages/decision.js";
import * as tables from "./pages/tables.js";
import * as table from "./pages/table.js";
import * as playground from "./pages/playground.js";
import * as lookup from "./pages/lookup.js";
import * as status from "./pages/status.js";
import * as drafts from "./pages/drafts.js";
import * as draft from "./pages/draft.js";
import * as revisions from "./pages/revisions.js";

const routes = [
  { path: "catalog", nav: "catalog", page: catalog },
  { path: "decision", nav: "catalog", page: decision },
  { path: "tables", nav: "tables", page: tables },
  { path: "table", nav: "tables", page: table },
  { path: "playground", nav: "playground", page: playground },
  { path: "lookup", nav: "lookup", page: lookup },
  { path: "drafts", nav: "drafts", page: drafts },
  { path: "draft", nav: "drafts", page: draft },
  { path: "revisions", nav: "revisions", page: revisions },
  { path: "status", nav: "status", page: status },
];

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || "catalog", args: parts.slice(1), query: new URLSearchParams(qs || "") };
}

let seq = 0;

async function route() {
  const { name, args, query } = parseHash();
  const r = routes.find((x) => x.path === name);
  const main = document.getElementById("main");
  for (const a of document.querySelectorAll("#nav a")) {
    if (r && a.dataset.nav === r.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const mine = ++seq;
  clear(main);
  if (!r) {
    main.append(h("h1", {}, "Not found"), h("p", {}, "No page ", h("code", {}, name), ". ", h("a", { href: "#/catalog" }, "Open the catalog")));
    return;
  }
  try {
    await r.page.render(main, args, query, () => mine === seq);
  } catch (e) {
    if (mine === seq) main.append(errorBox(e, "The page could not be loaded"));
  }
  if (mine !== seq) return;
  const h1 = main.querySelector("h1");
  document.title = (h1 ? h1.textContent + " · " : "") + "arbiter console";
  if (h1) announce(h1.textContent + " page");
  // Move focus to the page after navigating, not on the first load (keep the skip link first).
  if (route.started) main.focus({ preventScroll: false });
  route.started = true;
}

async function banner() {
  const el = document.getElementById("served");
  try {
    const s = await api("/v1/status");
    clear(el).append("Serving ", h("code", { title: s.revision }, s.revision.replace(/^sha256:/, "").slice(0, 12)), ` · facts: ${s.fact_source || "?"}`);
  } catch (e) {
    clear(el).append(h("span", { class: "warn" }, "Status unavailable: " + e.message));
  }
}

function keyForm() {
  const form = document.getElementById("key-form");
  const input = document.getElementById("api-key");
  const state = document.getElementById("key-state");
  const show = () => { state.textContent = apiKey() ? "key set for this tab" : "no key"; };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    setApiKey(input.value.trim());
    input.value = "";
    show();
    banner();
    route();
  });
  document.getElementById("key-clear").addEventListener("click", () => { setApiKey(""); input.value = ""; show(); });
  show();
}

window.addEventListener("hashchange", route);
keyForm();
banner();
if (!location.hash) history.replaceState(null, "", "#/catalog");
route();
