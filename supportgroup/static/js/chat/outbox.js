/* Sending, with one outbox for chat, whispers, announcements and the backchannel (docs/protocol.md).
 * Each text gets a client id; until the server acknowledges it, its line says "sending" and it is sent
 * again (same id) after a timeout or a rejoin (`flushOutbox`), so the server stores it once. A refusal
 * takes the line away and gives the text back.
 */
import { ACK_TIMEOUT_MS, T, isModerator, me, meetingId } from "./config.js";
import { el, newClientId, setNote } from "./dom.js";
import { awaitApproval, listFor, messageElement, render, scrollerFor } from "./messages.js";
import { startRetryCountdown } from "./slowmode.js";
import { setWaiting } from "./state.js";
import { actions, page } from "./store.js";
import { socket } from "./transport.js";

const list = document.getElementById("messages");
const KIND_OF = { send: "chat", whisper: "whisper", announce: "announcement", backchannel: "backchannel" };

/* Queue a text for `event`; `source` is the textarea it came from (refilled if the server refuses). */
export function queueText(event, fields, source, note, extra) {
  const body = source.value.trim();
  if (!body) { return false; }
  const clientId = newClientId();
  const kind = KIND_OF[event];
  const payload = { meeting_id: meetingId, client_id: clientId, text: body };
  Object.keys(fields || {}).forEach(function (key) { payload[key] = fields[key]; });
  const target = listFor(kind) || list;
  const item = messageElement({ kind: kind, author: me, text: body });
  item.classList.add("pending");
  item.appendChild(el("span", "delivery", T.textSending));
  target.appendChild(item);
  scrollerFor(target).scrollTop = 1e9;
  page.outbox[clientId] = { event: event, payload: payload, kind: kind, element: item, source: source, note: note,
                            extra: extra || {} };
  source.value = "";
  setNote(note, "");
  trySend(clientId);
  return true;
}

/* Send everything still waiting for an acknowledgement (after a join). */
export function flushOutbox() { Object.keys(page.outbox).forEach(trySend); }

function trySend(clientId) {
  const entry = page.outbox[clientId];
  if (!entry || !socket.connected || !page.joined) { return; }
  socket.timeout(ACK_TIMEOUT_MS).emit(entry.event, entry.payload, function (err, ack) {
    if (page.outbox[clientId] !== entry) { return; }
    if (err) { markFailed(clientId); setTimeout(function () { trySend(clientId); }, 2000); return; }
    if (ack && ack.ok) {
      // Held for approval: the ack says so; if it does not, the meeting's pre-moderation setting does.
      const held = ack.status ? ack.status === "pending"
        : entry.event === "send" && !isModerator && !!page.ms.premoderation;
      if (held) { awaitApproval(clientId, ack.id); return; }
      const message = { id: ack.id, meeting_id: meetingId, client_id: clientId, author: me, kind: entry.kind,
                        text: entry.payload.text, created_at: new Date().toISOString() };
      if (entry.extra.to) { message.to = entry.extra.to; }
      render(message);
    } else {
      refused(clientId, (ack && ack.error) || { code: "unknown", message: T.textError });
    }
  });
}

function markFailed(clientId) {
  const entry = page.outbox[clientId];
  if (entry) { entry.element.querySelector(".delivery").textContent = T.textFailed; }
}

/* The server said no: take the line away, give the text back, and say why. */
function refused(clientId, error) {
  const entry = page.outbox[clientId];
  delete page.outbox[clientId];
  entry.element.remove();
  if (!entry.source.value) { entry.source.value = entry.payload.text; }
  setNote(entry.note, error.message || T.textError, true);
  if (error.code === "slow_mode" && typeof error.retry_after === "number") { startRetryCountdown(error.retry_after); }
  else if (error.code === "waiting") { setWaiting(true); }
  else if (error.code === "not_joined") { page.joined = false; actions.rejoin(); }
}
