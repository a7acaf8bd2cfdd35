/* Drawing messages: plain text only (textContent). Each server id is drawn once (`page.rendered`), never
 * again once deleted (`page.deleted`), and sorted in by id; lines not yet acknowledged stay last. Our own
 * message coming back takes the place of its "sending" or "waiting for approval" line. The replay point
 * (`page.covered`) moves only over ids this page knows. A message's actions (report, delete, pin ...) sit in a
 * small menu of its own (`messageMenu`); `showMessage` scrolls the list to a message and marks it.
 */
import { T, isModerator, meetingId, myId } from "./config.js";
import { $, authorLine, button, el, fmt, formatTime, nearBottom, noteIn } from "./dom.js";
import "./layout.js";
import { notesFor, placeNote } from "./crisis.js";
import { openReport } from "./report.js";
import { renderPinned } from "./state.js";
import { hooks, page } from "./store.js";
import { emitAck } from "./transport.js";

const list = $("messages");
const scroller = list.parentElement;
const whisperList = $("whisper-list");
const input = $("message-input");

/* The list a message of this kind goes to (null: not shown on this page). */
export function listFor(kind) {
  if (kind === "whisper") { return isModerator ? (hooks.listFor && hooks.listFor(kind)) : whisperList; }
  if (kind === "backchannel") { return isModerator && hooks.listFor ? hooks.listFor(kind) : null; }
  return list;
}

/* The box that scrolls for a list (the main list scrolls in its section). */
export function scrollerFor(target) { return target === list ? scroller : target; }

export function messageElement(message) {
  const kind = message.kind || "chat";
  const item = el("li", "message kind-" + kind + (message.author && message.author.id === myId ? " mine" : ""));
  const meta = el("p", "meta");
  if (kind === "announcement") { meta.appendChild(el("span", "kind-label", T.textAnnouncement)); meta.appendChild(document.createTextNode(" ")); }
  meta.appendChild(authorLine(message.author));
  if (message.created_at) { meta.appendChild(el("time", "when", formatTime(message.created_at))).dateTime = message.created_at; }
  item.appendChild(meta);
  item.appendChild(el("p", "text", message.text));
  return item;
}

function insertSorted(target, item, id) {
  let before = null;
  for (let i = 0; i < target.children.length; i++) {
    const child = target.children[i];
    if (child === item) { continue; }
    if (!child.dataset.id || parseInt(child.dataset.id, 10) > id) { before = child; break; }  // unsent ones stay last
  }
  target.insertBefore(item, before);
}

let menuCount = 0;

function setMenuOpen(menu, open) {
  const toggle = menu.toggle;
  if (!toggle) { return; }
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
  menu.hidden = !open;
  toggle.closest(".message").classList.toggle("menu-open", open);
}

/* Close a message's menu; `refocus` puts the focus back on its "⋯" button. */
export function closeMenu(menu, refocus) {
  if (!menu || menu.hidden) { return; }
  setMenuOpen(menu, false);
  if (refocus) { menu.toggle.focus(); }
}

/* The menu of a message's actions: a small "⋯" button (aria-expanded) in its top line, and the list of
 * actions it opens under the text. Made on first use; returns the list to add buttons to. */
export function messageMenu(item) {
  const existing = item.querySelector(":scope > .msg-menu");
  if (existing) { return existing; }
  const menu = el("div", "msg-menu");
  menuCount += 1;
  menu.id = "msg-menu-" + menuCount;
  menu.hidden = true;
  const toggle = button("⋯", "msg-menu-toggle", function () { setMenuOpen(menu, menu.hidden); });
  toggle.setAttribute("aria-label", T.textMessageActions);
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", menu.id);
  menu.toggle = toggle;
  item.addEventListener("keydown", function (event) {  // Escape in the message (its button, its menu) closes it
    if (event.key === "Escape" && !menu.hidden) { closeMenu(menu, true); }
  });
  const meta = item.querySelector(":scope > .meta");
  (meta || item).appendChild(toggle);
  const text = item.querySelector(":scope > .text");
  item.insertBefore(menu, text ? text.nextSibling : null);
  return menu;
}

/* A message's menu and its button go (e.g. a held message a peer expert did not approve). */
function removeMenu(item) {
  const menu = item.querySelector(":scope > .msg-menu");
  if (!menu) { return; }
  if (menu.toggle) { menu.toggle.remove(); }
  menu.remove();
}

/* An action in a message's menu; `keepOpen`: the menu stays open (the report form opens under it). */
export function menuAction(item, label, onClick, keepOpen) {
  const menu = messageMenu(item);
  const action = button(label, "small menu-action", function () {
    if (!keepOpen) { closeMenu(menu, true); }
    onClick(action);
  });
  menu.appendChild(action);
  return action;
}

// A tap outside a message closes its open menu.
document.addEventListener("click", function (event) {
  Array.prototype.forEach.call(document.querySelectorAll(".msg-menu:not([hidden])"), function (menu) {
    const item = menu.closest(".message");
    if (item && !item.contains(event.target)) { closeMenu(menu, false); }
  });
});

function messageActions(item, message) {
  const kind = message.kind || "chat";
  if (kind !== "chat" && kind !== "announcement") { return; }
  const mine = message.author && message.author.id === myId;
  if (isModerator) {
    menuAction(item, T.textPin, function () { emitAck("pin", { meeting_id: meetingId, id: message.id }, noteIn(item)); });
  } else if (!mine && kind === "chat") {
    const report = menuAction(item, T.textReport, function () { openReport(item, message, report); }, true);
    report.setAttribute("aria-expanded", "false");
  }
  if (mine || isModerator) {
    menuAction(item, T.textDelete, function () { deleteMessage(message.id, item); });
  }
}

