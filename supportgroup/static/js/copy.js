/* Copy a link or code with one tap: a button[data-copy] names the input whose value it copies, and says so in the
 * nearest .copy-status (data-copied), or selects the text for copying by hand when the clipboard is refused
 * (data-copy-failed). Used by invite links (groups) and activation links (admin). */

function say(button, text) {
  const status = button.closest("li, form, section")?.querySelector(".copy-status");
  if (status) status.textContent = text;
}

async function copy(button) {
  const input = document.getElementById(button.dataset.copy);
  if (!input) return;
  try {
    await navigator.clipboard.writeText(input.value);
    say(button, button.dataset.copied);
  } catch {
    input.focus();
    input.select();
    say(button, button.dataset.copyFailed);
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (button) copy(button);
});
