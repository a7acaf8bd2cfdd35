/* Incidents and handover: mark the messages involved ("Mark for incident" in each message's menu) and
 * record an incident, kept longer than the chat for safeguarding; read the notes earlier meetings left, and
 * write notes for the next meeting's peer experts (those of this meeting are listed apart: they are not
 * "from earlier meetings").
 */
import { T, meetingId } from "../chat/config.js";
import { $, el, fmt, setNote } from "../chat/dom.js";
import { menuAction } from "../chat/messages.js";
import { touch } from "./freshness.js";
import { emit, sectionNote } from "./ui.js";

let incidentIds = {};  // server id -> true while ticked
const incidentSelected = $("incident-selected");
const handoverList = $("handover-list");
const handoverEmpty = $("handover-earlier-empty");
const thisMeetingList = $("handover-this-meeting");
const thisMeetingTitle = $("handover-mine-title");

function refreshIncidentCount() {
  const count = Object.keys(incidentIds).length;
  incidentSelected.textContent = count ? fmt(T.textSelectedCount, { count: count }) : "";
}

function setMarked(item, toggle, on) {
  toggle.setAttribute("aria-pressed", on ? "true" : "false");
  item.classList.toggle("incident-marked", on);
  const meta = item.querySelector(":scope > .meta");
  const tag = item.querySelector(".incident-tag");
  if (on && !tag && meta) { meta.insertBefore(el("span", "tag incident-tag", T.textMarkedIncident), meta.querySelector(".msg-menu-toggle")); }
  if (!on && tag) { tag.remove(); }
}

/* "Mark for incident" in a message's menu: pressed while the message is part of the next incident. */
export function addIncidentToggle(item, message) {
  const toggle = menuAction(item, T.textMarkIncident, function () {
    const on = !incidentIds[message.id];
    if (on) { incidentIds[message.id] = true; } else { delete incidentIds[message.id]; }
    setMarked(item, toggle, on);
    refreshIncidentCount();
  });
  toggle.classList.add("toggle", "incident-pick");
  toggle.setAttribute("aria-pressed", "false");
}

$("incident-form").addEventListener("submit", function (event) {
  event.preventDefault();
  const note = sectionNote($("incident-form"));
  const ids = Object.keys(incidentIds).map(Number);
  if (!ids.length) { setNote(note, T.textIncidentNone); return; }
  emit("record_incident", { ids: ids, note: $("incident-note").value.trim() }, note, function () {
    setNote(note, T.textIncidentSaved);
    $("incident-note").value = "";
    incidentIds = {};
    Array.prototype.forEach.call(document.querySelectorAll(".incident-pick[aria-pressed=true]"), function (toggle) {
      setMarked(toggle.closest(".message"), toggle, false);
    });
    refreshIncidentCount();
  });
});

function handoverItem(item) {
  const li = el("li", "", item.note || "");
  if (item.author && item.author.name) { li.appendChild(el("span", "muted", " (" + item.author.name + ")")); }
  return li;
}

function refreshHandover() {
  handoverEmpty.hidden = handoverList.children.length > 0;
  thisMeetingList.hidden = thisMeetingTitle.hidden = thisMeetingList.children.length === 0;
}

/* Notes come newest first; this meeting's own go to their own list. */
export function renderHandover(notes) {
  handoverList.textContent = "";
  thisMeetingList.textContent = "";
  (notes || []).forEach(function (item) {
    (item.meeting_id === meetingId ? thisMeetingList : handoverList).appendChild(handoverItem(item));
  });
  refreshHandover();
}

/* A handover note just written here, by us or another peer expert (the `handover` event). */
export function onHandover(data) {
  touch("handover");
  if (!data.note) { return; }
  const target = data.note.meeting_id === meetingId ? thisMeetingList : handoverList;
  target.insertBefore(handoverItem(data.note), target.firstChild);
  refreshHandover();
}

$("handover-form").addEventListener("submit", function (event) {
  event.preventDefault();
  const note = sectionNote($("handover-form"));
  const text = $("handover-note").value.trim();
  if (!text) { return; }
  emit("handover_note", { note: text }, note, function () {
    setNote(note, T.textHandoverSaved);
    $("handover-note").value = "";
  });
});