/* Messages an open alert or report is about (server id -> how many), marked in the list. */
const flagged = {};

export function flagMessage(id, on) {
  if (typeof id !== "number") { return; }
  flagged[id] = Math.max(0, (flagged[id] || 0) + (on ? 1 : -1));
  if (!flagged[id]) { delete flagged[id]; }
  const item = page.rendered[id];
  if (item) { item.classList.toggle("flagged", !!flagged[id]); }
}

/* Scroll the list to a message (in its own box: the page stays) and mark it for a moment; `focus` (unless
 * false) moves the focus to it. */
export function showMessage(id, focus) {
  const item = page.rendered[id];
  if (!item) { return false; }
  scroller.scrollTop = Math.max(0, item.offsetTop - scroller.clientHeight / 2 + item.offsetHeight / 2);
  item.classList.remove("spotlight");
  void item.offsetWidth;  // restart the animation
  item.classList.add("spotlight");
  if (focus !== false) { item.tabIndex = -1; item.focus({ preventScroll: true }); }
  return true;
}

function deleteMessage(id, item) {
  emitAck("delete_message", { meeting_id: meetingId, id: id }, noteIn(item), function () { removeMessage(id); });
}

export function render(message) {
  if (!message || typeof message.id !== "number" || page.deleted[message.id] || page.rendered[message.id]) { return; }
  const kind = message.kind || "chat";
  const target = listFor(kind);
  if (!target) { return; }
  if (message.status === "pending") {  // a held message of our own, e.g. in a replay
    if (message.author && message.author.id === myId && !page.awaiting[message.client_id] && !page.outbox[message.client_id]) {
      const held = messageElement(message);
      held.classList.add("pending");
      held.appendChild(el("span", "delivery", T.textSending));
      target.appendChild(held);
      page.outbox[message.client_id] = { element: held };
      awaitApproval(message.client_id, message.id);
    }
    return;
  }
  const box = scrollerFor(target);
  let stick = nearBottom(box);
  const item = messageElement(message);
  const own = message.author && message.author.id === myId;
  const earlier = own && (page.outbox[message.client_id] || page.awaiting[message.client_id]);
  if (earlier) {
    // Our own message came back: it takes the place of the "sending" or "waiting for approval" line.
    earlier.element.remove();
    delete page.outbox[message.client_id];
    delete page.awaiting[message.client_id];
    stick = true;
  }
  item.dataset.id = message.id;
  page.rendered[message.id] = item;
  messageActions(item, message);
  if (flagged[message.id]) { item.classList.add("flagged"); }
  if (hooks.decorateMessage) { hooks.decorateMessage(item, message); }
  insertSorted(target, item, message.id);
  if (notesFor[message.id] && target === list) { placeNote(notesFor[message.id], item); delete notesFor[message.id]; }
  if (message.id > page.lastId) { page.lastId = message.id; }
  advanceCovered();
  if (stick) { box.scrollTop = box.scrollHeight; }
  if (page.quiet) { return; }
  if (hooks.onMessage) { hooks.onMessage(message); }
}

/* A live message moves the replay point only when it is the next id: a gap (a message lost on the way, or
 * one not for us) stays open until a join or catch_up answers for it. */
export function advanceCovered() {
  while (page.rendered[page.covered + 1] || page.deleted[page.covered + 1]) { page.covered += 1; }
}

export function removeMessage(id) {
  // Every caller reports a deletion the server made: count it once, so the next `sync` asks nothing.
  if (!page.deleted[id]) { page.knownDeleted += 1; }
  page.deleted[id] = true;
  let item = page.rendered[id];
  Object.keys(page.awaiting).forEach(function (clientId) {
    if (page.awaiting[clientId].id === id) { item = item || page.awaiting[clientId].element; delete page.awaiting[clientId]; }
  });
  if (item) {
    const hadFocus = item.contains(document.activeElement);
    item.remove();
    if (hadFocus) { (input.disabled ? $("messages-title") : input).focus(); }
  }
  delete page.rendered[id];
  if (page.ms.pinned && page.ms.pinned.id === id) { page.ms.pinned = null; renderPinned(); }
  if (hooks.onDeleted) { hooks.onDeleted(id); }
}

/* Our own message is held for a peer expert's approval: its line says so, and it can still be deleted. */
export function awaitApproval(clientId, id) {
  const entry = page.outbox[clientId];
  delete page.outbox[clientId];
  if (page.deleted[id] || page.rendered[id]) { entry.element.remove(); return; }
  entry.element.classList.add("awaiting");
  entry.element.querySelector(".delivery").textContent = T.textAwaiting;
  entry.element.dataset.pendingId = id;
  page.awaiting[clientId] = { id: id, element: entry.element };
  menuAction(entry.element, T.textDelete, function () {
    emitAck("delete_message", { meeting_id: meetingId, id: id }, noteIn(entry.element), function () { removeMessage(id); });
  });
}

/* A peer expert did not approve our held message: its line stays, saying so (and why). */
export function markRejected(id, reason) {
  Object.keys(page.awaiting).forEach(function (clientId) {
    const entry = page.awaiting[clientId];
    if (entry.id !== id) { return; }
    delete page.awaiting[clientId];
    entry.element.classList.remove("awaiting");
    entry.element.classList.add("refused");
    removeMenu(entry.element);
    const textNote = T.textRejected + (reason ? " " + fmt(T.textReason, { reason: reason }) : "");
    entry.element.querySelector(".delivery").textContent = textNote;
  });
}
