// "Read it to me" for young children (issue 8): a [data-read-aloud] button speaks the text of the
// elements it names (space-separated ids) with the browser's speech synthesis, in the page's
// language. Pictures marked aria-hidden are not read out. A static file: the CSP allows no
// inline script. Without speech synthesis the buttons stay hidden.
(function () {
  "use strict";

  // The words of one element, its parts kept apart ("smiling" and "Fall asleep" never run
  // together): every text node is its own piece.
  function textOf(el) {
    var copy = el.cloneNode(true);
    Array.prototype.forEach.call(
      copy.querySelectorAll("[aria-hidden=true], .read-aloud"),
      function (hidden) { hidden.remove(); }
    );
    var pieces = [];
    var walker = document.createTreeWalker(copy, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) { pieces.push(walker.currentNode.nodeValue); }
    return pieces.join(" ").replace(/\s+/g, " ").replace(/\s+([.,!?;:])/g, "$1").trim();
  }

  // Sentences to speak one after the other, with a pause between them: each element is at
  // least one sentence, and its sentences are split at . ! ?
  function sentences(ids) {
    var out = [];
    ids.split(/\s+/).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) { return; }
      textOf(el).split(/(?<=[.!?¡¿])\s+/).forEach(function (s) {
        if (s.trim()) { out.push(s.trim()); }
      });
    });
    return out;
  }

  function canSpeak() {
    return Boolean(window.speechSynthesis && window.SpeechSynthesisUtterance);
  }

  function speak(parts) {
    if (!parts.length || !canSpeak()) { return; }
    window.speechSynthesis.cancel();
    var lang = document.documentElement.lang || "en";
    var i = 0;
    // One utterance per sentence; the next starts a moment after the last one ended.
    function next() {
      if (i >= parts.length) { return; }
      var utterance = new window.SpeechSynthesisUtterance(parts[i]);
      i += 1;
      utterance.lang = lang;
      utterance.rate = 0.85;
      utterance.onend = function () { window.setTimeout(next, 450); };
      window.speechSynthesis.speak(utterance);
    }
    next();
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
    speak(sentences(button.getAttribute("data-read-aloud")));
  });
  document.addEventListener("DOMContentLoaded", showButtons);
  document.addEventListener("htmx:afterSettle", showButtons);
})();
