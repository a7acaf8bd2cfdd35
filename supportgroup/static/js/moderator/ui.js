/* Building blocks of the peer expert's console: emitting for this meeting, the console's status line,
 * section counts and "empty" lines, labelled fields, quoted messages, and the inline "are you sure" form.
 * Plain text only (textContent); every string comes from the template.
 */
import { T, meetingId } from "../chat/config.js";
import { $, authorLine, button, el, noteIn, setNote } from "../chat/dom.js";
import { showMessage } from "../chat/messages.js";
import { emitAck } from "../chat/transport.js";
import { setAttention } from "./attention.js";

let uid = 0;
export function nextId(prefix) { uid += 1; return prefix + "-" + uid; }

/* Emit a moderation event about this meeting (with an ack; errors go to `note`). */
export function emit(event, fields, note, onOk, onError) {
  const payload = { meeting_id: meetingId };
  Object.keys(fields || {}).forEach(function (key) { payload[key] = fields[key]; });
  emitAck(event, payload, note, onOk, onError);
}

export function announce(message) { setNote($("console-status"), message); }
export function sectionNote(section) { return section.querySelector(":scope > .form-note") || noteIn(section); }

/* A number beside a section title; `count` 0 hides it. */
export function setCount(id, count) {
  const badge = $(id);
  if (!badge) { return; }
  badge.textContent = count > 0 ? String(count) : "";
  badge.hidden = !(count > 0);
  setAttention(id.replace(/^count-/, ""), count);  // alerts, reports, waiting, hands, pending: the strip too
  const section = badge.closest("details");
  if (section) { section.classList.toggle("has-items", count > 0); }
}

export function refreshEmpty(listNode) {
  const empty = listNode.parentElement.querySelector(":scope > .empty");
  if (empty) { empty.hidden = listNode.children.length > 0; }
}

export function openSection(id) { const section = $(id); if (section && !section.open) { section.open = true; } }

/* After a row with focus went away: the next button in the list, else the section's title. */
export function focusFirstIn(listNode, fallback) {
  const next = listNode.querySelector("button");
  if (next) { next.focus(); }
  else { const summary = fallback.closest("summary"); if (summary) { summary.focus(); } }
}

export function labelled(labelText, control) {
  const wrap = el("div", "field-inline");
  const label = el("label", null, labelText);
  control.id = control.id || nextId("f");
  label.htmlFor = control.id;
  wrap.appendChild(label);
  wrap.appendChild(control);
  return wrap;
}

export function reasonInput(required) {
  const reason = el("input");
  reason.type = "text"; reason.maxLength = 300; reason.required = !!required; reason.autocomplete = "off";
  return reason;
}

/* "Show in chat": scrolls the chat to the message a row is about. */
export function showInChat(messageId) {
  const show = button(T.textShowMessage, "small", function () { showMessage(messageId); });
  show.classList.add("show-message");
  return show;
}

export function messageQuote(message) {
  const quote = el("blockquote", "quote");
  const who = el("p", "meta");
  who.appendChild(authorLine(message.author));
  quote.appendChild(who);
  quote.appendChild(el("p", "text", message.text));
  return quote;
}

/* An inline "are you sure" with a reason field: for remove, ban and reject. */
export function confirmBox(trigger, question, confirmLabel, danger, reasonRequired, reasonLabel, onConfirm) {
  const host = trigger.closest("li, .action-panel") || trigger.parentElement;
  const box = el("form", "confirm");
  box.autocomplete = "off";
  box.appendChild(el("p", null, question));
  const reason = reasonInput(reasonRequired);
  box.appendChild(labelled(reasonLabel, reason));
  const row = el("div", "button-row");
  const yes = el("button", danger ? "danger" : "primary", confirmLabel);
  yes.type = "submit";
  function close() { box.remove(); trigger.setAttribute("aria-expanded", "false"); trigger.focus(); }
  row.appendChild(yes);
  row.appendChild(button(T.textCancel, null, close));
  box.appendChild(row);
  const note = el("p", "form-note"); note.setAttribute("role", "status"); box.appendChild(note);
  box.addEventListener("keydown", function (event) { if (event.key === "Escape") { event.preventDefault(); close(); } });
  box.addEventListener("submit", function (event) {
    event.preventDefault();
    const why = reason.value.trim();
    if (reasonRequired && !why) { reason.focus(); return; }
    yes.disabled = true;
    onConfirm(why, note, function () { yes.disabled = false; }, close);
  });
  const old = host.querySelector(":scope > form.confirm");
  if (old) { old.remove(); }
  host.appendChild(box);
  trigger.setAttribute("aria-expanded", "true");
  reason.focus();
  return box;
}
