/* Small helpers for building the page: plain text only (textContent), never HTML; the {name} fill-in of
 * translated strings; times; notes (role=status) and notices; the client ids; the retry back-off.
 */
import { T, myId } from "./config.js";

export function $(id) { return document.getElementById(id); }

/* Exponential back-off with jitter: about 1, 2, 4 ... s, at most `cap` ms, each between half and all of it. */
export function backoff(failures, cap) {
  const full = Math.min(cap || 30000, 1000 * Math.pow(2, Math.min(failures, 15)));
  return Math.round(full / 2 + Math.random() * full / 2);
}

export function fmt(template, vars) {
  return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
    return vars && Object.prototype.hasOwnProperty.call(vars, key) ? String(vars[key]) : whole;
  });
}

export function formatTime(iso) {
  const date = new Date(iso);
  if (isNaN(date.getTime())) { return ""; }
  // 24-hour times in every language (13:05, never 1:05 PM).
  return date.toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

export function newClientId() {
  if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
}

export function el(tag, className, content) {
  const node = document.createElement(tag);
  if (className) { node.className = className; }
  if (content !== undefined && content !== null) { node.textContent = content; }
  return node;
}

export function button(label, className, onClick) {
  const b = el("button", className, label);
  b.type = "button";
  if (onClick) { b.addEventListener("click", onClick); }
  return b;
}

/* Show a short text in a note element (role=status); isError marks it visually. */
export function setNote(note, message, isError) {
  if (!note) { return; }
  note.textContent = message || "";
  note.classList.toggle("error", !!isError && !!message);
}

/* The note inside a container (created when missing). */
export function noteIn(container) {
  let note = container.querySelector(":scope > .form-note");
  if (!note) { note = el("p", "form-note"); note.setAttribute("role", "status"); container.appendChild(note); }
  return note;
}

export function showNotice(node, message) {
  if (!node) { return; }
  if (message) {
    if (node.textContent !== message) { node.textContent = message; }
    node.hidden = false;
  } else { node.textContent = ""; node.hidden = true; }
}

/* Enter sends, Shift+Enter makes a new line. */
export function enterSubmits(textarea, targetForm) {
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); targetForm.requestSubmit(); }
  });
}

export function authorLine(author) {
  const who = el("span", "author" + (author.role === "peer_expert" ? " peer-expert" : ""), author.name || "");
  if (author.role === "peer_expert") {
    who.appendChild(document.createTextNode(" "));
    who.appendChild(el("span", "badge", T.textPeerExpert));
  }
  if (author.id === myId) {
    who.appendChild(document.createTextNode(" (" + T.textYou + ")"));
  }
  return who;
}

export function nearBottom(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 80; }
