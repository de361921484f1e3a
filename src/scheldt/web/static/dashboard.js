// The dashboard's charts, drawn by Chart.js (served by this server) from the figures embedded
// in the page; the tables beside them carry the same numbers.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || !window.Chart) { return; }
  var f = JSON.parse(source.textContent);
  var ink = "#1d2b3a", red = "#b4233b", blue = "#1f5fa8", amber = "#c98a12", green = "#2d7d46", grey = "#8a96a3";
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = ink;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  function short(text) { text = String(text); return text.length > 32 ? text.slice(0, 31) + "…" : text; }

  function bars(id, pairs, color, horizontal) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    new Chart(canvas, {
      type: "bar",
      data: { labels: pairs.map(function (p) { return short(p[0]); }),
              datasets: [{ data: pairs.map(function (p) { return p[1]; }), backgroundColor: color }] },
      options: { indexAxis: horizontal ? "y" : "x", plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  bars("chart-weeks", f.seizures_by_week, red, false);
  bars("chart-ports", f.seizures_by_port_of_loading.slice(0, 12), blue, true);
  bars("chart-commodities", f.seizures_by_commodity.slice(0, 12), amber, true);

  var kinds = ["risk", "exploration", "manual"];
  new Chart(document.getElementById("chart-hits"), {
    type: "bar",
    data: { labels: kinds,
            datasets: [{ label: "hit rate %", backgroundColor: [red, blue, grey],
                         data: kinds.map(function (k) { var h = f.hit_rate[k]; return h && h.rate !== null ? 100 * h.rate : 0; }) }] },
    options: { plugins: { legend: { display: false },
                          tooltip: { callbacks: { label: function (c) {
                            var h = f.hit_rate[kinds[c.dataIndex]];
                            return h ? h.found + " of " + h.inspected + " (" + c.parsed.y.toFixed(0) + " %)" : "none inspected"; } } } },
               scales: { y: { beginAtZero: true, max: 100, title: { display: true, text: "%" } } } }
  });

  new Chart(document.getElementById("chart-drift"), {
    data: { labels: f.drift.map(function (d) { return d.day; }),
            datasets: [
              { type: "bar", label: "high", data: f.drift.map(function (d) { return d.high; }), backgroundColor: red, stack: "b", yAxisID: "trips", order: 1 },
              { type: "bar", label: "medium", data: f.drift.map(function (d) { return d.medium; }), backgroundColor: amber, stack: "b", yAxisID: "trips", order: 1 },
              { type: "bar", label: "low", data: f.drift.map(function (d) { return d.low; }), backgroundColor: green, stack: "b", yAxisID: "trips", order: 1 },
              { type: "line", label: "mean score", data: f.drift.map(function (d) { return d.mean_score; }), borderColor: ink, backgroundColor: ink, yAxisID: "score", order: 0 }
            ] },
    options: { scales: { trips: { position: "left", stacked: true, beginAtZero: true, title: { display: true, text: "trips" } },
                         score: { position: "right", beginAtZero: true, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "mean score" } },
                         x: { stacked: true } } }
  });
  document.body.dataset.charts = "ready";
})();
