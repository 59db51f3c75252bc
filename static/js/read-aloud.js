// "Read it to me" for young children (issue 8): a [data-read-aloud] button speaks the text of the
// elements it names (space-separated ids) with the browser's speech synthesis, in the page's
// language. Pictures marked aria-hidden are not read out. A static file: the CSP allows no
// inline script. Without speech synthesis the buttons stay hidden.
(function () {
  "use strict";

  function spokenText(ids) {
    return ids.split(/\s+/).map(function (id) {
      var el = document.getElementById(id);
      if (!el) { return ""; }
      var copy = el.cloneNode(true);
      Array.prototype.forEach.call(
        copy.querySelectorAll("[aria-hidden=true], .read-aloud"),
        function (hidden) { hidden.remove(); }
      );
      return copy.textContent.replace(/\s+/g, " ").trim();
    }).filter(Boolean).join(". ");
  }

  function canSpeak() {
    return Boolean(window.speechSynthesis && window.SpeechSynthesisUtterance);
  }

  function speak(text) {
    if (!text || !canSpeak()) { return; }
    window.speechSynthesis.cancel();
    var utterance = new window.SpeechSynthesisUtterance(text);
    utterance.lang = document.documentElement.lang || "en";
    utterance.rate = 0.85;
    window.speechSynthesis.speak(utterance);
  }

  function showButtons() {
    var show = canSpeak();
    Array.prototype.forEach.call(document.querySelectorAll("[data-read-aloud]"), function (b) {
      b.hidden = !show;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-read-aloud]");
    if (!button) { return; }
    event.preventDefault();
    speak(spokenText(button.getAttribute("data-read-aloud")));
  });
  document.addEventListener("DOMContentLoaded", showButtons);
  document.addEventListener("htmx:afterSettle", showButtons);
})();
