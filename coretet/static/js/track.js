// The track page: play buttons of the version chain, and the new-version form's checks and progress.
(function () {
  "use strict";

  var main = document.getElementById("track-audio");
  var chainAudio = new Audio();
  var current = null;

  function show(button, playing) {
    button.textContent = playing ? "❚❚" : "▶";
    button.setAttribute("aria-pressed", playing ? "true" : "false");
  }

  // One thing plays at a time: a version from the chain, or the page's own player.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-version-src]");
    if (!button) { return; }
    if (current === button && !chainAudio.paused) {
      chainAudio.pause();
      return;
    }
    if (current !== button) {
      if (current) { show(current, false); }
      current = button;
      chainAudio.src = button.dataset.versionSrc;
    }
    if (main) { main.pause(); }
    chainAudio.play();
  });
  chainAudio.addEventListener("play", function () { if (current) { show(current, true); } });
  ["pause", "ended"].forEach(function (type) {
    chainAudio.addEventListener(type, function () { if (current) { show(current, false); } });
  });
  if (main) {
    main.addEventListener("play", function () { chainAudio.pause(); });
  }

  function size(bytes) {
    var units = ["B", "KB", "MB", "GB"], i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return (i && bytes < 10 ? bytes.toFixed(1) : Math.round(bytes)) + " " + units[i];
  }

  function say(form, message) {
    var box = form.querySelector("#version-feedback");
    box.replaceChildren();
    if (!message) { return; }
    var p = document.createElement("p");
    p.className = "form-error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    box.appendChild(p);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form.id !== "version-form") { return; }
    var file = form.querySelector("input[type=file]").files[0];
    var max = Number(form.dataset.maxBytes);
    if (file && max && file.size > max) {
      event.preventDefault();
      say(form, "That file is too large. Files can be up to " + size(max) + ".");
      return;
    }
    say(form, "");
    var bar = form.querySelector(".version-progress");
    bar.value = 0;
    bar.hidden = false;
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.detail.elt;
    if (form.id !== "version-form" || !event.detail.lengthComputable) { return; }
    form.querySelector(".version-progress").value = Math.round(event.detail.loaded / event.detail.total * 100);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form.id !== "version-form") { return; }
    form.querySelector(".version-progress").hidden = true;
  });

  // Statuses htmx does not swap (413 from the size cap): show the server's words or a plain one.
  document.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt;
    if (form.id !== "version-form") { return; }
    var xhr = event.detail.xhr;
    var found = new DOMParser().parseFromString(xhr.responseText || "", "text/html").querySelector(".form-error");
    var text = found ? found.textContent : "";
    if (!text && xhr.status === 413) { text = "That file is too large."; }
    say(form, text || "The upload didn't work. Try again.");
  });
})();
