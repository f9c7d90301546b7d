// People & goods: drag to reorder a lineup, "whole week" select-all, print.
// Progressive enhancement only: the up/down buttons, the checkboxes and the
// browser's own print command do the same without it.
(() => {
  "use strict";

  document.querySelectorAll(".js-only[hidden]").forEach((el) => { el.hidden = false; });

  // Lineup: HTML5 drag and drop on the list items; on drop, send the new
  // order of product ids to /bookings/<id>/lineup/order.
  document.querySelectorAll("[data-lineup]").forEach((list) => {
    const form = document.getElementById(list.dataset.orderForm);
    const input = form && form.querySelector("input[name=order]");
    if (!input) return;
    let dragged = null;

    list.addEventListener("dragstart", (event) => {
      dragged = event.target.closest("li[draggable=true]");
      if (!dragged) return;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.productId);
      dragged.classList.add("muted", "dragging");
    });
    list.addEventListener("dragover", (event) => {
      const over = event.target.closest("li[draggable=true]");
      if (!dragged || !over || over.parentElement !== list) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      if (over === dragged) return;
      const box = over.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", (event) => {
      if (!dragged) return;
      event.preventDefault();
      const order = Array.from(list.querySelectorAll(":scope > li")).map((li) => li.dataset.productId);
      const changed = input.value !== order.join(",");
      input.value = order.join(",");
      dragged.classList.remove("muted", "dragging");
      dragged = null;
      if (changed) form.submit();
    });
    list.addEventListener("dragend", () => {
      if (dragged) dragged.classList.remove("muted", "dragging");
      dragged = null;
    });
  });

  // "The whole week" ticks every session of the week, and unticks itself
  // when one of them is unticked.
  document.querySelectorAll("input.js-select-all").forEach((all) => {
    const boxes = () => Array.from(all.form.querySelectorAll(`input[type=checkbox][name="${all.dataset.targets}"]`));
    all.addEventListener("change", () => { boxes().forEach((box) => { box.checked = all.checked; }); });
    all.form.addEventListener("change", (event) => {
      if (event.target !== all && boxes().includes(event.target)) all.checked = boxes().every((box) => box.checked);
    });
  });

  document.querySelectorAll(".js-print").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
})();
