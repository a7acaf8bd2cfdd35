/* Slow mode on the sender's side: after the server says `slow_mode` with `retry_after`, the send button
 * counts down ("Wait 12 s") and stays disabled until then. When slow mode ends (or gets shorter, or the
 * meeting stops being open) the countdown ends or shortens with it: nothing keeps saying "wait".
 */
import { T } from "./config.js";
import { $, fmt, setNote } from "./dom.js";
import { updateComposer } from "./state.js";
import { actions, page } from "./store.js";

const sendButton = $("send-button");
const sendLabel = sendButton.textContent;
const sendNote = $("send-note");

export function startRetryCountdown(seconds) {
  page.retryUntil = Date.now() + Math.max(1, Math.ceil(seconds)) * 1000;
  setNote(sendNote, fmt(T.textRetryAfter, { seconds: Math.ceil(seconds) }));
  clearInterval(page.retryTimer);
  tickRetry();
  page.retryTimer = setInterval(tickRetry, 1000);
}

function tickRetry() {
  const left = Math.ceil((page.retryUntil - Date.now()) / 1000);
  if (left <= 0) {
    clearInterval(page.retryTimer); page.retryTimer = null; page.retryUntil = 0;
    sendButton.textContent = sendLabel;
    setNote(sendNote, "");
  } else {
    sendButton.textContent = fmt(T.textWait, { seconds: left });
  }
  updateComposer();
}

/* The meeting's slow mode is now `seconds` (0: off) and it is `open` or not: end or shorten the countdown. */
function fitRetryToState(seconds, open) {
  if (!page.retryUntil) { return; }
  if (!open || !seconds) { page.retryUntil = 0; tickRetry(); return; }
  const latest = Date.now() + seconds * 1000;
  if (page.retryUntil > latest) { page.retryUntil = latest; tickRetry(); }
}
actions.fitRetryToState = fitRetryToState;
