/* The socket.io connection (the vendored socket.io.min.js, a classic script, defines `io`) and emitting with
 * an acknowledgement and a timeout. The socket connects only when main.js says so: after the console (peer
 * experts) is in place, so no event reaches the page before its handlers.
 */
import { ACK_TIMEOUT_MS, T, meetingId } from "./config.js";
import { setNote } from "./dom.js";
import { page } from "./store.js";

// Reconnection backs off from 1 s to at most 10 s, each delay varied by ±50% so clients do not return in step.
export const socket = io({ transports: ["websocket", "polling"], reconnectionDelay: 1000, reconnectionDelayMax: 10000,
                           randomizationFactor: 0.5, autoConnect: false });

/* Emit with an ack and a timeout. Errors (the server's message, or a timeout) go to `note`. */
export function emitAck(event, payload, note, onOk, onError) {
  setNote(note, "");
  if (!socket.connected) {
    // Not buffered for later: a moderation step must not happen by surprise after a reconnect.
    setNote(note, T.textReconnecting, true);
    if (onError) { onError({ code: "offline", message: T.textReconnecting }); }
    return;
  }
  socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, function (err, ack) {
    let error = null;
    if (err) { error = { code: "timeout", message: T.textTimeout }; }
    else if (!ack || !ack.ok) { error = (ack && ack.error) || { code: "unknown", message: T.textError }; }
    if (error) {
      setNote(note, error.message || T.textError, true);
      if (onError) { onError(error); }
      return;
    }
    if (onOk) { onOk(ack); }
  });
}

/* A handler that only sees events about this meeting, and none after the page left it. */
export function forThisMeeting(handler) {
  return function (data) { if (data && data.meeting_id === meetingId && !page.removed) { handler(data); } };
}
