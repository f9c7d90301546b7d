// The booking form's forecast panel (templates/bookings/_forecast.html): when
// tenant, room, day, start or end change, fetch the panel's HTML fragment from
// the server (views/sales/forecast.panel, with the login's session cookie) and
// show it; a "switch to" button puts that room in the form's room field. No
// inline script (CSP).
(function () {
  "use strict";
  const panel = document.querySelector(".forecast-panel");
  if (!panel) return;
  const form = panel.parentElement.querySelector("form.grid-form") || document.querySelector("form.grid-form");
  if (!form) return;
  const body = panel.querySelector(".forecast-body");
  const FIELDS = ["tenant_id", "room_id", "day", "start", "end"];
  let seq = 0;
  let timer = null;

  function value(name) {
    const el = form.elements.namedItem(name);
    return el && "value" in el ? el.value : "";
  }

  function tenantId() {
    return value("tenant_id") || panel.dataset.tenantId || "";
  }

  function anchorIds() {
    const out = [];
    form.querySelectorAll("[name=anchor_ids], [name^=anchors-][name$=anchor_id]").forEach(function (el) {
      if (el.multiple) {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { if (o.value) out.push(o.value); });
      } else if (el.value) {
        out.push(el.value);
      }
    });
    return out.join(",");
  }

  function refresh() {
    const params = new URLSearchParams({ tenant_id: tenantId(), room_id: value("room_id"), day: value("day"),
                                         start: value("start"), end: value("end") });
    const anchors = anchorIds();
    if (anchors) params.set("anchor_ids", anchors);
    const mine = ++seq;
    fetch(panel.dataset.panelUrl + "?" + params.toString(), { credentials: "same-origin",
                                                                headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (mine !== seq || html === null) return;
        body.innerHTML = html;   // the server's own template: escaped there
        panel.classList.toggle("forecast-over", !!body.querySelector(".forecast-warning"));
      })
      .catch(function () { /* the form works without the forecast */ });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  form.addEventListener("change", function (event) {
    if (event.target && (FIELDS.indexOf(event.target.name) >= 0 || /anchor/.test(event.target.name || ""))) later();
  });
  panel.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest(".forecast-switch") : null;
    if (!button) return;
    const room = form.elements.namedItem("room_id");
    if (!room) return;
    room.value = button.dataset.roomId;
    room.dispatchEvent(new Event("change", { bubbles: true }));
    room.focus();
  });
  refresh();
}());
