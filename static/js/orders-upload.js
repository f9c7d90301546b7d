// The order-export upload page: send the file with XHR to show the upload's
// progress, then poll the import's progress until the server answers, then
// open the result. Without JavaScript the form posts normally.
(function () {
  "use strict";
  const form = document.getElementById("order-import");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  const panel = document.getElementById("import-progress");
  const uploadBar = document.getElementById("upload-bar");
  const processBar = document.getElementById("process-bar");
  const status = document.getElementById("import-status");
  const errors = document.getElementById("import-errors");
  const msg = form.dataset;

  function randomKey() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function say(text) { status.textContent = text; }

  function showErrors(body) {
    errors.textContent = "";
    const err = body && body.error;
    say(msg.msgFailed + " " + (err ? err.message : ""));
    ((err && err.details) || []).forEach((d) => {
      const li = document.createElement("li");
      li.textContent = d.message;
      errors.appendChild(li);
    });
  }

  form.addEventListener("submit", (event) => {
    const file = form.querySelector("input[type=file]");
    if (!file || !file.files.length) return;  // let the server say what is missing
    event.preventDefault();
    const key = randomKey();
    form.querySelector("input[name=upload_key]").value = key;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    panel.hidden = false;
    uploadBar.value = 0;
    processBar.value = 0;
    errors.textContent = "";
    say(msg.msgUploading);

    let finished = false;
    let timer = null;
    function poll() {
      if (finished) return;
      fetch(msg.progressUrl + "?key=" + encodeURIComponent(key), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then((r) => (r.ok ? r.json() : null))
        .then((p) => {
          if (finished || !p || !p.bytes_total) return;
          const pct = Math.min(100, Math.floor((100 * p.bytes_done) / p.bytes_total));
          processBar.value = pct;
          say(msg.msgImporting.replace("{rows}", p.rows_seen.toLocaleString()).replace("{pct}", String(pct)));
        })
        .catch(() => {})
        .finally(() => { if (!finished) timer = window.setTimeout(poll, 1000); });
    }

    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("X-Requested-With", "fetch");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) uploadBar.value = Math.floor((100 * e.loaded) / e.total);
    });
    xhr.upload.addEventListener("load", () => { uploadBar.value = 100; poll(); });
    xhr.addEventListener("load", () => {
      finished = true;
      window.clearTimeout(timer);
      button.disabled = false;
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 200 && body && body.url) {
        processBar.value = 100;
        say(msg.msgDone);
        window.location.assign(body.url);
      } else {
        showErrors(body || {error: {message: String(xhr.status), details: []}});
      }
    });
    xhr.addEventListener("error", () => {
      finished = true;
      window.clearTimeout(timer);
      button.disabled = false;
      say(msg.msgNetwork);
    });
    xhr.send(new FormData(form));
  });
})();
