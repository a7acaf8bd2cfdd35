/* What this page knows, shared by the chat modules (and read by the console): one mutable object, so every
 * module sees the same values. Also `hooks`, which the peer expert's console fills in (js/moderator/main.js)
 * and the chat calls, and `actions`, late-bound steps a lower module may ask for without importing the one
 * that does them (joining.js fills in `rejoin`).
 */
const stateLabel = document.getElementById("meeting-state");

export const page = {
  lastId: 0,             // the highest server id rendered
  covered: 0,            // the replay point: every id up to it is known (rendered, deleted or not for us)
  knownDeleted: 0,       // how many of the meeting's messages this page knows to be deleted
  snapshotGeneration: 0, // join and catch_up requests sent: a moderation snapshot is as old as its request
  ended: false,          // the session ended or the server refused for good: no more retries
  rendered: {},          // server id -> element
  deleted: {},           // server id -> true (never render again)
  outbox: {},            // client id -> {event, payload, kind, element, source, note, extra}
  awaiting: {},          // client id -> {id, element}: own messages waiting for approval
  joined: false,
  waiting: false,
  removed: false,
  muted: null,           // null or {until, reason}
  muteTimer: null,
  retryUntil: 0,         // slow mode: no send before this time (ms)
  retryTimer: null,
  ms: { state: stateLabel ? stateLabel.dataset.state : "scheduled" },  // the MeetingState
  quiet: false           // true while the first history is drawn: nothing in it is news
};

/* Filled in by the console for peer experts: listFor, renderPresence, onHands, onState, onMessage,
 * decorateMessage, onModeration, onDeleted, clear. For participants, whisper.js sets onMessage. */
export const hooks = {};

export const actions = {
  rejoin: function () {}  // join again from the replay point (joining.js)
};
