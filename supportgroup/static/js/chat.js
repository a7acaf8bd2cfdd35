/* The meeting chat. Plain text only: every string is set with textContent, never as HTML.
 *
 * Delivery: each message gets a client id; until the server acknowledges it, it stays "pending" and
 * is sent again (same id) after a timeout or a reconnect, so the server stores it once.
 * After a reconnect the client joins with the last server id it saw and receives what it missed.
 */
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root || typeof io === "undefined") { return; }

  var meetingId = parseInt(root.dataset.meetingId, 10);
  var myId = root.dataset.me;
  var me = { id: myId, name: root.dataset.myName, role: root.dataset.myRole };
  var text = root.dataset;
  var list = document.getElementById("messages");
  var presentList = document.getElementById("present");
  var input = document.getElementById("message-input");
  var sendButton = document.getElementById("send-button");
  var form = document.getElementById("send-form");
  var status = document.getElementById("chat-status");
  var stateLabel = document.getElementById("meeting-state");

  var lastId = 0;            // the highest server id rendered
  var rendered = {};         // server id -> element
  var pending = {};          // client id -> {text, element}
  var state = stateLabel ? stateLabel.dataset.state : "scheduled";
  var ACK_TIMEOUT_MS = 5000;

  var socket = io({ transports: ["websocket", "polling"], reconnectionDelayMax: 5000 });

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function showStatus(message) {
    if (message) { status.textContent = message; status.hidden = false; }
    else { status.textContent = ""; status.hidden = true; }
  }

  function setState(newState) {
    state = newState;
    if (stateLabel) {
      var key = "state" + newState.charAt(0).toUpperCase() + newState.slice(1);
      stateLabel.textContent = text[key] || newState;
      stateLabel.dataset.state = newState;
      stateLabel.className = "tag state-" + newState;
    }
    var canWrite = newState === "open" && socket.connected;
    input.disabled = !canWrite;
    sendButton.disabled = !canWrite;
    if (newState === "closed" || newState === "cancelled") { showStatus(text.textClosed); }
    else if (newState !== "open") { showStatus(text.textNotOpen); }
    else if (socket.connected) { showStatus(""); }
  }

  function authorLine(author) {
    var who = document.createElement("span");
    who.className = "author" + (author.role === "peer_expert" ? " peer-expert" : "");
    who.textContent = author.name || "";
    if (author.role === "peer_expert") {
      var badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = text.textPeerExpert;
      who.appendChild(document.createTextNode(" "));
      who.appendChild(badge);
    }
    if (author.id === myId) {
      who.appendChild(document.createTextNode(" (" + text.textYou + ")"));
    }
    return who;
  }

  function messageElement(author, body) {
    var item = document.createElement("li");
    item.className = "message" + (author.id === myId ? " mine" : "");
    item.appendChild(authorLine(author));
    var p = document.createElement("p");
    p.className = "text";
    p.textContent = body;
    item.appendChild(p);
    return item;
  }

  function render(message) {
    if (rendered[message.id]) { return; }
    var waiting = pending[message.client_id];
    var item;
    if (waiting && message.author.id === myId) {
      item = waiting.element;
      item.classList.remove("pending");
      var note = item.querySelector(".delivery");
      if (note) { note.remove(); }
      delete pending[message.client_id];
    } else {
      item = messageElement(message.author, message.text);
    }
    item.dataset.id = message.id;
    rendered[message.id] = item;
    // Keep server order: insert before the first rendered message with a higher id.
    var before = null;
    for (var i = 0; i < list.children.length; i++) {
      var child = list.children[i];
      if (child.dataset.id && parseInt(child.dataset.id, 10) > message.id) { before = child; break; }
      if (!child.dataset.id) { before = child; break; }  // pending ones stay at the end
    }
    list.insertBefore(item, before);
    if (message.id > lastId) { lastId = message.id; }
    list.parentElement.scrollTop = list.parentElement.scrollHeight;
  }

  function renderPresence(people) {
    presentList.textContent = "";
    people.forEach(function (person) {
      var li = document.createElement("li");
      li.appendChild(authorLine(person));
      presentList.appendChild(li);
    });
  }

  function trySend(clientId) {
    var entry = pending[clientId];
    if (!entry || !socket.connected) { return; }
    socket.timeout(ACK_TIMEOUT_MS).emit("send", { meeting_id: meetingId, client_id: clientId, text: entry.text },
      function (err, ack) {
        if (!pending[clientId]) { return; }
        if (err) { markFailed(clientId); setTimeout(function () { trySend(clientId); }, 2000); return; }
        if (ack && ack.ok) {
          render({ id: ack.id, client_id: clientId, author: me, text: entry.text });
        } else {
          var note = entry.element.querySelector(".delivery");
          note.textContent = ack && ack.error ? ack.error.message : text.textFailed;
          entry.element.classList.add("refused");
          delete pending[clientId];
        }
      });
  }

  function markFailed(clientId) {
    var entry = pending[clientId];
    if (entry) { entry.element.querySelector(".delivery").textContent = text.textFailed; }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body || input.disabled) { return; }
    var clientId = newClientId();
    var item = messageElement(me, body);
    item.classList.add("pending");
    var note = document.createElement("span");
    note.className = "delivery";
    note.textContent = text.textSending;
    item.appendChild(note);
    list.appendChild(item);
    pending[clientId] = { text: body, element: item };
    input.value = "";
    trySend(clientId);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  socket.on("connect", function () {
    var payload = { meeting_id: meetingId };
    if (lastId > 0) { payload.after = lastId; }
    socket.emit("join", payload, function (ack) {
      if (!ack || !ack.ok) { showStatus(ack && ack.error ? ack.error.message : text.textReconnecting); return; }
      ack.messages.forEach(render);
      renderPresence(ack.present);
      setState(ack.meeting.state);
      Object.keys(pending).forEach(trySend);
    });
  });
  socket.on("disconnect", function (reason) {
    input.disabled = true; sendButton.disabled = true;
    showStatus(text.textReconnecting);
    // The server ended this session (logout, password change, removal): the client will not reconnect
    // by itself. Reload: the server then shows the login page, or this page again if still allowed.
    if (reason === "io server disconnect") { setTimeout(function () { window.location.reload(); }, 1500); }
  });
  socket.on("connect_error", function () { showStatus(text.textReconnecting); });
  socket.on("message", function (message) { if (message.meeting_id === meetingId) { render(message); } });
  socket.on("presence", function (data) { if (data.meeting_id === meetingId) { renderPresence(data.present); } });
  socket.on("meeting_state", function (data) { if (data.meeting_id === meetingId) { setState(data.state); } });
})();
