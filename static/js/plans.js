// The plan page: while the run is running, poll its status every second, move
// the bar and the figures; when it ends, reload the page to show the draft.
(function () {
  const box = document.querySelector(".plan-progress");
  if (!box || box.dataset.status !== "running") return;
  const bar = document.getElementById("plan-bar");
  const figures = document.getElementById("plan-figures");
  const tick = () => {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((s) => {
        if (!s) return;
        if (s.status !== "running") { window.location.reload(); return; }
        bar.max = s.bound || 1;
        bar.value = s.objective || 0;
        figures.dataset.placed = s.placed;
        figures.textContent = figures.textContent.replace(/\d+/, String(s.placed));
      })
      .catch(() => {})
      .finally(() => setTimeout(tick, 1000));
  };
  setTimeout(tick, 1000);
})();
