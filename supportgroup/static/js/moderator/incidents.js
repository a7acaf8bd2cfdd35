/* Incidents and handover: tick the messages involved (a checkbox beside each message) and record an
 * incident, kept longer than the chat for safeguarding; read and write notes for the next meeting's peer
 * experts.
 */
import { T } from "../chat/config.js";
import { $, el, fmt, setNote } from "../chat/dom.js";
import { touch } from "./freshness.js";
import { emit, labelled, nextId, sectionNote } from "./ui.js";

let incidentIds = {};  // server id -> true while ticked
const incidentSelected = $("incident-selected");
const handoverList = $("handover-list");

function refreshIncidentCount() {
  const count = Object.keys(incidentIds).length;
  incidentSelected.textContent = count ? fmt(T.textSelectedCount, { count: count }) : "";
}

export function addIncidentCheckbox(item, message) {
  const box = document.createElement("input");
  box.type = "checkbox";
  box.id = nextId("incident");
  box.addEventListener("change", function () {
    if (box.checked) { incidentIds[message.id] = true; } else { delete incidentIds[message.id]; }
    refreshIncidentCount();
  });
  const wrap = el("div", "msg-actions incident-pick");
  wrap.appendChild(labelled(T.textIncludeIncident, box));
  item.appendChild(wrap);
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
    Array.prototype.forEach.call(document.querySelectorAll(".incident-pick input"), function (box) { box.checked = false; });
    refreshIncidentCount();
  });
});

function handoverItem(item) {
  const li = el("li", "", item.note || "");
  if (item.author && item.author.name) { li.appendChild(el("span", "muted", " (" + item.author.name + ")")); }
  return li;
}

export function renderHandover(notes) {
  handoverList.textContent = "";
  (notes || []).forEach(function (item) { handoverList.appendChild(handoverItem(item)); });
}

/* A handover note another peer expert just wrote (the `handover` event). */
export function onHandover(data) {
  touch("handover");
  if (data.note) { handoverList.insertBefore(handoverItem(data.note), handoverList.firstChild); }
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
