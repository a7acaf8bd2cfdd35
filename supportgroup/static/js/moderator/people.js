/* People present in the console, with each participant's actions (whisper, give the floor, mute with a
 * reason, unmute (only for who is muted), remove, ban), their tags (the floor, a raised hand, muted), the
 * raised hands queue and the floor buttons. The list is updated in place: a row being used survives every
 * presence event. Who is muted comes from the server (the snapshot's `muted`, `mute_changed`).
 */
import { T, myId } from "../chat/config.js";
import { $, authorLine, button, el, fmt, formatTime, setNote } from "../chat/dom.js";
import { page } from "../chat/store.js";
import { changedSince, touch } from "./freshness.js";
import { confirmBox, emit, labelled, reasonInput, refreshEmpty, sectionNote, setCount } from "./ui.js";
import { people, refreshWhisperTargets, whisperToPerson } from "./whispers.js";

const presentList = $("present");
const handsList = $("hands-list");
const handsNote = sectionNote($("sec-hands"));
const personRows = {};   // member id -> li in the people list
const mutedHere = {};    // member id -> until (ISO) or null: who is muted in this meeting now
let handIds = {};        // member id -> true while their hand is up

function tagsFor(person) {
  const tags = el("span", "tags");
  const floor = page.ms.floor;
  if (floor && floor.id === person.id) { tags.appendChild(el("span", "tag floor", T.textFloorTag)); }
  if (handIds[person.id]) { tags.appendChild(el("span", "tag hand", T.textHandTag)); }
  if (Object.prototype.hasOwnProperty.call(mutedHere, person.id)) {
    const until = mutedHere[person.id];
    if (until && new Date(until).getTime() <= Date.now()) { delete mutedHere[person.id]; }
    else {
      tags.appendChild(el("span", "tag muted-tag", until ? fmt(T.textMutedTagUntil, { time: formatTime(until) }) : T.textMutedTag));
    }
  }
  return tags;
}

function refreshTags(id) {
  const row = personRows[id];
  if (!row) { return; }
  const old = row.querySelector(".tags");
  const fresh = tagsFor(row.person);
  old.replaceWith(fresh);
  const unmute = row.querySelector(".unmute");
  if (unmute) {
    const muted = Object.prototype.hasOwnProperty.call(mutedHere, id);
    if (!muted && unmute.contains(document.activeElement)) { row.querySelector("summary").focus(); }
    unmute.hidden = !muted;
  }
}

function setMutedHere(id, muted, until) {
  if (muted) { mutedHere[id] = until || null; } else { delete mutedHere[id]; }
  refreshTags(id);
}

/* A peer expert (here or elsewhere) muted or unmuted someone (the `mute_changed` event). */
export function onMuteChanged(data) {
  touch("mute:" + data.member);
  setMutedHere(data.member, !!data.muted, data.until);
}

/* Who is muted now, from a moderation snapshot; rows changed since its request was sent stay as they are. */
export function applyMutes(list, generation) {
  const now = {};
  list.forEach(function (entry) { now[entry.member] = entry.until || null; });
  Object.keys(mutedHere).concat(Object.keys(now)).forEach(function (id) {
    if (changedSince("mute:" + id, generation)) { return; }
    setMutedHere(id, Object.prototype.hasOwnProperty.call(now, id), now[id]);
  });
}

export function refreshAllTags() { Object.keys(personRows).forEach(refreshTags); }

function muteForm(person, note) {
  const form = el("form", "mute-form");
  form.autocomplete = "off";
  const minutes = el("select");
  [["5", T.textMuteFive], ["15", T.textMuteFifteen], ["", T.textMuteForever]].forEach(function (option) {
    const opt = el("option", null, option[1]); opt.value = option[0]; minutes.appendChild(opt);
  });
  const reason = reasonInput(true);
  const muteButton = el("button", "small", T.textMute);
  muteButton.type = "submit";
  form.appendChild(labelled(T.textMuteFor, minutes));
  form.appendChild(labelled(T.textReasonLabel, reason));
  form.appendChild(muteButton);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const why = reason.value.trim();
    if (!why) { reason.focus(); return; }
    const mins = minutes.value ? parseInt(minutes.value, 10) : null;
    emit("mute", { member: person.id, minutes: mins, reason: why }, note, function () {
      touch("mute:" + person.id);
      setMutedHere(person.id, true, mins ? new Date(Date.now() + mins * 60000).toISOString() : null);
      reason.value = "";
      setNote(note, T.textDone);
    });
  });
  return form;
}

