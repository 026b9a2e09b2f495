// Waveforms: <div class="waveform" data-peaks='[0.1, ...]' data-duration="183.2" [data-audio="#id"]>
// drawn as SVG bars, with the playhead of its audio element (#track-audio unless data-audio says
// otherwise). A click seeks the audio and dispatches "waveform:pick" {seconds}; Enter does the same at
// the playhead. Markers (window.CoreTetWaveform.setMarkers(el, [{seconds, id, label}])) are small
// buttons on the waveform; one seeks the audio and dispatches "waveform:marker" {seconds, id}.
// Each waveform dispatches "waveform:ready" {} when drawn, including after an htmx swap.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var HEIGHT = 100;
  var STEP = 5; // seconds for the arrow keys
  var views = new WeakMap();
  var counter = 0;

  function audioFor(el) {
    return document.querySelector(el.dataset.audio || "#track-audio");
  }

  function durationOf(view) {
    var audio = view.audio;
    if (audio && isFinite(audio.duration) && audio.duration > 0) { return audio.duration; }
    var stated = parseFloat(view.el.dataset.duration);
    return stated > 0 ? stated : 0;
  }

  function parsePeaks(el) {
    try {
      var peaks = JSON.parse(el.dataset.peaks || "[]");
      return Array.isArray(peaks) ? peaks.map(function (p) { return Math.max(0, Math.min(1, Number(p) || 0)); }) : [];
    } catch (error) {
      return [];
    }
  }

  function barsPath(peaks) {
    // The loudest point fills the height, so quiet recordings still show their shape.
    var loudest = Math.max.apply(null, peaks.concat([0]));
    var scale = loudest > 0 ? 1 / loudest : 0;
    var parts = [];
    peaks.forEach(function (peak, i) {
      var h = Math.max(1.5, peak * scale * (HEIGHT - 4));
      parts.push("M" + (i + 0.15).toFixed(2) + " " + ((HEIGHT - h) / 2).toFixed(2) + "h0.7v" + h.toFixed(2) + "h-0.7z");
    });
    return parts.join("");
  }

  function svgNode(name, attrs) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    return node;
  }

  function clock(seconds) {
    var total = Math.max(0, Math.floor(seconds || 0));
    return Math.floor(total / 60) + ":" + String(total % 60).padStart(2, "0");
  }

  function draw(view) {
    var el = view.el;
    var peaks = parsePeaks(el);
    var width = Math.max(peaks.length, 1);
    var clipId = "waveform-clip-" + (++counter);
    var path = barsPath(peaks);
    var svg = svgNode("svg", { viewBox: "0 0 " + width + " " + HEIGHT, preserveAspectRatio: "none",
      "aria-hidden": "true", focusable: "false", "class": "waveform-svg" });
    var defs = svgNode("defs", {});
    view.clip = svgNode("rect", { x: 0, y: 0, width: 0, height: HEIGHT });
    var clip = svgNode("clipPath", { id: clipId });
    clip.appendChild(view.clip);
    defs.appendChild(clip);
    svg.appendChild(defs);
    svg.appendChild(svgNode("path", { d: path, "class": "waveform-base" }));
    svg.appendChild(svgNode("path", { d: path, "class": "waveform-played", "clip-path": "url(#" + clipId + ")" }));
    view.width = width;
    view.markerLayer = document.createElement("div");
    view.markerLayer.className = "waveform-markers";
    el.replaceChildren(svg, view.markerLayer);
    el.tabIndex = 0;
    el.setAttribute("role", "slider");
    el.setAttribute("aria-label", el.dataset.label || "Waveform: click to seek");
    el.setAttribute("aria-valuemin", "0");
  }

  function progress(view) {
    if (!view.el.isConnected) { return false; }
    var duration = durationOf(view);
    var now = view.audio ? view.audio.currentTime : 0;
    var fraction = duration ? Math.min(1, now / duration) : 0;
    view.clip.setAttribute("width", String(fraction * view.width));
    view.el.setAttribute("aria-valuemax", String(Math.round(duration)));
    view.el.setAttribute("aria-valuenow", String(Math.round(now)));
    view.el.setAttribute("aria-valuetext", clock(now) + " of " + clock(duration));
    return true;
  }

  function animate(view) {
    if (view.frame) { return; }
    function step() {
      view.frame = null;
      if (progress(view) && view.audio && !view.audio.paused) {
        view.frame = requestAnimationFrame(step);
      }
    }
    view.frame = requestAnimationFrame(step);
  }

  function seek(view, seconds) {
    var duration = durationOf(view);
    seconds = Math.max(0, duration ? Math.min(seconds, duration) : seconds);
    if (view.audio) {
      view.audio.currentTime = seconds;
      progress(view);
    }
    return seconds;
  }

  function emit(view, name, detail) {
    view.el.dispatchEvent(new CustomEvent(name, { detail: detail, bubbles: true }));
  }

  function renderMarkers(view) {
    var duration = durationOf(view);
    view.markerLayer.replaceChildren();
    view.markers.forEach(function (marker) {
      var seconds = Number(marker.seconds);
      if (!isFinite(seconds) || seconds < 0) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "waveform-marker";
      button.dataset.id = marker.id;
      button.dataset.seconds = String(seconds);
      button.style.left = (duration ? Math.min(100, seconds / duration * 100) : 0) + "%";
      var label = (marker.label || "Marker") + " at " + clock(seconds);
      button.title = label;
      button.setAttribute("aria-label", label);
      view.markerLayer.appendChild(button);
    });
  }

  function attach(el) {
    if (views.has(el)) { return; }
    var view = { el: el, audio: audioFor(el), markers: [], frame: null };
    views.set(el, view);
    draw(view);
    if (view.audio) {
      var update = function () {
        if (!el.isConnected) {
          ["timeupdate", "play", "seeked", "loadedmetadata"].forEach(function (type) {
            view.audio.removeEventListener(type, update);
          });
          return;
        }
        progress(view);
        if (!view.audio.paused) { animate(view); }
      };
      var metadata = function () { update(); if (view.markers.length) { renderMarkers(view); } };
      view.audio.addEventListener("timeupdate", update);
      view.audio.addEventListener("play", update);
      view.audio.addEventListener("seeked", update);
      view.audio.addEventListener("loadedmetadata", metadata);
    }
    el.addEventListener("click", function (event) {
      var marker = event.target.closest(".waveform-marker");
      if (marker) {
        var at = seek(view, Number(marker.dataset.seconds));
        emit(view, "waveform:marker", { seconds: at, id: marker.dataset.id });
        return;
      }
      var box = el.getBoundingClientRect();
      var duration = durationOf(view);
      if (!box.width) { return; }
      var seconds = (event.clientX - box.left) / box.width * duration;
      emit(view, "waveform:pick", { seconds: seek(view, seconds) });
    });
    el.addEventListener("keydown", function (event) {
      if (event.target !== el || event.altKey || event.ctrlKey || event.metaKey) { return; }
      var now = view.audio ? view.audio.currentTime : 0;
      if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
        event.preventDefault();
        seek(view, now + (event.key === "ArrowLeft" ? -STEP : STEP));
      } else if (event.key === "Enter") {
        event.preventDefault();
        emit(view, "waveform:pick", { seconds: now });
      }
    });
    progress(view);
    emit(view, "waveform:ready", {});
  }

  function scan(root) {
    if (!root || !root.querySelectorAll) { return; }
    if (root.matches && root.matches(".waveform")) { attach(root); }
    root.querySelectorAll(".waveform").forEach(attach);
  }

  window.CoreTetWaveform = {
    setMarkers: function (el, markers) {
      if (!el || !el.classList || !el.classList.contains("waveform")) { return; }
      attach(el);
      var view = views.get(el);
      view.markers = Array.isArray(markers) ? markers.slice() : [];
      renderMarkers(view);
    },
  };

  document.addEventListener("htmx:load", function (event) { scan(event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { scan(document.body); });
  } else {
    scan(document.body);
  }
})();
