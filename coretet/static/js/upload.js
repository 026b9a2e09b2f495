// Uploads: one request per file with a progress bar and a cancel button.
// The browser refuses files that cannot fit before sending them; the server decides in the end.
(function () {
  var form = document.getElementById("upload");
  if (!form) { return; }
  var input = form.querySelector("input[type=file]");
  var queue = form.querySelector(".upload-queue");
  var dropzone = form.querySelector(".dropzone");
  var remaining = form.dataset.remaining === "" ? null : Number(form.dataset.remaining);
  var maxBytes = Number(form.dataset.maxBytes);
  var token = document.querySelector('meta[name="csrf-token"]').content;
  // Set only where an upgrade gives more room (the personal space on the Free plan).
  var upgradeUrl = form.dataset.upgradeUrl || "";

  function size(bytes) {
    var units = ["B", "KB", "MB", "GB"], i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return (i && bytes < 10 ? bytes.toFixed(1) : Math.round(bytes)) + " " + units[i];
  }

  function row(file) {
    var item = document.createElement("li");
    item.className = "upload-item";
    item.innerHTML = '<span class="upload-name"></span><span class="upload-status">Waiting…</span>' +
      '<button type="button" class="link-button upload-cancel">Cancel</button>' +
      '<div class="bar"><span style="width:0%"></span></div>';
    item.querySelector(".upload-name").textContent = file.name + " · " + size(file.size);
    queue.appendChild(item);
    return item;
  }

  function finish(item, text, kind) {
    item.classList.add(kind);
    item.querySelector(".upload-status").textContent = text;
    var cancel = item.querySelector(".upload-cancel");
    if (cancel) { cancel.remove(); }
  }

  // A refusal for lack of room: its text, plus an "Upgrade" link opening the upgrade modal when one helps.
  function refuseForRoom(item, text) {
    finish(item, text, "failed");
    if (!upgradeUrl) { return; }
    var link = document.createElement("a");
    link.className = "upload-upgrade";
    link.href = upgradeUrl;
    link.textContent = "Upgrade";
    link.setAttribute("hx-get", upgradeUrl);
    link.setAttribute("hx-target", "#modal");
    var status = item.querySelector(".upload-status");
    status.appendChild(document.createTextNode(" "));
    status.appendChild(link);
    htmx.process(link);
  }

  function send(file) {
    var item = row(file);
    if (file.size > maxBytes) {
      return finish(item, "Too large: files can be up to " + size(maxBytes) + ".", "failed");
    }
    if (remaining !== null && file.size > remaining) {
      return refuseForRoom(item, "Won't fit: " + size(remaining) + " left. Delete tracks or upgrade for more room.");
    }
    if (remaining !== null) { remaining -= file.size; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) {
        var percent = Math.round(event.loaded / event.total * 100);
        item.querySelector(".bar span").style.width = percent + "%";
        item.querySelector(".upload-status").textContent = percent + "%";
      }
    };
    xhr.onload = function () {
      if (xhr.status === 200) {
        var list = document.getElementById("track-list");
        list.insertAdjacentHTML("afterbegin", xhr.responseText);
        htmx.process(list.firstElementChild);
        htmx.trigger(document.body, "storageChanged");
        finish(item, "Uploaded", "done");
      } else {
        if (remaining !== null) { remaining += file.size; }
        var text = xhr.responseText.length < 400 ? xhr.responseText : "Upload failed (" + xhr.status + ").";
        if (xhr.getResponseHeader("X-Upload-Refused") === "quota") {
          refuseForRoom(item, text);
        } else {
          finish(item, text, "failed");
        }
      }
    };
    xhr.onerror = function () {
      if (remaining !== null) { remaining += file.size; }
      finish(item, "Connection lost. Try again.", "failed");
    };
    item.querySelector(".upload-cancel").onclick = function () {
      xhr.abort();
      if (remaining !== null) { remaining += file.size; }
      finish(item, "Cancelled", "cancelled");
    };
    xhr.send(file);
  }

  input.addEventListener("change", function () {
    Array.prototype.forEach.call(input.files, send);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) { event.preventDefault(); dropzone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) { event.preventDefault(); dropzone.classList.remove("over"); });
  });
  dropzone.addEventListener("drop", function (event) {
    Array.prototype.forEach.call(event.dataTransfer.files, send);
  });
})();
