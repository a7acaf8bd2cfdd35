/* A participant's private thread with the peer experts (the #whispers box): sending, and a count of new
 * ones while the box is closed. Peer experts have their own thread in the console (js/moderator/whispers.js).
 */
import { T, isModerator, myId } from "./config.js";
import { $, enterSubmits, setNote } from "./dom.js";
import { queueText } from "./outbox.js";
import { hooks, page } from "./store.js";

const whispers = $("whispers");
const whisperList = $("whisper-list");
const whisperForm = $("whisper-form");
const whisperInput = $("whisper-input");
const whisperCount = $("whisper-count");
const sendNote = $("send-note");
let unreadWhispers = 0;

function whisperArrived() {
  if (!whispers) { return; }
  if (!whispers.open) {
    unreadWhispers += 1;
    whisperCount.textContent = String(unreadWhispers);
    whisperCount.hidden = false;
    setNote(sendNote, T.textNewWhisper);
  }
}

if (!isModerator) {
  // A new whisper from a peer expert (not one of ours, not history): say so.
  hooks.onMessage = function (message) {
    const own = message.author && message.author.id === myId;
    if (message.kind === "whisper" && !own) { whisperArrived(); }
  };
}

if (whisperForm) {
  const whisperNote = whisperForm.querySelector(".form-note");
  whisperForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!page.joined || page.removed) { setNote(whisperNote, T.textReconnecting, true); return; }
    queueText("whisper", null, whisperInput, whisperNote);
  });
  enterSubmits(whisperInput, whisperForm);
  whispers.addEventListener("toggle", function () {
    if (!whispers.open) { return; }
    unreadWhispers = 0; whisperCount.hidden = true; whisperList.scrollTop = whisperList.scrollHeight;
    if (sendNote.textContent === T.textNewWhisper) { setNote(sendNote, ""); }
  });
}
