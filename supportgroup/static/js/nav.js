/* The site menu on a phone: the navigation's links fold behind one "Menu" button (aria-expanded). Without
 * this script the button stays hidden and the links stay listed, as on a wide screen. Escape or a tap
 * elsewhere closes the menu. A classic deferred script (every page loads it; it shares nothing).
 */
(function () {
  "use strict";
  var nav = document.querySelector(".site-header nav");
  var toggle = nav && nav.querySelector(".nav-toggle");
  if (!nav || !toggle) { return; }

  function isOpen() { return toggle.getAttribute("aria-expanded") === "true"; }
  function setOpen(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("nav-open", open);
  }

  toggle.hidden = false;
  nav.classList.add("nav-ready");
  toggle.addEventListener("click", function () { setOpen(!isOpen()); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) { setOpen(false); toggle.focus(); }
  });
  document.addEventListener("click", function (event) {
    if (isOpen() && !nav.contains(event.target)) { setOpen(false); }
  });
})();
