/* The peer expert's console beside the chat (docs/protocol.md §4a, §5a).
 *
 * Loaded before chat.js, only for the group's moderators. chat.js calls window.SGModerator(api) once and
 * uses the hooks it returns. Plain text only (textContent); every string comes from the template.
 * The server is the truth for every state shown here: buttons emit, the resulting events redraw.
 */
(function () {
  "use strict";

  window.SGModerator = function (api) {
    var T = api.text;
    var fmt = api.fmt;
    var el = api.el;
    var button = api.button;
    var meetingId = api.meetingId;
    var myId = api.me.id;

    function $(id) { return document.getElementById(id); }
    var consoleStatus = $("console-status");
    var presentList = $("present");
    var handsList = $("hands-list");
    var pendingList = $("pending-list");
    var reportList = $("report-list");
    var waitingList = $("waiting-list");
    var whisperList = $("mod-whisper-list");
    var backchannelList = $("backchannel-list");
    var whisperTo = $("whisper-to");
    var whisperInput = $("mod-whisper-input");

    var people = {};         // member id -> Person (present now, or named in a whisper)
    var personRows = {};     // member id -> li in the people list
    var mutedHere = {};      // member id -> until (ISO) or null: mutes this console set (a hint only)
    var handIds = {};        // member id -> true while their hand is up
    var pendingRows = {};    // message id -> li
    var reportRows = {};     // report id -> li
    /* "pending:12", "report:3", "alert:5", "waiting", "handover" -> the snapshot generation (chat.js counts the
     * join and catch_up requests sent) current when a live event or this console's own action last changed it.
     * A snapshot is read while its request is handled, before its ack leaves: a change made after the request
     * was sent may reach the page first, and that snapshot must neither undo nor redo it. */
    var touched = {};
    var reconciling = false;
    function touch(key) { if (!reconciling) { touched[key] = api.snapshotGeneration(); } }
    function changedSince(key, generation) { return typeof generation === "number" && touched[key] >= generation; }
    var unread = { whispers: 0, backchannel: 0 };
    var uid = 0;

    function nextId(prefix) { uid += 1; return prefix + "-" + uid; }
    function emit(event, fields, note, onOk, onError) {
      var payload = { meeting_id: meetingId };
      Object.keys(fields || {}).forEach(function (key) { payload[key] = fields[key]; });
      api.emit(event, payload, note, onOk, onError);
    }
    function announce(message) { api.setNote(consoleStatus, message); }
    function sectionNote(section) { return section.querySelector(":scope > .form-note") || api.noteIn(section); }

    /* A number beside a section title; `count` 0 hides it. */
    function setCount(id, count) {
      var badge = $(id);
      if (!badge) { return; }
      badge.textContent = count > 0 ? String(count) : "";
      badge.hidden = !(count > 0);
      var section = badge.closest("details");
      if (section) { section.classList.toggle("has-items", count > 0); }
    }

    function refreshEmpty(listNode) {
      var empty = listNode.parentElement.querySelector(":scope > .empty");
      if (empty) { empty.hidden = listNode.children.length > 0; }
    }

    function openSection(id) { var section = $(id); if (section && !section.open) { section.open = true; } }

    // Desktop: every section starts open. Phone: closed, so the console stays short below the chat.
    if (window.matchMedia && window.matchMedia("(min-width: 60rem)").matches) {
      Array.prototype.forEach.call(document.querySelectorAll(".console-section"), function (section) { section.open = true; });
    }

    function labelled(labelText, control) {
      var wrap = el("div", "field-inline");
      var label = el("label", null, labelText);
      control.id = control.id || nextId("f");
      label.htmlFor = control.id;
      wrap.appendChild(label);
      wrap.appendChild(control);
      return wrap;
    }

    function reasonInput(required) {
      var reason = el("input");
      reason.type = "text"; reason.maxLength = 300; reason.required = !!required; reason.autocomplete = "off";
      return reason;
    }

    function messageQuote(message) {
      var quote = el("blockquote", "quote");
      var who = el("p", "meta");
      who.appendChild(api.authorLine(message.author));
      quote.appendChild(who);
      quote.appendChild(el("p", "text", message.text));
      return quote;
    }

    /* An inline "are you sure" with a reason field: for remove, ban and reject. */
    function confirmBox(trigger, question, confirmLabel, danger, reasonRequired, reasonLabel, onConfirm) {
      var host = trigger.closest("li, .action-panel") || trigger.parentElement;
      var box = el("form", "confirm");
      box.autocomplete = "off";
      box.appendChild(el("p", null, question));
      var reason = reasonInput(reasonRequired);
      box.appendChild(labelled(reasonLabel, reason));
      var row = el("div", "button-row");
      var yes = el("button", danger ? "danger" : "primary", confirmLabel);
      yes.type = "submit";
      function close() { box.remove(); trigger.setAttribute("aria-expanded", "false"); trigger.focus(); }
      row.appendChild(yes);
      row.appendChild(button(T.textCancel, null, close));
      box.appendChild(row);
      var note = el("p", "form-note"); note.setAttribute("role", "status"); box.appendChild(note);
      box.addEventListener("keydown", function (event) { if (event.key === "Escape") { event.preventDefault(); close(); } });
      box.addEventListener("submit", function (event) {
        event.preventDefault();
        var why = reason.value.trim();
        if (reasonRequired && !why) { reason.focus(); return; }
        yes.disabled = true;
        onConfirm(why, note, function () { yes.disabled = false; }, close);
      });
      var old = host.querySelector(":scope > form.confirm");
      if (old) { old.remove(); }
      host.appendChild(box);
      trigger.setAttribute("aria-expanded", "true");
      reason.focus();
      return box;
    }

    // ---- people present ------------------------------------------------------------------------------------

    function tagsFor(person) {
      var tags = el("span", "tags");
      var floor = api.state().floor;
      if (floor && floor.id === person.id) { tags.appendChild(el("span", "tag floor", T.textFloorTag)); }
      if (handIds[person.id]) { tags.appendChild(el("span", "tag hand", T.textHandTag)); }
      if (Object.prototype.hasOwnProperty.call(mutedHere, person.id)) {
        var until = mutedHere[person.id];
        if (until && new Date(until).getTime() <= Date.now()) { delete mutedHere[person.id]; }
        else {
          tags.appendChild(el("span", "tag muted-tag", until ? fmt(T.textMutedTagUntil, { time: api.formatTime(until) }) : T.textMutedTag));
        }
      }
      return tags;
    }

    function refreshTags(id) {
      var row = personRows[id];
      if (!row) { return; }
      var old = row.querySelector(".tags");
      var fresh = tagsFor(row.person);
      old.replaceWith(fresh);
    }

    function personRow(person) {
      var li = el("li", "person");
      li.person = person;
      var head = el("div", "person-head");
      head.appendChild(api.authorLine(person));
      head.appendChild(document.createTextNode(" "));
      head.appendChild(el("span", "tags"));
      li.appendChild(head);
      if (person.role !== "participant" || person.id === myId) { return li; }

      var details = el("details", "person-actions");
      var summary = el("summary", null, T.textActions);
      summary.setAttribute("aria-label", fmt(T.textActionsFor, { name: person.name }));
      details.appendChild(summary);
      var panel = el("div", "action-panel");
      var note = el("p", "form-note"); note.setAttribute("role", "status");

      var quick = el("div", "button-row");
      quick.appendChild(button(T.textWhisperTo, "small", function () { whisperToPerson(person.id); }));
      quick.appendChild(button(T.textGiveFloor, "small", function () { emit("give_floor", { member: person.id }, note); }));
      quick.appendChild(button(T.textUnmute, "small", function () {
        emit("unmute", { member: person.id }, note, function () {
          delete mutedHere[person.id]; refreshTags(person.id); api.setNote(note, T.textDone);
        });
      }));
      panel.appendChild(quick);

      var muteForm = el("form", "mute-form");
      muteForm.autocomplete = "off";
      var minutes = el("select");
      [["5", T.textMuteFive], ["15", T.textMuteFifteen], ["", T.textMuteForever]].forEach(function (option) {
        var opt = el("option", null, option[1]); opt.value = option[0]; minutes.appendChild(opt);
      });
      var reason = reasonInput(true);
      var muteButton = el("button", "small", T.textMute);
      muteButton.type = "submit";
      muteForm.appendChild(labelled(T.textMuteFor, minutes));
      muteForm.appendChild(labelled(T.textReasonLabel, reason));
      muteForm.appendChild(muteButton);
      muteForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var why = reason.value.trim();
        if (!why) { reason.focus(); return; }
        var mins = minutes.value ? parseInt(minutes.value, 10) : null;
        emit("mute", { member: person.id, minutes: mins, reason: why }, note, function () {
          mutedHere[person.id] = mins ? new Date(Date.now() + mins * 60000).toISOString() : null;
          reason.value = "";
          refreshTags(person.id);
          api.setNote(note, T.textDone);
        });
      });
      panel.appendChild(muteForm);

      var danger = el("div", "button-row danger-row");
      var removeButton = button(T.textRemove, "small", function () {
        confirmBox(removeButton, fmt(T.textConfirmRemove, { name: person.name }), T.textYesRemove, false, true,
          T.textReasonLabel, function (why, boxNote, retry) {
            emit("remove", { member: person.id, reason: why }, boxNote, function () { api.setNote(note, T.textDone); }, retry);
          });
      });
      var banButton = button(T.textBan, "small danger-outline", function () {
        confirmBox(banButton, fmt(T.textConfirmBan, { name: person.name }), T.textYesBan, true, true,
          T.textReasonLabel, function (why, boxNote, retry) {
            emit("ban", { member: person.id, reason: why }, boxNote, function () { api.setNote(note, T.textDone); }, retry);
          });
      });
      removeButton.setAttribute("aria-expanded", "false");
      banButton.setAttribute("aria-expanded", "false");
      danger.appendChild(removeButton);
      danger.appendChild(banButton);
      panel.appendChild(danger);
      panel.appendChild(note);
      details.appendChild(panel);
      li.appendChild(details);
      return li;
    }

    /* Update the list in place: a row being used (open actions, a typed reason) survives every presence event. */
    function renderPresence(present) {
      var seen = {};
      present.forEach(function (person, index) {
        seen[person.id] = true;
        people[person.id] = person;
        var row = personRows[person.id];
        if (!row || row.person.name !== person.name || row.person.role !== person.role) {
          var fresh = personRow(person);
          if (row) { row.replaceWith(fresh); }
          row = personRows[person.id] = fresh;
        }
        refreshTags(person.id);
        if (presentList.children[index] !== row) { presentList.insertBefore(row, presentList.children[index] || null); }
      });
      Object.keys(personRows).forEach(function (id) {
        if (seen[id]) { return; }
        var hadFocus = personRows[id].contains(document.activeElement);
        personRows[id].remove();
        delete personRows[id];
        if (hadFocus) { $("people-title").closest("summary").focus(); }
      });
      setCount("count-present", present.length);
      refreshWhisperTargets();
    }

    // ---- raised hands and the floor ------------------------------------------------------------------------

    var handsNote = sectionNote($("sec-hands"));

    function onHands(queue) {
      handIds = {};
      handsList.textContent = "";
      queue.forEach(function (person) {
        handIds[person.id] = true;
        var li = el("li", "queue-item");
        li.appendChild(api.authorLine(person));
        var row = el("div", "button-row");
        row.appendChild(button(T.textGiveFloor, "small primary", function () { emit("give_floor", { member: person.id }, handsNote); }));
        li.appendChild(row);
        handsList.appendChild(li);
      });
      refreshEmpty(handsList);
      setCount("count-hands", queue.length);
      Object.keys(personRows).forEach(refreshTags);
    }

    $("take-floor").addEventListener("click", function () { emit("give_floor", { member: null }, handsNote); });
    $("floor-only").addEventListener("click", function () {
      emit("set_floor_only", { on: !api.state().floor_only }, handsNote);
    });

    // ---- messages waiting for approval ---------------------------------------------------------------------

    var pendingNote = sectionNote($("sec-pending"));

    function addPending(message, quiet) {
      touch("pending:" + message.id);
      if (pendingRows[message.id]) { return; }
      var li = el("li", "queue-item");
      li.appendChild(messageQuote(message));
      var row = el("div", "button-row");
      var note = el("p", "form-note"); note.setAttribute("role", "status");
      row.appendChild(button(T.textApprove, "small primary", function () {
        emit("approve", { id: message.id }, note, function () { removePending(message.id); });
      }));
      var reject = button(T.textReject, "small", function () {
        confirmBox(reject, T.textReject, T.textReject, false, false, T.textRejectReason, function (why, boxNote, retry) {
          var fields = { id: message.id };
          if (why) { fields.reason = why; }
          emit("reject", fields, boxNote, function () { removePending(message.id); }, retry);
        });
      });
      reject.setAttribute("aria-expanded", "false");
      row.appendChild(reject);
      li.appendChild(row);
      li.appendChild(note);
      pendingRows[message.id] = li;
      pendingList.appendChild(li);
      refreshEmpty(pendingList);
      setCount("count-pending", Object.keys(pendingRows).length);
      if (!quiet) { openSection("sec-pending"); announce(T.textNewPending); }
    }

    function removePending(id) {
      touch("pending:" + id);
      var li = pendingRows[id];
      if (!li) { return; }
      var hadFocus = li.contains(document.activeElement);
      li.remove();
      delete pendingRows[id];
      refreshEmpty(pendingList);
      setCount("count-pending", Object.keys(pendingRows).length);
      if (hadFocus) { focusFirstIn(pendingList, $("pending-title")); }
    }

    function focusFirstIn(listNode, fallback) {
      var next = listNode.querySelector("button");
      if (next) { next.focus(); }
      else { var summary = fallback.closest("summary"); if (summary) { summary.focus(); } }
    }

    // ---- reports -------------------------------------------------------------------------------------------

    function addReport(report, quiet) {
      touch("report:" + report.id);
      if (reportRows[report.id]) { return; }
      var li = el("li", "queue-item report");
      var head = el("p", "meta");
      head.appendChild(el("span", null, fmt(T.textReportedBy, { name: report.reporter ? report.reporter.name : "" })));
      if (report.created_at) { head.appendChild(document.createTextNode(" · " + api.formatTime(report.created_at))); }
      li.appendChild(head);
      if (report.reason) { li.appendChild(el("p", "reason", fmt(T.textReason, { reason: report.reason }))); }
      if (report.message) { li.appendChild(messageQuote(report.message)); }
      var note = el("p", "form-note"); note.setAttribute("role", "status");
      var row = el("div", "button-row");
      if (report.message) {
        var del = button(T.textDelete, "small", function () {
          emit("delete_message", { id: report.message.id }, note, function () { api.removeMessage(report.message.id); });
        });
        del.className = "small delete-reported";
        row.appendChild(del);
      }
      row.appendChild(button(T.textResolve, "small primary", function () {
        emit("resolve_report", { report_id: report.id }, note, function () { removeReport(report.id); });
      }));
      li.appendChild(row);
      li.appendChild(note);
      li.messageId = report.message ? report.message.id : null;
      reportRows[report.id] = li;
      reportList.appendChild(li);
      refreshEmpty(reportList);
      setCount("count-reports", Object.keys(reportRows).length);
      if (!quiet) { openSection("sec-reports"); announce(T.textNewReport); }
    }

    function removeReport(id) {
      touch("report:" + id);
      var li = reportRows[id];
      if (!li) { return; }
      var hadFocus = li.contains(document.activeElement);
      li.remove();
      delete reportRows[id];
      refreshEmpty(reportList);
      setCount("count-reports", Object.keys(reportRows).length);
      if (hadFocus) { focusFirstIn(reportList, $("reports-title")); }
    }

    // ---- waiting room --------------------------------------------------------------------------------------

    var waitingNote = sectionNote($("sec-waiting"));
    var admitAll = $("admit-all");

    var waitingShown = null;  // the list drawn last (JSON): the same list again keeps the rows (and focus)

    function renderWaiting(list, quiet) {
      var key = JSON.stringify(list || []);
      if (key === waitingShown) { return; }
      waitingShown = key;
      var before = waitingList.children.length;
      var hadFocus = waitingList.contains(document.activeElement);
      waitingList.textContent = "";
      (list || []).forEach(function (person) {
        var li = el("li", "queue-item");
        li.appendChild(api.authorLine(person));
        var row = el("div", "button-row");
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
        api.setNote(waitingNote, fmt(T.textAdmittedCount, { count: typeof ack.admitted === "number" ? ack.admitted : "" }));
      });
    });

    // ---- private messages (whispers) and the backchannel ---------------------------------------------------

    var whisperNote = $("mod-whisper-form").querySelector(".form-note");

    function refreshWhisperTargets() {
      var chosen = whisperTo.value;
      var ids = Object.keys(people).filter(function (id) { return people[id].role === "participant"; });
      ids.sort(function (a, b) { return (people[a].name || "").localeCompare(people[b].name || ""); });
      while (whisperTo.options.length > 1) { whisperTo.remove(1); }
      ids.forEach(function (id) {
        var option = el("option", null, people[id].name); option.value = id; whisperTo.appendChild(option);
      });
      whisperTo.value = chosen && people[chosen] ? chosen : "";
    }

    function whisperToPerson(id) {
      openSection("sec-whispers");
      if (people[id]) { refreshWhisperTargets(); whisperTo.value = id; }
      whisperInput.focus();
      whisperInput.scrollIntoView({ block: "nearest" });
    }

    $("mod-whisper-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!whisperTo.value) { whisperTo.focus(); return; }
      if (!whisperInput.value.trim()) { whisperInput.focus(); return; }
      api.queueText("whisper", { to: whisperTo.value }, whisperInput, whisperNote, { to: people[whisperTo.value] });
    });
    api.enterSubmits(whisperInput, $("mod-whisper-form"));

    var backchannelInput = $("backchannel-input");
    $("backchannel-form").addEventListener("submit", function (event) {
      event.preventDefault();
      api.queueText("backchannel", null, backchannelInput, $("backchannel-form").querySelector(".form-note"));
    });
    api.enterSubmits(backchannelInput, $("backchannel-form"));

    // ---- incidents and handover -----------------------------------------------------------------------------

    var incidentIds = {};  // server id -> true while ticked
    var incidentSelected = $("incident-selected");

    function refreshIncidentCount() {
      var count = Object.keys(incidentIds).length;
      incidentSelected.textContent = count ? fmt(T.textSelectedCount, { count: count }) : "";
    }

    function addIncidentCheckbox(item, message) {
      var box = document.createElement("input");
      box.type = "checkbox";
      box.id = nextId("incident");
      box.addEventListener("change", function () {
        if (box.checked) { incidentIds[message.id] = true; } else { delete incidentIds[message.id]; }
        refreshIncidentCount();
      });
      var wrap = el("div", "msg-actions incident-pick");
      wrap.appendChild(labelled(T.textIncludeIncident, box));
      item.appendChild(wrap);
    }

    $("incident-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var note = sectionNote($("incident-form"));
      var ids = Object.keys(incidentIds).map(Number);
      if (!ids.length) { api.setNote(note, T.textIncidentNone); return; }
      emit("record_incident", { ids: ids, note: $("incident-note").value.trim() }, note, function () {
        api.setNote(note, T.textIncidentSaved);
        $("incident-note").value = "";
        incidentIds = {};
        Array.prototype.forEach.call(document.querySelectorAll(".incident-pick input"), function (box) { box.checked = false; });
        refreshIncidentCount();
      });
    });

    function renderHandover(notes) {
      var list = $("handover-list");
      list.textContent = "";
      (notes || []).forEach(function (item) { list.appendChild(handoverItem(item)); });
    }

    function handoverItem(item) {
      var li = el("li", "", item.note || "");
      if (item.author && item.author.name) { li.appendChild(el("span", "muted", " (" + item.author.name + ")")); }
      return li;
    }

    $("handover-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var note = sectionNote($("handover-form"));
      var text = $("handover-note").value.trim();
      if (!text) { return; }
      emit("handover_note", { note: text }, note, function () {
        api.setNote(note, T.textHandoverSaved);
        $("handover-note").value = "";
      });
    });

    function decorateMessage(item, message) {
      if (message.kind === "chat" || message.kind === "announcement" || !message.kind) { addIncidentCheckbox(item, message); }
      if (message.kind !== "whisper") { return; }
      var other = message.to || (message.author && message.author.role === "participant" ? message.author : null);
      if (!other) { return; }
      if (!people[other.id]) { people[other.id] = other; }
      var meta = item.querySelector(".meta");
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(el("span", "thread-with", fmt(T.textWhisperThread, { name: other.name })));
      var row = el("div", "msg-actions");
      var reply = button(T.textReply, "small", function () { whisperToPerson(other.id); });
      reply.setAttribute("aria-label", T.textReply + ": " + other.name);
      row.appendChild(reply);
      item.appendChild(row);
    }

    function onMessage(message) {
      var own = message.author && message.author.id === myId;
      if (own) { return; }
      if (message.kind === "whisper") {
        if (!$("sec-whispers").open) { unread.whispers += 1; setCount("count-whispers", unread.whispers); }
        announce(fmt(T.textNewWhisperFrom, { name: message.author ? message.author.name : "" }));
      } else if (message.kind === "backchannel" && !$("sec-backchannel").open) {
        unread.backchannel += 1; setCount("count-backchannel", unread.backchannel);
      }
    }

    $("sec-whispers").addEventListener("toggle", function () {
      if (this.open) { unread.whispers = 0; setCount("count-whispers", 0); }
    });
    $("sec-backchannel").addEventListener("toggle", function () {
      if (this.open) { unread.backchannel = 0; setCount("count-backchannel", 0); }
    });

    // ---- meeting controls ----------------------------------------------------------------------------------

    var controlsNote = sectionNote($("sec-controls"));
    var announceInput = $("announce-input");
    $("announce-form").addEventListener("submit", function (event) {
      event.preventDefault();
      api.queueText("announce", null, announceInput, $("announce-form").querySelector(".form-note"));
    });
    api.enterSubmits(announceInput, $("announce-form"));

    $("premoderation").addEventListener("click", function () {
      emit("set_premoderation", { on: !api.state().premoderation }, controlsNote);
    });
    var slowButtons = document.querySelectorAll(".slow-mode [data-seconds]");
    Array.prototype.forEach.call(slowButtons, function (slow) {
      slow.addEventListener("click", function () {
        emit("set_slow_mode", { seconds: parseInt(slow.dataset.seconds, 10) }, controlsNote);
      });
    });
    $("lock").addEventListener("click", function () { emit("lock", { locked: !api.state().locked }, controlsNote); });

    var closeButton = $("close-meeting");
    var closeConfirm = $("close-confirm");
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

    function onState(ms) {
      pressed($("premoderation"), !!ms.premoderation);
      pressed($("lock"), !!ms.locked);
      pressed($("floor-only"), !!ms.floor_only);
      var seconds = ms.slow_mode_seconds || 0;
      var matched = false;
      Array.prototype.forEach.call(slowButtons, function (slow) {
        var on = parseInt(slow.dataset.seconds, 10) === seconds;
        matched = matched || on;
        pressed(slow, on);
      });
      var floorHolder = $("floor-holder");
      floorHolder.textContent = ms.floor ? fmt(T.textFloorHolder, { name: ms.floor.name }) : "";
      $("take-floor").hidden = !ms.floor;
      Object.keys(personRows).forEach(refreshTags);
      var open = ms.state === "open";
      Array.prototype.forEach.call(document.querySelectorAll("#console button, #console textarea, #console select, #console input"),
        function (control) { control.disabled = !open; });
    }

    // ---- alerts (crisis signals in a message): private to the peer experts -----------------------------------

    var alertList = $("alert-list");
    var alertSection = $("sec-alerts");
    var alertRows = {};      // alert id -> li
    var ALERT_LABELS = { suicide: T.textAlertSelfHarm, self_harm: T.textAlertSelfHarm, danger: T.textAlertDanger,
                         weapons: T.textAlertWeapons, child: T.textAlertChild };

    function refreshAlerts() {
      var count = Object.keys(alertRows).length;
      if (alertSection) { alertSection.hidden = count === 0; }
      var badge = $("count-alerts");
      if (badge) { badge.textContent = count ? String(count) : ""; badge.hidden = !count; }
    }

    function addAlert(alert, quiet) {
      if (alert) { touch("alert:" + alert.id); }
      if (!alertList || !alert || alertRows[alert.id] || alert.resolved_at) { return; }
      var li = el("li", "queue-item alert-item");
      li.setAttribute("aria-labelledby", nextId("alert"));
      var head = el("p", "meta alert-category", ALERT_LABELS[alert.category] || T.textAlert);
      head.id = li.getAttribute("aria-labelledby");
      if (alert.created_at) { head.appendChild(el("span", "when", " · " + api.formatTime(alert.created_at))); }
      li.appendChild(head);
      if (alert.message) { li.appendChild(messageQuote(alert.message)); }
      var note = el("p", "form-note"); note.setAttribute("role", "status");
      var seen = button(T.textAlertSeen, "primary small", function () {
        seen.disabled = true;
        emit("resolve_alert", { alert_id: alert.id }, note, function () { removeAlert(alert.id); },
             function () { seen.disabled = false; });
      });
      seen.classList.add("alert-seen");
      var row = el("div", "button-row");
      row.appendChild(seen);
      li.appendChild(row);
      li.appendChild(note);
      li.messageId = alert.message ? alert.message.id : null;
      alertRows[alert.id] = li;
      alertList.insertBefore(li, alertList.firstChild);
      refreshAlerts();
      if (!quiet) { announce(T.textNewAlert); }
    }

    function removeAlert(id) {
      touch("alert:" + id);
      var li = alertRows[id];
      if (!li) { return; }
      var hadFocus = li.contains(document.activeElement);
      li.remove();
      delete alertRows[id];
      refreshAlerts();
      if (hadFocus) { (alertList.querySelector("button") || $("console-title")).focus(); }
    }

    // ---- the moderation snapshot (join and catch_up acks) ------------------------------------------------

    /* Make a queue match the server's list: rows it no longer names go, missing ones are added (`add` skips
     * ids it has). Rows that stay are kept as they are, with whatever the moderator opened or typed in them.
     * Ids changed since the snapshot's request was sent (`generation`) are left as they are: newer than it. */
    function reconcile(rows, items, add, remove, quiet, kind, generation) {
      var keep = {};
      items.forEach(function (item) { keep[item.id] = true; });
      reconciling = true;
      try {
        Object.keys(rows).forEach(function (id) {
          if (!keep[id] && !changedSince(kind + ":" + id, generation)) { remove(id); }
        });
        items.forEach(function (item) { if (!changedSince(kind + ":" + item.id, generation)) { add(item, quiet); } });
      } finally { reconciling = false; }
    }

    /* The server's moderation snapshot replaces the queues (docs/protocol.md §7): from the join ack, and from
     * every catch_up ack, which recovers a `pending`, `report` or `alert` (or their resolution) lost on the
     * way. `quiet`: nothing in it is news (the page's first join). `generation`: that of the request it
     * answers (api.snapshotGeneration() when it was sent). */
    function onModeration(moderation, quiet, generation) {
      if (!moderation) { return; }
      reconcile(pendingRows, moderation.pending || [], addPending, removePending, quiet, "pending", generation);
      reconcile(reportRows, moderation.reports || [], addReport, removeReport, quiet, "report", generation);
      if (alertList && Array.isArray(moderation.alerts)) {
        reconcile(alertRows, moderation.alerts, addAlert, removeAlert, quiet, "alert", generation);
      }
      refreshEmpty(pendingList); refreshEmpty(reportList);
      setCount("count-pending", Object.keys(pendingRows).length);
      setCount("count-reports", Object.keys(reportRows).length);
      if (!changedSince("waiting", generation)) { renderWaiting(moderation.waiting, quiet); }
      if (!changedSince("handover", generation)) { renderHandover(moderation.handover); }
    }

    // ---- events only moderators receive --------------------------------------------------------------------

    var on = function (event, handler) { api.socket.on(event, api.forThisMeeting(handler)); };
    on("pending", function (data) { if (data.message) { addPending(data.message); } });
    on("pending_resolved", function (data) { removePending(data.id); });
    on("report", function (data) { if (data.report) { addReport(data.report); } });
    on("report_resolved", function (data) { removeReport(data.report_id); });
    on("waiting", function (data) { touch("waiting"); renderWaiting(data.waiting); });
    on("alert", function (data) { if (data.alert) { addAlert(data.alert); } });
    on("alert_resolved", function (data) { removeAlert(data.alert_id); });
    on("handover", function (data) {
      touch("handover");
      if (data.note) { var list = $("handover-list"); list.insertBefore(handoverItem(data.note), list.firstChild); }
    });

    return {
      listFor: function (kind) { return kind === "whisper" ? whisperList : kind === "backchannel" ? backchannelList : null; },
      renderPresence: renderPresence,
      onHands: onHands,
      onState: onState,
      onMessage: onMessage,
      decorateMessage: decorateMessage,
      onModeration: onModeration,
      onDeleted: function (id) {
        removePending(id);
        Object.keys(reportRows).forEach(function (reportId) {
          var li = reportRows[reportId];
          if (li.messageId !== id || li.classList.contains("deleted")) { return; }
          li.classList.add("deleted");
          var quote = li.querySelector(".quote");
          if (quote) { quote.appendChild(el("p", "muted", T.textDeleted)); }
          var del = li.querySelector(".delete-reported");
          if (del) {
            if (del.contains(document.activeElement)) { li.querySelector("button.primary").focus(); }
            del.remove();
          }
        });
      },
      clear: function () {
        [presentList, handsList, pendingList, reportList, waitingList, whisperList, backchannelList].forEach(function (node) { node.textContent = ""; });
        personRows = {}; pendingRows = {}; reportRows = {}; waitingShown = null; touched = {};
        if (alertList) { alertList.textContent = ""; alertRows = {}; refreshAlerts(); }
      }
    };
  };
})();
