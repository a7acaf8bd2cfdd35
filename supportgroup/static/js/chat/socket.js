/* Joining and staying joined (docs/protocol.md §7).
 *
 * After a reconnect the page joins with the last server id it covered and receives what it missed, page by
 * page (REPLAY_LIMIT). While connected, the server's `sync` (every heartbeat) says how far the meeting has
 * come; when this page has not covered that far, or knows another number of deletions, it asks `catch_up`:
 * a live `message` lost on the way (a Redis restart, a crash) is fetched anyway. A peer expert's page also
 * catches up every 5th sync, for the moderation snapshot. Retries (joins, refused connections) back off
 * exponentially with jitter, capped.
 *
 * A join refused for now (not open yet, locked, house rules) waits: the server keeps the socket in the
 * meeting's lobby room, whose `lobby` event (the state changed) makes the page join again, as does the
 * countdown when the lobby opens ("sg:lobby-open"). Nobody has to reload.
 */
import { ACK_TIMEOUT_MS, T, isModerator, meetingId, replayLimit } from "./config.js";
import { $, backoff } from "./dom.js";
import { showRefused, showRemoved, showSessionEnded } from "./ending.js";
import { advanceCovered, removeMessage, render } from "./messages.js";
import { flushOutbox } from "./outbox.js";
import { renderHands, renderPresence } from "./presence.js";
import { applyState, setMuted, setWaiting, showStatus, updateComposer } from "./state.js";
import { actions, hooks, page } from "./store.js";
import { socket } from "./transport.js";

const MODERATION_EVERY = 5;  // moderators catch up at least every 5th sync (10 s): see docs/protocol.md §7
// Join refusals that may pass (tried again later); any other is shown and stays.
const RETRY_JOIN = { timeout: 1, internal_error: 1, rate_limited: 1, rights_changed: 1, unavailable: 1 };
// Join refusals that pass when the meeting's state changes: wait for `lobby` (or the countdown).
const WAIT_JOIN = { meeting_not_open: 1, meeting_locked: 1, rules_not_accepted: 1 };
const waitTexts = ($("participant-texts") || {}).dataset || {};

let catchingUp = false;        // a catch_up is under way
let syncsSinceSnapshot = 0;    // moderators: syncs since the last moderation snapshot (join or catch_up ack)
let joinFailures = 0;          // joins that failed in a row (back-off)
let connectFailures = 0;       // refused or failed connections in a row (back-off)
let joinsInFlight = 0;         // joins (and replay pages) sent and not yet answered
let joinAttempt = 0;           // grows with every join that timed out: only the newest is retried
let shutdownDelay = null;      // set by server_shutdown: reconnect after this many ms
let lobbyMissed = false;       // a `lobby` came while a join was under way: that join may have read the old state

export function join(after) {
  if (page.removed) { return; }
  const payload = { meeting_id: meetingId };
  if (after !== null && after !== undefined) { payload.after = after; }
  joinsInFlight += 1;
  const generation = ++page.snapshotGeneration;
  socket.timeout(ACK_TIMEOUT_MS * 2).emit("join", payload, function (err, ack) {
    joinsInFlight -= 1;
    if (page.removed) { return; }
    const error = err ? { code: "timeout", message: T.textTimeout }
      : (!ack || !ack.ok) ? ((ack && ack.error) || { code: "unknown", message: T.textError }) : null;
    if (error && error.code === "superseded") { return; }  // a newer join of this socket answers instead
    if (error) {
      if (error.code === "removed" || error.code === "banned") { showRemoved("", error.code === "banned", error.message); return; }
      if (error.code === "not_authenticated") { showSessionEnded(); return; }
      if (WAIT_JOIN[error.code]) {
        if (lobbyMissed && joinsInFlight === 0) { lobbyMissed = false; rejoin(); return; }
        showStatus(waitText(error));
        return;
      }
      showStatus(error.message || T.textError);
      if (RETRY_JOIN[error.code]) {
        // Again from the same point (a page of a replay too), later each time; a newer join makes this one moot.
        const attempt = ++joinAttempt;
        setTimeout(function () { if (socket.connected && attempt === joinAttempt) { join(after); } }, backoff(joinFailures++));
      }
      return;
    }
    joinFailures = 0;
    page.joined = true;
    const messages = ack.messages || [];
    const firstHistory = page.covered === 0 && page.lastId === 0;
    page.quiet = firstHistory;
    try { messages.forEach(render); } finally { page.quiet = false; }
    const fullPage = after !== null && after !== undefined && messages.length >= replayLimit;
    // While waiting to be let in nothing is sent: the replay point stays, so the join after `admitted`
    // gets the recent history (and as history, not news).
    if (!ack.waiting) {
      if (fullPage) { page.covered = Math.max(page.covered, messages[messages.length - 1].id); }
      else if (typeof ack.last_id === "number") { page.covered = Math.max(page.covered, ack.last_id); }
      advanceCovered();
      if (typeof ack.deleted === "number" && firstHistory) { page.knownDeleted = ack.deleted; }
    }
    if (ack.present) { renderPresence(ack.present); }
    if (ack.hands) { renderHands(ack.hands); }
    if (ack.muted !== undefined) { setMuted(ack.muted); }
    if (hooks.onModeration && ack.moderation) { hooks.onModeration(ack.moderation, firstHistory, generation); syncsSinceSnapshot = 0; }
    setWaiting(ack.waiting);
    applyState(ack.state || (ack.meeting ? { state: ack.meeting.state } : {}));
    if (fullPage) {
      // A full page: there may be more. Ask for the next page before sending anything queued.
      join(messages[messages.length - 1].id);
      return;
    }
    flushOutbox();
    // Deleted while this page was away: the replay leaves them out, catch_up names them.
    if (typeof ack.deleted === "number" && ack.deleted !== page.knownDeleted) { catchUp(); }
  });
}

