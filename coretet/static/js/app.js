// CoreTet's only global script: attach the CSRF token to every htmx request.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRFToken"] = meta.content;
  }
});

// Buttons with data-countdown-until stay disabled, showing the seconds left, until that time.
function tickCountdowns() {
  document.querySelectorAll("[data-countdown-until]").forEach(function (button) {
    var left = Math.ceil((Date.parse(button.dataset.countdownUntil) - Date.now()) / 1000);
    var label = button.querySelector(".countdown");
    button.disabled = left > 0;
    if (label) {
      label.textContent = left > 0 ? " (in " + left + " s)" : "";
    }
  });
}
setInterval(tickCountdowns, 1000);
document.addEventListener("DOMContentLoaded", tickCountdowns);
document.addEventListener("htmx:afterSwap", tickCountdowns);

// Escape closes an open modal through its own close button (so any server-side effect runs).
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") { return; }
  var close = document.querySelector("#modal [data-modal-close]");
  if (close) { close.click(); }
});

// The workspace switcher closes once an item is chosen, and any open menu closes when a modal
// opens (e.g. "+ New band" answering with the upgrade or waitlist modal), so none stays behind it.
function closeMenus() {
  document.querySelectorAll("details.switcher[open], details.row-menu[open]").forEach(function (menu) {
    menu.open = false;
  });
}
document.addEventListener("click", function (event) {
  var item = event.target.closest("details.switcher a");
  if (item) {
    item.closest("details").open = false;
  }
});
document.addEventListener("htmx:afterSwap", function (event) {
  if (event.detail.target && event.detail.target.id === "modal") { closeMenus(); }
});
