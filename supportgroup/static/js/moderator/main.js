/* The peer expert's console beside the chat (docs/protocol.md §4a, §5a), imported by js/chat/main.js only
 * for the group's moderators, before the socket connects. `installConsole` fills in the chat's `hooks` and
 * listens to the events only moderators receive.
 *
 *   ui.js         building blocks (emit, counts, confirm box)   freshness.js  rows changed since a snapshot
 *   people.js     people present, their actions, hands, floor   whispers.js   whispers and the backchannel
 *   queues.js     held messages and reports                     waiting.js    the waiting room
 *   alerts.js     crisis alerts                                 incidents.js  incidents and handover notes
 *   controls.js   meeting controls                              snapshot.js   the moderation snapshot merge
 */
import { hooks } from "../chat/store.js";
import { forThisMeeting, socket } from "../chat/transport.js";
import { addAlert, clearAlerts, removeAlert } from "./alerts.js";
import { onState } from "./controls.js";
import { forgetTouched, touch } from "./freshness.js";
import { addIncidentToggle, onHandover } from "./incidents.js";
import { clearPeople, onHands, onMuteChanged, renderPresence } from "./people.js";
import { addPending, addReport, clearQueues, onMessageDeleted, removePending, removeReport } from "./queues.js";
import { onModeration } from "./snapshot.js";
import { clearWaiting, renderWaiting } from "./waiting.js";
import { backchannelList, clearThreads, decorateWhisper, onMessage, whisperList } from "./whispers.js";

function decorateMessage(item, message) {
  if (message.kind === "chat" || message.kind === "announcement" || !message.kind) { addIncidentToggle(item, message); }
  if (message.kind === "whisper") { decorateWhisper(item, message); }
}

/* Nothing of the console stays on a page the chat left (removed, session ended, quick exit). */
function clear() {
  clearPeople(); clearQueues(); clearWaiting(); clearThreads();
  forgetTouched();
  clearAlerts();
}

export function installConsole() {
  // Desktop: every section starts open. Phone: closed, so the console stays short below the chat.
  if (window.matchMedia && window.matchMedia("(min-width: 60rem)").matches) {
    Array.prototype.forEach.call(document.querySelectorAll(".console-section"), function (section) { section.open = true; });
  }

  const on = function (event, handler) { socket.on(event, forThisMeeting(handler)); };
  on("pending", function (data) { if (data.message) { addPending(data.message); } });
  on("pending_resolved", function (data) { removePending(data.id); });
  on("report", function (data) { if (data.report) { addReport(data.report); } });
  on("report_resolved", function (data) { removeReport(data.report_id); });
  on("waiting", function (data) { touch("waiting"); renderWaiting(data.waiting); });
  on("alert", function (data) { if (data.alert) { addAlert(data.alert); } });
  on("alert_resolved", function (data) { removeAlert(data.alert_id); });
  on("handover", onHandover);
  on("mute_changed", onMuteChanged);

  Object.assign(hooks, {
    listFor: function (kind) { return kind === "whisper" ? whisperList : kind === "backchannel" ? backchannelList : null; },
    renderPresence: renderPresence,
    onHands: onHands,
    onState: onState,
    onMessage: onMessage,
    decorateMessage: decorateMessage,
    onModeration: onModeration,
    onDeleted: onMessageDeleted,
    clear: clear
  });
}
