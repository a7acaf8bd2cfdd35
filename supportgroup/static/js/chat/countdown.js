/* Before a meeting (#countdown, from chat/_countdown.html): how long until it starts, and the moment its
 * lobby opens (LOBBY_MINUTES before the start). Then the parts marked data-after-lobby show (the safety
 * check), those marked data-before-lobby hide, and "sg:lobby-open" tells the chat (socket.js) to join.
 * Standalone: it also runs on the safety check's page, where the chat's modules are not loaded; there it asks
 * `data-state-url` every 30 s whether a peer expert opened the meeting early.
 * Strings come from #countdown's data-text-* (translated in the template), filled in as plain text.
 */
const box = document.getElementById("countdown");

function fill(template, vars) {
  return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
    return Object.prototype.hasOwnProperty.call(vars, key) ? String(vars[key]) : whole;
  });
}

function pad(n) { return n < 10 ? "0" + n : String(n); }

/* "2 d 3 h", "1 h 05 min", "4 min 09 s": coarse far away, finer close by. */
function left(ms, T) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86400), hours = Math.floor(total % 86400 / 3600);
  const minutes = Math.floor(total % 3600 / 60), seconds = total % 60;
  if (days > 0) { return fill(T.textDays, { days: days, hours: hours }); }
  if (hours > 0) { return fill(T.textHours, { hours: hours, minutes: pad(minutes) }); }
  return fill(T.textMinutes, { minutes: minutes, seconds: pad(seconds) });
}

if (box) {
  const T = box.dataset;
  const startsAt = Date.parse(T.startsAt);
  const lobbyAt = Date.parse(T.lobbyAt);
  const line = document.getElementById("countdown-left");
  let lobbyOpen = Date.now() >= lobbyAt;
  let timer = null;

  const showLobbyParts = function () {
    document.querySelectorAll("[data-after-lobby]").forEach(function (node) { node.hidden = false; });
    document.querySelectorAll("[data-before-lobby]").forEach(function (node) { node.hidden = true; });
  };
  const openLobby = function () {
    showLobbyParts();
    document.dispatchEvent(new CustomEvent("sg:lobby-open"));
  };
  if (lobbyOpen) { showLobbyParts(); }  // this device's clock says it is open already

  const tick = function () {
    const now = Date.now();
    const text = now < startsAt ? fill(T.textStartsIn, { left: left(startsAt - now, T) }) : T.textStartsNow;
    if (line.textContent !== text) { line.textContent = text; }
    if (!lobbyOpen && now >= lobbyAt) { lobbyOpen = true; openLobby(); }
    if (now >= startsAt && lobbyOpen) { clearInterval(timer); }
  };
  tick();
  timer = setInterval(tick, 1000);

  // A peer expert may open the meeting before its lobby time: ask now and then (this page may have no socket),
  // and let the person in at once when it is open.
  const OPEN_CHECK_MS = 30000;
  const checkOpen = function () {
    if (lobbyOpen || !T.stateUrl || !window.fetch) { return; }
    fetch(T.stateUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && body.state === "open" && !lobbyOpen) { lobbyOpen = true; openLobby(); }
      })
      .catch(function () { /* offline for a moment: the next check, or the lobby time, lets them in */ });
  };
  const opener = setInterval(function () { if (lobbyOpen) { clearInterval(opener); } else { checkOpen(); } }, OPEN_CHECK_MS);
}
