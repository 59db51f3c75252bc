// Rapport accessibility helpers (issue 8). A static file: the CSP allows no inline script.
// - htmx swaps are announced through one polite live region that exists from page load
//   (#announcer in base.html); a live region swapped in with new content is often not read.
// - Focus is never dropped on <body> after a swap: htmx honours [autofocus] in the new content,
//   otherwise focus goes to the swap's confirmation ([data-announce]) or the swapped region.
// - A new message arriving in an open thread is read out (author and text), without moving
//   focus away from the compose box.
// - After a full page load, an error summary takes focus so the problem is read first.
(function () {
  "use strict";

  function announce(text) {
    var box = document.getElementById("announcer");
    if (!box || !text) { return; }
    box.textContent = "";
    // A fresh text node after a pause, so the same words twice in a row are read twice.
    window.setTimeout(function () { box.textContent = text; }, 60);
  }

  // What a screen reader says of an element: its words without the parts hidden from it (the
  // "✓ " before a confirmation is drawn for the eye only).
  function spokenText(el) {
    var copy = el.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll("[aria-hidden='true']"), function (hidden) {
      hidden.remove();
    });
    return (copy.textContent || "").trim();
  }

  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  }

  function focusable(el) {
    if (!el.hasAttribute("tabindex")) { el.setAttribute("tabindex", "-1"); }
    el.focus({ preventScroll: false });
  }

  function messageCount() {
    return document.querySelectorAll("#message-list article.message").length;
  }

  var messagesBefore = null;

  document.addEventListener("htmx:beforeSwap", function () {
    messagesBefore = messageCount();
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var fresh = document.querySelectorAll("[data-announce]:not([data-announced])");
    var spoken = null;
    Array.prototype.forEach.call(fresh, function (el) {
      el.setAttribute("data-announced", "1");
      var text = spokenText(el);
      if (text) { announce(text); spoken = el; }
    });

    var list = document.getElementById("message-list");
    if (list && messagesBefore !== null && messageCount() > messagesBefore) {
      var items = list.querySelectorAll("article.message");
      var newest = items[items.length - 1];
      var who = newest.querySelector(".message-meta strong");
      var body = newest.querySelector(".message-body");
      announce(((who && who.textContent) || "") + ": " + ((body && body.textContent) || ""));
    }
    messagesBefore = null;

    if (focusLost()) {
      var target = (event.detail && event.detail.elt && event.detail.elt.isConnected)
        ? event.detail.elt : null;
      var autofocus = document.querySelector("[autofocus]");
      if (autofocus && autofocus.isConnected) { autofocus.focus(); }
      else if (spoken) { focusable(spoken); }
      else if (target && target !== document.body) { focusable(target); }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) { focusable(summary); }
  });
})();
