/* The private crisis note (only the author of a message that may signal a crisis receives it): shown right
 * after that message, with where to find help. It can arrive before the message is drawn: then it waits in
 * `notesFor` (messages.js places it) for at most 3 s.
 */
import { T } from "./config.js";
import { $, el, nearBottom } from "./dom.js";
import { page } from "./store.js";

const list = $("messages");
const scroller = list.parentElement;

export const notesFor = {};  // message id -> note element waiting for its message to be drawn

function crisisNoteElement(data) {
  const item = el("li", "crisis-note");
  item.setAttribute("role", "note");
  item.setAttribute("aria-label", T.textCrisisNoteTitle);
  item.appendChild(el("p", "crisis-note-title", T.textCrisisNoteTitle));
  if (data.text) { item.appendChild(el("p", "crisis-note-text", data.text)); }
  const resources = Array.isArray(data.resources) ? data.resources : [];
  if (resources.length) {
    const ul = el("ul", "crisis-list");
    resources.forEach(function (resource) {
      if (!resource || !resource.phone) { return; }
      const li = el("li");
      li.appendChild(el("span", "crisis-name", (resource.name || "") + ": "));
      const phone = String(resource.phone);
      const link = el("a", null, phone);
      // "113 / 0800 0113": link the first number; the rest stays as text.
      const first = phone.split("/")[0];
      link.href = "tel:" + (first.trim().charAt(0) === "+" ? "+" : "") + first.replace(/\D/g, "");
      li.appendChild(link);
      if (resource.description) { li.appendChild(el("span", "crisis-description", " " + resource.description)); }
      ul.appendChild(li);
    });
    item.appendChild(ul);
  }
  item.appendChild(el("p", "crisis-note-private", T.textCrisisNotePrivate));
  return item;
}

export function placeNote(note, afterItem) {
  const stick = nearBottom(scroller);
  afterItem.parentNode.insertBefore(note, afterItem.nextSibling);
  if (stick) { scroller.scrollTop = scroller.scrollHeight; }
}

export function showCrisisNote(data) {
  const note = crisisNoteElement(data);
  const id = typeof data.message_id === "number" ? data.message_id : page.lastId;
  note.dataset.id = id;  // keeps its place when later messages are sorted in
  const awaiting = page.awaiting;
  const own = page.rendered[id] || (Object.keys(awaiting).map(function (key) { return awaiting[key]; })
    .filter(function (entry) { return entry.id === id; }).map(function (entry) { return entry.element; })[0]);
  if (own) { placeNote(note, own); return; }
  // The note can arrive before the message's own acknowledgement: place it when the message is drawn.
  notesFor[id] = note;
  setTimeout(function () {
    if (notesFor[id] === note) { delete notesFor[id]; list.appendChild(note); scroller.scrollTop = scroller.scrollHeight; }
  }, 3000);
}
