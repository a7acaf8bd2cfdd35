/* Safety on every page: quick exit, the help panel, and the safety check's advice.
 *
 * Quick exit (the button, or Escape pressed three times within two seconds):
 *   1. ends the session on the server (POST /account/quick-exit by navigator.sendBeacon, or a keepalive
 *      fetch: both outlive the page, and nothing waits for them, so a dead network never delays leaving),
 *   2. tells the chat to leave the meeting and disconnect (the "sg:quick-exit" event; js/chat/ending.js listens),
 *   3. forgets what this site kept in the browser (localStorage, sessionStorage), except its markers,
 *   4. removes the page's content (messages, inputs) so nothing stays on screen,
 *   5. replaces this page with a neutral website (location.replace: Back does not come here).
 * The browser cannot tell whether the session end reached the server (a beacon to a hanging or unreachable
 * server counts as "sent"), so a marker with a neutral name and value stays in localStorage, and the next page
 * of ours that opens still logged in ends the session before anything is drawn (a logged-out page just removes
 * it). Its name and value say nothing about quick exit. Quick exit cannot hide earlier pages in the browser
 * history or what monitoring software saw (see README).
 */
(function () {
  "use strict";

  var ESCAPES_NEEDED = 3;
  var ESCAPE_WINDOW_MS = 2000;
  var EXITED_KEY = "sg-quick-exit";     // sessionStorage: this tab left by quick exit (Back leaves again)
  // localStorage: a quick exit's session end may not have reached the server. A neutral name and value on purpose.
  var PENDING_KEY = "cache-version";
  var PENDING_VALUE = "2";
  var leaving = false;
  var escapes = [];

  function storage() {
    try { return window.sessionStorage; } catch (error) { return null; }
  }
  function localStore() {
    try { return window.localStorage; } catch (error) { return null; }
  }

  /* Where and how to end the session: a <meta> in <head> before this script, on logged-in pages only. */
  function sessionEnd() {
    var meta = document.querySelector('meta[name="sg-session-end"]');
    return meta && meta.content ? { url: meta.content, csrf: meta.getAttribute("data-csrf") || "",
                                    login: meta.getAttribute("data-login") || "/" } : null;
  }
  function endBody(end) {
    // Form-encoded, so Flask-WTF reads the CSRF token from the body (sendBeacon cannot set headers).
    var body = new URLSearchParams();
    body.append("csrf_token", end.csrf);
    return body;
  }
  function markPending() {
    try { var local = localStore(); if (local) { local.setItem(PENDING_KEY, PENDING_VALUE); } } catch (ignore) { /* off */ }
  }
  /* Fire and forget: queued by the browser, sent even while the page is torn down. Whether it arrived is
   * unknown (a beacon is "sent" to a dead server too), so the marker always asks the next page of ours to end
   * the session if it is still open (finishSessionEnd). */
  function sendSessionEnd(end, retry) {
    if (!retry) { markPending(); }  // a retry (finishSessionEnd) is tried once: no marker again
    try { if (navigator.sendBeacon && navigator.sendBeacon(end.url, endBody(end))) { return; } } catch (ignore) { /* next */ }
    try {
      fetch(end.url, { method: "POST", body: endBody(end), credentials: "same-origin", keepalive: true })
        .catch(function () { /* the marker stays */ });
    } catch (ignore) { /* the marker stays */ }
  }

  /* After a quick exit, this tab must not show our pages again by Back (or Forward): go to the neutral
   * site again at once. This runs in <head>, before anything of the page is drawn. Opening the site anew
   * (typing the address, a link) clears it. */
  function navigationType() {
    var entries = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    return entries && entries[0] ? entries[0].type : "";
  }
  var guarded = (function guardHistory() {
    var store = storage();
    var exitedTo = store && store.getItem(EXITED_KEY);
    if (!exitedTo) { return false; }
    if (navigationType() === "back_forward") {
      document.documentElement.hidden = true;
      window.location.replace(exitedTo);
      return true;
    }
    store.removeItem(EXITED_KEY);
    return false;
  })();

  /* A quick exit without network could not end the session on the server. The first page of ours that
   * opens still logged in (the address typed again, Back) ends it now, hidden, then shows the login page.
   * Tried once: whatever the answer, the marker goes, so nobody is ever locked out of the site. */
  (function finishSessionEnd() {
    var local = localStore();
    if (!local || local.getItem(PENDING_KEY) !== PENDING_VALUE) { return; }
    var end = sessionEnd();
    local.removeItem(PENDING_KEY);
    if (!end) { return; }  // logged out already: nothing left to end
    document.documentElement.hidden = true;
    if (guarded || !window.fetch) { sendSessionEnd(end, true); return; }  // guardHistory is leaving already
    // The neutral site's address is read when the answer comes: the page (its quick-exit link) is there then.
    fetch(end.url, { method: "POST", body: endBody(end), credentials: "same-origin", keepalive: true })
      .then(function (response) { window.location.replace(response.ok ? end.login : quickExitUrl()); })
      .catch(function () { window.location.replace(quickExitUrl()); });
  })();
  window.addEventListener("pageshow", function (event) {
    var store = storage();
    var exitedTo = store && store.getItem(EXITED_KEY);
    if (event.persisted && exitedTo) { document.documentElement.hidden = true; window.location.replace(exitedTo); }
  });

  function quickExitUrl() {
    var link = document.getElementById("quick-exit");
    return (link && (link.dataset.url || link.getAttribute("href"))) || "https://www.weeronline.nl/";
  }

  function clearPage() {
    // Everything personal goes: the chat (messages, inputs), the menu with the alias, the help panel.
    Array.prototype.forEach.call(document.querySelectorAll("main, header, footer, #help-panel, form, textarea, input"),
      function (node) { node.remove(); });
    document.title = "";
  }

  /* Everything this site kept in the browser goes (all of this origin's storage is ours); then only the
   * marker that this tab left (Back leaves again). */
  function forgetStorage(url) {
    var store = storage();
    var local = localStore();
    try { if (local) { local.clear(); } } catch (ignore) { /* storage may be switched off */ }
    try { if (store) { store.clear(); } } catch (ignore) { /* idem */ }
    try { if (store) { store.setItem(EXITED_KEY, url); } } catch (ignore) { /* private mode without storage */ }
  }

  function quickExit(event) {
    if (event) { event.preventDefault(); }
    if (leaving) { return; }
    leaving = true;
    var url = quickExitUrl();
    var end = sessionEnd();
    forgetStorage(url);  // first, so that a pending marker set by sendSessionEnd stays
    if (end) { sendSessionEnd(end); }
    try {
      document.dispatchEvent(new CustomEvent("sg:quick-exit"));  // js/chat/ending.js: leave + disconnect, now
    } catch (ignore) { /* leaving must never fail */ }
    try { clearPage(); } catch (ignore) { /* idem */ }
    window.location.replace(url);
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.repeat) { return; }
    var now = Date.now();
    escapes = escapes.filter(function (time) { return now - time < ESCAPE_WINDOW_MS; });
    escapes.push(now);
    if (escapes.length >= ESCAPES_NEEDED) { escapes = []; quickExit(event); }
  }, true);

  // On the document from <head> on, like Escape: a tap before the page's scripts have run (DOMContentLoaded waits
  // for them, long on a slow phone) must clear the storage too, not merely follow the link.
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("#quick-exit")) { quickExit(event); }
  }, true);

  function init() {

    // ---- the help panel ----
    var helpButton = document.getElementById("help-button");
    var helpPanel = document.getElementById("help-panel");
    var helpClose = document.getElementById("help-close");
    function setHelp(open, returnFocus) {
      if (!helpPanel || !helpButton) { return; }
      helpPanel.hidden = !open;
      helpButton.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { helpPanel.focus(); }
      else if (returnFocus) { helpButton.focus(); }
    }
    if (helpButton && helpPanel) {
      helpButton.addEventListener("click", function () { setHelp(helpPanel.hidden, true); });
      if (helpClose) { helpClose.addEventListener("click", function () { setHelp(false, true); }); }
      helpPanel.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && !helpPanel.hidden) { setHelp(false, true); }
      });
    }

    // ---- the safety check: show the advice for the chosen answer (the answers are never sent) ----
    var check = document.getElementById("safety-check");
    var checkForm = document.getElementById("safety-check-form");
    if (checkForm && window.fetch && window.FormData) {
      // Sent in the background, then the meeting *replaces* this page: no extra history entry that Back
      // could bring back after a quick exit.
      checkForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var data = new FormData(checkForm);
        if (event.submitter && event.submitter.name) { data.append(event.submitter.name, event.submitter.value); }
        Array.prototype.forEach.call(checkForm.querySelectorAll("button"), function (b) { b.disabled = true; });
        fetch(checkForm.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin", redirect: "manual" })
          .then(function () { window.location.replace(checkForm.dataset.next); })
          .catch(function () { window.location.replace(checkForm.dataset.next); });
      });
    }
    if (check) {
      check.addEventListener("change", function (event) {
        var choice = event.target;
        if (!choice || choice.type !== "radio") { return; }
        var question = choice.closest(".safety-question");
        Array.prototype.forEach.call(question.querySelectorAll(".advice"), function (advice) {
          advice.hidden = advice.id !== choice.dataset.advice;
        });
      });
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
})();
