// The hall's big screen: draws the snapshot, polls for a new one every few
// seconds, and keeps retrying (with a growing pause) while the server is away,
// so a restart needs nobody at the hall PC. No inline script: data comes from
// data-* attributes and from the JSON endpoint.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  const root = document.getElementById("screen");
  if (!root) return;
  const d = root.dataset;
  const endpoint = d.endpoint;
  const token = d.token;
  const poll = Math.max(1, Number(d.poll) || 5) * 1000;
  // Rows a page of "live now": as many as its panel holds (fitRows), at most MAX_ROWS.
  const MAX_ROWS = 12;
  let rowsPerPage = MAX_ROWS;
  const PAGE_EVERY = 10000;
  const field = (name) => root.querySelector('[data-field="' + name + '"]');
  let snapshot = null;
  let page = 0;
  let chart = null;
  let failures = 0;

  // "1234567.80" → "¥1,234,567.80" without going through a float.
  function yuan(text) {
    const [whole, cents] = String(text || "0.00").split(".");
    return "¥" + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + (cents || "00");
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function loadCell(row) {
    const td = el("td");
    if (row.live_load === null || row.live_load === undefined) {
      td.textContent = d.tUnlimited;
      return td;
    }
    const percent = Math.round(row.live_load * 100);
    const bar = el("span", "load-bar");
    bar.appendChild(el("span", "w" + Math.min(100, Math.round(percent / 5) * 5)));
    td.appendChild(bar);
    td.appendChild(document.createTextNode(percent + "%"));
    if (row.expected_load !== null && row.expected_load !== undefined && d.tExpected) {
      // The forecast beside the actual (docs/forecast.md): "expected 60%".
      const over = row.expected_load > 1;
      td.appendChild(el("span", "expected-load" + (over ? " over" : ""),
                        " " + d.tExpected.replace("{n}", Math.round(row.expected_load * 100))));
    }
    if (row.alert) {
      td.appendChild(el("span", "alert-mark", " ⚠"));
      td.appendChild(el("span", "vh", " " + d.tAlert));
      td.title = d.tAlert;
    }
    return td;
  }

  function drawLive(rows) {
    const body = field("live");
    body.replaceChildren();
    // Alerts first, then by room code.
    const sorted = rows.slice().sort((a, b) => (b.alert - a.alert) || a.room_code.localeCompare(b.room_code));
    const pages = Math.max(1, Math.ceil(sorted.length / rowsPerPage));
    if (page >= pages) page = 0;
    field("page").textContent = pages > 1 ? d.tPage.replace("{n}", page + 1).replace("{total}", pages) : "";
    if (!sorted.length) {
      const tr = el("tr");
      const td = el("td", "scr-empty", d.tNone);
      td.colSpan = 7;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    for (const row of sorted.slice(page * rowsPerPage, (page + 1) * rowsPerPage)) {
      const tr = el("tr", row.alert ? "alert" : "");
      tr.dataset.booking = row.booking_id;
      const th = el("th", "", row.room_code);
      th.scope = "row";
      const tenant = el("td", "", row.tenant_short || row.tenant);
      tenant.title = row.tenant;
      tr.append(th, tenant, el("td", "", row.anchors.join("、")),
        el("td", "num", row.elapsed_minutes + " " + d.tMin), el("td", "num", row.orders),
        el("td", "num", yuan(row.gmv)), loadCell(row));
      body.appendChild(tr);
    }
  }

  // How many live rows fit under the table's head in the panel (measured on a drawn row).
  function fitRows() {
    const body = field("live");
    const panel = body.closest("section");
    const first = body.querySelector("tr");
    if (!panel || !first || !snapshot || !snapshot.live.length) return false;
    const bottom = panel.getBoundingClientRect().bottom - parseFloat(getComputedStyle(panel).paddingBottom);
    const room = bottom - body.getBoundingClientRect().top;
    const fits = Math.max(1, Math.min(MAX_ROWS, Math.floor(room / first.getBoundingClientRect().height)));
    if (fits === rowsPerPage) return false;
    rowsPerPage = fits;
    return true;
  }

  function drawList(name, rows, label) {
    const body = field(name);
    body.replaceChildren();
    rows.forEach((row, i) => {
      const tr = el("tr");
      const rank = el("th", "rank", i + 1);
      rank.scope = "row";
      tr.append(rank, el("td", "", row[label]), el("td", "num amount", yuan(row.gmv)), el("td", "num count", row.orders));
      body.appendChild(tr);
    });
  }

  // A size in rem as the chart's pixels (the root font follows the viewport).
  function fontPx(rem) {
    return Math.round(rem * parseFloat(getComputedStyle(document.documentElement).fontSize));
  }

  function drawChart(rooms) {
    const box = field("room-chart");
    if (!window.echarts || !box) return;
    if (!chart) chart = window.echarts.init(box, "dark", { renderer: "canvas" });
    const top = rooms.slice().reverse();
    chart.setOption({
      backgroundColor: "transparent",
      grid: { left: "2%", right: "26%", top: 4, bottom: 4, containLabel: true },
      tooltip: { renderMode: "richText", trigger: "axis" },
      xAxis: { type: "value", show: false },
      yAxis: { type: "category", data: top.map((r) => r.room_code), axisLabel: { fontSize: fontPx(0.8), color: "#eef2ff" } },
      series: [{
        type: "bar", name: d.tGmv, data: top.map((r) => Number(r.gmv)), barMaxWidth: fontPx(1),
        itemStyle: { color: "#ffd166", borderRadius: [0, 6, 6, 0] },
        label: { show: true, position: "right", fontSize: fontPx(0.75), color: "#eef2ff",
                 formatter: (p) => yuan(top[p.dataIndex].gmv) },
      }],
      animationDuration: 400,
    }, true);
  }

  function draw(data) {
    snapshot = data;
    const totals = data.totals;
    root.querySelector('[data-total="gmv"]').textContent = yuan(totals.gmv);
    root.querySelector('[data-total="orders"]').textContent = totals.orders;
    root.querySelector('[data-total="live_rooms"]').textContent = totals.live_rooms;
    root.querySelector('[data-total="alerts"]').textContent = totals.alerts;
    field("day").textContent = data.day;
    field("clock").textContent = String(data.at).slice(11, 16);
    drawLive(data.live);
    if (fitRows()) drawLive(data.live);
    drawList("rooms", data.rankings.rooms, "room_code");
    drawList("anchors", data.rankings.anchors, "name");
    drawChart(data.rankings.rooms);
  }

  function schedule(ms) {
    window.setTimeout(refresh, ms);
  }

  function refresh() {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    fetch(endpoint, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then((response) => {
        if (response.status === 401 || response.status === 403) {
          field("status").textContent = d.tRevoked;
          schedule(60000);
          return null;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then((data) => {
        if (!data) return;
        failures = 0;
        field("status").textContent = "";
        draw(data);
        schedule(poll);
      })
      .catch(() => {
        // Server restarting or network gone: say so, keep the last figures, retry.
        failures += 1;
        field("status").textContent = d.tOffline;
        schedule(Math.min(poll * failures, 30000));
      });
  }

  try {
    draw(JSON.parse(d.initial));
  } catch (e) {
    // No usable first snapshot: the first poll draws the screen.
  }
  window.setInterval(() => {
    if (snapshot && snapshot.live.length > rowsPerPage) {
      page += 1;
      drawLive(snapshot.live);
    }
  }, PAGE_EVERY);
  window.addEventListener("resize", () => {
    if (!snapshot) return;
    rowsPerPage = MAX_ROWS;
    drawLive(snapshot.live);
    fitRows();
    drawLive(snapshot.live);
    if (chart) { chart.resize(); drawChart(snapshot.rankings.rooms); }
  });
  schedule(poll);
})();
