// The reports page's charts (ECharts, vendored). Data comes from the
// data-charts attribute; tooltips use richText (the HTML tooltip needs inline styles, refused by the CSP).
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  function bars(box, keys, series, horizontal) {
    const chart = window.echarts.init(box, null, { renderer: "canvas" });
    const cat = { type: "category", data: keys, axisLabel: { interval: "auto" } };
    const val = { type: "value" };
    chart.setOption({
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: series.length > 1 ? { bottom: 0 } : undefined,
      grid: { left: horizontal ? 70 : 40, right: 16, top: 16, bottom: series.length > 1 ? 48 : 32 },
      xAxis: horizontal ? val : cat,
      yAxis: horizontal ? Object.assign({}, cat, { inverse: true }) : val,
      dataZoom: horizontal && keys.length > 15 ? [{ type: "slider", yAxisIndex: 0, right: 0, start: 0, end: 100 * 15 / keys.length }] : undefined,
      series: series,
    });
    return chart;
  }

  ready(function () {
    const root = document.getElementById("report-charts");
    if (!root || !window.echarts) return;
    const data = JSON.parse(root.dataset.charts);
    const charts = [];

    const heat = data.heatmap;
    const values = heat.cells.map(function (c) { return c[2]; }).filter(function (v) { return v !== null; });
    const heatChart = window.echarts.init(document.getElementById("heatmap"), null, { renderer: "canvas" });
    heatChart.setOption({
      tooltip: { renderMode: "richText", formatter: function (p) {
        return heat.weekdays[p.value[1]] + " " + heat.hours[p.value[0]] + ":00  " + (p.value[2] === null ? "—" : p.value[2] + "%");
      } },
      grid: { left: 44, right: 12, top: 8, bottom: 64 },
      xAxis: { type: "category", data: heat.hours, splitArea: { show: true } },
      yAxis: { type: "category", data: heat.weekdays, splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(100, values.length ? Math.max.apply(null, values) : 100), calculable: true,
                   orient: "horizontal", left: "center", bottom: 0, text: [heat.label, ""] },
      series: [{ name: heat.label, type: "heatmap", data: heat.cells }],
    });
    charts.push(heatChart);

    charts.push(bars(document.getElementById("rooms-chart"), data.rooms.keys,
      [{ name: data.rooms.label, type: "bar", data: data.rooms.values }], true));
    const weeks = window.echarts.init(document.getElementById("weeks-chart"), null, { renderer: "canvas" });
    weeks.setOption({
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { bottom: 0 },
      grid: { left: 40, right: 16, top: 16, bottom: 48 },
      xAxis: { type: "category", data: data.weeks.keys },
      yAxis: { type: "value" },
      series: [{ name: data.weeks.label, type: "line", data: data.weeks.values },
               { name: data.weeks.prime_label, type: "line", data: data.weeks.prime }],
    });
    charts.push(weeks);
    charts.push(bars(document.getElementById("turned-chart"), data.turned.keys,
      [{ name: data.turned.label, type: "bar", data: data.turned.values }], false));

    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  });
})();
