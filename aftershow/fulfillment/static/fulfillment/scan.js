/* Scan-to-ship station. A keyboard-wedge scanner types the code and Enter into #scan-code.
 * Scans are queued and sent one at a time (none lost while one is in flight); a result that
 * is not "shipped" covers the screen in red and beeps until the packer acknowledges it with
 * Esc or a click. Scans typed while the red panel is up are refused with another beep. */
(function () {
  "use strict";
  var root = document.querySelector(".scan-station");
  if (!root) return;
  var form = document.getElementById("scan-form");
  var input = document.getElementById("scan-code");
  var countField = document.getElementById("scan-count");
  var url = root.getAttribute("data-submit-url");
  var queue = [];
  var sending = false;
  var blocked = false;
  var audio = null;

  function beep(kind) {
    root.setAttribute("data-last-beep", kind);
    root.setAttribute("data-beeps", String(Number(root.getAttribute("data-beeps") || 0) + 1));
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      var tones = kind === "ok"
        ? [[1320, 0.08]]
        : [[220, 0.28], [0, 0.07], [220, 0.28], [0, 0.07], [196, 0.5]];
      var at = audio.currentTime;
      tones.forEach(function (tone) {
        if (tone[0]) {
          var oscillator = audio.createOscillator();
          var gain = audio.createGain();
          oscillator.type = kind === "ok" ? "sine" : "square";
          oscillator.frequency.value = tone[0];
          gain.gain.value = kind === "ok" ? 0.2 : 0.5;
          oscillator.connect(gain).connect(audio.destination);
          oscillator.start(at);
          oscillator.stop(at + tone[1]);
        }
        at += tone[1];
      });
    } catch (error) {
      /* No audio device: the red screen still says it. */
    }
  }

  function refocus() {
    if (blocked) {
      var ack = document.querySelector("#scan-result [data-ack]");
      if (ack) ack.focus();
    } else {
      input.focus();
    }
  }

  function show(html) {
    var current = document.getElementById("scan-result");
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    if (!fresh || fresh.id !== "scan-result") throw new Error("unexpected answer");
    current.replaceWith(fresh);
    countField.value = fresh.getAttribute("data-count") || countField.value;
    if (fresh.getAttribute("data-result") === "shipped") {
      if (blocked) {
        /* An earlier scan's error is still up: keep it, count this one quietly. */
        fresh.replaceWith(current);
        current.querySelector(".scan-count").textContent =
          fresh.querySelector(".scan-count").textContent;
        beep("ok");
        return;
      }
      beep("ok");
    } else {
      blocked = true;
      document.body.classList.add("scan-blocked");
      beep("error");
    }
    refocus();
  }

  function fail(message) {
    var html = '<div id="scan-result" class="scan-result scan-error" data-result="error" ' +
      'data-count="' + countField.value + '" role="alert"><p class="scan-headline"></p>' +
      '<p class="scan-message"></p><button type="button" class="scan-ack" data-ack></button>' +
      '<p class="scan-count"></p></div>';
    var previous = document.getElementById("scan-result");
    var counted = previous.querySelector(".scan-count");
    show(html);
    var now = document.getElementById("scan-result");
    now.querySelector(".scan-headline").textContent = root.getAttribute("data-text-failed");
    now.querySelector(".scan-message").textContent = message;
    now.querySelector(".scan-ack").textContent = root.getAttribute("data-text-ack");
    if (counted) now.querySelector(".scan-count").textContent = counted.textContent;
  }

  function next() {
    if (sending || !queue.length) return;
    sending = true;
    var code = queue.shift();
    var data = new FormData(form);
    data.set("code", code);
    data.set("count", countField.value);
    fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Scan-Station": "1", "X-CSRFToken": data.get("csrfmiddlewaretoken") },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(show)
      .catch(function (error) {
        fail(root.getAttribute("data-text-not-sent") + " " + code + " (" + error.message + ")");
      })
      .finally(function () {
        sending = false;
        next();
      });
  }

  function acknowledge() {
    if (!blocked) return;
    blocked = false;
    document.body.classList.remove("scan-blocked");
    var result = document.getElementById("scan-result");
    result.classList.add("acknowledged");
    var ack = result.querySelector("[data-ack]");
    if (ack) ack.remove();
    input.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = input.value.trim();
    input.value = "";
    if (!code) return;
    if (blocked) {
      beep("error");
      refocus();
      return;
    }
    queue.push(code);
    next();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") acknowledge();
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-ack]")) {
      acknowledge();
    } else if (!event.target.closest("a, button, input, select, textarea")) {
      refocus();
    }
  });
  input.addEventListener("blur", function () {
    window.setTimeout(function () {
      var active = document.activeElement;
      if (!active || active === document.body) refocus();
    }, 0);
  });
  /* Enter typed while the red panel has focus goes to the input instead of acknowledging. */
  document.addEventListener("keydown", function (event) {
    if (blocked && event.key === "Enter" && event.target.closest("[data-ack]")) {
      event.preventDefault();
      beep("error");
    }
  }, true);
  input.focus();
})();
