/* The waiting room in the console: who waits to be let in ("Let in", "Let everyone in"). The same list
 * again keeps the rows, and the focus in them.
 */
import { T } from "../chat/config.js";
import { $, authorLine, button, el, fmt, setNote } from "../chat/dom.js";
import { announce, emit, focusFirstIn, openSection, refreshEmpty, sectionNote, setCount } from "./ui.js";

const waitingList = $("waiting-list");
const waitingNote = sectionNote($("sec-waiting"));
const admitAll = $("admit-all");
let waitingShown = null;  // the list drawn last (JSON): the same list again keeps the rows (and focus)

export function renderWaiting(list, quiet) {
  const key = JSON.stringify(list || []);
  if (key === waitingShown) { return; }
  waitingShown = key;
  const before = waitingList.children.length;
  const hadFocus = waitingList.contains(document.activeElement);
  waitingList.textContent = "";
  (list || []).forEach(function (person) {
    const li = el("li", "queue-item");
    li.appendChild(authorLine(person));
    const row = el("div", "button-row");
    row.appendChild(button(T.textAdmit, "small primary", function () { emit("admit", { member: person.id }, waitingNote); }));
    li.appendChild(row);
    waitingList.appendChild(li);
  });
  admitAll.hidden = waitingList.children.length === 0;
  refreshEmpty(waitingList);
  setCount("count-waiting", waitingList.children.length);
  if (hadFocus) { focusFirstIn(waitingList, $("waiting-title")); }
  if (!quiet && waitingList.children.length > before) { openSection("sec-waiting"); announce(T.textNewWaiting); }
}

admitAll.addEventListener("click", function () {
  emit("admit_all", {}, waitingNote, function (ack) {
    setNote(waitingNote, fmt(T.textAdmittedCount, { count: typeof ack.admitted === "number" ? ack.admitted : "" }));
  });
});

export function clearWaiting() { waitingList.textContent = ""; waitingShown = null; }
