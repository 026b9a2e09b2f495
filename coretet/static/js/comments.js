// The track page's comments: timestamped comments from the waveform, markers, seeking, and a
// polling thread that holds still while someone is typing or listening inside it.
(function () {
  "use strict";

  function clock(seconds) {
    var total = Math.max(0, Math.round(seconds || 0));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = String(total % 60).padStart(2, "0");
    return hours ? hours + ":" + String(minutes).padStart(2, "0") + ":" + secs : minutes + ":" + secs;
  }

  function form() { return document.querySelector("[data-comment-form]"); }
  function thread() { return document.getElementById("comment-thread"); }
  function player() { return document.getElementById("track-audio") || document.querySelector("audio[data-track-id]"); }

  function canRefresh() {
    var box = thread();
    if (!box) { return false; }
    if (box.querySelector("[data-editing]")) { return false; }
    var active = document.activeElement;
    if (active && box.contains(active) && active.matches("textarea, input")) { return false; }
    var typed = Array.prototype.some.call(box.querySelectorAll("textarea"), function (t) { return t.value.trim() !== ""; });
    var playing = Array.prototype.some.call(box.querySelectorAll("audio"), function (a) { return !a.paused; });
    return !typed && !playing;
  }

  function applyMarkers() {
    var box = thread();
    var waveform = document.querySelector(".waveform");
    if (!box || !waveform || !window.CoreTetWaveform || typeof window.CoreTetWaveform.setMarkers !== "function") {
      return;
    }
    var markers = [];
    try { markers = JSON.parse(box.dataset.markers || "[]"); } catch (error) { markers = []; }
    window.CoreTetWaveform.setMarkers(waveform, markers);
  }

  function openUpgrade(url) {
    if (window.htmx && url) {
      window.htmx.ajax("GET", url, { target: "#modal", swap: "innerHTML" });
    }
  }

  function setMoment(seconds) {
    var f = form();
    if (!f) { return; }
    if (f.dataset.timestamps !== "on") {
      openUpgrade(f.dataset.upgradeUrl);
      return;
    }
    var duration = Number(f.dataset.duration) || 0;
    var at = Math.max(0, duration ? Math.min(seconds, duration) : seconds);
    f.querySelector("[data-comment-position]").value = at.toFixed(2);
    f.querySelector("[data-comment-at-label]").textContent = clock(at);
    f.querySelector("[data-comment-at]").hidden = false;
    f.querySelector("textarea").placeholder = "Comment at " + clock(at) + "…";
    f.querySelector("textarea").focus({ preventScroll: true });
  }

  function clearMoment() {
    var f = form();
    if (!f) { return; }
    f.querySelector("[data-comment-position]").value = "";
    f.querySelector("[data-comment-at]").hidden = true;
    f.querySelector("textarea").placeholder = "Add a comment…";
  }

  function seek(seconds, play) {
    var audio = player();
    if (!audio) { return; }
    audio.currentTime = seconds;
    if (play && audio.paused) { audio.play().catch(function () {}); }
  }

  function highlight(id) {
    var item = document.getElementById("comment-" + id);
    if (!item) { return; }
    item.classList.add("is-highlighted");
    item.scrollIntoView({ block: "nearest", behavior: "smooth" });
    setTimeout(function () { item.classList.remove("is-highlighted"); }, 2400);
  }

  document.addEventListener("waveform:pick", function (event) {
    if (event.detail && isFinite(event.detail.seconds)) { setMoment(Number(event.detail.seconds)); }
  });
  document.addEventListener("waveform:marker", function (event) {
    if (!event.detail) { return; }
    if (isFinite(event.detail.seconds)) { seek(Number(event.detail.seconds), false); }
    if (event.detail.id) { highlight(event.detail.id); }
  });
  document.addEventListener("waveform:ready", applyMarkers);

  function toggleReply(id) {
    var box = document.getElementById("comment-reply-" + id);
    if (!box) { return; }
    box.hidden = !box.hidden;
    if (!box.hidden) {
      box.querySelector("textarea").focus();
    }
  }

  document.addEventListener("click", function (event) {
    var replyToggle = event.target.closest("[data-reply-toggle]");
    if (replyToggle) {
      toggleReply(replyToggle.dataset.replyToggle);
      return;
    }
    var chip = event.target.closest("[data-seek]");
    if (chip) {
      seek(Number(chip.dataset.seek), true);
      return;
    }
    if (event.target.closest("[data-comment-at-clear]")) {
      clearMoment();
      return;
    }
    var now = event.target.closest("[data-comment-now]");
    if (now && !now.hasAttribute("hx-get")) {
      var audio = player();
      setMoment(audio ? audio.currentTime : 0);
    }
  });

  document.body.addEventListener("commentPosted", function () {
    var f = form();
    if (f) {
      f.querySelector("textarea").value = "";
      f.querySelector("#comment-form-error").innerHTML = "";
      clearMoment();
      f.dispatchEvent(new CustomEvent("voice:reset", { bubbles: true }));
    }
  });
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var feedback = event.target.querySelector && event.target.querySelector(".feedback");
    if (feedback && event.target.matches("form")) { feedback.innerHTML = ""; }
  });
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id === "comment-thread" || event.target.id === "collab-panel" || event.target.querySelector("#comment-thread")) {
      applyMarkers();
      if (location.hash.indexOf("#comment-") === 0 && event.target.id === "collab-panel") {
        highlight(location.hash.slice("#comment-".length));
      }
    }
  });

  window.CoreTetComments = { canRefresh: canRefresh, applyMarkers: applyMarkers, setMoment: setMoment };
})();
