// An editable view of a rule table version's data, laid out like the read-only one (values.js):
// scalar settings as labelled fields, lists of records as grids with one field per cell, each column
// headed by its description from the table's schema. Every field carries the data path the engine's
// schema problems name (data.tiers[0].rate), so a problem is shown at its cell.
import { h, clear } from "./dom.js";

function propsOf(schema) {
  return (schema && typeof schema === "object" && schema.properties) || {};
}

function describe(schema) {
  return schema && typeof schema === "object" && typeof schema.description === "string" ? schema.description.trim() : "";
}

function isRecord(v) {
  return v && typeof v === "object" && !Array.isArray(v);
}

function isRecordList(v, schema) {
  const items = schema && schema.items;
  if (items && (items.type === "object" || items.properties)) return true;
  return Array.isArray(v) && v.length > 0 && v.every(isRecord);
}

function typeOf(schema, sample) {
  if (schema && typeof schema.type === "string") return schema.type;
  if (schema && Array.isArray(schema.enum)) return "enum";
  if (typeof sample === "number") return Number.isInteger(sample) ? "integer" : "number";
  if (typeof sample === "boolean") return "boolean";
  if (Array.isArray(sample)) return "array";
  return "string";
}

let seq = 0;
const fieldId = (path) => "f-" + path.replace(/[^A-Za-z0-9]+/g, "-") + "-" + (++seq);

/** Editor is the state of one data editor: fields by path, and reading the data back. */
class Editor {
  constructor() {
    this.fields = new Map(); // path -> control
  }

  register(path, control) {
    control.dataset.path = path;
    this.fields.set(path, control);
  }

  // scalar makes a control for a plain value (text, number, yes/no, one of an enum, or a list of plain
  // values written comma-separated) and returns [control, read].
  scalar(value, schema, path, label) {
    const t = typeOf(schema, value);
    let control;
    let read;
    const enumOf = schema && Array.isArray(schema.enum) ? schema.enum : null;
    if (t === "boolean") {
      control = h("select", { "aria-label": label },
        h("option", { value: "true", selected: value === true }, "yes"),
        h("option", { value: "false", selected: value === false }, "no"));
      read = () => control.value === "true";
    } else if (enumOf) {
      control = h("select", { "aria-label": label },
        value === undefined ? h("option", { value: "" }, "—") : null,
        enumOf.map((e) => h("option", { value: String(e), selected: e === value }, String(e))));
      read = () => (control.value === "" ? undefined : enumOf.find((e) => String(e) === control.value));
    } else if (t === "object" || isRecord(value) || (Array.isArray(value) && value.some((x) => x !== null && typeof x === "object"))) {
      // A nested value in a cell: edited as JSON, read back as JSON (text that does not parse stays
      // text, so the schema check names the cell).
      control = h("input", { type: "text", value: value === undefined ? "" : JSON.stringify(value), "aria-label": `${label} (JSON)`, spellcheck: "false", autocomplete: "off", class: "json" });
      read = () => {
        const v = control.value.trim();
        if (v === "") return undefined;
        try { return JSON.parse(v); } catch { return v; }
      };
    } else if (t === "array") {
      const items = (schema && schema.items) || {};
      const text = Array.isArray(value) ? value.map(String).join(", ") : value === undefined ? "" : String(value);
      const hint = Array.isArray(items.enum) ? `one or more of ${items.enum.join(", ")}, separated by commas` : "separated by commas";
      control = h("input", { type: "text", value: text, "aria-label": `${label} (${hint})`, placeholder: "(none)", spellcheck: "false", autocomplete: "off" });
      read = () => control.value.split(",").map((s) => s.trim()).filter(Boolean).map((s) => convert(s, typeOf(items, undefined)));
    } else {
      const text = value === undefined || value === null ? "" : String(value);
      control = h("input", { type: "text", value: text, "aria-label": label, spellcheck: "false", autocomplete: "off",
        inputmode: t === "integer" ? "numeric" : t === "number" || (schema && schema.format === "money") ? "decimal" : null,
        size: Math.max(6, Math.min(24, text.length + 2)) });
      read = () => (control.value.trim() === "" ? undefined : convert(control.value.trim(), t));
    }
    this.register(path, control);
    return [control, read];
  }

