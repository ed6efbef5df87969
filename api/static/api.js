// The JSON API from the browser: the bearer token (sessionStorage, or localStorage when "keep me signed in"),
// fetch with JSON errors turned into ApiError, photo upload with progress (XHR), images as blob URLs.

const TOKEN_KEY = "meterread.token";

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY);
}

export function setToken(token, remember) {
  clearToken();
  (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
  for (const url of imageCache.values()) url.then((u) => URL.revokeObjectURL(u), () => {});
  imageCache.clear();
}

/** An error answered by the API ({"detail", "code"?}), or status 0 when the network failed. */
export class ApiError extends Error {
  constructor(status, body, path) {
    const detail = body && typeof body.detail === "string" ? body.detail : "";
    super(detail || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = (body && body.code) || null;
    this.detail = detail;
    this.errors = (body && body.errors) || null;
    this.path = path;
  }
}

/** A fresh Idempotency-Key: the same key is sent again on a retry so a reading is never counted twice. */
export function newKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function authHeaders(extra) {
  const headers = { Accept: "application/json", ...(extra || {}) };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

function parseBody(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 300) };
  }
}

/** Signed out (token missing, expired or revoked): back to the sign-in page, then here again. */
export function toSignIn(reason) {
  clearToken();
  const next = location.pathname + location.search;
  const q = new URLSearchParams({ next });
  if (reason) q.set("why", reason);
  location.assign(`/?${q}`);
}

/**
 * Call the API. Options: method, json (a body sent as JSON), form (sent urlencoded), idempotencyKey,
 * raw (resolve to the Response), redirect401 (false: a 401 rejects instead of going to the sign-in page).
 * Resolves to the parsed JSON (null for 204); rejects with ApiError.
 */
export async function api(path, { method = "GET", json, form, idempotencyKey, raw = false, redirect401 = true } = {}) {
  const extra = {};
  let body;
  if (json !== undefined) {
    extra["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    extra["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(form).toString();
  }
  if (idempotencyKey) extra["Idempotency-Key"] = idempotencyKey;
  let res;
  try {
    res = await fetch(path, { method, headers: authHeaders(extra), body, credentials: "omit" });
  } catch {
    throw new ApiError(0, { detail: "network" }, path);
  }
  if (res.status === 401 && redirect401 && path !== "/api/auth/token") {
    toSignIn("expired");
    throw new ApiError(401, await res.json().catch(() => ({})), path);
  }
  if (!res.ok) throw new ApiError(res.status, parseBody(await res.text()), path);
  if (raw) return res;
  if (res.status === 204) return null;
  return parseBody(await res.text());
}

/**
 * Upload a photo (multipart) with progress: onProgress(fraction 0..1) while the bytes go up,
 * onUploaded() once they are all sent (the server is then reading the photo).
 */
export function upload(path, formData, { onProgress, onUploaded } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    const headers = authHeaders();
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    };
    xhr.upload.onload = () => onUploaded && onUploaded();
    xhr.onerror = () => reject(new ApiError(0, { detail: "network" }, path));
    xhr.ontimeout = () => reject(new ApiError(0, { detail: "timeout" }, path));
    xhr.onload = () => {
      const body = parseBody(xhr.responseText);
      if (xhr.status === 401) {
        toSignIn("expired");
        reject(new ApiError(401, body, path));
      } else if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body, path));
    };
    xhr.timeout = 120000;
    xhr.send(formData);
  });
}

// Images of drafts need the bearer token, so <img src="/api/..."> cannot load them: fetch, then a blob URL.
const imageCache = new Map();

export function imageUrl(path) {
  if (!path) return Promise.resolve(null);
  if (!imageCache.has(path)) {
    const p = api(path, { raw: true }).then(async (res) => URL.createObjectURL(await res.blob()));
    p.catch(() => imageCache.delete(path));
    imageCache.set(path, p);
  }
  return imageCache.get(path);
}

/** Download an authenticated file (e.g. the history CSV) under the name the server gives. */
export async function download(path, fallbackName) {
  const res = await api(path, { raw: true });
  const blob = await res.blob();
  const cd = res.headers.get("Content-Disposition") || "";
  const m = /filename="?([^";]+)"?/.exec(cd);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = m ? m[1] : fallbackName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

/** The signed-in user, or off to the sign-in page. */
export async function currentUser() {
  if (!getToken()) {
    toSignIn();
    return new Promise(() => {});
  }
  return api("/api/users/me");
}

export async function signOut() {
  try {
    await api("/api/auth/logout", { method: "POST" });
  } catch {
    /* signed out locally anyway */
  }
  clearToken();
  location.assign("/");
}

export const HOME_OF_ROLE = { customer: "/customer", reviewer: "/reviewer", operator: "/operator" };
