// Voice memos for comments: record with MediaRecorder (timer, automatic stop at 30 s), preview,
// then the recording rides along with the comment form as one multipart request.
(function () {
  "use strict";

  var TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];
  var recording = null;  // {recorder, stream, chunks, started, tick, stopTimer}
  var memo = null;       // {blob, url, name}

  function parts(form) {
    return {
      box: form.querySelector("[data-voice-recorder]"),
      timer: form.querySelector("[data-voice-timer]"),
      stop: form.querySelector("[data-voice-stop]"),
      preview: form.querySelector("[data-voice-preview]"),
      discard: form.querySelector("[data-voice-discard]"),
      message: form.querySelector("[data-voice-message]"),
      start: form.querySelector("[data-voice-start]"),
    };
  }

  function say(form, text) {
    var p = parts(form);
    p.message.textContent = text || "";
    p.message.hidden = !text;
  }

  function clock(seconds) {
    var s = Math.floor(seconds);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function extension(type) {
    if (type.indexOf("ogg") !== -1) { return "ogg"; }
    if (type.indexOf("mp4") !== -1) { return "m4a"; }
    return "webm";
  }

  function reset(form) {
    if (recording) {
      recording.discard = true;
      recording.recorder.state !== "inactive" && recording.recorder.stop();
    }
    if (memo) { URL.revokeObjectURL(memo.url); }
    memo = null;
    var p = parts(form);
    p.box.hidden = true;
    p.box.classList.remove("is-recording");
    p.preview.hidden = true;
    p.preview.removeAttribute("src");
    p.discard.hidden = true;
    if (p.start) { p.start.disabled = false; }
  }

  function finish(form) {
    var p = parts(form);
    var r = recording;
    recording = null;
    clearInterval(r.tick);
    clearTimeout(r.stopTimer);
    r.stream.getTracks().forEach(function (track) { track.stop(); });
    p.box.classList.remove("is-recording");
    p.stop.hidden = true;
    if (p.start) { p.start.disabled = false; }
    if (r.discard || !r.chunks.length) {
      p.box.hidden = true;
      return;
    }
    var type = r.recorder.mimeType || r.chunks[0].type || "audio/webm";
    var blob = new Blob(r.chunks, { type: type });
    memo = { blob: blob, url: URL.createObjectURL(blob), name: "voice-memo." + extension(type) };
    p.timer.textContent = clock((Date.now() - r.started) / 1000);
    p.preview.src = memo.url;
    p.preview.hidden = false;
    p.discard.hidden = false;
    say(form, "Memo ready. Add a note if you like, then Post.");
  }

  function start(form) {
    if (recording) { return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
      say(form, "This browser can't record audio here. Try a recent Chrome, Firefox or Safari (on https).");
      return;
    }
    reset(form);
    say(form, "");
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var type = TYPES.find(function (t) { return MediaRecorder.isTypeSupported(t); });
      var recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
      var p = parts(form);
      var max = Number(p.box.dataset.maxSeconds) || 30;
      recording = { recorder: recorder, stream: stream, chunks: [], started: Date.now() };
      recorder.addEventListener("dataavailable", function (event) {
        if (event.data && event.data.size) { recording && recording.chunks.push(event.data); }
      });
      var current = recording;
      recorder.addEventListener("stop", function () { recording = current; finish(form); });
      recorder.start(250);
      p.box.hidden = false;
      p.box.classList.add("is-recording");
      p.stop.hidden = false;
      p.timer.textContent = "0:00";
      if (p.start) { p.start.disabled = true; }
      recording.tick = setInterval(function () {
        p.timer.textContent = clock((Date.now() - current.started) / 1000);
      }, 200);
      // Stop a little before the limit so the file stays within it after encoder padding.
      recording.stopTimer = setTimeout(function () {
        if (recorder.state !== "inactive") { recorder.stop(); }
        say(form, "Stopped at " + max + " seconds, the longest a memo can be.");
      }, max * 1000 - 150);
    }).catch(function (error) {
      var name = error && error.name;
      if (name === "NotAllowedError" || name === "SecurityError") {
        say(form, "Microphone access is blocked. Allow the microphone for this site in your browser, then try again.");
      } else if (name === "NotFoundError" || name === "OverconstrainedError") {
        say(form, "No microphone was found. Plug one in and try again.");
      } else {
        say(form, "The microphone could not be started (" + (name || "unknown error") + ").");
      }
    });
  }

  document.addEventListener("click", function (event) {
    var form = event.target.closest("[data-comment-form]");
    if (!form) { return; }
    if (event.target.closest("[data-voice-start]")) {
      start(form);
    } else if (event.target.closest("[data-voice-stop]")) {
      if (recording && recording.recorder.state !== "inactive") { recording.recorder.stop(); }
    } else if (event.target.closest("[data-voice-discard]")) {
      reset(form);
      say(form, "");
    }
  });

  document.addEventListener("voice:reset", function (event) {
    reset(event.target);
    say(event.target, "");
  });

  // The recording travels with the comment form's own request (multipart), as the "voice" file.
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!memo || !form || !form.matches || !form.matches("[data-comment-form]")) { return; }
    if (recording) {
      event.preventDefault();
      say(form, "Stop the recording first.");
      return;
    }
    event.detail.formData.set("voice", memo.blob, memo.name);
  });
})();
