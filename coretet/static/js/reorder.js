// Reordering the playlist's tracks by drag and drop or by the up/down buttons. Either way the
// rows move in the page first, then #reorder-form posts the full new order through htmx
// (which adds the CSRF header) and the server answers with the re-rendered list.
(function () {
  "use strict";

  var dragged = null;
  var orderBeforeDrag = null;
  var moved = null;

  function list() {
    return document.querySelector("#playlist-tracks [data-reorder-list]");
  }

  function order(ol) {
    return Array.prototype.map.call(ol.querySelectorAll("[data-track-id]"), function (row) {
      return row.dataset.trackId;
    });
  }

  function save(ol) {
    var form = document.getElementById("reorder-form");
    form.replaceChildren.apply(form, order(ol).map(function (id) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "track_id";
      input.value = id;
      return input;
    }));
    htmx.trigger(form, "submit");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("#playlist-tracks [data-move]");
    if (!button) {
      return;
    }
    var row = button.closest("[data-track-id]");
    var up = button.dataset.move === "up";
    var neighbour = up ? row.previousElementSibling : row.nextElementSibling;
    if (!neighbour) {
      return;
    }
    row.parentElement.insertBefore(up ? row : neighbour, up ? neighbour : row);
    moved = { id: row.dataset.trackId, direction: button.dataset.move, title: row.dataset.title };
    save(row.parentElement);
  });

  document.addEventListener("dragstart", function (event) {
    var ol = list();
    var row = event.target.closest && event.target.closest("[data-track-id]");
    if (!ol || !row || row.parentElement !== ol) {
      return;
    }
    dragged = row;
    orderBeforeDrag = order(ol).join(",");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.dataset.title);
    row.classList.add("is-dragging");
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) {
      return;
    }
    var over = event.target.closest("[data-track-id]");
    if (!over || over.parentElement !== dragged.parentElement) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (over === dragged) {
      return;
    }
    var box = over.getBoundingClientRect();
    var below = event.clientY > box.top + box.height / 2;
    over.parentElement.insertBefore(dragged, below ? over.nextElementSibling : over);
  });

  document.addEventListener("drop", function (event) {
    if (dragged) {
      event.preventDefault();
    }
  });

  document.addEventListener("dragend", function () {
    if (!dragged) {
      return;
    }
    var row = dragged;
    var ol = row.parentElement;
    dragged = null;
    row.classList.remove("is-dragging");
    if (order(ol).join(",") !== orderBeforeDrag) {
      moved = { id: row.dataset.trackId, direction: null, title: row.dataset.title };
      save(ol);
    }
  });

  // Keyboard users keep their place: focus returns to the moved row's arrow after the list is redrawn.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var ol = list();
    if (!moved || event.detail.target.id !== "playlist-tracks") {
      return;
    }
    if (!ol || event.detail.xhr.status !== 200) {
      moved = null;
      return;
    }
    var rows = Array.prototype.slice.call(ol.querySelectorAll("[data-track-id]"));
    var index = rows.findIndex(function (row) { return row.dataset.trackId === moved.id; });
    if (index !== -1) {
      if (moved.direction) {
        var other = moved.direction === "up" ? "down" : "up";
        var button = rows[index].querySelector('[data-move="' + moved.direction + '"]');
        (button.disabled ? rows[index].querySelector('[data-move="' + other + '"]') : button).focus();
      }
      var status = document.getElementById("reorder-status");
      if (status) {
        status.textContent = "Moved " + moved.title + " to position " + (index + 1) + " of " + rows.length + ".";
      }
    }
    moved = null;
  });
})();
