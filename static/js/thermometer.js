// The fear thermometer (8-12, issue 15): tap a number, or drag the chosen one up and down.
// Each thermometer is a group of radio buttons, so arrow keys move it too. Only the chosen
// cell takes the drag (CSS gives it touch-action: none); a swipe elsewhere still scrolls.
(function () {
  "use strict";
  var dragging = null;

  function choose(event) {
    var el = document.elementFromPoint(event.clientX, event.clientY);
    var cell = el && el.closest && el.closest(".thermo-cell");
    if (!cell || !dragging.contains(cell)) { return; }
    var input = cell.querySelector("input[type=radio]");
    if (input && !input.checked) {
      input.checked = true;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  document.addEventListener("pointerdown", function (event) {
    var cell = event.target.closest && event.target.closest(".thermo-cell");
    if (!cell || !cell.querySelector("input:checked")) { return; }
    dragging = cell.closest(".thermometer");
    event.preventDefault();
  });
  document.addEventListener("pointermove", function (event) {
    if (dragging) { choose(event); }
  });
  ["pointerup", "pointercancel"].forEach(function (name) {
    document.addEventListener(name, function () { dragging = null; });
  });
})();
