// The JSON API, same-origin. Every call sends the API key the user pasted (kept in sessionStorage
// only, so it leaves with the tab) as Authorization: Bearer.
const KEY = "arbiter.apiKey";

export function apiKey() {
  try { return sessionStorage.getItem(KEY) || ""; } catch { return ""; }
}

export function setApiKey(k) {
  try {
    if (k) sessionStorage.setItem(KEY, k); else sessionStorage.removeItem(KEY);
  } catch { /* storage disabled: the key lasts for this page only */ }
}

/** ApiError carries an RFC 9457 problem from the API (status, code, detail, errors). */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

export async function api(path, { method = "GET", body, text } = {}) {
  const headers = { Accept: "application/json" };
  const key = apiKey();
  if (key) headers.Authorization = "Bearer " + key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (text !== undefined) headers["Content-Type"] = "application/yaml";
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: text !== undefined ? text : body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { title: "The server could not be reached", detail: String(e) });
  }
  const raw = await resp.text();
  let data = null;
  if (raw) {
    try { data = JSON.parse(raw); } catch { data = { detail: raw }; }
  }
  if (!resp.ok) {
    const p = data || {};
    if (resp.status === 401 || resp.status === 403) {
      p.detail = (p.detail ? p.detail + " — " : "") + "paste an API key with the right scope in the field at the top";
    }
    throw new ApiError(resp.status, p);
  }
  return data;
}

export const enc = encodeURIComponent;
