/* A participant reports someone else's message (from its menu): a small inline form under it (Escape closes it). */
import { T, meetingId } from "./config.js";
import { button, el } from "./dom.js";
import { emitAck } from "./transport.js";

export function openReport(item, message, reportButton) {
  const existing = item.querySelector(".report-form");
  if (existing) { existing.querySelector("input").focus(); return; }
  const reportForm = el("form", "report-form");
  reportForm.autocomplete = "off";
  const fieldId = "report-" + message.id;
  const label = el("label", null, T.textReportLabel);
  label.htmlFor = fieldId;
  const reason = el("input");
  reason.type = "text"; reason.id = fieldId; reason.maxLength = 300; reason.required = true;
  const submit = el("button", "small primary", T.textReportSend);
  submit.type = "submit";
  const note = el("p", "form-note"); note.setAttribute("role", "status");
  function close() {
    reportForm.remove(); reportButton.setAttribute("aria-expanded", "false");
    // The button sits in the message's menu: when that closed meanwhile, the menu's button takes the focus.
    const target = reportButton.offsetParent !== null ? reportButton : item.querySelector(".msg-menu-toggle");
    if (target) { target.focus(); }
  }
  const cancel = button(T.textCancel, "small", close);
  const buttons = el("div", "button-row");
  buttons.appendChild(submit); buttons.appendChild(cancel);
  reportForm.appendChild(label); reportForm.appendChild(reason); reportForm.appendChild(buttons); reportForm.appendChild(note);
  reportForm.addEventListener("keydown", function (event) { if (event.key === "Escape") { close(); } });
  reportForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const why = reason.value.trim();
    if (!why) { reason.focus(); return; }
    submit.disabled = true;
    emitAck("report", { meeting_id: meetingId, id: message.id, reason: why }, note, function () {
      const thanks = el("p", "form-note done", T.textReportThanks);
      thanks.setAttribute("role", "status");
      thanks.tabIndex = -1;
      reportForm.replaceWith(thanks);
      reportButton.textContent = T.textReported;
      reportButton.disabled = true;
      reportButton.setAttribute("aria-expanded", "false");
      thanks.focus();
    }, function () { submit.disabled = false; });
  });
  item.appendChild(reportForm);
  reportButton.setAttribute("aria-expanded", "true");
  reason.focus();
}
