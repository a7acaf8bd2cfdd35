/* The meeting's state on the page: the state label, the status line, the notices (no peer expert, muted,
 * the floor, slow mode, pre-moderation, locked), the pinned message, the waiting room, and who may write now
 * (the composer's enabled state). The server's MeetingState is merged into `page.ms` and redrawn here.
 */
import { T, isModerator, meetingId, myId } from "./config.js";
import { $, authorLine, fmt, formatTime, noteIn, showNotice } from "./dom.js";
import { actions, hooks, page } from "./store.js";
import { emitAck, socket } from "./transport.js";

const status = $("chat-status");
const stateLabel = $("meeting-state");
const layout = $("chat-layout");
const pinnedBox = $("pinned");
const waitingRoom = $("waiting-room");
const input = $("message-input");
const sendButton = $("send-button");
const handButton = $("hand-button");
const countdown = $("countdown");
export const notices = {
  noModerator: $("notice-no-moderator"), muted: $("notice-muted"), floor: $("notice-floor"),
  slow: $("notice-slow"), premoderation: $("notice-premoderation"), locked: $("notice-locked")
};

export function showStatus(message) {
  if (message) { status.textContent = message; status.hidden = false; }
  else { status.textContent = ""; status.hidden = true; }
}

/* Why this viewer cannot write now (null: they can). */
function writeBlocker() {
  const ms = page.ms;
  if (page.removed) { return "removed"; }
  if (page.ended || !socket.connected || !page.joined) { return "offline"; }
  if (page.waiting) { return "waiting"; }
  if (ms.state !== "open") { return "state"; }
  if (isModerator) { return null; }
  if (page.muted) { return "muted"; }
  if (ms.moderator_present === false) { return "no_moderator"; }
  if (ms.floor_only && !(ms.floor && ms.floor.id === myId)) { return "floor_only"; }
  return null;
}

export function updateComposer() {
  const blocker = writeBlocker();
  input.disabled = !!blocker;
  sendButton.disabled = !!blocker || page.retryUntil > Date.now();
  if (handButton) {
    handButton.disabled = page.removed || page.waiting || !page.joined || !socket.connected || page.ms.state !== "open";
  }
}

function renderNotices() {
  const ms = page.ms;
  const muted = page.muted;
  const open = ms.state === "open" && !page.removed && !page.waiting;
  showNotice(notices.noModerator, open && !isModerator && ms.moderator_present === false ? T.textNoModerator : "");
  let mutedText = "";
  if (open && muted) {
    mutedText = muted.until ? fmt(T.textMutedUntil, { time: formatTime(muted.until) }) : T.textMuted;
    if (muted.reason) { mutedText += " " + fmt(T.textReason, { reason: muted.reason }); }
  }
  showNotice(notices.muted, mutedText);
  let floorText = "";
  if (open && ms.floor && ms.floor.id === myId) { floorText = T.textFloorMine; }
  else if (open && ms.floor_only) { floorText = ms.floor ? fmt(T.textFloorOnly, { name: ms.floor.name }) : T.textFloorOnlyNobody; }
  else if (open && ms.floor) { floorText = fmt(T.textFloorHolder, { name: ms.floor.name }); }
  showNotice(notices.floor, floorText);
  showNotice(notices.slow, open && !isModerator && ms.slow_mode_seconds > 0 ? fmt(T.textSlowMode, { seconds: ms.slow_mode_seconds }) : "");
  showNotice(notices.premoderation, open && ms.premoderation && !isModerator ? T.textPremoderation : "");
  showNotice(notices.locked, open && ms.locked ? T.textLocked : "");
}

export function renderPinned() {
  if (!pinnedBox) { return; }
  const pinned = page.ms.pinned;
  if (!pinned || page.removed || page.deleted[pinned.id]) { pinnedBox.hidden = true; return; }
  const author = pinnedBox.querySelector(".pinned-author");
  author.textContent = "";
  author.appendChild(authorLine(pinned.author));
  pinnedBox.querySelector(".pinned-text").textContent = pinned.text;
  pinnedBox.hidden = false;
}

function renderStateLabel() {
  if (!stateLabel) { return; }
  const state = page.ms.state;
  const key = "state" + state.charAt(0).toUpperCase() + state.slice(1);
  stateLabel.textContent = T[key] || state;
  stateLabel.dataset.state = state;
  stateLabel.className = "tag state-" + state;
}

/* Merge a (possibly partial) MeetingState and redraw what depends on it. */
export function applyState(data) {
  const ms = page.ms;
  Object.keys(data || {}).forEach(function (key) { if (key !== "meeting_id") { ms[key] = data[key]; } });
  renderStateLabel();
  if (countdown && ms.state !== "scheduled") { countdown.hidden = true; }
  if (page.removed) { return; }
  if (actions.fitRetryToState) { actions.fitRetryToState(ms.slow_mode_seconds || 0, ms.state === "open"); }
  if (ms.state === "closed" && !isModerator && actions.showClosing) { actions.showClosing(); return; }
  if (ms.state === "closed" || ms.state === "cancelled") { showStatus(T.textClosed); }
  else if (ms.state !== "open") { showStatus(T.textNotOpen); }
  else if (socket.connected && page.joined) { showStatus(""); }
  renderNotices();
  renderPinned();
  updateComposer();
  if (hooks.onState) { hooks.onState(ms); }
}

export function setMuted(value) {
  page.muted = value;
  clearTimeout(page.muteTimer);
  if (page.muted && page.muted.until) {
    const msLeft = new Date(page.muted.until).getTime() - Date.now();
    if (msLeft <= 0) { page.muted = null; }
    else { page.muteTimer = setTimeout(function () { setMuted(null); }, Math.min(msLeft + 500, 2147483000)); }
  }
  renderNotices();
  updateComposer();
}

export function setWaiting(value) {
  page.waiting = !!value;
  if (waitingRoom) { waitingRoom.hidden = !page.waiting; }
  layout.hidden = page.waiting;
  renderNotices();
  updateComposer();
}

const unpinButton = $("unpin-button");
if (pinnedBox && unpinButton) {
  unpinButton.addEventListener("click", function () {
    emitAck("pin", { meeting_id: meetingId, id: null }, noteIn(pinnedBox));
  });
}
