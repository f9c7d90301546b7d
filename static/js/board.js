// The booking board (templates/board/_lane.html). A free run of a lane is one
// link that, without this script, books from the run's first free instant; that
// is also what keyboard users get (they tab through runs, not through every
// hour). With a pointer, the link books the hour under the pointer instead
// (from the run's start when that hour began before the run) and the hour is
// highlighted. A run's columns come from its grid classes: gs-N / ge-N start /
// end N - 1 quarter hours after the lane's midnight. No inline script (CSP).
(function () {
  "use strict";
  const board = document.querySelector(".board");
  if (!board) return;
  const QUARTER_MS = 15 * 60 * 1000;

  function columns(link) {
    const m = /\bgs-(\d+)\b.*\bge-(\d+)\b/.exec(link.className);
    return m ? [Number(m[1]) - 1, Number(m[2]) - 1] : null;
  }

  // "2026-11-21T14:00+08:00" plus n quarter hours, written in the same offset:
  // moving the wall clock of a fixed offset moves the instant by the same amount.
  function later(start, quarters) {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d)(?::\d\d)?(Z|[+-]\d\d:\d\d)$/.exec(start);
    if (!m) return null;
    const wall = Date.parse(m[1] + ":00Z") + quarters * QUARTER_MS;
    return Number.isNaN(wall) ? null : new Date(wall).toISOString().slice(0, 16) + m[2];
  }

  function freeRun(event) {
    return event.target.closest ? event.target.closest("a.free") : null;
  }

  function reset(link) {
    if (link.dataset.href) link.setAttribute("href", link.dataset.href);
    link.classList.remove("hour-picked");
  }

  function pick(link, clientX) {
    const cols = columns(link);
    const box = link.getBoundingClientRect();
    if (!cols || !box.width) return;
    const [from, to] = cols;
    if (!link.dataset.href) link.dataset.href = link.getAttribute("href");
    const url = new URL(link.dataset.href, window.location.href);
    const share = Math.min(Math.max((clientX - box.left) / box.width, 0), 0.999999);
    const under = from + Math.floor(share * (to - from));
    const hour = under - (under % 4);
    const first = Math.max(from, hour);
    const start = later(url.searchParams.get("start") || "", first - from);
    if (!start) return;
    url.searchParams.set("start", start);
    link.setAttribute("href", url.pathname + url.search);
    // CSSOM, not a style attribute: allowed by the CSP.
    link.style.setProperty("--hour-from", (100 * (first - from) / (to - from)) + "%");
    link.style.setProperty("--hour-to", (100 * (Math.min(to, hour + 4) - from) / (to - from)) + "%");
    link.classList.add("hour-picked");
  }

  function onPointer(event) {
    const link = freeRun(event);
    if (link) pick(link, event.clientX);
  }

  board.addEventListener("pointermove", onPointer);
  board.addEventListener("pointerdown", onPointer);
  board.addEventListener("pointerout", (event) => {
    const link = freeRun(event);
    if (link && !link.contains(event.relatedTarget)) reset(link);
  });
  board.addEventListener("click", (event) => {
    const link = freeRun(event);
    if (!link) return;
    if (event.detail > 0) pick(link, event.clientX); // a pointer's click
    else reset(link); // Enter on the focused run: its first free instant
  });

  // Density: compact (one line a block) or comfortable (two), remembered per browser.
  const KEY = "opsroom.board.density";
  const buttons = document.querySelectorAll(".density [data-density]");
  function setDensity(value) {
    const compact = value === "compact";
    board.classList.toggle("compact", compact);
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.density === (compact ? "compact" : "comfortable"))));
  }
  let saved = null;
  try { saved = window.localStorage.getItem(KEY); } catch (e) { saved = null; }
  setDensity(saved);
  buttons.forEach((b) => b.addEventListener("click", () => {
    setDensity(b.dataset.density);
    try { window.localStorage.setItem(KEY, b.dataset.density); } catch (e) { /* private mode: not remembered */ }
  }));

  // A focused block shows its full text (its title) below it, as hovering does.
  const tip = document.createElement("div");
  tip.className = "board-tip";
  tip.setAttribute("aria-hidden", "true"); // the same text is the link's description already
  tip.hidden = true;
  document.body.appendChild(tip);
  board.addEventListener("focusin", (event) => {
    const block = event.target.closest ? event.target.closest("a.booking") : null;
    if (!block || !block.title) { tip.hidden = true; return; }
    tip.textContent = block.title;
    const box = block.getBoundingClientRect();
    tip.style.left = (window.scrollX + box.left) + "px";
    tip.style.top = (window.scrollY + box.bottom + 4) + "px";
    tip.hidden = false;
  });
  board.addEventListener("focusout", () => { tip.hidden = true; });
})();
