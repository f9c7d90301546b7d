// The managers' forecast page (templates/forecast/index.html): one ECharts bar
// chart of actual against forecast orders per hour per tenant, from the
// data-chart attribute. richText tooltips (HTML ones need inline styles, refused by the CSP).
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  ready(function () {
    const root = document.getElementById("forecast-charts");
    const box = document.getElementById("forecast-tenants-chart");
    if (!root || !box || !window.echarts) return;
    const data = JSON.parse(root.dataset.chart);
    const chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption({
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { bottom: 0 },
      grid: { left: 90, right: 16, top: 16, bottom: 48 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: data.tenants, inverse: true },
      series: [
        { name: box.dataset.actualLabel, type: "bar", data: data.actual },
        { name: box.dataset.forecastLabel, type: "bar", data: data.forecast },
      ],
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
}());
