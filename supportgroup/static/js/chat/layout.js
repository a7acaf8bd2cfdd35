/* The chat fills the screen: the pane (pinned message, messages, banners, the box to write in) is as tall as
 * the window below where it starts, so the box to write in stays at the bottom of the screen, also on a
 * phone. The pinned message shows two lines until "Show all" opens it. Without this script the CSS keeps a
 * fixed height (app.css).
 */
import { $ } from "./dom.js";

const pane = $("chat-pane");
const pinnedText = $("pinned-text");
const pinnedToggle = $("pinned-toggle");

/* Where the pane starts on the page (not on the screen): what is above it may change (a banner, a notice). */
function fitPane() {
  if (!pane || pane.offsetParent === null) { return; }
  const top = pane.getBoundingClientRect().top + window.scrollY;
  const room = window.innerHeight - top - 8;
  document.documentElement.style.setProperty("--pane-height", Math.max(room, 0) + "px");
}

function refreshPinnedToggle() {
  if (!pinnedToggle || !pinnedText) { return; }
  const open = pinnedToggle.getAttribute("aria-expanded") === "true";
  const clipped = pinnedText.scrollHeight > pinnedText.clientHeight + 1;
  pinnedToggle.hidden = !open && !clipped;
}

if (pane) {
  fitPane();
  window.addEventListener("resize", fitPane);
  if (window.ResizeObserver) {
    // Anything above the pane that grows or shrinks (the page's head, a notice) moves where it starts.
    // Fitting in the next frame: a change made inside the callback would be a ResizeObserver loop.
    const observer = new ResizeObserver(function () {
      window.requestAnimationFrame(function () { fitPane(); refreshPinnedToggle(); });
    });
    observer.observe(document.body);
    if (pinnedText) { observer.observe(pinnedText); }
  }
}

/* The message list stays at its newest line when it gets smaller (a pinned message or a notice appears, the
 * keyboard opens): only when it was at the newest line before. */
const scroller = $("messages") && $("messages").parentElement;
if (scroller && window.ResizeObserver) {
  let lastHeight = scroller.clientHeight;
  new ResizeObserver(function () {
    const shrunk = Math.max(0, lastHeight - scroller.clientHeight);
    lastHeight = scroller.clientHeight;
    const fromBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    if (fromBottom < 80 + shrunk) { scroller.scrollTop = scroller.scrollHeight; }
  }).observe(scroller);
}

if (pinnedToggle && pinnedText) {
  pinnedToggle.addEventListener("click", function () {
    const open = pinnedToggle.getAttribute("aria-expanded") !== "true";
    pinnedToggle.setAttribute("aria-expanded", open ? "true" : "false");
    pinnedText.classList.toggle("open", open);
    pinnedToggle.textContent = open ? pinnedToggle.dataset.less : pinnedToggle.dataset.more;
    refreshPinnedToggle();
  });
  new MutationObserver(refreshPinnedToggle).observe(pinnedText, { childList: true, characterData: true, subtree: true });
}
