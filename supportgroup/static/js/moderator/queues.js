/* The two queues that wait for a peer expert's decision: messages held for approval (approve, or reject
 * with an optional reason for the writer) and reports (delete the reported message, or mark resolved).
 */
import { T } from "../chat/config.js";
import { $, button, el, fmt, formatTime } from "../chat/dom.js";
import { flagMessage, removeMessage } from "../chat/messages.js";
import { touch } from "./freshness.js";
import { announce, confirmBox, emit, focusFirstIn, messageQuote, openSection, refreshEmpty, setCount, showInChat } from "./ui.js";

const pendingList = $("pending-list");
const reportList = $("report-list");
export const pendingRows = {};  // message id -> li
export const reportRows = {};   // report id -> li

/* The "empty" lines and the counts of both queues. */
export function refreshQueues() {
  refreshEmpty(pendingList); refreshEmpty(reportList);
  setCount("count-pending", Object.keys(pendingRows).length);
  setCount("count-reports", Object.keys(reportRows).length);
}

// ---- messages waiting for approval ---------------------------------------------------------------------

export function addPending(message, quiet) {
  touch("pending:" + message.id);
  if (pendingRows[message.id]) { return; }
  const li = el("li", "queue-item");
  li.appendChild(messageQuote(message));
  const row = el("div", "button-row");
  const note = el("p", "form-note"); note.setAttribute("role", "status");
  row.appendChild(button(T.textApprove, "small primary", function () {
    emit("approve", { id: message.id }, note, function () { removePending(message.id); });
  }));
  const reject = button(T.textReject, "small", function () {
    confirmBox(reject, T.textReject, T.textReject, false, false, T.textRejectReason, function (why, boxNote, retry) {
      const fields = { id: message.id };
      if (why) { fields.reason = why; }
      emit("reject", fields, boxNote, function () { removePending(message.id); }, retry);
    });
  });
  reject.setAttribute("aria-expanded", "false");
  row.appendChild(reject);
  li.appendChild(row);
  li.appendChild(note);
  pendingRows[message.id] = li;
  pendingList.appendChild(li);
  refreshEmpty(pendingList);
  setCount("count-pending", Object.keys(pendingRows).length);
  if (!quiet) { openSection("sec-pending"); announce(T.textNewPending); }
}

export function removePending(id) {
  touch("pending:" + id);
  const li = pendingRows[id];
  if (!li) { return; }
  const hadFocus = li.contains(document.activeElement);
  li.remove();
  delete pendingRows[id];
  refreshEmpty(pendingList);
  setCount("count-pending", Object.keys(pendingRows).length);
  if (hadFocus) { focusFirstIn(pendingList, $("pending-title")); }
}

// ---- reports -------------------------------------------------------------------------------------------

export function addReport(report, quiet) {
  touch("report:" + report.id);
  if (reportRows[report.id]) { return; }
  const li = el("li", "queue-item report");
  const head = el("p", "meta");
  head.appendChild(el("span", null, fmt(T.textReportedBy, { name: report.reporter ? report.reporter.name : "" })));
  if (report.created_at) { head.appendChild(document.createTextNode(" · " + formatTime(report.created_at))); }
  li.appendChild(head);
  if (report.reason) { li.appendChild(el("p", "reason", fmt(T.textReason, { reason: report.reason }))); }
  if (report.message) { li.appendChild(messageQuote(report.message)); }
  const note = el("p", "form-note"); note.setAttribute("role", "status");
  const row = el("div", "button-row");
  if (report.message) {
    const del = button(T.textDelete, "small", function () {
      emit("delete_message", { id: report.message.id }, note, function () { removeMessage(report.message.id); });
    });
    del.className = "small delete-reported";
    row.appendChild(del);
    row.appendChild(showInChat(report.message.id));
  }
  row.appendChild(button(T.textResolve, "small primary", function () {
    emit("resolve_report", { report_id: report.id }, note, function () { removeReport(report.id); });
  }));
  li.appendChild(row);
  li.appendChild(note);
  li.messageId = report.message ? report.message.id : null;
  flagMessage(li.messageId, true);  // marked in the chat while the report is open
  reportRows[report.id] = li;
  reportList.appendChild(li);
  refreshEmpty(reportList);
  setCount("count-reports", Object.keys(reportRows).length);
  if (!quiet) { openSection("sec-reports"); announce(T.textNewReport); }
}

export function removeReport(id) {
  touch("report:" + id);
  const li = reportRows[id];
  if (!li) { return; }
  const hadFocus = li.contains(document.activeElement);
  li.remove();
  delete reportRows[id];
  flagMessage(li.messageId, false);
  refreshEmpty(reportList);
  setCount("count-reports", Object.keys(reportRows).length);
  if (hadFocus) { focusFirstIn(reportList, $("reports-title")); }
}

/* A message was deleted: it leaves the approval queue; reports about it say so and lose their delete button. */
export function onMessageDeleted(id) {
  removePending(id);
  Object.keys(reportRows).forEach(function (reportId) {
    const li = reportRows[reportId];
    if (li.messageId !== id || li.classList.contains("deleted")) { return; }
    li.classList.add("deleted");
    const quote = li.querySelector(".quote");
    if (quote) { quote.appendChild(el("p", "muted", T.textDeleted)); }
    const del = li.querySelector(".delete-reported");
    if (del) {
      if (del.contains(document.activeElement)) { li.querySelector("button.primary").focus(); }
      del.remove();
    }
  });
}

export function clearQueues() {
  Object.keys(reportRows).forEach(function (id) { flagMessage(reportRows[id].messageId, false); });
  pendingList.textContent = ""; reportList.textContent = "";
  [pendingRows, reportRows].forEach(function (rows) { Object.keys(rows).forEach(function (id) { delete rows[id]; }); });
}
