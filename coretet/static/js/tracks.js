// Play buttons in track lists: one shared <audio>, so starting a track stops the previous one.
(function () {
  var audio = new Audio();
  var current = null;

  function show(button, playing) {
    button.textContent = playing ? "❚❚" : "▶";
    button.setAttribute("aria-pressed", playing ? "true" : "false");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.play[data-src]");
    if (!button) { return; }
    if (current === button && !audio.paused) {
      audio.pause();
      return;
    }
    if (current !== button) {
      if (current) { show(current, false); }
      current = button;
      audio.src = button.dataset.src;
    }
    audio.play();
  });
  audio.addEventListener("play", function () { if (current) { show(current, true); } });
  audio.addEventListener("pause", function () { if (current) { show(current, false); } });
  audio.addEventListener("ended", function () { if (current) { show(current, false); } });
})();
