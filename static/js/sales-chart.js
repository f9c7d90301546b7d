// Orders per 5 minutes across a session against the room's capacity line
// (ECharts). Data comes from the chart box's data-* attributes.
(function () {
  "use strict";
  function draw(box) {
    if (!window.echarts) return;
    const steps = JSON.parse(box.dataset.steps || "[]");
    const orders = JSON.parse(box.dataset.orders || "[]");
    const capacity = Number(box.dataset.capacity || 0);
    const sessionSteps = Number(box.dataset.sessionSteps || steps.length);
    const chart = window.echarts.init(box);
    const labels = steps;
    const series = [{
      name: box.dataset.tOrders, type: "bar", data: orders, barMaxWidth: 18,
      itemStyle: { color: "#c8102e" },
    }];
    if (capacity > 0) {
      // The capacity applies inside the session, not in the grace after its end.
      series.push({
        name: box.dataset.tCapacity, type: "line", step: "end", symbol: "none",
        data: labels.map((_, i) => (i < sessionSteps ? capacity : null)),
        lineStyle: { type: "dashed", color: "#175cd3", width: 2 },
      });
    }
    chart.setOption({
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 32, bottom: 28 },
      xAxis: { type: "category", data: labels },
      yAxis: { type: "value", minInterval: 1 },
      series: series,
    });
    window.addEventListener("resize", () => chart.resize());
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".sales-chart").forEach(draw);
  });
})();
