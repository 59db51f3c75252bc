// Rapport's service worker (issue 15): the child's screens keep working without a connection.
//
// - Static files (css, js, pictures): from the cache first, refreshed from the network.
// - The child's pages (/me…, the worker's scope): from the network; a copy is kept for when the connection drops,
//   together with the practice forms the ladder links to.
// - A young child's screens (4-7: before, do it, worst moment, how it went, and the celebration
//   for a try saved here) are kept too, each once for every try: the answers so far travel in the
//   address, and the page takes them from there (offline.js). The ladder page names them
//   (data-offline-keep); the pictures they show are kept with them.
// - A practice posted without a connection is kept on this device (IndexedDB) and sent again,
//   once, when the connection is back (its idempotency key makes a repeat harmless). The form may
//   name the child's page to show meanwhile (offline_next); else the ladder.
// - Every page names its viewer (X-Rapport-Viewer). The pages and unsent practices of anybody
//   else are dropped as soon as another person is signed in; signing out drops everything.
"use strict";

var STATIC_CACHE = "rapport-static-v1";
var PAGES_CACHE = "rapport-pages";
var DB_NAME = "rapport-offline";
var PRACTICE_URL = /^\/me\/ladder\/steps\/\d+$/;
var STEP_LINK = /href="(\/me\/ladder\/steps\/\d+)"/g;
var KEEP_LIST = /data-offline-keep="([^"]*)"/g;
var STATIC_LINK = /(?:src|href)="(\/static\/[^"#]+)"/g;
var FLOW_STAGE = /^(do|peak|how)$/;

// --- IndexedDB: the outbox of practices, and who the viewer is ----------------------------------

function openDb() {
  return new Promise(function (resolve, reject) {
    var request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = function () {
      request.result.createObjectStore("outbox", { keyPath: "key" });
      request.result.createObjectStore("meta");
    };
    request.onsuccess = function () { resolve(request.result); };
    request.onerror = function () { reject(request.error); };
  });
}

function tx(store, mode, work) {
  return openDb().then(function (db) {
    return new Promise(function (resolve, reject) {
      var t = db.transaction(store, mode);
      var result = work(t.objectStore(store));
      t.oncomplete = function () { db.close(); resolve(result && result.result); };
      t.onerror = function () { db.close(); reject(t.error); };
    });
  });
}

function getViewer() {
  return tx("meta", "readonly", function (s) { return s.get("viewer"); });
}

function outbox() {
  return tx("outbox", "readonly", function (s) { return s.getAll(); });
}

// Another person (or nobody) is at the screen now: keep nothing of the one before.
function noteViewer(viewer) {
  return getViewer().then(function (known) {
    if (known === viewer) { return; }
    var wipes = [caches.delete(PAGES_CACHE)];
    if (viewer) {
      wipes.push(outbox().then(function (items) {
        return tx("outbox", "readwrite", function (s) {
          items.forEach(function (item) { if (item.viewer !== viewer) { s.delete(item.key); } });
        });
      }));
    }
    return Promise.all(wipes).then(function () {
      return tx("meta", "readwrite", function (s) { s.put(viewer || "", "viewer"); });
    });
  });
}

function forgetEverything() {
  return Promise.all([
    caches.keys().then(function (names) { return Promise.all(names.map(function (n) { return caches.delete(n); })); }),
    new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
    }),
  ]);
}

// --- pages --------------------------------------------------------------------------------------

// Where a page is kept. A young child's screen is kept once per stage, whatever answers its
// address carries (?stage=peak&key=…&before=1 is kept as ?stage=peak).
function pageKey(url) {
  if (PRACTICE_URL.test(url.pathname)) {
    var stage = url.searchParams.get("stage");
    return url.pathname + (stage && FLOW_STAGE.test(stage) ? "?stage=" + stage : "");
  }
  return url.pathname + url.search;
}

function isChildPage(url) {
  return url.origin === self.location.origin && /^\/me(\/|$)/.test(url.pathname);
}

function keepPage(request, response) {
  var viewer = response.headers.get("X-Rapport-Viewer") || "";
  return noteViewer(viewer).then(function () {
    if (!viewer || response.status !== 200 || response.redirected) { return; }
    return caches.open(PAGES_CACHE).then(function (cache) {
      var url = new URL(request.url);
      return cache.put(pageKey(url), response.clone()).then(function () {
        if (url.pathname !== "/me/ladder") { return; }
        return response.clone().text().then(function (html) { return keepPracticeForms(html, viewer); });
      });
    });
  });
}

function matches(pattern, text) {
  var found = [];
  var match;
  pattern.lastIndex = 0;
  while ((match = pattern.exec(text)) !== null) { found.push(match[1]); }
  return found;
}

function keepPracticeForms(html, viewer) {
  var links = matches(STEP_LINK, html);
  matches(KEEP_LIST, html).forEach(function (list) {
    list.replace(/&amp;/g, "&").split(/\s+/).forEach(function (path) {
      if (/^\/me\//.test(path)) { links.push(path); }
    });
  });
  // Only pages not kept yet: a visit to a page refreshes its copy anyway, and each fetch here is
  // a page view on the server (and in the audit trail).
  return caches.open(PAGES_CACHE).then(function (cache) {
    return Promise.all(links.map(function (path) {
      var key = pageKey(new URL(path, self.location.origin));
      return cache.match(key).then(function (kept) {
        if (kept) { return; }
        return fetch(path, { credentials: "same-origin" }).then(function (response) {
          if (response.ok && !response.redirected && response.headers.get("X-Rapport-Viewer") === viewer) {
            return Promise.all([cache.put(key, response.clone()), response.text().then(keepPictures)]);
          }
        });
      }).catch(function () {});
    }));
  });
}

// The pictures, styles and scripts a kept page shows, so it draws without a connection.
function keepPictures(html) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return Promise.all(matches(STATIC_LINK, html).map(function (path) {
      return cache.match(path).then(function (kept) {
        if (kept) { return; }
        return fetch(path).then(function (response) {
          if (response.ok) { return cache.put(path, response); }
        });
      }).catch(function () {});
    }));
  });
}

