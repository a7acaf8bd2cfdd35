/* The page that shows new recovery codes once (templates/auth/recovery_codes_new.html): copy them (for a
 * password manager) or print them. Without scripts both buttons stay hidden; the codes are on the page. */

const list = document.getElementById("code-list");
const copyButton = document.getElementById("copy-codes");
const printButton = document.getElementById("print-codes");
const status = document.getElementById("copy-status");
const username = document.getElementById("codes-username");

function codesText() {
  const codes = Array.from(list.querySelectorAll("code"), (code) => code.textContent.trim());
  return [username ? username.textContent.trim() : "", ...codes].filter(Boolean).join("\n");
}

if (list && copyButton && navigator.clipboard && window.isSecureContext) {
  copyButton.hidden = false;
  copyButton.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(codesText());
      status.textContent = copyButton.dataset.done;
    } catch {
      status.textContent = copyButton.dataset.failed;
    }
  });
}

if (printButton && typeof window.print === "function") {
  printButton.hidden = false;
  printButton.addEventListener("click", () => window.print());
}
