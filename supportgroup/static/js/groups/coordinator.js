/* The coordinator's group pages (plain ES module, no build step). Each part only enhances a page that works
 * without JavaScript:
 * - copy an invite link with one tap (../copy.js: button[data-copy] names the input to copy);
 * - find a participant or peer expert as you type (.type-ahead[data-people-url]: an ARIA 1.2 combobox over
 *   GET <url>&q=... -> {"ok": true, "results": [{"value", "label"}]}); the form still posts the username;
 * - refresh the house-rules preview while typing (.rules-editor[data-preview-url]: POST house_rules ->
 *   {"ok": true, "html"}, made by the same server function that shows the rules to participants). */

import "../copy.js"; // copy an invite link with one tap

const DEBOUNCE_MS = 250;
const MIN_QUERY = 3; // the server matches the start of a name from 3 characters on (groups/people.py)

function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/* --- type-ahead to find a person ---------------------------------------------------------------------- */

function combobox(box) {
  const input = box.querySelector("input[type=text]");
  if (!input) return;
  const listbox = document.createElement("ul");
  listbox.id = `${input.id}-listbox`;
  listbox.setAttribute("role", "listbox");
  listbox.hidden = true;
  const label = box.querySelector(`label[for="${input.id}"]`);
  if (label) {
    label.id = label.id || `${input.id}-label`;
    listbox.setAttribute("aria-labelledby", label.id);
  }
  const status = document.createElement("span");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  input.after(listbox, status);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", listbox.id);

  let options = [];
  let active = -1;
  let asked = 0;

  function close() {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(option) {
    input.value = option.dataset.value;
    close();
    status.textContent = "";
  }

  function show(results) {
    listbox.replaceChildren();
    options = results.map((result, i) => {
      const option = document.createElement("li");
      option.id = `${listbox.id}-${i}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.value = result.value;
      option.textContent = result.label;
      option.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the input
      option.addEventListener("click", () => choose(option));
      return option;
    });
    listbox.append(...options);
    active = -1;
    if (options.length) {
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent =
        options.length === 1 ? box.dataset.countOne : box.dataset.countMany.replace("{n}", options.length);
    } else {
      close();
      status.textContent = box.dataset.none;
    }
  }

  const search = debounce(async () => {
    const query = input.value.trim();
    const mine = ++asked;
    if (query.length < MIN_QUERY) {
      close();
      status.textContent = "";
      return;
    }
    try {
      const url = `${box.dataset.peopleUrl}&q=${encodeURIComponent(query)}`;
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      const answer = await response.json();
      if (mine !== asked) return;
      if (answer.ok) {
        show(answer.results);
      } else {
        close(); // e.g. too many searches in a minute (429): say so; typing the username in full still works
        status.textContent = answer.error?.message || "";
      }
    } catch {
      close(); // typing the username in full still works
    }
  }, DEBOUNCE_MS);

  input.addEventListener("input", search);
  input.addEventListener("blur", close);
  input.addEventListener("keydown", (event) => {
    const open = !listbox.hidden && options.length > 0;
    if (event.key === "ArrowDown" && open) {
      event.preventDefault();
      highlight((active + 1) % options.length);
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      highlight(active <= 0 ? options.length - 1 : active - 1);
    } else if (event.key === "Enter" && open && active >= 0) {
      event.preventDefault(); // choose; the next Enter submits
      choose(options[active]);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close();
    }
  });
}

document.querySelectorAll(".type-ahead[data-people-url]").forEach(combobox);

/* --- live preview of the house rules ------------------------------------------------------------------ */

function rulesPreview(editor) {
  const textarea = editor.querySelector("textarea");
  const preview = editor.querySelector("#rules-preview");
  const token = editor.closest("form")?.querySelector("input[name=csrf_token]");
  if (!textarea || !preview || !token) return;
  let asked = 0;
  const refresh = debounce(async () => {
    const mine = ++asked;
    const body = new FormData();
    body.append("csrf_token", token.value);
    body.append("house_rules", textarea.value);
    try {
      const response = await fetch(editor.dataset.previewUrl, {
        method: "POST",
        body,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      const answer = await response.json();
      if (mine !== asked || !answer.ok) return;
      // The server's own rendering, cleaned with bleach: exactly what participants will see.
      const parsed = new DOMParser().parseFromString(`<div>${answer.html}</div>`, "text/html");
      const empty = Object.assign(document.createElement("p"), { className: "muted", textContent: preview.dataset.empty });
      preview.replaceChildren(...(answer.html ? parsed.body.firstChild.childNodes : [empty]));
    } catch {
      // the Preview button still works
    }
  }, 400);
  textarea.addEventListener("input", refresh);
}

document.querySelectorAll(".rules-editor[data-preview-url]").forEach(rulesPreview);