function waitText(error) {
  if (error.code === "meeting_locked" && waitTexts.textLockedWait) { return waitTexts.textLockedWait; }
  if (error.code === "meeting_not_open" && page.ms.state === "scheduled" && waitTexts.textNotOpenWait) {
    return waitTexts.textNotOpenWait;
  }
  return error.message || T.textError;
}

/* `lobby`: the meeting's state or lock changed. A page that is not in yet tries again. */
export function onLobby(data) {
  applyState({ state: data.state, locked: data.locked });
  if (page.joined || page.ended || !socket.connected) { return; }
  if (joinsInFlight > 0) { lobbyMissed = true; return; }  // asked again when that join is refused
  rejoin();
}
document.addEventListener("sg:lobby-open", function () {
  if (!page.joined && !page.removed && !page.ended && socket.connected && joinsInFlight === 0) { rejoin(); }
});

/* Join again from the replay point (after a reconnect, `admitted`, `lobby`, or `not_joined`). */
export function rejoin() {
  join(page.covered > 0 ? page.covered : null);
}
actions.rejoin = rejoin;

/* Fetch what this page missed: messages after `covered` up to the server's last id, and deleted ids. */
function catchUp() {
  if (catchingUp || joinsInFlight > 0 || !page.joined || page.waiting || page.removed || !socket.connected) { return; }
  catchingUp = true;
  const generation = ++page.snapshotGeneration;
  socket.timeout(ACK_TIMEOUT_MS * 2).emit("catch_up", { meeting_id: meetingId, after: page.covered }, function (err, ack) {
    catchingUp = false;
    if (page.removed || err || !ack) { return; }  // the next sync asks again
    if (!ack.ok) {
      const code = ack.error && ack.error.code;
      if (code === "not_joined") { page.joined = false; rejoin(); }
      else if (code === "removed" || code === "banned") { showRemoved("", code === "banned", ack.error.message); }
      else if (code === "not_authenticated") { showSessionEnded(); }
      return;
    }
    if (page.waiting) { return; }  // sent back to the waiting room meanwhile: nothing was sent, nothing covered
    const messages = ack.messages || [];
    messages.forEach(render);
    (ack.deleted_ids || []).forEach(function (id) { if (!page.deleted[id]) { removeMessage(id); } });
    // Moderators: the queues (pending, reports, alerts, waiting) as the server had them when it read them,
    // which may be before a live event that reached this page first: the console leaves those rows alone.
    if (hooks.onModeration && ack.moderation) { hooks.onModeration(ack.moderation, false, generation); syncsSinceSnapshot = 0; }
    page.knownDeleted = (ack.deleted_ids || []).length;
    if (messages.length < replayLimit) { page.covered = Math.max(page.covered, ack.last_id); advanceCovered(); }
    else { page.covered = Math.max(page.covered, messages[messages.length - 1].id); advanceCovered(); catchUp(); }
  });
}

function reconnectLater(delay) {
  setTimeout(function () { if (!page.removed && !page.ended && !socket.connected) { socket.connect(); } }, delay);
}

socket.on("connect", function () {
  connectFailures = 0;
  page.joined = false;
  rejoin();
});
socket.on("disconnect", function (reason) {
  page.joined = false;
  updateComposer();
  if (page.removed || page.ended) { return; }
  showStatus(T.textReconnecting);
  // The server closed this socket (logout elsewhere, a draining process): socket.io does not reconnect
  // by itself. Try again: a session that ended is refused (`not_authenticated`) and says so.
  if (reason === "io server disconnect" || reason === "io client disconnect") {
    const delay = shutdownDelay !== null ? shutdownDelay : backoff(0, 2000);
    shutdownDelay = null;
    reconnectLater(delay);
  }
});
socket.on("connect_error", function (err) {
  if (page.removed || page.ended) { return; }
  const reason = err && err.message;
  if (reason === "not_authenticated") { showSessionEnded(); return; }
  if (reason === "unavailable") {  // the server cannot check the session now: try again, later each time
    showStatus(T.textUnavailable);
    reconnectLater(backoff(connectFailures++));
    return;
  }
  if (!socket.active) { showRefused(); return; }  // refused for a reason that will not pass by itself
  showStatus(T.textReconnecting);  // the server is unreachable: socket.io tries again with back-off
});
// A draining server process: reconnect (to another one) after its delay plus jitter.
socket.on("server_shutdown", function (data) {
  const wait = data && typeof data.reconnect_in_ms === "number" ? Math.max(0, data.reconnect_in_ms) : 0;
  shutdownDelay = wait + Math.round(Math.random() * Math.max(1000, wait / 2));
  socket.disconnect();  // not the manager's own reconnect: ours, after that delay
});
// Proof of life for peer experts' presence: answered from the event at once (timers are throttled).
socket.on("alive", function (_data, ack) { if (typeof ack === "function") { ack({ ok: true }); } });
// How far the meeting has come: fetch what this page missed, if anything.
socket.on("sync", function (data) {
  if (!data || data.meeting_id !== meetingId || page.removed || !page.joined) { return; }
  if (data.last_id > page.covered || data.deleted !== page.knownDeleted) { catchUp(); return; }
  // Some moderation changes allocate no message id (a report, an alert resolved), so `sync` does not show
  // them: a moderator's page also catches up every MODERATION_EVERY-th sync, for the snapshot.
  if (isModerator && ++syncsSinceSnapshot >= MODERATION_EVERY) { catchUp(); }
});