function personRow(person) {
  const li = el("li", "person");
  li.person = person;
  const head = el("div", "person-head");
  head.appendChild(authorLine(person));
  head.appendChild(document.createTextNode(" "));
  head.appendChild(el("span", "tags"));
  li.appendChild(head);
  if (person.role !== "participant" || person.id === myId) { return li; }

  const details = el("details", "person-actions");
  const summary = el("summary", null, T.textActions);
  summary.setAttribute("aria-label", fmt(T.textActionsFor, { name: person.name }));
  details.appendChild(summary);
  const panel = el("div", "action-panel");
  const note = el("p", "form-note"); note.setAttribute("role", "status");

  const quick = el("div", "button-row");
  quick.appendChild(button(T.textWhisperTo, "small", function () { whisperToPerson(person.id); }));
  quick.appendChild(button(T.textGiveFloor, "small", function () { emit("give_floor", { member: person.id }, note); }));
  const unmute = button(T.textUnmute, "small unmute", function () {
    emit("unmute", { member: person.id }, note, function () {
      touch("mute:" + person.id);
      setNote(note, T.textDone);  // before the button goes, so the focus moves on with the note shown
      setMutedHere(person.id, false);
    });
  });
  unmute.hidden = true;  // shown only while the person is muted (refreshTags)
  quick.appendChild(unmute);
  panel.appendChild(quick);
  panel.appendChild(muteForm(person, note));

  const danger = el("div", "button-row danger-row");
  const removeButton = button(T.textRemove, "small", function () {
    confirmBox(removeButton, fmt(T.textConfirmRemove, { name: person.name }), T.textYesRemove, false, true,
      T.textReasonLabel, function (why, boxNote, retry) {
        emit("remove", { member: person.id, reason: why }, boxNote, function () { setNote(note, T.textDone); }, retry);
      });
  });
  const banButton = button(T.textBan, "small danger-outline", function () {
    confirmBox(banButton, fmt(T.textConfirmBan, { name: person.name }), T.textYesBan, true, true,
      T.textReasonLabel, function (why, boxNote, retry) {
        emit("ban", { member: person.id, reason: why }, boxNote, function () { setNote(note, T.textDone); }, retry);
      });
  });
  removeButton.setAttribute("aria-expanded", "false");
  banButton.setAttribute("aria-expanded", "false");
  danger.appendChild(removeButton);
  danger.appendChild(banButton);
  panel.appendChild(danger);
  panel.appendChild(note);
  details.appendChild(panel);
  li.appendChild(details);
  return li;
}

/* Update the list in place: a row being used (open actions, a typed reason) survives every presence event. */
export function renderPresence(present) {
  const seen = {};
  present.forEach(function (person, index) {
    seen[person.id] = true;
    people[person.id] = person;
    let row = personRows[person.id];
    if (!row || row.person.name !== person.name || row.person.role !== person.role) {
      const fresh = personRow(person);
      if (row) { row.replaceWith(fresh); }
      row = personRows[person.id] = fresh;
    }
    refreshTags(person.id);
    if (presentList.children[index] !== row) { presentList.insertBefore(row, presentList.children[index] || null); }
  });
  Object.keys(personRows).forEach(function (id) {
    if (seen[id]) { return; }
    const hadFocus = personRows[id].contains(document.activeElement);
    personRows[id].remove();
    delete personRows[id];
    if (hadFocus) { $("people-title").closest("summary").focus(); }
  });
  setCount("count-present", present.length);
  refreshWhisperTargets();
}

// ---- raised hands and the floor ------------------------------------------------------------------------

export function onHands(queue) {
  handIds = {};
  handsList.textContent = "";
  queue.forEach(function (person) {
    handIds[person.id] = true;
    const li = el("li", "queue-item");
    li.appendChild(authorLine(person));
    const row = el("div", "button-row");
    row.appendChild(button(T.textGiveFloor, "small primary", function () { emit("give_floor", { member: person.id }, handsNote); }));
    li.appendChild(row);
    handsList.appendChild(li);
  });
  refreshEmpty(handsList);
  setCount("count-hands", queue.length);
  refreshAllTags();
}

$("take-floor").addEventListener("click", function () { emit("give_floor", { member: null }, handsNote); });
$("floor-only").addEventListener("click", function () {
  emit("set_floor_only", { on: !page.ms.floor_only }, handsNote);
});

export function clearPeople() {
  presentList.textContent = ""; handsList.textContent = "";
  Object.keys(personRows).forEach(function (id) { delete personRows[id]; });
  Object.keys(mutedHere).forEach(function (id) { delete mutedHere[id]; });
}
