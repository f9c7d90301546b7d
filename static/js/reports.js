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

  // A chart with nothing to draw says why instead of drawing empty axes.
  function empty(box, why) {
    box.classList.add("chart-empty");
    box.removeAttribute("role");
    box.textContent = why;
    return null;
  }

  ready(function () {
    const root = document.getElementById("report-charts");
    if (!root || !window.echarts) return;
    const data = JSON.parse(root.dataset.charts);
    const t = root.dataset;
    const charts = [];

    // Cells: [hour, weekday, utilization %, few rooms open (1/0), open share %]. Cells where few rooms
    // were open are a grey series of their own, outside the colour scale, so the night's two
    // 24-hour rooms do not paint the darkest hours of the week.
    const heat = data.heatmap;
    const heatBox = document.getElementById("heatmap");
    const values = heat.cells.filter(function (c) { return c[2] !== null && !c[3]; }).map(function (c) { return c[2]; });
    if (!heat.cells.some(function (c) { return c[2] !== null; })) {
      empty(heatBox, t.tEmptyUtil);
    } else {
      const heatChart = window.echarts.init(heatBox, null, { renderer: "canvas" });
      heatChart.setOption({
        tooltip: { renderMode: "richText", formatter: function (p) {
          const c = p.data;
          return heat.weekdays[c[1]] + " " + heat.hours[c[0]] + ":00  " + (c[2] === null ? "—" : c[2] + "%")
            + (c[3] ? "  (" + t.tFewOpen + ": " + c[4] + "% " + t.tRoomsOpen + ")" : "");
        } },
        // The colour scale sits above the grid, right-aligned: clear of both axes' labels.
        grid: { left: 44, right: 12, top: 44, bottom: 28 },
        xAxis: { type: "category", data: heat.hours, splitArea: { show: true } },
        yAxis: { type: "category", data: heat.weekdays, splitArea: { show: true } },
        visualMap: { min: 0, max: Math.max(100, values.length ? Math.max.apply(null, values) : 100), calculable: false,
                     seriesIndex: 0, orient: "horizontal", right: 12, top: 0, itemWidth: 12, itemHeight: 110,
                     text: ["100%", "0%"], textGap: 6 },
        series: [
          { name: heat.label, type: "heatmap", data: heat.cells.filter(function (c) { return !c[3]; }) },
          { name: t.tFewOpen, type: "heatmap", data: heat.cells.filter(function (c) { return c[3]; }),
            itemStyle: { color: "#d0d5dd", borderColor: "#98a2b3", borderWidth: 1 } },
        ],
      });
      charts.push(heatChart);
    }

    const roomsBox = document.getElementById("rooms-chart");
    if (!data.rooms.values.some(function (v) { return v !== null; })) empty(roomsBox, t.tEmptyUtil);
    else charts.push(bars(roomsBox, data.rooms.keys, [{ name: data.rooms.label, type: "bar", data: data.rooms.values }], true));
    const weeksBox = document.getElementById("weeks-chart");
    const weeks = data.weeks.values.some(function (v) { return v !== null; })
      ? window.echarts.init(weeksBox, null, { renderer: "canvas" }) : empty(weeksBox, t.tEmptyUtil);
    if (weeks) weeks.setOption({
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { bottom: 0 },
      grid: { left: 40, right: 16, top: 16, bottom: 48 },
      xAxis: { type: "category", data: data.weeks.keys },
      yAxis: { type: "value" },
      series: [{ name: data.weeks.label, type: "line", data: data.weeks.values },
               { name: data.weeks.prime_label, type: "line", data: data.weeks.prime }],
    });
    if (weeks) charts.push(weeks);
    const turnedBox = document.getElementById("turned-chart");
    if (!data.turned.values.some(function (v) { return v > 0; })) empty(turnedBox, t.tEmptyTurned);
    else charts.push(bars(turnedBox, data.turned.keys, [{ name: data.turned.label, type: "bar", data: data.turned.values }], false));

    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  });
})();
