/* Copy a link or a list of codes with one tap, and print a page of codes. Used by invite links (groups), activation
 * links (admin), recovery codes and two-factor backup codes (templates/_one_time_codes.html).
 *
 * A button[data-copy] names, by id and separated by spaces, what it copies: an input's value, or an element's codes
 * (the text of each <code> in it, one per line) or else its text. It says so in the nearest .copy-status (data-copied),
 * or, when the clipboard is refused, selects an input for copying by hand (data-copy-failed). A button[data-print]
 * prints the page. Buttons that start `hidden` are shown only when they can work. */

function say(button, text) {
  const status = button.closest("li, form, section, .copy-box")?.querySelector(".copy-status");
  if (status) status.textContent = text;
}

function textOf(element) {
  if (element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement) return element.value;
  const codes = Array.from(element.querySelectorAll("code"), (code) => code.textContent.trim());
  return codes.length ? codes.join("\n") : element.textContent.trim();
}

async function copy(button) {
  const targets = button.dataset.copy.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean);
  if (!targets.length) return;
  try {
    await navigator.clipboard.writeText(targets.map(textOf).filter(Boolean).join("\n"));
    say(button, button.dataset.copied);
  } catch {
    const input = targets.find((t) => t instanceof HTMLInputElement);
    if (input) {
      input.focus();
      input.select();
    }
    say(button, button.dataset.copyFailed);
  }
}

document.addEventListener("click", (event) => {
  const copyButton = event.target.closest("button[data-copy]");
  if (copyButton) copy(copyButton);
  if (event.target.closest("button[data-print]")) window.print();
});

const canCopy = Boolean(navigator.clipboard && window.isSecureContext);
for (const button of document.querySelectorAll("button[data-copy][hidden]")) button.hidden = !canCopy;
for (const button of document.querySelectorAll("button[data-print][hidden]")) button.hidden = typeof window.print !== "function";
