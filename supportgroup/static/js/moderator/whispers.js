/* Private messages (whispers) with participants, and the backchannel between peer experts: the two threads
 * in the console, their forms, "Reply", and counts of unread ones while a section is closed. `people` holds
 * everyone one can whisper to: present now, or named in a whisper.
 */
import { T, myId } from "../chat/config.js";
import { $, button, el, enterSubmits, fmt } from "../chat/dom.js";
import { queueText } from "../chat/outbox.js";
import { announce, openSection, setCount } from "./ui.js";

export const whisperList = $("mod-whisper-list");
export const backchannelList = $("backchannel-list");
export const people = {};  // member id -> Person (present now, or named in a whisper)
const whisperTo = $("whisper-to");
const whisperInput = $("mod-whisper-input");
const whisperForm = $("mod-whisper-form");
const whisperNote = whisperForm.querySelector(".form-note");
const unread = { whispers: 0, backchannel: 0 };

export function refreshWhisperTargets() {
  const chosen = whisperTo.value;
  const ids = Object.keys(people).filter(function (id) { return people[id].role === "participant"; });
  ids.sort(function (a, b) { return (people[a].name || "").localeCompare(people[b].name || ""); });
  while (whisperTo.options.length > 1) { whisperTo.remove(1); }
  ids.forEach(function (id) {
    const option = el("option", null, people[id].name); option.value = id; whisperTo.appendChild(option);
  });
  whisperTo.value = chosen && people[chosen] ? chosen : "";
}

export function whisperToPerson(id) {
  openSection("sec-whispers");
  if (people[id]) { refreshWhisperTargets(); whisperTo.value = id; }
  whisperInput.focus();
  whisperInput.scrollIntoView({ block: "nearest" });
}

whisperForm.addEventListener("submit", function (event) {
  event.preventDefault();
  if (!whisperTo.value) { whisperTo.focus(); return; }
  if (!whisperInput.value.trim()) { whisperInput.focus(); return; }
  queueText("whisper", { to: whisperTo.value }, whisperInput, whisperNote, { to: people[whisperTo.value] });
});
enterSubmits(whisperInput, whisperForm);

const backchannelInput = $("backchannel-input");
const backchannelForm = $("backchannel-form");
backchannelForm.addEventListener("submit", function (event) {
  event.preventDefault();
  queueText("backchannel", null, backchannelInput, backchannelForm.querySelector(".form-note"));
});
enterSubmits(backchannelInput, backchannelForm);

/* A whisper in the thread says with whom, and offers "Reply". */
export function decorateWhisper(item, message) {
  const other = message.to || (message.author && message.author.role === "participant" ? message.author : null);
  if (!other) { return; }
  if (!people[other.id]) { people[other.id] = other; }
  const meta = item.querySelector(".meta");
  meta.appendChild(document.createTextNode(" "));
  meta.appendChild(el("span", "thread-with", fmt(T.textWhisperThread, { name: other.name })));
  const row = el("div", "msg-actions");
  const reply = button(T.textReply, "small", function () { whisperToPerson(other.id); });
  reply.setAttribute("aria-label", T.textReply + ": " + other.name);
  row.appendChild(reply);
  item.appendChild(row);
}

/* A new message (not history, not ours): count whispers and backchannel lines while their section is closed. */
export function onMessage(message) {
  const own = message.author && message.author.id === myId;
  if (own) { return; }
  if (message.kind === "whisper") {
    if (!$("sec-whispers").open) { unread.whispers += 1; setCount("count-whispers", unread.whispers); }
    announce(fmt(T.textNewWhisperFrom, { name: message.author ? message.author.name : "" }));
  } else if (message.kind === "backchannel" && !$("sec-backchannel").open) {
    unread.backchannel += 1; setCount("count-backchannel", unread.backchannel);
  }
}

$("sec-whispers").addEventListener("toggle", function () {
  if (this.open) { unread.whispers = 0; setCount("count-whispers", 0); }
});
$("sec-backchannel").addEventListener("toggle", function () {
  if (this.open) { unread.backchannel = 0; setCount("count-backchannel", 0); }
});

export function clearThreads() { whisperList.textContent = ""; backchannelList.textContent = ""; }
