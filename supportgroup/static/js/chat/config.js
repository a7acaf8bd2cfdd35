/* What the page says about this meeting and its viewer (data-* on #chat), read once.
 * Every visible string comes from the template (data-text-* on #chat), translated there: `T.textSending` etc.
 * The template loads the chat modules only when #chat is on the page.
 */
export const root = document.getElementById("chat");
export const T = root.dataset;
export const meetingId = parseInt(T.meetingId, 10);
export const myId = T.me;
export const me = { id: myId, name: T.myName, role: T.myRole };
export const isModerator = T.moderator === "1";
export const replayLimit = parseInt(T.replayLimit, 10) || 1000;
export const ACK_TIMEOUT_MS = 5000;
