// A/B compare: one transport for two <audio> elements that play together, one of them silent.
// Switching only swaps which one is heard, so it is instant: no seek, no re-buffering, no gap.
// The silent one is kept in step by running it a few percent faster or slower (a seek would
// leave it behind by the seek's own latency); only a big gap is closed with a seek.
// Loudness matching turns the louder version down by the server's gains (never above 1) with the
// elements' volume; where volume is read-only (iOS) through Web Audio gain nodes instead. Web Audio is
// not the default because it hears nothing from cross-origin audio (presigned S3 URLs) without CORS.
(function () {
  "use strict";

  var root = document.querySelector("[data-compare]");
  if (!root) { return; }
  var audio = { a: document.getElementById("compare-audio-a"), b: document.getElementById("compare-audio-b") };
  var matched = { a: Number(root.dataset.gainA) || 1, b: Number(root.dataset.gainB) || 1 };
  var toggle = root.querySelector("[data-ab-toggle]");
  var seekBar = root.querySelector("[data-ab-seek]");
  var elapsed = root.querySelector("[data-ab-elapsed]");
  var total = root.querySelector("[data-ab-duration]");
  var matching = root.querySelector("[data-ab-matching]");
  var matchText = root.querySelector("[data-ab-match]");
  var IN_STEP = 0.01; // seconds apart that count as together
  var RESEEK = 0.25; // seconds apart that a seek closes faster than a changed speed
  var active = "a";
  var playing = false;
  var graph = null;
  var dragging = false;

  function other(side) { return side === "a" ? "b" : "a"; }

  function clock(seconds) {
    var t = Math.max(0, Math.floor(seconds || 0));
    return Math.floor(t / 60) + ":" + String(t % 60).padStart(2, "0");
  }

  function level(side) {
    if (side !== active) { return 0; }
    return matching.checked ? Math.min(1, matched[side]) : 1;
  }

  function applyLevels() {
    ["a", "b"].forEach(function (side) {
      var value = level(side);
      if (graph) {
        var gain = graph[side].gain;
        gain.cancelScheduledValues(graph.context.currentTime);
        gain.setTargetAtTime(value, graph.context.currentTime, 0.004); // ~4 ms: instant, but no click
      } else {
        audio[side].volume = value;
        audio[side].muted = value === 0;
      }
    });
  }

  function volumeWorks() {
    var probe = document.createElement("audio");
    probe.volume = 0.5;
    return Math.abs(probe.volume - 0.5) < 0.01;
  }

  // Web Audio must start from a user gesture; built once, on the first play, and only if needed.
  function buildGraph() {
    if (graph !== null) { return; }
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || volumeWorks()) { graph = false; return; }
    try {
      var context = new Context();
      graph = { context: context };
      ["a", "b"].forEach(function (side) {
        var gain = context.createGain();
        gain.gain.value = level(side);
        context.createMediaElementSource(audio[side]).connect(gain);
        gain.connect(context.destination);
        audio[side].volume = 1;
        audio[side].muted = false;
        graph[side] = gain;
      });
    } catch (error) {
      graph = false;
    }
  }

  function position() { return audio[active].currentTime || 0; }

  function longest() {
    var a = audio.a.duration, b = audio.b.duration;
    return Math.max(isFinite(a) ? a : 0, isFinite(b) ? b : 0) || Number(seekBar.max) || 0;
  }

  function show() {
    root.classList.toggle("is-playing", playing);
    toggle.setAttribute("aria-label", playing ? "Pause" : "Play");
    root.querySelectorAll("[data-side]").forEach(function (side) {
      var on = side.dataset.side === active;
      side.classList.toggle("is-active", on);
      side.querySelector("[data-choose]").setAttribute("aria-checked", on ? "true" : "false");
    });
    if (!dragging) { seekBar.value = position(); }
    seekBar.max = longest();
    elapsed.textContent = clock(position());
    total.textContent = clock(longest());
    matchText.textContent = matching.checked ? matchText.dataset.text : "Not matched: each plays at its own level.";
  }

  function seekTo(seconds) {
    seconds = Math.max(0, Math.min(seconds, longest()));
    ["a", "b"].forEach(function (side) { audio[side].currentTime = seconds; });
    show();
  }

  function play() {
    buildGraph();
    if (graph && graph.context.state === "suspended") { graph.context.resume(); }
    applyLevels();
    audio[other(active)].currentTime = audio[active].currentTime;
    playing = true;
    Promise.all([audio.a.play(), audio.b.play()]).catch(function () {
      playing = false;
      pause();
    });
    show();
  }

  function pause() {
    playing = false;
    audio.a.pause();
    audio.b.pause();
    audio.a.playbackRate = audio.b.playbackRate = 1;
    audio[other(active)].currentTime = audio[active].currentTime;
    show();
  }

  function choose(side) {
    if (side === active) { return; }
    var at = position();
    active = side;
    // Both are playing in step, so only the levels change; when paused, copy the position across.
    if (!playing || Math.abs(audio[side].currentTime - at) > RESEEK) { audio[side].currentTime = at; }
    audio[side].playbackRate = 1;
    applyLevels();
    show();
  }

  function keepInStep() {
    if (!playing) { return; }
    var lead = audio[active], follow = audio[other(active)];
    var gap = lead.currentTime - follow.currentTime; // > 0: the silent one is behind
    lead.playbackRate = 1;
    if (follow.ended || lead.currentTime >= (follow.duration || Infinity)) {
      follow.playbackRate = 1;
    } else if (Math.abs(gap) > RESEEK) {
      follow.currentTime = lead.currentTime;
      follow.playbackRate = 1;
    } else if (Math.abs(gap) > IN_STEP) {
      follow.playbackRate = gap > 0 ? 1.05 : 0.95;
    } else {
      follow.playbackRate = 1;
    }
    show();
  }

  toggle.addEventListener("click", function () { if (playing) { pause(); } else { play(); } });
  root.querySelectorAll("[data-choose]").forEach(function (button) {
    button.addEventListener("click", function () { choose(button.dataset.choose); });
  });
  seekBar.addEventListener("input", function () { dragging = true; elapsed.textContent = clock(Number(seekBar.value)); });
  seekBar.addEventListener("change", function () { dragging = false; seekTo(Number(seekBar.value)); });
  matching.addEventListener("change", function () { applyLevels(); show(); });
  ["a", "b"].forEach(function (side) {
    audio[side].addEventListener("loadedmetadata", show);
    audio[side].addEventListener("ended", function () { if (side === active) { pause(); seekTo(0); } });
  });
  // A click on either waveform moves both players there.
  root.addEventListener("waveform:pick", function (event) { seekTo(event.detail.seconds); });
  setInterval(keepInStep, 200);

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var target = event.target;
    if (target.closest && target.closest("input:not([type=range]):not([type=checkbox]), textarea, select, [contenteditable]")) { return; }
    var key = event.key.toLowerCase();
    if (key === " " || key === "spacebar") {
      event.preventDefault();
      if (playing) { pause(); } else { play(); }
    } else if (key === "a" || key === "b") {
      event.preventDefault();
      choose(key);
    } else if ((key === "arrowleft" || key === "arrowright") && target.type !== "range" && !target.classList.contains("waveform")) {
      event.preventDefault();
      seekTo(position() + (key === "arrowleft" ? -5 : 5));
    }
  });

  applyLevels();
  show();
})();