  // record makes the fields of an object: a description list, lists of records as grids.
  record(obj, schema, path, level) {
    const props = propsOf(schema);
    const keys = [...Object.keys(props).filter((k) => k in obj), ...Object.keys(obj).filter((k) => !(k in props))];
    const readers = [];
    const simple = [];
    const sections = [];
    for (const k of keys) {
      const v = obj[k];
      const p = `${path}.${k}`;
      const s = props[k] || {};
      if (Array.isArray(v) && isRecordList(v, s)) {
        const g = this.grid(v, s, p, k);
        readers.push([k, g.read]);
        sections.push(h("section", { class: "data-section", "aria-labelledby": "esec-" + k },
          h("h" + level, { id: "esec-" + k }, k), g.el));
      } else if (isRecord(v)) {
        const inner = this.record(v, s, p, level + 1);
        readers.push([k, inner.read]);
        simple.push(h("div", { class: "setting", "data-field": k },
          h("dt", {}, h("span", { class: "colname" }, k), describe(s) ? h("span", { class: "coldesc" }, describe(s)) : null),
          h("dd", {}, inner.el)));
      } else {
        const [control, read] = this.scalar(v, s, p, k);
        control.id = fieldId(p);
        readers.push([k, read]);
        simple.push(h("div", { class: "setting", "data-field": k },
          h("dt", {}, h("label", { for: control.id, class: "colname" }, k), describe(s) ? h("span", { class: "coldesc" }, describe(s)) : null),
          h("dd", { class: "cell" }, control)));
        control.removeAttribute("aria-label");
      }
    }
    const el = h("div", { class: "edit-record" }, simple.length ? h("dl", { class: "settings" }, simple) : null, sections);
    this.register(path, el);
    return {
      el,
      read: () => {
        const out = {};
        for (const [k, r] of readers) {
          const v = r();
          if (v !== undefined) out[k] = v;
        }
        return out;
      },
    };
  }

  // grid makes a list of records as a table: one field per cell, a remove button per row, and a
  // button that adds a row.
  grid(rows, schema, path, caption) {
    const itemSchema = (schema && schema.items) || {};
    const props = propsOf(itemSchema);
    const cols = [];
    for (const k of Object.keys(props)) cols.push(k);
    for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
    const state = rows.map((r) => ({ ...r }));
    const tbody = h("tbody", {});
    const table = h("table", { class: "grid editable", id: "edit-" + caption },
      h("caption", {}, caption, describe(schema) ? h("span", { class: "desc" }, describe(schema)) : null),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col", class: "rownum" }, h("span", { class: "visually-hidden" }, "Row"), "#"),
        cols.map((c) => {
          const d = describe(props[c]);
          const req = Array.isArray(itemSchema.required) && itemSchema.required.includes(c);
          return h("th", { scope: "col", "data-col": c }, h("span", { class: "colname" }, c, req ? h("span", { class: "muted" }, " (required)") : null),
            d ? h("span", { class: "coldesc" }, d) : null);
        }),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Row actions")))),
      tbody);
    let readers = [];
    const render = () => {
      for (const p of [...this.fields.keys()]) if (p.startsWith(path + "[")) this.fields.delete(p);
      clear(tbody);
      readers = state.map((r, i) => {
        const cells = cols.map((c) => {
          const [control, read] = this.scalar(r[c], props[c] || {}, `${path}[${i}].${c}`, `${c}, row ${i + 1} of ${caption}`);
          control.addEventListener("change", () => { state[i][c] = read(); });
          return { c, control, read };
        });
        const remove = h("button", { type: "button", class: "secondary small", "aria-label": `Remove row ${i + 1} of ${caption}` }, "Remove");
        remove.addEventListener("click", () => {
          sync();
          state.splice(i, 1);
          render();
          const next = tbody.querySelector("button") || addBtn;
          next.focus();
        });
        tbody.append(h("tr", { "data-row": i },
          h("th", { scope: "row", class: "rownum" }, String(i + 1)),
          cells.map(({ c, control }) => h("td", { "data-col": c, class: "cell" }, control)),
          h("td", {}, remove)));
        return cells;
      });
    };
    const sync = () => {
      readers.forEach((cells, i) => {
        for (const { c, read } of cells) {
          const v = read();
          if (v === undefined) delete state[i][c]; else state[i][c] = v;
        }
      });
    };
    const addBtn = h("button", { type: "button", class: "small" }, `Add a row to ${caption}`);
    addBtn.addEventListener("click", () => {
      sync();
      state.push({});
      render();
      const first = tbody.querySelector(`tr:last-child [data-path]`);
      if (first) first.focus();
    });
    render();
    const wrap = h("div", { class: "grid-wrap", role: "region", tabindex: "0", "aria-label": caption + " (scrolls)" }, table);
    const el = h("div", { class: "edit-grid" }, wrap, h("p", { class: "row-actions" }, addBtn));
    this.register(path, el);
    return {
      el,
      read: () => {
        sync();
        return state.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
      },
    };
  }
}

