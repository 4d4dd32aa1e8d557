// The phone simulator: posts what you type to the inbox and polls the console mailbox.
(function () {
  "use strict";
  var thread = document.getElementById("thread");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var last = 0;
  var generation = 0;  // bumped when the thread is cleared: late answers for the old thread are dropped
  var polling = null;

  function phoneId() {
    var id = window.localStorage.getItem("grievance-sim-phone");
    if (!id) {
      id = (window.crypto && window.crypto.randomUUID) ? window.crypto.randomUUID() :
        String(Date.now()) + "-" + String(Math.random()).slice(2, 10);
      window.localStorage.setItem("grievance-sim-phone", id);
    }
    return id;
  }

  function channel() {
    var checked = document.querySelector("input[name=channel]:checked");
    return checked ? checked.value : "sms";
  }

  function bubble(text, who) {
    var div = document.createElement("div");
    div.className = "bubble " + who;
    div.textContent = text;
    div.dir = "auto";  // replies may be in a right-to-left script
    thread.appendChild(div);
    thread.scrollTop = thread.scrollHeight;
  }

  function clear() {
    generation += 1;
    thread.textContent = "";
    last = 0;
  }

  function poll() {
    var asked = generation;
    var url = "/simulator/messages?phone=" + encodeURIComponent(phoneId()) +
      "&channel=" + channel() + "&after=" + last;
    return fetch(url, {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (asked !== generation) { return; }
        (data.messages || []).forEach(function (m) {
          // polls overlap (the timer and the one after sending): show each message once
          if (m.n <= last) { return; }
          last = m.n;
          bubble(m.text, "them");
        });
      })
      .catch(function () { /* the server restarted; keep polling */ });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) { return; }
    bubble(text, "me");
    input.value = "";
    fetch("/simulator/messages", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({phone: phoneId(), channel: channel(), text: text})
    }).then(poll, function () { /* the server is down; the timer keeps polling */ });
  });

  document.getElementById("new-phone").addEventListener("click", function () {
    window.localStorage.removeItem("grievance-sim-phone");
    clear();
    input.focus();
  });

  Array.prototype.forEach.call(document.querySelectorAll("input[name=channel]"), function (radio) {
    radio.addEventListener("change", function () { clear(); poll(); });
  });

  polling = window.setInterval(poll, 1000);
  poll();
  input.focus();
}());
