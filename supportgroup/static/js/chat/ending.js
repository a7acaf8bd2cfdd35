/* How the chat ends on this page: removed or banned by a peer expert, the session ended (logged out
 * elsewhere, idle, a quick exit on another device), the connection refused for good, the meeting closed
 * (the closing screen, for participants), or this page's own quick exit (safety.js fires "sg:quick-exit").
 * Each leaves nothing of the chat on the page.
 */
import { T, meetingId, root } from "./config.js";
import { $, button, el, fmt, showNotice } from "./dom.js";
import { actions, hooks, page } from "./store.js";
import { notices, showStatus, updateComposer } from "./state.js";
import { socket } from "./transport.js";

const chatLists = [$("messages"), $("whisper-list"), $("present")];
const layout = $("chat-layout");
const pinnedBox = $("pinned");
const waitingRoom = $("waiting-room");
const removedNotice = $("removed-notice");

function clearChat() {
  chatLists.forEach(function (node) { if (node) { node.textContent = ""; } });
  ["whisper-input", "message-input"].forEach(function (id) { const box = $(id); if (box) { box.value = ""; } });
  if (hooks.clear) { hooks.clear(); }
  if (pinnedBox) { pinnedBox.hidden = true; }
  layout.hidden = true;
  if (waitingRoom) { waitingRoom.hidden = true; }
  Object.keys(notices).forEach(function (key) { showNotice(notices[key], ""); });
}

/* Removed or banned: nothing of the chat stays on the page. */
export function showRemoved(reason, banned, explanation) {
  page.removed = true;
  page.outbox = {}; page.awaiting = {};
  clearInterval(page.retryTimer); clearTimeout(page.muteTimer);
  page.rendered = {};
  clearChat();
  showStatus("");
  $("removed-text").textContent = explanation || (banned ? T.textBanned : T.textRemoved);
  $("removed-reason").textContent = reason ? fmt(T.textReason, { reason: reason }) : "";
  removedNotice.hidden = false;
  removedNotice.focus();
  updateComposer();
  socket.disconnect();
}

/* A banner that replaces the chat's status when the connection will not come back by itself. */
let banner = null;
function showBanner(text, action) {
  page.ended = true;
  showStatus("");
  if (!banner) {
    banner = el("div", "notice info connection-ended");
    banner.setAttribute("role", "alert");
    banner.tabIndex = -1;
    root.insertBefore(banner, root.firstChild);
  }
  banner.textContent = "";
  banner.appendChild(el("p", null, text));
  banner.appendChild(action);
  updateComposer();
  banner.focus();
}

/* Logged out elsewhere, idle too long, or the account changed: only logging in again helps. */
export function showSessionEnded() {
  const link = el("a", "button primary", T.textLogInAgain);
  link.href = T.loginUrl + "?next=" + encodeURIComponent(window.location.pathname + window.location.search);
  page.ended = true;
  socket.disconnect();
  // Nothing of the chat stays on a page whose session ended (logged out, or quick exit on another device).
  page.outbox = {}; page.awaiting = {}; page.rendered = {};
  clearChat();
  // Neither the group, the alias nor the logged-in menu: someone else may be holding the device now.
  const head = root.querySelector(".chat-head");
  if (head) { head.hidden = true; }
  const nav = document.querySelector(".site-header nav");
  if (nav) { nav.hidden = true; }
  document.title = T.textSessionEnded;
  showBanner(T.textSessionEnded, link);
}

/* The meeting closed (participants): thanks, the next meeting, where to find help; nothing of the
 * conversation stays on the page, and the page stops listening. */
const closing = $("closing");
export function showClosing() {
  if (!closing || page.removed) { return; }
  page.ended = true;
  page.outbox = {}; page.awaiting = {}; page.rendered = {};
  clearInterval(page.retryTimer); clearTimeout(page.muteTimer);
  clearChat();
  const pinnedText = pinnedBox && pinnedBox.querySelector(".pinned-text");
  if (pinnedText) { pinnedText.textContent = ""; }
  const sendNote = $("send-note");
  if (sendNote) { sendNote.textContent = ""; }
  showStatus("");
  // What the page said when it loaded ("You have accepted the house rules") is over too.
  document.querySelectorAll(".flashes").forEach(function (node) { node.remove(); });
  const wasHidden = closing.hidden;
  closing.hidden = false;
  if (wasHidden) { closing.focus(); }
  updateComposer();
  socket.disconnect();
}
actions.showClosing = showClosing;

export function showRefused() {
  showBanner(T.textRefused, button(T.textReload, "primary", function () { window.location.reload(); }));
}

/* Quick exit (safety.js): leave the meeting on the server at once and stop the connection. */
document.addEventListener("sg:quick-exit", function () {
  page.removed = true;  // no reconnect, no reload
  try { if (socket.connected) { socket.emit("leave", { meeting_id: meetingId }); } } catch (ignore) { /* leaving anyway */ }
  socket.disconnect();
  chatLists.forEach(function (node) { if (node) { node.textContent = ""; } });
  if (hooks.clear) { hooks.clear(); }
});
