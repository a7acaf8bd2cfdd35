/* The attention strip above the chat: alerts, reports, the waiting room, raised hands and messages waiting
 * for approval, each with its live count. A tap opens that panel of the console, brings it into view and
 * puts the focus on its title; for alerts and reports the chat also scrolls to the first one's message.
 */
import { $ } from "../chat/dom.js";
import { showMessage } from "../chat/messages.js";

const strip = $("attention");

/* `name`: alerts, reports, waiting, hands or pending. */
export function setAttention(name, count) {
  const chip = strip && strip.querySelector('[data-count="' + name + '"]');
  if (!chip) { return; }
  chip.querySelector(".count").textContent = String(count);
  chip.classList.toggle("has-items", count > 0);
}

function openPanel(chip) {
  const panel = $(chip.dataset.panel);
  if (!panel) { return; }
  if (panel.hidden) { $("console-title").focus(); return; }  // no open alerts: the console itself
  if (panel.tagName === "DETAILS") { panel.open = true; }
  const first = panel.querySelector("li.queue-item");
  if (first && typeof first.messageId === "number") { showMessage(first.messageId, false); }
  panel.scrollIntoView({ block: "start" });
  const title = panel.querySelector(":scope > summary, :scope > h3");
  if (title) { title.focus({ preventScroll: true }); }
}

if (strip) {
  Array.prototype.forEach.call(strip.querySelectorAll(".attention-item"), function (chip) {
    chip.addEventListener("click", function () { openPanel(chip); });
  });
}
