// Listening beacons: any <audio data-track-id data-ws> reports how long it really played.
// Only timeupdate steps under 1.5 s count (a seek is a jump, not listening); a beacon goes out
// every ~10 s of playback and on pause, end, track change and page hide. The server caps each
// beacon by the wall-clock time since the previous one, so this is a report, not the judge.
(function () {
  "use strict";

  var script = document.currentScript;
  var URL_TEMPLATE = script && script.dataset.beaconUrl;  // ".../w/__ws__/tracks/__track__/beacon"
  var REPORT_EVERY = 10;
  var MAX_STEP = 1.5;
  var MIN_REPORT = 0.25;
  var states = new WeakMap();
  var watched = new Set();

  if (!URL_TEMPLATE) {
    return;
  }

  function beaconUrl(ws, trackId) {
    return URL_TEMPLATE.replace("__ws__", encodeURIComponent(ws)).replace("__track__", encodeURIComponent(trackId));
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function stateOf(audio) {
    var state = states.get(audio);
    if (!state) {
      state = { trackId: audio.dataset.trackId, ws: audio.dataset.ws, played: 0, last: audio.currentTime || 0 };
      states.set(audio, state);
      watched.add(audio);
    }
    return state;
  }

  function send(state, position, onHide) {
    var played = state.played;
    state.played = 0;
    if (played < MIN_REPORT || !state.trackId || !state.ws) {
      return;
    }
    var url = beaconUrl(state.ws, state.trackId);
    var body = { position: Math.max(0, position || 0), played: Math.round(played * 100) / 100 };
    if (onHide && navigator.sendBeacon) {
      // sendBeacon cannot set headers, so the CSRF token travels as a form field.
      var form = new FormData();
      form.append("csrf_token", csrfToken());
      form.append("position", body.position);
      form.append("played", body.played);
      navigator.sendBeacon(url, form);
      return;
    }
    var trackId = state.trackId;
    fetch(url, {
      method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (response.status === 200) {
        return response.json().then(function (data) {
          if (data.listened) {
            document.dispatchEvent(new CustomEvent("engagement:listened", { detail: { trackId: trackId } }));
          }
        });
      }
    }).catch(function () { /* a lost beacon only loses a few seconds of credit */ });
  }

  // The element may switch tracks (the playlist player): report the old one under its own ids.
  function follow(audio, state) {
    if (state.trackId !== audio.dataset.trackId || state.ws !== audio.dataset.ws) {
      send(state, state.lastPosition);
      state.trackId = audio.dataset.trackId;
      state.ws = audio.dataset.ws;
      state.last = audio.currentTime || 0;
    }
  }

  function isTracked(target) {
    return target instanceof HTMLMediaElement && target.dataset && target.dataset.trackId;
  }

  function on(type, handler) {
    // Media events do not bubble; listening in the capture phase sees every element's.
    document.addEventListener(type, function (event) {
      if (isTracked(event.target)) {
        handler(event.target, stateOf(event.target));
      }
    }, true);
  }

  on("play", function (audio, state) {
    follow(audio, state);
    state.last = audio.currentTime;
  });
  on("timeupdate", function (audio, state) {
    follow(audio, state);
    var now = audio.currentTime;
    var step = (now - state.last) / (audio.playbackRate || 1);
    if (!audio.paused && !audio.seeking && step > 0 && step < MAX_STEP) {
      state.played += step;
    }
    state.last = now;
    state.lastPosition = now;
    if (state.played >= REPORT_EVERY) {
      send(state, now);
    }
  });
  on("seeked", function (audio, state) { state.last = audio.currentTime; });
  on("pause", function (audio, state) { send(state, audio.currentTime); });
  on("ended", function (audio, state) { send(state, audio.currentTime); });
  on("loadstart", function (audio, state) { follow(audio, state); });

  function flushAll() {
    watched.forEach(function (audio) {
      var state = states.get(audio);
      if (state) {
        send(state, audio.currentTime, true);
      }
    });
  }
  window.addEventListener("pagehide", flushAll);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      flushAll();
    }
  });

  // When a beacon makes the track "listened", the open track page refreshes its summary.
  document.addEventListener("engagement:listened", function (event) {
    var panel = document.getElementById("collab-panel");
    var block = document.getElementById("engagement");
    if (panel && block && window.htmx && panel.dataset.trackId === event.detail.trackId) {
      window.htmx.trigger(block, "refresh");
    }
  });
})();
