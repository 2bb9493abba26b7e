// The control room's usage charts: stacked bars per day, one series per model or team,
// drawn by the vendored Chart.js from the JSON the page carries (#usage-charts-data,
// apps.operations.selectors.usage_dashboard).
(function () {
  "use strict";
  var source = document.getElementById("usage-charts-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var palette = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#94a3b8"];
  var style = getComputedStyle(document.documentElement);
  var ink = style.getPropertyValue("--body-fg").trim() || "#333";
  var grid = style.getPropertyValue("--hairline-color").trim() || "#e5e7eb";
  Chart.defaults.color = ink;
  Chart.defaults.borderColor = grid;
  Chart.defaults.animation = false;

  function money(value) {
    return "$" + Number(value).toLocaleString(undefined, { maximumFractionDigits: 4 });
  }

  document.querySelectorAll("canvas[data-usage-chart]").forEach(function (canvas) {
    var by = canvas.dataset.by;
    var measure = canvas.dataset.measure;
    var chart = data[by];
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.days.map(function (day) { return day.slice(5); }),
        datasets: chart.series.map(function (series, n) {
          return {
            label: series.label,
            data: series[measure],
            backgroundColor: series.label === "other" ? "#94a3b8" : palette[n % palette.length],
            stack: "all",
          };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
              label: function (item) {
                var value = measure === "cost" ? money(item.raw) : Number(item.raw).toLocaleString();
                return item.dataset.label + ": " + value;
              },
            },
          },
        },
        scales: {
          x: { stacked: true, ticks: { maxRotation: 0, autoSkipPadding: 8 } },
          y: {
            stacked: true,
            beginAtZero: true,
            ticks: {
              callback: function (value) {
                return measure === "cost" ? money(value) : Number(value).toLocaleString();
              },
            },
          },
        },
      },
    });
  });
})();