function offlinePage() {
  return new Response(
    "<!doctype html><html><head><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
    "<title>Offline · Sin conexión</title></head><body><main><h1>You are offline</h1>" +
    "<p>This page has not been saved on this device. Try again when you are online.</p>" +
    "<h1 lang=es>Sin conexión</h1><p lang=es>Esta página no está guardada en este dispositivo. " +
    "Vuelve a intentarlo cuando tengas conexión.</p></main></body></html>",
    { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
  );
}

function fromCache(request) {
  var url = new URL(request.url);
  return getViewer().then(function (viewer) {
    if (!viewer) { return offlinePage(); }
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(pageKey(url)).then(function (hit) {
        if (hit && hit.headers.get("X-Rapport-Viewer") === viewer) { return hit; }
        return offlinePage();
      });
    });
  });
}

function page(event) {
  return fetch(event.request).then(function (response) {
    event.waitUntil(keepPage(event.request, response.clone()).then(sendOutbox));
    return response;
  }, function () {
    return fromCache(event.request);
  });
}

// --- practices logged without a connection -----------------------------------------------------

function practice(event) {
  var copy = event.request.clone();
  return fetch(event.request).catch(function () {
    return Promise.all([copy.text(), getViewer()]).then(function (both) {
      var body = both[0];
      var params = new URLSearchParams(body);
      var key = params.get("idempotency_key") || String(Date.now());
      var next = params.get("offline_next") || "";
      var item = { key: key, url: new URL(copy.url).pathname, body: body, viewer: both[1], saved: Date.now() };
      return tx("outbox", "readwrite", function (s) { s.put(item); }).then(function () {
        return Response.redirect(/^\/me\/[\w\/-]*(\?[\w=&-]*)?$/.test(next) ? next : "/me/ladder", 303);
      });
    });
  });
}

// A try kept on the device happened when it was kept, not when the connection came back: "just
// now" becomes the day it was kept, in the form's own words, so it counts on the right day.
function whenKept(saved) {
  var then = new Date(saved || Date.now());
  var now = new Date();
  if (now - then < 60 * 60 * 1000) { return "now"; }
  var day = function (d) { return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime(); };
  var days = Math.round((day(now) - day(then)) / 86400000);
  return days <= 0 ? "today" : days === 1 ? "yesterday" : "2";
}

var sending = null;

function sendOne(item) {
  return fetch(item.url, { credentials: "same-origin" }).then(function (form) {
    if (!form.ok || form.redirected || form.headers.get("X-Rapport-Viewer") !== item.viewer) {
      return false;  // signed out, or somebody else: keep it for its own person
    }
    return form.text().then(function (html) {
      // Any of the page's forms' token, or the one every page gives htmx.
      var token = /name="csrf_token" type="hidden" value="([^"]+)"/.exec(html) ||
        /"X-CSRFToken": "([^"]+)"/.exec(html);
      var params = new URLSearchParams(item.body);
      if (token) { params.set("csrf_token", token[1]); }
      if (params.get("when") === "now") { params.set("when", whenKept(item.saved)); }
      return fetch(item.url, {
        method: "POST", body: params, credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      }).then(function (response) {
        var done = response.ok || (response.status >= 400 && response.status < 500 &&
          [401, 403, 429].indexOf(response.status) === -1);
        if (!done) { return false; }
        return tx("outbox", "readwrite", function (s) { s.delete(item.key); }).then(function () { return true; });
      });
    });
  }).catch(function () { return false; });
}

function sendOutbox() {
  if (sending) { return sending; }
  sending = Promise.all([outbox(), getViewer()]).then(function (both) {
    var mine = both[0].filter(function (item) { return item.viewer && item.viewer === both[1]; });
    return mine.reduce(function (chain, item) {
      return chain.then(function (sent) { return sendOne(item).then(function (ok) { return sent + (ok ? 1 : 0); }); });
    }, Promise.resolve(0));
  }).then(function (sent) {
    sending = null;
    if (sent) {
      self.clients.matchAll().then(function (all) {
        all.forEach(function (client) { client.postMessage({ type: "rapport-sent", sent: sent }); });
      });
    }
    return sent;
  }, function () { sending = null; return 0; });
  return sending;
}

// --- wiring -------------------------------------------------------------------------------------

self.addEventListener("install", function (event) {
  self.skipWaiting();
  event.waitUntil(caches.open(STATIC_CACHE));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("message", function (event) {
  if (event.data === "rapport-send") { event.waitUntil(sendOutbox()); }
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST" && url.pathname === "/logout") {
    event.respondWith(forgetEverything().then(function () { return fetch(request); }));
    return;
  }
  if (request.method === "POST" && PRACTICE_URL.test(url.pathname)) {
    event.respondWith(practice(event));
    return;
  }
  if (request.method !== "GET") { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.open(STATIC_CACHE).then(function (cache) {
      return cache.match(request).then(function (hit) {
        var fresh = fetch(request).then(function (response) {
          if (response.ok) { cache.put(request, response.clone()); }
          return response;
        });
        if (hit) {
          event.waitUntil(fresh.catch(function () {}));
          return hit;
        }
        return fresh;
      });
    }));
    return;
  }
  if (request.mode === "navigate" && isChildPage(url)) { event.respondWith(page(event)); }
});
