/* The meeting chat (docs/protocol.md). Plain text only: every string is set with textContent, never as HTML.
 * Every visible string comes from the template (data-text-* on #chat), translated there.
 *
 * Delivery: each message gets a client id; until the server acknowledges it, it stays "sending" and
 * is sent again (same id) after a timeout or a reconnect, so the server stores it once.
 * After a reconnect the client joins with the last server id it covered and receives what it missed, page by
 * page (REPLAY_LIMIT). While connected, the server's `sync` (every heartbeat) says how far the meeting has
 * come; when this page has not covered that far, or knows another number of deletions, it asks `catch_up`
 * (docs/protocol.md §7): a live `message` lost on the way (a Redis restart, a crash) is fetched anyway.
 * Retries (joins, refused connections) back off exponentially with jitter, capped.
 *
 * Peer experts also load moderator.js first; it registers window.SGModerator, which this file calls with
 * a small API and which returns hooks for the console.
 */
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root || typeof io === "undefined") { return; }

  var T = root.dataset;
  var meetingId = parseInt(T.meetingId, 10);
  var myId = T.me;
  var me = { id: myId, name: T.myName, role: T.myRole };
  var isModerator = T.moderator === "1";
  var replayLimit = parseInt(T.replayLimit, 10) || 1000;
  var ACK_TIMEOUT_MS = 5000;

  function $(id) { return document.getElementById(id); }
  var list = $("messages");
  var scroller = list.parentElement;
  var presentList = $("present");
  var input = $("message-input");
  var sendButton = $("send-button");
  var sendLabel = sendButton.textContent;
  var form = $("send-form");
  var sendNote = $("send-note");
  var status = $("chat-status");
  var stateLabel = $("meeting-state");
  var layout = $("chat-layout");
  var pinnedBox = $("pinned");
  var waitingRoom = $("waiting-room");
  var removedNotice = $("removed-notice");
  var handButton = $("hand-button");
  var handState = $("hand-state");
  var whispers = $("whispers");
  var whisperList = $("whisper-list");
  var whisperForm = $("whisper-form");
  var whisperInput = $("whisper-input");
  var whisperCount = $("whisper-count");
  var notices = {
    noModerator: $("notice-no-moderator"), muted: $("notice-muted"), floor: $("notice-floor"),
    slow: $("notice-slow"), premoderation: $("notice-premoderation"), locked: $("notice-locked")
  };

  var lastId = 0;            // the highest server id rendered
  var covered = 0;           // the replay point: every id up to it is known (rendered, deleted or not for us)
  var knownDeleted = 0;      // how many of the meeting's messages this page knows to be deleted
  var catchingUp = false;    // a catch_up is under way
  var snapshotGeneration = 0;  // join and catch_up requests sent: a moderation snapshot is as old as its request
  var syncsSinceSnapshot = 0; // moderators: syncs since the last moderation snapshot (join or catch_up ack)
  var MODERATION_EVERY = 5;   // moderators catch up at least every 5th sync (10 s): see docs/protocol.md §7
  var joinFailures = 0;      // joins that failed in a row (back-off)
  var connectFailures = 0;   // refused or failed connections in a row (back-off)
  var ended = false;         // the session ended or the server refused for good: no more retries
  var joinsInFlight = 0;     // joins (and replay pages) sent and not yet answered
  var joinAttempt = 0;       // grows with every join that timed out: only the newest is retried
  var rendered = {};         // server id -> element
  var deleted = {};          // server id -> true (never render again)
  var outbox = {};           // client id -> {event, payload, kind, element, source, note}
  var awaiting = {};         // client id -> {id, element}: own messages waiting for approval
  var joined = false;
  var waiting = false;
  var removed = false;
  var muted = null;          // null or {until, reason}
  var muteTimer = null;
  var hands = [];
  var retryUntil = 0;        // slow mode: no send before this time (ms)
  var retryTimer = null;
  var unreadWhispers = 0;
  var ms = { state: stateLabel ? stateLabel.dataset.state : "scheduled" };  // the MeetingState
  var quiet = false;         // true while the first history is drawn: nothing in it is news

  // Reconnection backs off from 1 s to at most 10 s, each delay varied by ±50% so clients do not return in step.
  var socket = io({ transports: ["websocket", "polling"], reconnectionDelay: 1000, reconnectionDelayMax: 10000,
                    randomizationFactor: 0.5 });

  // ---- helpers -------------------------------------------------------------------------------------------

  /* Exponential back-off with jitter: about 1, 2, 4 ... s, at most `cap` ms, each between half and all of it. */
  function backoff(failures, cap) {
    var full = Math.min(cap || 30000, 1000 * Math.pow(2, Math.min(failures, 15)));
    return Math.round(full / 2 + Math.random() * full / 2);
  }

  function fmt(template, vars) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return vars && Object.prototype.hasOwnProperty.call(vars, key) ? String(vars[key]) : whole;
    });
  }

  function formatTime(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return ""; }
    return date.toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit" });
  }

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content !== undefined && content !== null) { node.textContent = content; }
    return node;
  }

  function button(label, className, onClick) {
    var b = el("button", className, label);
    b.type = "button";
    if (onClick) { b.addEventListener("click", onClick); }
    return b;
  }

  /* Show a short text in a note element (role=status); isError marks it visually. */
  function setNote(note, message, isError) {
    if (!note) { return; }
    note.textContent = message || "";
    note.classList.toggle("error", !!isError && !!message);
  }

  /* The note inside a container (created when missing). */
  function noteIn(container) {
    var note = container.querySelector(":scope > .form-note");
    if (!note) { note = el("p", "form-note"); note.setAttribute("role", "status"); container.appendChild(note); }
    return note;
  }

  /* Emit with an ack and a timeout. Errors (the server's message, or a timeout) go to `note`. */
  function emitAck(event, payload, note, onOk, onError) {
    setNote(note, "");
    if (!socket.connected) {
      // Not buffered for later: a moderation step must not happen by surprise after a reconnect.
      setNote(note, T.textReconnecting, true);
      if (onError) { onError({ code: "offline", message: T.textReconnecting }); }
      return;
    }
    socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, function (err, ack) {
      var error = null;
      if (err) { error = { code: "timeout", message: T.textTimeout }; }
      else if (!ack || !ack.ok) { error = (ack && ack.error) || { code: "unknown", message: T.textError }; }
      if (error) {
        setNote(note, error.message || T.textError, true);
        if (onError) { onError(error); }
        return;
      }
      if (onOk) { onOk(ack); }
    });
  }

  function showStatus(message) {
    if (message) { status.textContent = message; status.hidden = false; }
    else { status.textContent = ""; status.hidden = true; }
  }

  function showNotice(node, message) {
    if (!node) { return; }
    if (message) {
      if (node.textContent !== message) { node.textContent = message; }
      node.hidden = false;
    } else { node.textContent = ""; node.hidden = true; }
  }

  /* Enter sends, Shift+Enter makes a new line. */
  function enterSubmits(textarea, targetForm) {
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); targetForm.requestSubmit(); }
    });
  }

  function authorLine(author) {
    var who = el("span", "author" + (author.role === "peer_expert" ? " peer-expert" : ""), author.name || "");
    if (author.role === "peer_expert") {
      who.appendChild(document.createTextNode(" "));
      who.appendChild(el("span", "badge", T.textPeerExpert));
    }
    if (author.id === myId) {
      who.appendChild(document.createTextNode(" (" + T.textYou + ")"));
    }
    return who;
  }

  function nearBottom(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 80; }

  // ---- messages --------------------------------------------------------------------------------------------

  var hooks = {};

  function listFor(kind) {
    if (kind === "whisper") { return isModerator ? (hooks.listFor && hooks.listFor(kind)) : whisperList; }
    if (kind === "backchannel") { return isModerator && hooks.listFor ? hooks.listFor(kind) : null; }
    return list;
  }

  function messageElement(message) {
    var kind = message.kind || "chat";
    var item = el("li", "message kind-" + kind + (message.author && message.author.id === myId ? " mine" : ""));
    var meta = el("p", "meta");
    if (kind === "announcement") { meta.appendChild(el("span", "kind-label", T.textAnnouncement)); meta.appendChild(document.createTextNode(" ")); }
    meta.appendChild(authorLine(message.author));
    if (message.created_at) { meta.appendChild(el("time", "when", formatTime(message.created_at))).dateTime = message.created_at; }
    item.appendChild(meta);
    item.appendChild(el("p", "text", message.text));
    return item;
  }

  function insertSorted(target, item, id) {
    var before = null;
    for (var i = 0; i < target.children.length; i++) {
      var child = target.children[i];
      if (child === item) { continue; }
      if (!child.dataset.id || parseInt(child.dataset.id, 10) > id) { before = child; break; }  // unsent ones stay last
    }
    target.insertBefore(item, before);
  }

  function messageActions(item, message) {
    var kind = message.kind || "chat";
    if (kind !== "chat" && kind !== "announcement") { return; }
    var row = el("div", "msg-actions");
    var mine = message.author && message.author.id === myId;
    if (isModerator) {
      row.appendChild(button(T.textPin, "small", function () {
        emitAck("pin", { meeting_id: meetingId, id: message.id }, noteIn(item));
      }));
    } else if (!mine && kind === "chat") {
      var report = button(T.textReport, "small", function () { openReport(item, message, report); });
      report.setAttribute("aria-expanded", "false");
      row.appendChild(report);
    }
    if (mine || isModerator) {
      row.appendChild(button(T.textDelete, "small", function () { deleteMessage(message.id, item); }));
    }
    item.appendChild(row);
  }

  function deleteMessage(id, item) {
    emitAck("delete_message", { meeting_id: meetingId, id: id }, noteIn(item), function () { removeMessage(id); });
  }

  function openReport(item, message, reportButton) {
    var existing = item.querySelector(".report-form");
    if (existing) { existing.querySelector("input").focus(); return; }
    var reportForm = el("form", "report-form");
    reportForm.autocomplete = "off";
    var fieldId = "report-" + message.id;
    var label = el("label", null, T.textReportLabel);
    label.htmlFor = fieldId;
    var reason = el("input");
    reason.type = "text"; reason.id = fieldId; reason.maxLength = 300; reason.required = true;
    var submit = el("button", "small primary", T.textReportSend);
    submit.type = "submit";
    var note = el("p", "form-note"); note.setAttribute("role", "status");
    function close() {
      reportForm.remove(); reportButton.setAttribute("aria-expanded", "false"); reportButton.focus();
    }
    var cancel = button(T.textCancel, "small", close);
    var buttons = el("div", "button-row");
    buttons.appendChild(submit); buttons.appendChild(cancel);
    reportForm.appendChild(label); reportForm.appendChild(reason); reportForm.appendChild(buttons); reportForm.appendChild(note);
    reportForm.addEventListener("keydown", function (event) { if (event.key === "Escape") { close(); } });
    reportForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var why = reason.value.trim();
      if (!why) { reason.focus(); return; }
      submit.disabled = true;
      emitAck("report", { meeting_id: meetingId, id: message.id, reason: why }, note, function () {
        var thanks = el("p", "form-note done", T.textReportThanks);
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

  function render(message) {
    if (!message || typeof message.id !== "number" || deleted[message.id] || rendered[message.id]) { return; }
    var kind = message.kind || "chat";
    var target = listFor(kind);
    if (!target) { return; }
    if (message.status === "pending") {  // a held message of our own, e.g. in a replay
      if (message.author && message.author.id === myId && !awaiting[message.client_id] && !outbox[message.client_id]) {
        var held = messageElement(message);
        held.classList.add("pending");
        held.appendChild(el("span", "delivery", T.textSending));
        target.appendChild(held);
        outbox[message.client_id] = { element: held };
        awaitApproval(message.client_id, message.id);
      }
      return;
    }
    var box = target === list ? scroller : target;
    var stick = nearBottom(box);
    var item = messageElement(message);
    var own = message.author && message.author.id === myId;
    var earlier = own && (outbox[message.client_id] || awaiting[message.client_id]);
    if (earlier) {
      // Our own message came back: it takes the place of the "sending" or "waiting for approval" line.
      earlier.element.remove();
      delete outbox[message.client_id];
      delete awaiting[message.client_id];
      stick = true;
    }
    item.dataset.id = message.id;
    rendered[message.id] = item;
    messageActions(item, message);
    if (hooks.decorateMessage) { hooks.decorateMessage(item, message); }
    insertSorted(target, item, message.id);
    if (notesFor[message.id] && target === list) { placeNote(notesFor[message.id], item); delete notesFor[message.id]; }
    if (message.id > lastId) { lastId = message.id; }
    advanceCovered();
    if (stick) { box.scrollTop = box.scrollHeight; }
    if (quiet) { return; }
    if (kind === "whisper" && !isModerator && !own) { whisperArrived(); }
    if (hooks.onMessage) { hooks.onMessage(message); }
  }

  /* A live message moves the replay point only when it is the next id: a gap (a message lost on the way, or
   * one not for us) stays open until a join or catch_up answers for it. */
  function advanceCovered() {
    while (rendered[covered + 1] || deleted[covered + 1]) { covered += 1; }
  }

  function removeMessage(id) {
    // Every caller reports a deletion the server made: count it once, so the next `sync` asks nothing.
    if (!deleted[id]) { knownDeleted += 1; }
    deleted[id] = true;
    var item = rendered[id];
    Object.keys(awaiting).forEach(function (clientId) {
      if (awaiting[clientId].id === id) { item = item || awaiting[clientId].element; delete awaiting[clientId]; }
    });
    if (item) {
      var hadFocus = item.contains(document.activeElement);
      item.remove();
      if (hadFocus) { (input.disabled ? $("messages-title") : input).focus(); }
    }
    delete rendered[id];
    if (ms.pinned && ms.pinned.id === id) { ms.pinned = null; renderPinned(); }
    if (hooks.onDeleted) { hooks.onDeleted(id); }
  }

  function whisperArrived() {
    if (!whispers) { return; }
    if (!whispers.open) {
      unreadWhispers += 1;
      whisperCount.textContent = String(unreadWhispers);
      whisperCount.hidden = false;
      setNote(sendNote, T.textNewWhisper);
    }
  }

  // ---- sending (chat, whisper, announcement, backchannel share one outbox) ----------------------------------

  var KIND_OF = { send: "chat", whisper: "whisper", announce: "announcement", backchannel: "backchannel" };

  /* Queue a text for `event`; `source` is the textarea it came from (refilled if the server refuses). */
  function queueText(event, fields, source, note, extra) {
    var body = source.value.trim();
    if (!body) { return false; }
    var clientId = newClientId();
    var kind = KIND_OF[event];
    var payload = { meeting_id: meetingId, client_id: clientId, text: body };
    Object.keys(fields || {}).forEach(function (key) { payload[key] = fields[key]; });
    var target = listFor(kind) || list;
    var item = messageElement({ kind: kind, author: me, text: body });
    item.classList.add("pending");
    item.appendChild(el("span", "delivery", T.textSending));
    target.appendChild(item);
    (target === list ? scroller : target).scrollTop = 1e9;
    outbox[clientId] = { event: event, payload: payload, kind: kind, element: item, source: source, note: note,
                         extra: extra || {} };
    source.value = "";
    setNote(note, "");
    trySend(clientId);
    return true;
  }

  function trySend(clientId) {
    var entry = outbox[clientId];
    if (!entry || !socket.connected || !joined) { return; }
    socket.timeout(ACK_TIMEOUT_MS).emit(entry.event, entry.payload, function (err, ack) {
      if (outbox[clientId] !== entry) { return; }
      if (err) { markFailed(clientId); setTimeout(function () { trySend(clientId); }, 2000); return; }
      if (ack && ack.ok) {
        // Held for approval: the ack says so; if it does not, the meeting's pre-moderation setting does.
        var held = ack.status ? ack.status === "pending"
          : entry.event === "send" && !isModerator && !!ms.premoderation;
        if (held) { awaitApproval(clientId, ack.id); return; }
        var message = { id: ack.id, meeting_id: meetingId, client_id: clientId, author: me, kind: entry.kind,
                        text: entry.payload.text, created_at: new Date().toISOString() };
        if (entry.extra.to) { message.to = entry.extra.to; }
        render(message);
      } else {
        refused(clientId, (ack && ack.error) || { code: "unknown", message: T.textError });
      }
    });
  }

  function markFailed(clientId) {
    var entry = outbox[clientId];
    if (entry) { entry.element.querySelector(".delivery").textContent = T.textFailed; }
  }

  function awaitApproval(clientId, id) {
    var entry = outbox[clientId];
    delete outbox[clientId];
    if (deleted[id] || rendered[id]) { entry.element.remove(); return; }
    entry.element.classList.add("awaiting");
    entry.element.querySelector(".delivery").textContent = T.textAwaiting;
    entry.element.dataset.pendingId = id;
    awaiting[clientId] = { id: id, element: entry.element };
    var row = el("div", "msg-actions");
    row.appendChild(button(T.textDelete, "small", function () {
      emitAck("delete_message", { meeting_id: meetingId, id: id }, noteIn(entry.element), function () { removeMessage(id); });
    }));
    entry.element.appendChild(row);
  }

  /* The server said no: take the line away, give the text back, and say why. */
  function refused(clientId, error) {
    var entry = outbox[clientId];
    delete outbox[clientId];
    entry.element.remove();
    if (!entry.source.value) { entry.source.value = entry.payload.text; }
    setNote(entry.note, error.message || T.textError, true);
    if (error.code === "slow_mode" && typeof error.retry_after === "number") { startRetryCountdown(error.retry_after); }
    else if (error.code === "waiting") { setWaiting(true); }
    else if (error.code === "not_joined") { joined = false; join(covered > 0 ? covered : null); }
  }

  function startRetryCountdown(seconds) {
    retryUntil = Date.now() + Math.max(1, Math.ceil(seconds)) * 1000;
    setNote(sendNote, fmt(T.textRetryAfter, { seconds: Math.ceil(seconds) }));
    clearInterval(retryTimer);
    tickRetry();
    retryTimer = setInterval(tickRetry, 1000);
  }

  function tickRetry() {
    var left = Math.ceil((retryUntil - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(retryTimer); retryTimer = null; retryUntil = 0;
      sendButton.textContent = sendLabel;
      setNote(sendNote, "");
    } else {
      sendButton.textContent = fmt(T.textWait, { seconds: left });
    }
    updateComposer();
  }

  // ---- identifying details: warn before a message that may show who the writer is ---------------------------

  var idWarning = $("identifying-warning");
  var idChange = $("identifying-change");
  var idSend = $("identifying-send");
  var idReturnFocus = null;

  function identifyingKinds(text) {
    return window.SGIdentifying && typeof window.SGIdentifying.kinds === "function" ? window.SGIdentifying.kinds(text) : [];
  }

  function closeIdentifyingWarning() {
    if (!idWarning || idWarning.hidden) { return; }
    idWarning.hidden = true;
    form.removeAttribute("aria-hidden");
  }

  function openIdentifyingWarning() {
    idReturnFocus = input;
    idWarning.hidden = false;
    idChange.focus();
  }

  if (idWarning) {
    idChange.addEventListener("click", function () {
      closeIdentifyingWarning();
      (idReturnFocus || input).focus();
    });
    idSend.addEventListener("click", function () {
      closeIdentifyingWarning();
      if (!input.disabled && retryUntil <= Date.now()) { queueText("send", null, input, sendNote); }
      input.focus();
    });
    idWarning.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); idChange.click(); return; }
      if (event.key !== "Tab") { return; }
      // Keep Tab between the two choices while the question is open.
      var first = idChange, last = idSend;
      if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
    });
    input.addEventListener("input", closeIdentifyingWarning);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (input.disabled || retryUntil > Date.now()) { return; }
    if (idWarning && identifyingKinds(input.value).length) { openIdentifyingWarning(); return; }
    queueText("send", null, input, sendNote);
  });
  enterSubmits(input, form);

  if (whisperForm) {
    var whisperNote = whisperForm.querySelector(".form-note");
    whisperForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!joined || removed) { setNote(whisperNote, T.textReconnecting, true); return; }
      queueText("whisper", null, whisperInput, whisperNote);
    });
    enterSubmits(whisperInput, whisperForm);
    whispers.addEventListener("toggle", function () {
      if (!whispers.open) { return; }
      unreadWhispers = 0; whisperCount.hidden = true; whisperList.scrollTop = whisperList.scrollHeight;
      if (sendNote.textContent === T.textNewWhisper) { setNote(sendNote, ""); }
    });
  }

  // ---- meeting state, notices and who may write ------------------------------------------------------------

  function writeBlocker() {
    if (removed) { return "removed"; }
    if (ended || !socket.connected || !joined) { return "offline"; }
    if (waiting) { return "waiting"; }
    if (ms.state !== "open") { return "state"; }
    if (isModerator) { return null; }
    if (muted) { return "muted"; }
    if (ms.moderator_present === false) { return "no_moderator"; }
    if (ms.floor_only && !(ms.floor && ms.floor.id === myId)) { return "floor_only"; }
    return null;
  }

  function updateComposer() {
    var blocker = writeBlocker();
    input.disabled = !!blocker;
    sendButton.disabled = !!blocker || retryUntil > Date.now();
    if (handButton) {
      handButton.disabled = removed || waiting || !joined || !socket.connected || ms.state !== "open";
    }
  }

  function renderNotices() {
    var open = ms.state === "open" && !removed && !waiting;
    showNotice(notices.noModerator, open && !isModerator && ms.moderator_present === false ? T.textNoModerator : "");
    var mutedText = "";
    if (open && muted) {
      mutedText = muted.until ? fmt(T.textMutedUntil, { time: formatTime(muted.until) }) : T.textMuted;
      if (muted.reason) { mutedText += " " + fmt(T.textReason, { reason: muted.reason }); }
    }
    showNotice(notices.muted, mutedText);
    var floorText = "";
    if (open && ms.floor && ms.floor.id === myId) { floorText = T.textFloorMine; }
    else if (open && ms.floor_only) { floorText = ms.floor ? fmt(T.textFloorOnly, { name: ms.floor.name }) : T.textFloorOnlyNobody; }
    else if (open && ms.floor) { floorText = fmt(T.textFloorHolder, { name: ms.floor.name }); }
    showNotice(notices.floor, floorText);
    showNotice(notices.slow, open && !isModerator && ms.slow_mode_seconds > 0 ? fmt(T.textSlowMode, { seconds: ms.slow_mode_seconds }) : "");
    showNotice(notices.premoderation, open && ms.premoderation && !isModerator ? T.textPremoderation : "");
    showNotice(notices.locked, open && ms.locked ? T.textLocked : "");
  }

  function renderPinned() {
    if (!pinnedBox) { return; }
    var pinned = ms.pinned;
    if (!pinned || removed || deleted[pinned.id]) { pinnedBox.hidden = true; return; }
    var author = pinnedBox.querySelector(".pinned-author");
    author.textContent = "";
    author.appendChild(authorLine(pinned.author));
    pinnedBox.querySelector(".pinned-text").textContent = pinned.text;
    pinnedBox.hidden = false;
  }

  function renderStateLabel() {
    if (!stateLabel) { return; }
    var key = "state" + ms.state.charAt(0).toUpperCase() + ms.state.slice(1);
    stateLabel.textContent = T[key] || ms.state;
    stateLabel.dataset.state = ms.state;
    stateLabel.className = "tag state-" + ms.state;
  }

  /* Merge a (possibly partial) MeetingState and redraw what depends on it. */
  function applyState(data) {
    Object.keys(data || {}).forEach(function (key) { if (key !== "meeting_id") { ms[key] = data[key]; } });
    renderStateLabel();
    if (removed) { return; }
    if (ms.state === "closed" || ms.state === "cancelled") { showStatus(T.textClosed); }
    else if (ms.state !== "open") { showStatus(T.textNotOpen); }
    else if (socket.connected && joined) { showStatus(""); }
    renderNotices();
    renderPinned();
    updateComposer();
    if (hooks.onState) { hooks.onState(ms); }
  }

  function setMuted(value) {
    muted = value;
    clearTimeout(muteTimer);
    if (muted && muted.until) {
      var ms_left = new Date(muted.until).getTime() - Date.now();
      if (ms_left <= 0) { muted = null; }
      else { muteTimer = setTimeout(function () { setMuted(null); }, Math.min(ms_left + 500, 2147483000)); }
    }
    renderNotices();
    updateComposer();
  }

  function setWaiting(value) {
    waiting = !!value;
    if (waitingRoom) { waitingRoom.hidden = !waiting; }
    layout.hidden = waiting;
    renderNotices();
    updateComposer();
  }

  function renderHands(queue) {
    hands = queue || [];
    if (handButton) {
      var raised = hands.some(function (person) { return person.id === myId; });
      handButton.setAttribute("aria-pressed", raised ? "true" : "false");
      handButton.textContent = raised ? T.textLowerHand : T.textRaiseHand;
      handState.textContent = raised ? T.textHandRaised : "";
    }
    if (hooks.onHands) { hooks.onHands(hands); }
  }

  if (handButton) {
    handButton.addEventListener("click", function () {
      var raised = handButton.getAttribute("aria-pressed") === "true";
      emitAck(raised ? "lower_hand" : "raise_hand", { meeting_id: meetingId }, handState);
    });
  }

  function renderPresence(people) {
    if (hooks.renderPresence) { hooks.renderPresence(people); return; }
    presentList.textContent = "";
    people.forEach(function (person) {
      var li = document.createElement("li");
      li.appendChild(authorLine(person));
      presentList.appendChild(li);
    });
  }

  /* Removed or banned: nothing of the chat stays on the page. */
  function showRemoved(reason, banned, explanation) {
    removed = true;
    outbox = {}; awaiting = {};
    clearInterval(retryTimer); clearTimeout(muteTimer);
    [list, whisperList, presentList].forEach(function (node) { if (node) { node.textContent = ""; } });
    rendered = {};
    if (hooks.clear) { hooks.clear(); }
    if (pinnedBox) { pinnedBox.hidden = true; }
    layout.hidden = true;
    if (waitingRoom) { waitingRoom.hidden = true; }
    Object.keys(notices).forEach(function (key) { showNotice(notices[key], ""); });
    showStatus("");
    $("removed-text").textContent = explanation || (banned ? T.textBanned : T.textRemoved);
    $("removed-reason").textContent = reason ? fmt(T.textReason, { reason: reason }) : "";
    removedNotice.hidden = false;
    removedNotice.focus();
    updateComposer();
    socket.disconnect();
  }

  // ---- the private crisis note (only the author receives it) -----------------------------------------------

  var notesFor = {};  // message id -> note element waiting for its message to be drawn

  function crisisNoteElement(data) {
    var item = el("li", "crisis-note");
    item.setAttribute("role", "note");
    item.setAttribute("aria-label", T.textCrisisNoteTitle);
    item.appendChild(el("p", "crisis-note-title", T.textCrisisNoteTitle));
    if (data.text) { item.appendChild(el("p", "crisis-note-text", data.text)); }
    var resources = Array.isArray(data.resources) ? data.resources : [];
    if (resources.length) {
      var ul = el("ul", "crisis-list");
      resources.forEach(function (resource) {
        if (!resource || !resource.phone) { return; }
        var li = el("li");
        li.appendChild(el("span", "crisis-name", (resource.name || "") + ": "));
        var phone = String(resource.phone);
        var link = el("a", null, phone);
        // "113 / 0800 0113": link the first number; the rest stays as text.
        var first = phone.split("/")[0];
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

  function placeNote(note, afterItem) {
    var stick = nearBottom(scroller);
    afterItem.parentNode.insertBefore(note, afterItem.nextSibling);
    if (stick) { scroller.scrollTop = scroller.scrollHeight; }
  }

  function showCrisisNote(data) {
    var note = crisisNoteElement(data);
    var id = typeof data.message_id === "number" ? data.message_id : lastId;
    note.dataset.id = id;  // keeps its place when later messages are sorted in
    var own = rendered[id] || (Object.keys(awaiting).map(function (key) { return awaiting[key]; })
      .filter(function (entry) { return entry.id === id; }).map(function (entry) { return entry.element; })[0]);
    if (own) { placeNote(note, own); return; }
    // The note can arrive before the message's own acknowledgement: place it when the message is drawn.
    notesFor[id] = note;
    setTimeout(function () {
      if (notesFor[id] === note) { delete notesFor[id]; list.appendChild(note); scroller.scrollTop = scroller.scrollHeight; }
    }, 3000);
  }

  /* Quick exit (safety.js): leave the meeting on the server at once and stop the connection. */
  document.addEventListener("sg:quick-exit", function () {
    removed = true;  // no reconnect, no reload
    try { if (socket.connected) { socket.emit("leave", { meeting_id: meetingId }); } } catch (ignore) { /* leaving anyway */ }
    socket.disconnect();
    [list, whisperList, presentList].forEach(function (node) { if (node) { node.textContent = ""; } });
    if (hooks.clear) { hooks.clear(); }
  });

  // ---- joining and the connection --------------------------------------------------------------------------

  function join(after) {
    if (removed) { return; }
    var payload = { meeting_id: meetingId };
    if (after !== null && after !== undefined) { payload.after = after; }
    joinsInFlight += 1;
    var generation = ++snapshotGeneration;
    socket.timeout(ACK_TIMEOUT_MS * 2).emit("join", payload, function (err, ack) {
      joinsInFlight -= 1;
      if (removed) { return; }
      var error = err ? { code: "timeout", message: T.textTimeout }
        : (!ack || !ack.ok) ? ((ack && ack.error) || { code: "unknown", message: T.textError }) : null;
      if (error && error.code === "superseded") { return; }  // a newer join of this socket answers instead
      if (error) {
        if (error.code === "removed" || error.code === "banned") { showRemoved("", error.code === "banned", error.message); return; }
        if (error.code === "not_authenticated") { showSessionEnded(); return; }
        showStatus(error.message || T.textError);
        if (RETRY_JOIN[error.code]) {
          // Again from the same point (a page of a replay too), later each time; a newer join makes this one moot.
          var attempt = ++joinAttempt;
          setTimeout(function () { if (socket.connected && attempt === joinAttempt) { join(after); } }, backoff(joinFailures++));
        }
        return;
      }
      joinFailures = 0;
      joined = true;
      var messages = ack.messages || [];
      var firstHistory = covered === 0 && lastId === 0;
      quiet = firstHistory;
      try { messages.forEach(render); } finally { quiet = false; }
      var fullPage = after !== null && after !== undefined && messages.length >= replayLimit;
      // While waiting to be let in nothing is sent: the replay point stays, so the join after `admitted`
      // gets the recent history (and as history, not news).
      if (!ack.waiting) {
        if (fullPage) { covered = Math.max(covered, messages[messages.length - 1].id); }
        else if (typeof ack.last_id === "number") { covered = Math.max(covered, ack.last_id); }
        advanceCovered();
        if (typeof ack.deleted === "number" && firstHistory) { knownDeleted = ack.deleted; }
      }
      if (ack.present) { renderPresence(ack.present); }
      if (ack.hands) { renderHands(ack.hands); }
      if (ack.muted !== undefined) { setMuted(ack.muted); }
      if (hooks.onModeration && ack.moderation) { hooks.onModeration(ack.moderation, firstHistory, generation); syncsSinceSnapshot = 0; }
      setWaiting(ack.waiting);
      applyState(ack.state || (ack.meeting ? { state: ack.meeting.state } : {}));
      if (fullPage) {
        // A full page: there may be more. Ask for the next page before sending anything queued.
        join(messages[messages.length - 1].id);
        return;
      }
      Object.keys(outbox).forEach(trySend);
      // Deleted while this page was away: the replay leaves them out, catch_up names them.
      if (typeof ack.deleted === "number" && ack.deleted !== knownDeleted) { catchUp(); }
    });
  }

  // Join refusals that may pass (tried again later); any other is shown and stays.
  var RETRY_JOIN = { timeout: 1, internal_error: 1, rate_limited: 1, rights_changed: 1, unavailable: 1 };

  /* Fetch what this page missed: messages after `covered` up to the server's last id, and deleted ids. */
  function catchUp() {
    if (catchingUp || joinsInFlight > 0 || !joined || waiting || removed || !socket.connected) { return; }
    catchingUp = true;
    var generation = ++snapshotGeneration;
    socket.timeout(ACK_TIMEOUT_MS * 2).emit("catch_up", { meeting_id: meetingId, after: covered }, function (err, ack) {
      catchingUp = false;
      if (removed || err || !ack) { return; }  // the next sync asks again
      if (!ack.ok) {
        var code = ack.error && ack.error.code;
        if (code === "not_joined") { joined = false; join(covered > 0 ? covered : null); }
        else if (code === "removed" || code === "banned") { showRemoved("", code === "banned", ack.error.message); }
        else if (code === "not_authenticated") { showSessionEnded(); }
        return;
      }
      if (waiting) { return; }  // sent back to the waiting room meanwhile: nothing was sent, nothing covered
      var messages = ack.messages || [];
      messages.forEach(render);
      (ack.deleted_ids || []).forEach(function (id) { if (!deleted[id]) { removeMessage(id); } });
      // Moderators: the queues (pending, reports, alerts, waiting) as the server had them when it read them,
      // which may be before a live event that reached this page first: moderator.js leaves those rows alone.
      if (hooks.onModeration && ack.moderation) { hooks.onModeration(ack.moderation, false, generation); syncsSinceSnapshot = 0; }
      knownDeleted = (ack.deleted_ids || []).length;
      if (messages.length < replayLimit) { covered = Math.max(covered, ack.last_id); advanceCovered(); }
      else { covered = Math.max(covered, messages[messages.length - 1].id); advanceCovered(); catchUp(); }
    });
  }

  /* A banner that replaces the chat's status when the connection will not come back by itself. */
  var banner = null;
  function showBanner(text, action) {
    ended = true;
    showStatus("");
    if (!banner) {
      banner = el("div", "notice info connection-ended");
      banner.setAttribute("role", "alert");
      banner.tabIndex = -1;
      root.insertBefore(banner, root.firstChild);
    }
    banner.textContent = "";
    banner.appendChild(el("p", null, text));
    banner.appendChild(action);
    updateComposer();
    banner.focus();
  }

  /* Logged out elsewhere, idle too long, or the account changed: only logging in again helps. */
  function showSessionEnded() {
    var link = el("a", "button primary", T.textLogInAgain);
    link.href = T.loginUrl + "?next=" + encodeURIComponent(window.location.pathname + window.location.search);
    ended = true;
    socket.disconnect();
    // Nothing of the chat stays on a page whose session ended (logged out, or quick exit on another device).
    outbox = {}; awaiting = {}; rendered = {};
    [list, whisperList, presentList].forEach(function (node) { if (node) { node.textContent = ""; } });
    if (hooks.clear) { hooks.clear(); }
    if (pinnedBox) { pinnedBox.hidden = true; }
    layout.hidden = true;
    if (waitingRoom) { waitingRoom.hidden = true; }
    Object.keys(notices).forEach(function (key) { showNotice(notices[key], ""); });
    // Neither the group, the alias nor the logged-in menu: someone else may be holding the device now.
    var head = root.querySelector(".chat-head");
    if (head) { head.hidden = true; }
    var nav = document.querySelector(".site-header nav");
    if (nav) { nav.hidden = true; }
    document.title = T.textSessionEnded;
    showBanner(T.textSessionEnded, link);
  }

  function showRefused() {
    showBanner(T.textRefused, button(T.textReload, "primary", function () { window.location.reload(); }));
  }

  function reconnectLater(delay) {
    setTimeout(function () { if (!removed && !ended && !socket.connected) { socket.connect(); } }, delay);
  }

  socket.on("connect", function () {
    connectFailures = 0;
    joined = false;
    join(covered > 0 ? covered : null);
  });
  var shutdownDelay = null;  // set by server_shutdown: reconnect after this many ms
  socket.on("disconnect", function (reason) {
    joined = false;
    updateComposer();
    if (removed || ended) { return; }
    showStatus(T.textReconnecting);
    // The server closed this socket (logout elsewhere, a draining process): socket.io does not reconnect
    // by itself. Try again: a session that ended is refused (`not_authenticated`) and says so.
    if (reason === "io server disconnect" || reason === "io client disconnect") {
      var delay = shutdownDelay !== null ? shutdownDelay : backoff(0, 2000);
      shutdownDelay = null;
      reconnectLater(delay);
    }
  });
  socket.on("connect_error", function (err) {
    if (removed || ended) { return; }
    var reason = err && err.message;
    if (reason === "not_authenticated") { showSessionEnded(); return; }
    if (reason === "unavailable") {  // the server cannot check the session now: try again, later each time
      showStatus(T.textUnavailable);
      reconnectLater(backoff(connectFailures++));
      return;
    }
    if (!socket.active) { showRefused(); return; }  // refused for a reason that will not pass by itself
    showStatus(T.textReconnecting);  // the server is unreachable: socket.io tries again with back-off
  });
  // A draining server process: reconnect (to another one) after its delay plus jitter.
  socket.on("server_shutdown", function (data) {
    var wait = data && typeof data.reconnect_in_ms === "number" ? Math.max(0, data.reconnect_in_ms) : 0;
    shutdownDelay = wait + Math.round(Math.random() * Math.max(1000, wait / 2));
    socket.disconnect();  // not the manager's own reconnect: ours, after that delay
  });
  // Proof of life for peer experts' presence: answered from the event at once (timers are throttled).
  socket.on("alive", function (_data, ack) { if (typeof ack === "function") { ack({ ok: true }); } });
  // How far the meeting has come: fetch what this page missed, if anything.
  socket.on("sync", function (data) {
    if (!data || data.meeting_id !== meetingId || removed || !joined) { return; }
    if (data.last_id > covered || data.deleted !== knownDeleted) { catchUp(); return; }
    // Some moderation changes allocate no message id (a report, an alert resolved), so `sync` does not show
    // them: a moderator's page also catches up every MODERATION_EVERY-th sync, for the snapshot.
    if (isModerator && ++syncsSinceSnapshot >= MODERATION_EVERY) { catchUp(); }
  });

  function forThisMeeting(handler) {
    return function (data) { if (data && data.meeting_id === meetingId && !removed) { handler(data); } };
  }

  socket.on("message", forThisMeeting(render));
  socket.on("crisis_note", forThisMeeting(showCrisisNote));
  socket.on("presence", forThisMeeting(function (data) { renderPresence(data.present || []); }));
  socket.on("meeting_state", forThisMeeting(applyState));
  socket.on("message_deleted", forThisMeeting(function (data) { removeMessage(data.id); }));
  socket.on("hands", forThisMeeting(function (data) { renderHands(data.queue); }));
  socket.on("mute_state", forThisMeeting(function (data) {
    setMuted(data.muted ? { until: data.until || null, reason: data.reason || "" } : null);
  }));
  socket.on("removed", forThisMeeting(function (data) { showRemoved(data.reason, data.banned); }));
  socket.on("admitted", forThisMeeting(function () {
    setWaiting(false);
    joined = false;
    join(covered > 0 ? covered : null);
  }));
  socket.on("message_rejected", forThisMeeting(function (data) {
    Object.keys(awaiting).forEach(function (clientId) {
      var entry = awaiting[clientId];
      if (entry.id !== data.id) { return; }
      delete awaiting[clientId];
      entry.element.classList.remove("awaiting");
      entry.element.classList.add("refused");
      var actions = entry.element.querySelector(".msg-actions");
      if (actions) { actions.remove(); }
      var textNote = T.textRejected + (data.reason ? " " + fmt(T.textReason, { reason: data.reason }) : "");
      entry.element.querySelector(".delivery").textContent = textNote;
    });
  }));

  if (pinnedBox && $("unpin-button")) {
    $("unpin-button").addEventListener("click", function () {
      emitAck("pin", { meeting_id: meetingId, id: null }, noteIn(pinnedBox));
    });
  }

  // ---- the console (peer experts) --------------------------------------------------------------------------

  if (isModerator && typeof window.SGModerator === "function") {
    hooks = window.SGModerator({
      socket: socket, meetingId: meetingId, me: me, text: T, fmt: fmt, formatTime: formatTime, el: el,
      button: button, setNote: setNote, noteIn: noteIn, emit: emitAck, authorLine: authorLine,
      queueText: queueText, enterSubmits: enterSubmits, removeMessage: removeMessage,
      forThisMeeting: forThisMeeting, state: function () { return ms; },
      connected: function () { return socket.connected && joined; },
      snapshotGeneration: function () { return snapshotGeneration; }
    }) || {};
  }
})();
