// Small DOM helpers shared by the pages: element builder, notices, badges, dates, header.
import { explainError, STATUS_LABELS } from "./messages.js";
import { signOut } from "./api.js";

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** el("div", {class: "x", dataset: {id: 1}, onclick: fn}, child, "text", ...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/**
 * Show a notice in `box`: tone "error" | "warn" | "ok" | "info"; msg {title, text, detail}.
 * role=alert for errors so screen readers announce them.
 */
export function notice(box, msg, tone = "error") {
  box.replaceChildren();
  if (!msg) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const n = el(
    "div",
    { class: `notice notice-${tone}`, role: tone === "error" ? "alert" : "status" },
    msg.title ? el("strong", { class: "notice-title" }, msg.title) : null,
    msg.text ? el("p", {}, msg.text) : null,
    msg.detail ? el("p", { class: "notice-detail" }, msg.detail) : null,
    ...(msg.extra || []),
  );
  box.append(n);
  return n;
}

export function showError(box, err, context) {
  if (!(err && "status" in err)) console.error(err);
  return notice(box, explainError(err, context), "error");
}

export function badge(status) {
  return el("span", { class: `badge badge-${status}` }, STATUS_LABELS[status] || status);
}

const DATE_FMT = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const SHORT_FMT = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const TIME_FMT = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

function asDate(iso) {
  // "2024-03-05" is a calendar day: read it as local midnight, not UTC
  return /^\d{4}-\d{2}-\d{2}$/.test(iso) ? new Date(`${iso}T00:00:00`) : new Date(iso);
}
export const fmtDate = (iso) => (iso ? DATE_FMT.format(asDate(iso)) : "");
export const fmtShort = (iso) => (iso ? SHORT_FMT.format(asDate(iso)) : "");
export const fmtTime = (iso) => (iso ? TIME_FMT.format(asDate(iso)) : "");

export function todayIso() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export function fmtNumber(x, digits = 3) {
  if (x === null || x === undefined) return "";
  return Number(x).toLocaleString(undefined, { maximumFractionDigits: digits });
}

export const pct = (x) => (x === null || x === undefined ? "" : `${Math.round(x * 100)}%`);

const NAV = {
  customer: [],
  reviewer: [["/reviewer", "Review"]],
  operator: [["/reviewer", "Review"], ["/operator", "Operator"], ["/customer", "Readings"]],
};

/** Fill the page header: links for the role, who is signed in, a sign-out button. */
export function header(user) {
  const nav = $("#nav");
  if (nav) {
    nav.replaceChildren(
      ...(NAV[user.role] || []).map(([href, text]) =>
        el("a", { href, "aria-current": location.pathname === href ? "page" : null }, text),
      ),
    );
  }
  const who = $("#who");
  if (!who) return;
  who.replaceChildren(
    el("span", { class: "who-name", title: user.email }, user.name || user.email),
    el("span", { class: "who-role" }, user.role),
    el("button", { type: "button", class: "btn btn-quiet btn-small", id: "signout", onclick: signOut }, "Sign out"),
  );
  who.hidden = false;
}

/** A short-lived message at the bottom of the screen. */
export function toast(text, tone = "ok") {
  let box = $("#toasts");
  if (!box) {
    box = el("div", { id: "toasts", "aria-live": "polite" });
    document.body.append(box);
  }
  const t = el("div", { class: `toast toast-${tone}` }, text);
  box.append(t);
  setTimeout(() => t.classList.add("toast-out"), 3200);
  setTimeout(() => t.remove(), 3800);
}
