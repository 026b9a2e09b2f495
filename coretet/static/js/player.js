// The playlist page's player: one <audio> element playing the rows of #playlist-tracks in order.
// The queue is read from the rows' data-src each time, so reordering or removing tracks
// (which re-renders the list) changes what plays next without reloading the page.
(function () {
  "use strict";

  var player = document.querySelector("[data-player]");
  if (!player) {
    return;
  }
  var audio = player.querySelector("[data-player-audio]");
  var toggleButton = player.querySelector("[data-player-toggle]");
  var titleLabel = player.querySelector("[data-player-title]");
  var seek = player.querySelector("[data-player-seek]");
  var elapsedLabel = player.querySelector("[data-player-elapsed]");
  var durationLabel = player.querySelector("[data-player-duration]");
  var currentId = null;
  var seeking = false;

  function clock(seconds) {
    var total = Math.max(0, Math.floor(seconds || 0));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = String(total % 60).padStart(2, "0");
    return hours ? hours + ":" + String(minutes).padStart(2, "0") + ":" + secs : minutes + ":" + secs;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#playlist-tracks [data-src]"));
  }

  function currentIndex() {
    return rows().findIndex(function (row) { return row.dataset.trackId === currentId; });
  }

  function markCurrent() {
    rows().forEach(function (row) {
      var current = row.dataset.trackId === currentId;
      row.classList.toggle("is-current", current);
      if (current) {
        row.setAttribute("aria-current", "true");
      } else {
        row.removeAttribute("aria-current");
      }
    });
  }

  function describe(row) {
    titleLabel.textContent = row.dataset.title;
    if ("mediaSession" in navigator && window.MediaMetadata) {
      navigator.mediaSession.metadata = new MediaMetadata({ title: row.dataset.title, album: document.title });
    }
  }

  function load(row, autoplay) {
    currentId = row.dataset.trackId;
    audio.dataset.trackId = row.dataset.trackId;  // engagement.js reports listening per track
    audio.src = row.dataset.src;
    seek.value = 0;
    elapsedLabel.textContent = "0:00";
    describe(row);
    markCurrent();
    if (autoplay) {
      audio.play().catch(function () { /* the user can press play; autoplay may be blocked */ });
    }
  }

  function step(delta) {
    var list = rows();
    var index = currentIndex();
    var next = index === -1 ? 0 : index + delta;
    if (next < 0 || next >= list.length) {
      return false;
    }
    load(list[next], true);
    return true;
  }

  function toggle() {
    if (currentId === null || currentIndex() === -1) {
      var first = rows()[0];
      if (first) {
        load(first, true);
      }
      return;
    }
    if (audio.paused) {
      audio.play().catch(function () {});
    } else {
      audio.pause();
    }
  }

  function previous() {
    // Like most players: a few seconds in, "previous" restarts the current track.
    if (audio.currentTime > 3) {
      audio.currentTime = 0;
    } else if (!step(-1) && currentId !== null) {
      audio.currentTime = 0;
    }
  }

  function showPlaying() {
    var playing = !audio.paused;
    toggleButton.setAttribute("aria-label", playing ? "Pause" : "Play");
    player.classList.toggle("is-playing", playing);
    if ("mediaSession" in navigator) {
      navigator.mediaSession.playbackState = playing ? "playing" : "paused";
    }
  }

  toggleButton.addEventListener("click", toggle);
  player.querySelector("[data-player-prev]").addEventListener("click", previous);
  player.querySelector("[data-player-next]").addEventListener("click", function () { step(1); });

  audio.addEventListener("play", showPlaying);
  audio.addEventListener("pause", showPlaying);
  audio.addEventListener("ended", function () {
    if (!step(1)) {
      showPlaying();
    }
  });
  audio.addEventListener("durationchange", function () {
    var duration = isFinite(audio.duration) ? audio.duration : 0;
    seek.max = duration;
    durationLabel.textContent = clock(duration);
  });
  audio.addEventListener("timeupdate", function () {
    if (!seeking) {
      seek.value = audio.currentTime;
      elapsedLabel.textContent = clock(audio.currentTime);
    }
  });

  seek.addEventListener("input", function () {
    seeking = true;
    elapsedLabel.textContent = clock(seek.value);
  });
  seek.addEventListener("change", function () {
    seeking = false;
    if (currentId !== null) {
      audio.currentTime = Number(seek.value);
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("#playlist-tracks [data-play]");
    if (!button) {
      return;
    }
    var row = button.closest("[data-src]");
    if (row.dataset.trackId === currentId) {
      toggle();
    } else {
      load(row, true);
    }
  });

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) {
      return;
    }
    var key = event.key.toLowerCase();
    if (key === " ") {
      // Space on a focused button or link already presses it.
      if (event.target.closest("button, a, summary")) {
        return;
      }
      event.preventDefault();
      toggle();
    } else if (key === "j") {
      previous();
    } else if (key === "k") {
      step(1);
    }
  });

  // After the track list changes (tracks added, removed or moved): mark the loaded track, and
  // when none is loaded (or it left the list while paused) show the track Play would start.
  function trackListChanged() {
    markCurrent();
    var loaded = currentId !== null && (currentIndex() !== -1 || !audio.paused);
    if (!loaded) {
      var first = rows()[0];
      titleLabel.textContent = first ? first.dataset.title : titleLabel.dataset.emptyText;
    }
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.closest("#playlist-tracks")) {
      trackListChanged();
    }
  });

  if ("mediaSession" in navigator) {
    var actions = {
      play: toggle,
      pause: toggle,
      previoustrack: previous,
      nexttrack: function () { step(1); },
      seekto: function (details) { audio.currentTime = details.seekTime; },
    };
    Object.keys(actions).forEach(function (action) {
      try {
        navigator.mediaSession.setActionHandler(action, actions[action]);
      } catch (error) {
        // Browsers throw for actions they do not support; the buttons still work.
      }
    });
  }
})();
