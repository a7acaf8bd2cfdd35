/* Meeting controls: an announcement to everyone, pre-moderation, slow mode, lock, and closing the meeting
 * (with an inline confirmation). The server is the truth: buttons emit, and `onState` redraws them from the
 * MeetingState; the whole console is disabled while the meeting is not open.
 */
import { T } from "../chat/config.js";
import { $, enterSubmits, fmt } from "../chat/dom.js";
import { queueText } from "../chat/outbox.js";
import { page } from "../chat/store.js";
import { refreshAllTags } from "./people.js";
import { emit, sectionNote } from "./ui.js";

const controlsNote = sectionNote($("sec-controls"));
const announceInput = $("announce-input");
const announceForm = $("announce-form");
announceForm.addEventListener("submit", function (event) {
  event.preventDefault();
  queueText("announce", null, announceInput, announceForm.querySelector(".form-note"));
});
enterSubmits(announceInput, announceForm);

$("premoderation").addEventListener("click", function () {
  emit("set_premoderation", { on: !page.ms.premoderation }, controlsNote);
});
const slowButtons = document.querySelectorAll(".slow-mode [data-seconds]");
Array.prototype.forEach.call(slowButtons, function (slow) {
  slow.addEventListener("click", function () {
    emit("set_slow_mode", { seconds: parseInt(slow.dataset.seconds, 10) }, controlsNote);
  });
});
$("lock").addEventListener("click", function () { emit("lock", { locked: !page.ms.locked }, controlsNote); });

const closeButton = $("close-meeting");
const closeConfirm = $("close-confirm");
closeButton.setAttribute("aria-expanded", "false");
function hideClose() { closeConfirm.hidden = true; closeButton.setAttribute("aria-expanded", "false"); closeButton.focus(); }
closeButton.addEventListener("click", function () {
  closeConfirm.hidden = false;
  closeButton.setAttribute("aria-expanded", "true");
  $("close-no").focus();
});
$("close-no").addEventListener("click", hideClose);
closeConfirm.addEventListener("keydown", function (event) { if (event.key === "Escape") { hideClose(); } });
$("close-yes").addEventListener("click", function () {
  emit("close", {}, controlsNote, function () { closeConfirm.hidden = true; closeButton.setAttribute("aria-expanded", "false"); });
});

function pressed(node, on) { node.setAttribute("aria-pressed", on ? "true" : "false"); }

/* Redraw the controls, the floor and the people's tags from the MeetingState. */
export function onState(ms) {
  pressed($("premoderation"), !!ms.premoderation);
  pressed($("lock"), !!ms.locked);
  pressed($("floor-only"), !!ms.floor_only);
  const seconds = ms.slow_mode_seconds || 0;
  Array.prototype.forEach.call(slowButtons, function (slow) {
    pressed(slow, parseInt(slow.dataset.seconds, 10) === seconds);
  });
  $("floor-holder").textContent = ms.floor ? fmt(T.textFloorHolder, { name: ms.floor.name }) : "";
  $("take-floor").hidden = !ms.floor;
  refreshAllTags();
  const open = ms.state === "open";
  Array.prototype.forEach.call(document.querySelectorAll("#console button, #console textarea, #console select, #console input"),
    function (control) { control.disabled = !open; });
}
