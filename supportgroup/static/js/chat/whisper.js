/* A participant's private thread with the peer experts (the #whispers box): sending, and a new whisper from
 * a peer expert made obvious: the thread opens and a banner above the message box says so, with a button to
 * go to it (no sound). Peer experts have their own thread in the console (js/moderator/whispers.js).
 */
import { T, isModerator, myId } from "./config.js";
import { $, button, el, enterSubmits, setNote } from "./dom.js";
import { queueText } from "./outbox.js";
import { hooks, page } from "./store.js";

const whispers = $("whispers");
const whisperList = $("whisper-list");
const whisperForm = $("whisper-form");
const whisperInput = $("whisper-input");
const whisperCount = $("whisper-count");
const texts = ($("participant-texts") || {}).dataset || {};
let unreadWhispers = 0;
let cue = null;

function hideCue() { if (cue) { cue.hidden = true; } }

function showCue() {
  if (!cue) {
    cue = el("div", "banner notice whisper-cue");
    cue.id = "whisper-cue";
    cue.setAttribute("role", "status");
    cue.appendChild(el("span", null, T.textNewWhisper));
    cue.appendChild(document.createTextNode(" "));
    cue.appendChild(button(texts.textReadWhisper || T.textNewWhisper, "small", function () {
      hideCue();
      whispers.open = true;
      whispers.scrollIntoView({ block: "center" });
      whisperInput.focus({ preventScroll: true });
    }));
    const notices = $("notices");
    notices.insertBefore(cue, notices.firstChild);
  }
  cue.hidden = false;
}

function whisperArrived() {
  if (!whispers) { return; }
  unreadWhispers += 1;
  whisperCount.textContent = String(unreadWhispers);
  whisperCount.hidden = false;
  whispers.open = true;  // the thread opens (its "toggle" keeps the count until it is read)
  whisperList.scrollTop = whisperList.scrollHeight;
  showCue();
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
  // Read: the person went to the thread (its box, or the banner's button), or closed it.
  function markRead() { unreadWhispers = 0; whisperCount.hidden = true; hideCue(); }
  whisperInput.addEventListener("focus", markRead);
  whisperList.addEventListener("click", markRead);
  whispers.addEventListener("toggle", function () { if (!whispers.open) { markRead(); } });
}