// convert reads a field's text as the schema's type; text that is not one stays text, so the
// schema check names the cell rather than the console guessing.
function convert(text, type) {
  if ((type === "integer" || type === "number") && /^-?\d+(\.\d+)?$/.test(text)) {
    const n = Number(text);
    if (type === "number" || Number.isInteger(n)) return n;
  }
  if (type === "boolean" && (text === "true" || text === "false")) return text === "true";
  return text;
}

const problemPath = /^(data(?:\.[A-Za-z0-9_]+|\[\d+\])*):?\s+(.*)$/s;

/**
 * dataEditor returns the editor of data: el, read() (the data as edited), and mark(problems), which
 * shows each schema problem of the file at the field its path names and returns those it could not
 * place.
 */
export function dataEditor(data, schema) {
  const ed = new Editor();
  const root = ed.record(isRecord(data) ? data : {}, schema, "data", 3);
  root.el.classList.add("data-editor");
  const marked = [];
  const unmark = () => {
    for (const el of marked.splice(0)) {
      el.removeAttribute("aria-invalid");
      const err = el.parentElement && el.parentElement.querySelector(":scope > .cell-error");
      if (err) err.remove();
      el.removeAttribute("aria-describedby");
    }
  };
  return {
    el: root.el,
    read: root.read,
    fields: ed.fields,
    mark(problems) {
      unmark();
      const unplaced = [];
      for (const p of problems) {
        const m = problemPath.exec(p.message || "");
        let target = null;
        let msg = p.message;
        if (m) {
          msg = m[2];
          let path = m[1];
          while (path && !ed.fields.has(path)) {
            const shorter = path.replace(/(\.[A-Za-z0-9_]+|\[\d+\])$/, "");
            path = shorter === path ? "" : shorter;
          }
          target = path ? ed.fields.get(path) : null;
          if (target && path !== m[1]) msg = `${m[1].slice(path.length).replace(/^\./, "")} ${msg}`;
        }
        if (!target || target === root.el) {
          unplaced.push(p);
          continue;
        }
        const id = (target.id || (target.id = fieldId(target.dataset.path))) + "-error";
        const prev = target.parentElement.querySelector(":scope > .cell-error");
        if (prev) prev.textContent += "; " + msg;
        else target.after(h("p", { class: "cell-error", id, role: "alert" }, msg));
        target.setAttribute("aria-invalid", "true");
        target.setAttribute("aria-describedby", id);
        marked.push(target);
      }
      return unplaced;
    },
    firstInvalid: () => marked[0] || null,
  };
}
