// The page's side of working offline (issue 15; the worker is static/js/sw.js, served at /sw.js).
// Registers the worker, shows "Saved on this device…" while practices of this viewer wait to be
// sent, asks the worker to send them when the connection comes back (and again while they wait),
// and gives each practice form a fresh idempotency key (a form kept for offline use is filled in
// more than once). A young child's screens take their answers from their own address (a screen kept
// on the device was drawn for an earlier try), and a try that starts on a kept screen gets a key of
// its own.
(function () {
  "use strict";
  // Only the child's screens (/me…) are looked after; the rest of Rapport is left alone.
  if (!("serviceWorker" in navigator) || !/^\/me(\/|$)/.test(location.pathname)) { return; }

  function viewer() {
    var meta = document.querySelector("meta[name=rapport-viewer]");
    return meta ? meta.content : "";
  }

  function waiting(callback) {
    var request = indexedDB.open("rapport-offline", 1);
    request.onupgradeneeded = function () {
      request.result.createObjectStore("outbox", { keyPath: "key" });
      request.result.createObjectStore("meta");
    };
    request.onsuccess = function () {
      var db = request.result;
      var all = db.transaction("outbox", "readonly").objectStore("outbox").getAll();
      all.onsuccess = function () {
        var me = viewer();
        callback(all.result.filter(function (item) { return me && item.viewer === me; }).length);
        db.close();
      };
    };
  }

  function showNotice() {
    var notice = document.getElementById("offline-notice");
    if (!notice) { return; }
    waiting(function (count) { notice.hidden = count === 0; });
  }

  function askToSend() {
    if (navigator.onLine && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage("rapport-send");
    }
  }

  // A connection can come back in name before it works (a tablet rejoining the clinic's wifi), and
  // the clinic's server can be busy: while practices wait, the page asks again, less and less often
  // (2 s, 4 s, 8 s … at most once a minute). The worker reloads the page once something is sent.
  var retry = { timer: null, delay: 2000 };

  function sendWhileWaiting() {
    clearTimeout(retry.timer);
    askToSend();
    waiting(function (count) {
      if (count === 0) { retry.delay = 2000; return; }
      retry.timer = setTimeout(sendWhileWaiting, retry.delay);
      retry.delay = Math.min(retry.delay * 2, 60000);
    });
  }

  function freshKeys() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-fresh-key] input[name=idempotency_key]"),
      function (input) { if (window.crypto && crypto.randomUUID) { input.value = crypto.randomUUID(); } });
  }

  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  var FIELDS = { key: "key", idempotency_key: "key", before: "before", fear_before: "before",
    peak: "peak", fear_peak: "peak" };

  function answersFromAddress() {
    var flow = document.querySelector("[data-young-flow]");
    if (!flow) { return; }
    var here = new URLSearchParams(location.search);
    var face = function (raw) { return /^[0-2]$/.test(raw || "") ? raw : null; };
    var key = here.get("key");
    if (!UUID.test(key || "")) {
      // A try starts on its first screen: a kept copy carries an earlier try's key, so it gets
      // its own. Any other screen without a key in its address (the answer to a post) keeps its own.
      var starts = flow.getAttribute("data-young-flow") === "before";
      key = starts && window.crypto && crypto.randomUUID ? crypto.randomUUID() : null;
    }
    var answers = { key: key, before: face(here.get("before")), peak: face(here.get("peak")) };
    Array.prototype.forEach.call(flow.querySelectorAll("input[type=hidden]"), function (input) {
      var value = answers[FIELDS[input.name]];
      if (value !== undefined && value !== null) { input.value = value; }
    });
    Array.prototype.forEach.call(flow.querySelectorAll("a[href*='stage=']"), function (link) {
      var url = new URL(link.href);
      ["key", "before", "peak"].forEach(function (name) {
        if (url.searchParams.has(name) && answers[name] !== null) { url.searchParams.set(name, answers[name]); }
      });
      link.href = url.pathname + url.search;
    });
  }

  answersFromAddress();
  navigator.serviceWorker.register("/sw.js", { scope: "/me" }).catch(function () {});
  navigator.serviceWorker.addEventListener("message", function (event) {
    if (event.data && event.data.type === "rapport-sent") {
      location.reload();
    }
  });
  window.addEventListener("online", function () { retry.delay = 2000; sendWhileWaiting(); });
  window.addEventListener("pageshow", function () { freshKeys(); showNotice(); sendWhileWaiting(); });
})();
