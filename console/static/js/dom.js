// Small DOM helpers: every text goes in as a text node, never as HTML.

/** h builds an element: h("a", {href: "#/x", class: "y"}, "text", child, [more]). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** announce tells screen readers what changed (the live region in index.html). */
export function announce(msg) {
  const el = document.getElementById("announcer");
  if (!el) return;
  el.textContent = "";
  setTimeout(() => { el.textContent = msg; }, 30);
}

/** errorBox shows an API problem: its title or detail and any field errors. */
export function errorBox(err, what) {
  const p = (err && err.problem) || {};
  const fields = Array.isArray(p.errors) ? p.errors : [];
  return h("div", { class: "error", role: "alert" },
    h("p", {}, h("strong", {}, what ? what + ": " : ""), p.title && p.detail ? `${p.title}. ${p.detail}` : (err && err.message) || String(err)),
    p.code ? h("p", { class: "muted" }, "code ", h("code", {}, p.code), err.status ? ` · HTTP ${err.status}` : "") : null,
    fields.length ? h("ul", {}, fields.map((f) => h("li", {}, h("code", {}, f.field), " ", f.message))) : null,
  );
}

/** fmtDate shows an instant as a date in the instant's own offset (policy windows are Beijing dates). */
export function fmtDate(s) {
  if (!s) return "open";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(s);
  if (!m) return s;
  return m[2] === "00:00:00" ? m[1] : `${m[1]} ${m[2]}`;
}

export function shortDigest(d) {
  return d ? d.replace(/^sha256:/, "").slice(0, 12) : "";
}

/** scalar renders a JSON value for a cell: strings as is, others as JSON. */
export function scalar(v) {
  if (v === null || v === undefined) return h("span", { class: "muted" }, "—");
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return h("span", { class: "bool" }, v ? "yes" : "no");
  if (typeof v === "number") return String(v);
  if (Array.isArray(v) && v.every((x) => x === null || typeof x !== "object")) {
    return v.length ? h("span", { class: "chips" }, v.map((x) => h("span", { class: "chip" }, String(x)))) : h("span", { class: "muted" }, "(none)");
  }
  return h("code", { class: "json" }, JSON.stringify(v));
}

export function pre(v) {
  return h("pre", { class: "json", tabindex: "0" }, JSON.stringify(v, null, 2));
}

export function loading(el, what) {
  clear(el).append(h("p", { class: "loading", role: "status" }, `Loading ${what}…`));
}

/** put replaces an element's children, skipping null, undefined and false as h does. */
export function put(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}
