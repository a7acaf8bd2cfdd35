/* The meeting chat (docs/protocol.md), the page's entry module: plain ES modules, no build step.
 *
 *   config.js    what #chat's data-* say (ids, role, translated strings)   dom.js       small DOM helpers
 *   store.js     what this page knows, shared (`page`, `hooks`)            transport.js the socket, acks
 *   state.js     meeting state, notices, who may write                     presence.js  present, hands
 *   messages.js  drawing, ordering, dedupe by id, deletion                 crisis.js    the private crisis note
 *   outbox.js    sending with client ids, retries                          composer.js  the message box
 *   slowmode.js  the send countdown                                        whisper.js   a participant's whispers
 *   report.js    reporting a message                                       ending.js    removed, session ended, quick exit
 *   socket.js    join, replay, sync and catch_up, reconnects; waiting to get in (`lobby`)
 *   countdown.js before the meeting: the time left, the lobby opening (a classic page script too)
 *
 * While the house rules wait for this person's acceptance (#rules-card), the page does not connect: it
 * shows the rules, and accepting them (a form) brings the page back with the chat. A participant who comes
 * to a closed meeting sees the closing screen at once.
 * Peer experts also get the console (js/moderator/main.js, imported here): it fills in `hooks` before the
 * socket connects, so no event reaches the page before the console can take it.
 */
import { isModerator } from "./config.js";
import { $ } from "./dom.js";
import "./composer.js";
import { showCrisisNote } from "./crisis.js";
import { showClosing, showRemoved } from "./ending.js";
import { markRejected, removeMessage, render } from "./messages.js";
import { renderHands, renderPresence } from "./presence.js";
import { onLobby, rejoin } from "./socket.js";
import { applyState, setMuted, setWaiting } from "./state.js";
import { page } from "./store.js";
import { forThisMeeting, socket } from "./transport.js";
import "./whisper.js";

socket.on("message", forThisMeeting(render));
socket.on("crisis_note", forThisMeeting(showCrisisNote));
socket.on("presence", forThisMeeting(function (data) { renderPresence(data.present || []); }));
socket.on("meeting_state", forThisMeeting(applyState));
socket.on("message_deleted", forThisMeeting(function (data) { removeMessage(data.id); }));
socket.on("hands", forThisMeeting(function (data) { renderHands(data.queue); }));
socket.on("mute_state", forThisMeeting(function (data) {
  setMuted(data.muted ? { until: data.until || null, reason: data.reason || "" } : null);
}));
socket.on("removed", forThisMeeting(function (data) { showRemoved(data.reason, data.banned); }));
socket.on("admitted", forThisMeeting(function () {
  setWaiting(false);
  page.joined = false;
  rejoin();
}));
socket.on("lobby", forThisMeeting(onLobby));
socket.on("message_rejected", forThisMeeting(function (data) { markRejected(data.id, data.reason); }));

const rulesCard = $("rules-card");
if (rulesCard) {
  $("chat-layout").hidden = true;  // nothing to show until the rules are accepted
} else if (page.ms.state === "closed" && !isModerator) {
  showClosing();
} else if (isModerator) {
  try {
    const { installConsole } = await import("../moderator/main.js");
    installConsole();
  } finally {
    socket.connect();  // without the console if it could not load: the chat still works
  }
} else {
  socket.connect();
}
