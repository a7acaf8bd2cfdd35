/* Who is present, and the participant's own raised hand. Peer experts see both in the console instead
 * (hooks.renderPresence, hooks.onHands).
 */
import { T, meetingId, myId } from "./config.js";
import { $, authorLine } from "./dom.js";
import { hooks } from "./store.js";
import { emitAck } from "./transport.js";

const presentList = $("present");
const handButton = $("hand-button");
const handState = $("hand-state");

export function renderPresence(people) {
  if (hooks.renderPresence) { hooks.renderPresence(people); return; }
  presentList.textContent = "";
  people.forEach(function (person) {
    const li = document.createElement("li");
    li.appendChild(authorLine(person));
    presentList.appendChild(li);
  });
}

export function renderHands(queue) {
  const hands = queue || [];
  if (handButton) {
    const raised = hands.some(function (person) { return person.id === myId; });
    handButton.setAttribute("aria-pressed", raised ? "true" : "false");
    handButton.textContent = raised ? T.textLowerHand : T.textRaiseHand;
    handState.textContent = raised ? T.textHandRaised : "";
  }
  if (hooks.onHands) { hooks.onHands(hands); }
}

if (handButton) {
  handButton.addEventListener("click", function () {
    const raised = handButton.getAttribute("aria-pressed") === "true";
    emitAck(raised ? "lower_hand" : "raise_hand", { meeting_id: meetingId }, handState);
  });
}
