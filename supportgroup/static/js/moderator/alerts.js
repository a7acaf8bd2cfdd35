/* Alerts: crisis signals in a message, private to the peer experts (the box on top of the console). The
 * writer gets a private note from the server; "Seen" resolves the alert for every peer expert.
 */
import { T } from "../chat/config.js";
import { $, button, el, formatTime } from "../chat/dom.js";
import { flagMessage } from "../chat/messages.js";
import { setAttention } from "./attention.js";
import { touch } from "./freshness.js";
import { announce, emit, messageQuote, nextId, showInChat } from "./ui.js";

const alertList = $("alert-list");
const alertSection = $("sec-alerts");
export const alertRows = {};  // alert id -> li
const ALERT_LABELS = { suicide: T.textAlertSelfHarm, self_harm: T.textAlertSelfHarm, danger: T.textAlertDanger,
                       weapons: T.textAlertWeapons, child: T.textAlertChild };

export function hasAlertList() { return !!alertList; }

function refreshAlerts() {
  const count = Object.keys(alertRows).length;
  if (alertSection) { alertSection.hidden = count === 0; }
  const badge = $("count-alerts");
  if (badge) { badge.textContent = count ? String(count) : ""; badge.hidden = !count; }
  setAttention("alerts", count);
}

export function addAlert(alert, quiet) {
  if (alert) { touch("alert:" + alert.id); }
  if (!alertList || !alert || alertRows[alert.id] || alert.resolved_at) { return; }
  const li = el("li", "queue-item alert-item");
  li.setAttribute("aria-labelledby", nextId("alert"));
  const head = el("p", "meta alert-category", ALERT_LABELS[alert.category] || T.textAlert);
  head.id = li.getAttribute("aria-labelledby");
  if (alert.created_at) { head.appendChild(el("span", "when", " · " + formatTime(alert.created_at))); }
  li.appendChild(head);
  if (alert.message) { li.appendChild(messageQuote(alert.message)); }
  const note = el("p", "form-note"); note.setAttribute("role", "status");
  const seen = button(T.textAlertSeen, "primary small", function () {
    seen.disabled = true;
    emit("resolve_alert", { alert_id: alert.id }, note, function () { removeAlert(alert.id); },
         function () { seen.disabled = false; });
  });
  seen.classList.add("alert-seen");
  const row = el("div", "button-row");
  row.appendChild(seen);
  if (alert.message) { row.appendChild(showInChat(alert.message.id)); }
  li.appendChild(row);
  li.appendChild(note);
  li.messageId = alert.message ? alert.message.id : null;
  flagMessage(li.messageId, true);  // marked in the chat while the alert is open
  alertRows[alert.id] = li;
  alertList.insertBefore(li, alertList.firstChild);
  refreshAlerts();
  if (!quiet) { announce(T.textNewAlert); }
}

export function removeAlert(id) {
  touch("alert:" + id);
  const li = alertRows[id];
  if (!li) { return; }
  const hadFocus = li.contains(document.activeElement);
  li.remove();
  delete alertRows[id];
  flagMessage(li.messageId, false);
  refreshAlerts();
  if (hadFocus) { (alertList.querySelector("button") || $("console-title")).focus(); }
}

export function clearAlerts() {
  if (!alertList) { return; }
  alertList.textContent = "";
  Object.keys(alertRows).forEach(function (id) { flagMessage(alertRows[id].messageId, false); delete alertRows[id]; });
  refreshAlerts();
}
