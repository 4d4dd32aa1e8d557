// Browser notifications of the signed-in handler's immediate alerts (services/alerts.py),
// while any staff page is open. The browser asks for permission only when the handler
// presses "Turn on browser notifications", never on load: a prompt nobody asked for is
// usually refused for good. Without permission nothing is asked of the server and nothing
// is kept in this browser.
//
// Every POLL seconds one tab of this browser asks /alerts/pending for the alerts after the
// last one it saw (kept in localStorage, so each alert shows once per browser, whichever tab
// asks). A notification holds what the alert's email holds: the case number, a short phrase
// and the case's link, never anything a worker gave (it shows on a locked screen).
(function () {
  "use strict";
  var button = document.getElementById("notify-on");
  if (!button || !("Notification" in window)) { return; }
  var url = button.getAttribute("data-alerts-url");
  var every = 1000 * Number(button.getAttribute("data-poll-seconds") || "10");
  var LAST = "grievance.alerts.last";
  var ASKED = "grievance.alerts.asked";
  var timer = null;

  function read(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }

  function keep(key, value) {
    try { window.localStorage.setItem(key, String(value)); } catch (e) { /* private mode */ }
  }

  function show(alert) {
    var link = new URL(alert.url, window.location.origin).href;
    var note = new Notification(alert.title, { body: link, tag: "grievance-alert-" + alert.id });
    note.onclick = function () {
      window.focus();
      window.location.assign(link);
      note.close();
    };
  }

  function stop() {
    if (timer !== null) { window.clearInterval(timer); timer = null; }
  }

  function poll() {
    if (Notification.permission !== "granted") { stop(); return; }
    // Another tab of this browser asked a moment ago: one request per browser, not per tab.
    if (Date.now() - Number(read(ASKED) || "0") < every * 0.9) { return; }
    keep(ASKED, Date.now());
    var last = read(LAST);
    var query = last === null ? "" : "?after=" + encodeURIComponent(last);
    // X-Background: a page asking on its own does not keep the session alive. A redirect is
    // the sign-in page (the session ended): stop until a page is opened again.
    window.fetch(url + query, {
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Accept": "application/json", "X-Background": "true" }
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 404) { stop(); return null; }
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (!data) { return; }
      var seen = Number(read(LAST) || "-1");
      data.alerts.forEach(function (alert) {
        if (alert.id > seen) { show(alert); }
      });
      if (data.last > seen) { keep(LAST, data.last); }
    }).catch(function () { /* the network is down: the next poll tries again */ });
  }

  function start() {
    if (timer === null) {
      poll();
      timer = window.setInterval(poll, every);
    }
  }

  function update() {
    button.hidden = Notification.permission !== "default";
    if (Notification.permission === "granted") { start(); }
  }

  button.addEventListener("click", function () {
    var asked = Notification.requestPermission();
    if (asked && asked.then) { asked.then(update); }
  });
  update();
})();
