// RL-12: a plain (non-htmx) form is sent once. A second click while the page is on its way is
// dropped, so a double click never sends a form twice. This is only comfort: the server's
// idempotency keys and Post/Redirect/Get are the real guarantee (RL-02). htmx forms use
// data-hx-disabled-elt instead; the message composer has its own handler (messages.js).
(function () {
  "use strict";

  function onSubmit(event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) { return; }
    if (form.hasAttribute("data-hx-post") || form.hasAttribute("data-compose")) { return; }
    if (form.getAttribute("data-submitting") === "1") { event.preventDefault(); return; }
    form.setAttribute("data-submitting", "1");
    form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
      button.setAttribute("aria-disabled", "true");
    });
  }

  // Back to a page kept in the browser's memory: its forms may be sent again.
  function onPageShow() {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
      form.querySelectorAll("[aria-disabled=true][type=submit]").forEach(function (button) {
        button.removeAttribute("aria-disabled");
      });
    });
  }

  document.addEventListener("submit", onSubmit, false);
  window.addEventListener("pageshow", onPageShow);
})();
