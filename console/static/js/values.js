// Renders JSON data (a rule table's data, a decision's outputs) for a reader: scalars as a list of
// settings, arrays of objects as grids, with column descriptions from a JSON Schema when given.
import { h, scalar } from "./dom.js";

function isRecordArray(v) {
  return Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === "object" && !Array.isArray(x));
}

function propsOf(schema) {
  return (schema && typeof schema === "object" && schema.properties) || {};
}

function describe(schema) {
  return schema && typeof schema === "object" && typeof schema.description === "string" ? schema.description.trim() : "";
}

/** columnsOf orders columns by the schema's properties, then any others as they appear. */
function columnsOf(rows, itemSchema) {
  const cols = [];
  for (const k of Object.keys(propsOf(itemSchema))) if (rows.some((r) => k in r)) cols.push(k);
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  return cols;
}

/** grid renders an array of objects as a table; caption names it, headers carry descriptions. */
export function grid(rows, { caption, description, schema, id } = {}) {
  const itemSchema = schema && schema.items;
  const props = propsOf(itemSchema);
  const cols = columnsOf(rows, itemSchema);
  const table = h("table", { class: "grid", id },
    h("caption", {}, caption || "", description ? h("span", { class: "desc" }, description) : null),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col", class: "rownum" }, h("span", { class: "visually-hidden" }, "Row"), "#"),
      cols.map((c) => {
        const d = describe(props[c]);
        return h("th", { scope: "col", "data-col": c, title: d || null }, h("span", { class: "colname" }, c), d ? h("span", { class: "coldesc" }, d) : null);
      }))),
    h("tbody", {}, rows.map((r, i) => h("tr", {},
      h("th", { scope: "row", class: "rownum" }, String(i + 1)),
      cols.map((c) => h("td", { "data-col": c }, c in r ? value(r[c], props[c]) : h("span", { class: "muted" }, "—")))))));
  return h("div", { class: "grid-wrap", role: "region", tabindex: "0", "aria-label": (caption || "table") + " (scrolls)" }, table);
}

function value(v, schema) {
  if (isRecordArray(v)) return grid(v, { schema });
  if (v && typeof v === "object" && !Array.isArray(v)) return settings(v, schema);
  return scalar(v);
}

/** settings renders an object's fields as a description list; nested records become grids. */
export function settings(obj, schema) {
  const props = propsOf(schema);
  const keys = [...Object.keys(props).filter((k) => k in obj), ...Object.keys(obj).filter((k) => !(k in props))];
  return h("dl", { class: "settings" }, keys.map((k) => {
    const d = describe(props[k]);
    return h("div", { class: "setting", "data-field": k },
      h("dt", {}, h("span", { class: "colname" }, k), d ? h("span", { class: "coldesc" }, d) : null),
      h("dd", {}, value(obj[k], props[k])));
  }));
}

/**
 * dataView splits an object into its scalar settings and one section per field that holds records
 * (a grid) or a nested object, each headed at level.
 */
export function dataView(data, schema, level = 2) {
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    return isRecordArray(data) ? grid(data, { schema, caption: "rows" }) : h("div", {}, scalar(data));
  }
  const props = propsOf(schema);
  const simple = {};
  const sections = [];
  const keys = [...Object.keys(props).filter((k) => k in data), ...Object.keys(data).filter((k) => !(k in props))];
  for (const k of keys) {
    const v = data[k];
    if (isRecordArray(v)) {
      sections.push(h("section", { class: "data-section", "aria-labelledby": "sec-" + k },
        h("h" + level, { id: "sec-" + k }, k),
        grid(v, { caption: k, description: describe(props[k]), schema: props[k], id: "grid-" + k })));
    } else if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 3) {
      sections.push(h("section", { class: "data-section", "aria-labelledby": "sec-" + k },
        h("h" + level, { id: "sec-" + k }, k),
        describe(props[k]) ? h("p", { class: "desc" }, describe(props[k])) : null,
        settings(v, props[k])));
    } else {
      simple[k] = v;
    }
  }
  const out = [];
  if (Object.keys(simple).length) {
    const sch = { properties: Object.fromEntries(Object.keys(simple).map((k) => [k, props[k] || {}])) };
    out.push(h("section", { class: "data-section", "aria-labelledby": "sec-settings" }, h("h" + level, { id: "sec-settings" }, "Settings"), settings(simple, sch)));
  }
  return h("div", { class: "data-view" }, out, sections);
}
