// Rapport messaging: live signal, scroll to the newest message, one send per click.
// No inline scripts (CSP script-src 'self'); no message content ever passes through here:
// the stream only says "the thread changed" and htmx fetches the escaped fragment.
(function () {
  "use strict";

  function scrollToNewest() {
    var list = document.getElementById("message-list");
    if (list) { list.scrollTop = list.scrollHeight; }
  }

  function connect(holder) {
    var url = holder.getAttribute("data-stream-url");
    if (!url || !window.EventSource) { return; }
    var source = new EventSource(url);
    source.addEventListener("changed", function (event) {
      var list = document.getElementById("message-list");
      if (list && list.getAttribute("data-version") !== String(event.data)) {
        document.body.dispatchEvent(new CustomEvent("messages-changed"));
      }
    });
    // A 204 (no live updates here) or a signed-out session closes the source; the list still
    // polls slowly, and a sign-in problem shows up there.
  }

  function onSubmit(event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-compose")) { return; }
    if (form.getAttribute("data-sending") === "1") { event.preventDefault(); return; }
    form.setAttribute("data-sending", "1");
    var button = form.querySelector("[data-send]");
    if (button) { button.setAttribute("aria-disabled", "true"); button.textContent = button.getAttribute("data-sending-label") || "Sending…"; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    scrollToNewest();
    var holder = document.querySelector(".thread-live[data-stream-url]");
    if (holder) { connect(holder); }
  });
  document.addEventListener("submit", onSubmit, true);
  document.addEventListener("htmx:afterSwap", scrollToNewest);
  window.addEventListener("resize", scrollToNewest);
})();
