/* The message box: Enter sends, Shift+Enter makes a new line; nothing is sent while slow mode counts down;
 * a message that may show who the writer is (identifying.js, window.SGIdentifying) asks first, in a small
 * dialog that keeps Tab between its two choices.
 */
import { $, enterSubmits } from "./dom.js";
import { queueText } from "./outbox.js";
import { page } from "./store.js";

const form = $("send-form");
const input = $("message-input");
const sendNote = $("send-note");
const idWarning = $("identifying-warning");
const idChange = $("identifying-change");
const idSend = $("identifying-send");
let idReturnFocus = null;

function identifyingKinds(text) {
  return window.SGIdentifying && typeof window.SGIdentifying.kinds === "function" ? window.SGIdentifying.kinds(text) : [];
}

function closeIdentifyingWarning() {
  if (!idWarning || idWarning.hidden) { return; }
  idWarning.hidden = true;
  form.removeAttribute("aria-hidden");
}

function openIdentifyingWarning() {
  idReturnFocus = input;
  idWarning.hidden = false;
  idChange.focus();
}

if (idWarning) {
  idChange.addEventListener("click", function () {
    closeIdentifyingWarning();
    (idReturnFocus || input).focus();
  });
  idSend.addEventListener("click", function () {
    closeIdentifyingWarning();
    if (!input.disabled && page.retryUntil <= Date.now()) { queueText("send", null, input, sendNote); }
    input.focus();
  });
  idWarning.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); idChange.click(); return; }
    if (event.key !== "Tab") { return; }
    // Keep Tab between the two choices while the question is open.
    const first = idChange, last = idSend;
    if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
  });
  input.addEventListener("input", closeIdentifyingWarning);
}

form.addEventListener("submit", function (event) {
  event.preventDefault();
  if (input.disabled || page.retryUntil > Date.now()) { return; }
  if (idWarning && identifyingKinds(input.value).length) { openIdentifyingWarning(); return; }
  queueText("send", null, input, sendNote);
});
enterSubmits(input, form);
