// Recipient player: next track, lock-screen controls, "listened" count, listen beacons, and a
// message when a track is refused (access withdrawn or expired) instead of silence.
(function () {
  "use strict";
  var root = document.getElementById("player");
  if (!root) return;
  var audio = document.getElementById("audio");
  var now = document.getElementById("now");
  var listened = document.getElementById("listened");
  var problem = document.getElementById("problem");
  var links = Array.prototype.slice.call(document.querySelectorAll("a.track"));
  var storeKey = "coretet:heard:" + root.dataset.key;
  var media = "mediaSession" in navigator ? navigator.mediaSession : null;
  var current = 0;
  var started = false;
  var lastBeacon = 0;
  // What the stream answers when this browser may no longer listen (see listen/routes.py, refused).
  var REFUSED = { 403: "Access to this playlist has ended.", 404: "This playlist or track is no longer available.",
                  409: "This code is now in use on another phone.", 410: "Access to this playlist has ended.",
                  423: "Access to this playlist has ended." };
  var RELOAD_AFTER_MS = 4000;

  function say(text, why) {
    problem.textContent = text + " ";
    if (why) {
      var again = document.createElement("a");
      again.href = window.location.href;
      again.textContent = "Show why";
      problem.appendChild(again);
    }
    problem.hidden = false;
  }

  // An <audio> error carries no HTTP status, so ask the stream once more (HEAD, no audio bytes).
  function explainError() {
    var src = audio.currentSrc || audio.src;
    if (!src) return;
    fetch(src, { method: "HEAD", credentials: "same-origin", cache: "no-store" }).then(function (answer) {
      if (REFUSED[answer.status]) {
        say(REFUSED[answer.status], true);
        if (media) media.playbackState = "none";
        // Reload to show the reason the server gives (withdrawn, expired, another phone).
        window.setTimeout(function () { window.location.reload(); }, RELOAD_AFTER_MS);
      } else {
        say("This track can't be played right now. Try again, or play the next one.", false);
      }
    }, function () {
      say("This track didn't load. Check your connection and try again.", false);
    });
  }

  function heard() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }

  function showHeard() {
    var done = heard();
    var count = links.filter(function (a) { return done[a.dataset.track]; }).length;
    links.forEach(function (a) { a.classList.toggle("heard", !!done[a.dataset.track]); });
    listened.textContent = "You've listened to " + count + "/" + links.length;
    listened.hidden = false;
  }

  function markHeard() {
    var done = heard();
    done[links[current].dataset.track] = 1;
    try { localStorage.setItem(storeKey, JSON.stringify(done)); } catch (e) { /* private mode */ }
    showHeard();
  }

  function beacon(position) {
    var body = new FormData();
    body.append("csrf_token", root.dataset.csrf);
    body.append("track", links[current].dataset.track);
    body.append("position", String(Math.floor(position || 0)));
    lastBeacon = Date.now();
    if (navigator.sendBeacon && navigator.sendBeacon(root.dataset.progress, body)) return;
    fetch(root.dataset.progress, { method: "POST", body: body, credentials: "same-origin", keepalive: true })
      .catch(function () { /* progress is best effort */ });
  }

  function setMetadata() {
    if (!media || typeof MediaMetadata === "undefined") return;
    media.metadata = new MediaMetadata({
      title: links[current].dataset.title, artist: root.dataset.artist, album: root.dataset.album
    });
  }

  function load(index, play) {
    if (index < 0 || index >= links.length) return;
    current = index;
    started = false;
    problem.hidden = true;
    audio.src = links[index].href;
    now.textContent = links[index].dataset.title;
    links.forEach(function (a, i) {
      a.classList.toggle("playing", i === index);
      if (i === index) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
    });
    setMetadata();
    if (play) audio.play().catch(function () { /* needs a tap first */ });
  }

  links.forEach(function (a, i) {
    a.addEventListener("click", function (event) { event.preventDefault(); load(i, true); });
  });
  document.getElementById("prev").addEventListener("click", function () { load(current - 1, true); });
  document.getElementById("next").addEventListener("click", function () { load(current + 1, true); });

  audio.addEventListener("error", explainError);
  audio.addEventListener("play", function () {
    if (!started) { started = true; beacon(0); }
  });
  audio.addEventListener("timeupdate", function () {
    if (Date.now() - lastBeacon > 15000 && audio.currentTime >= 1) beacon(audio.currentTime);
    if (media && media.setPositionState && isFinite(audio.duration)) {
      try {
        media.setPositionState({ duration: audio.duration, position: audio.currentTime, playbackRate: audio.playbackRate });
      } catch (e) { /* position briefly past duration */ }
    }
  });
  audio.addEventListener("pause", function () { if (audio.currentTime >= 1) beacon(audio.currentTime); });
  audio.addEventListener("ended", function () {
    beacon(audio.duration || audio.currentTime);
    markHeard();
    if (current + 1 < links.length) load(current + 1, true); else started = false;
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && !audio.paused) beacon(audio.currentTime);
  });

  if (media) {
    var actions = {
      play: function () { audio.play(); },
      pause: function () { audio.pause(); },
      previoustrack: function () { load(current - 1, true); },
      nexttrack: function () { load(current + 1, true); },
      seekbackward: function (d) { audio.currentTime = Math.max(0, audio.currentTime - (d.seekOffset || 10)); },
      seekforward: function (d) { audio.currentTime = Math.min(audio.duration || 0, audio.currentTime + (d.seekOffset || 10)); },
      seekto: function (d) { audio.currentTime = d.seekTime; }
    };
    Object.keys(actions).forEach(function (name) {
      try { media.setActionHandler(name, actions[name]); } catch (e) { /* action not supported here */ }
    });
  }
  links[0].classList.add("playing");
  setMetadata();
  showHeard();
  if (audio.error) explainError();  // the first track failed before this script ran
})();
