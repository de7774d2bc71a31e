// learnsociety dashboard: sortable figure tables and the charts.
// Every page works without this file: column headings are links that sort on the server, and
// every chart repeats a table on the page. The chart figures come from the
// <script type="application/json" id="dashboard-data"> element the page writes with json_script
// (data, not code: a strict Content-Security-Policy allows it without 'unsafe-inline').
"use strict";

(function () {
  var STATUS_COLOURS = {
    below: "#a61b1b",
    on_track: "#1e6b34",
    above: "#0b5394",
    no_target: "#8a929c",
  };
  var LINE_COLOURS = ["#0b5394", "#b45f06", "#1e6b34", "#741b47", "#5b6472"];

  function language() {
    return document.documentElement.lang || "vi";
  }

  // --- sortable tables ------------------------------------------------------------------------

  function cellValue(row, index, type) {
    var cell = row.cells[index];
    var raw = cell ? cell.getAttribute("data-sort") : null;
    if (raw === null) {
      raw = cell ? cell.textContent.trim() : "";
    }
    if (type === "number") {
      return raw === "" ? null : parseFloat(raw);
    }
    return raw;
  }

  function sortTable(table, heading, descending) {
    var index = heading.cellIndex;
    var type = heading.getAttribute("data-sort-type");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var collator = new Intl.Collator(language(), { sensitivity: "base", numeric: true });
    var order = rows.map(function (row, position) {
      return { row: row, value: cellValue(row, index, type), position: position };
    });
    order.sort(function (a, b) {
      // Rows without a value (no rate, no target) stay last in both directions.
      if (a.value === null || b.value === null) {
        if (a.value === b.value) {
          return a.position - b.position;
        }
        return a.value === null ? 1 : -1;
      }
      var result = type === "number" ? a.value - b.value : collator.compare(a.value, b.value);
      if (descending) {
        result = -result;
      }
      return result || a.position - b.position;
    });
    order.forEach(function (item) {
      body.appendChild(item.row);
    });
    var headings = table.querySelectorAll("th[data-sort-key]");
    for (var i = 0; i < headings.length; i++) {
      headings[i].removeAttribute("aria-sort");
    }
    heading.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  function setUpTable(table) {
    table.addEventListener("click", function (event) {
      var link = event.target.closest("thead th[data-sort-key] a");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
        return;
      }
      event.preventDefault();
      var heading = link.parentNode;
      sortTable(table, heading, heading.getAttribute("aria-sort") === "ascending");
    });
  }

  // --- charts ---------------------------------------------------------------------------------

  function percentFormatter(pattern) {
    var number = new Intl.NumberFormat(language(), { maximumFractionDigits: 1 });
    return function (value) {
      return pattern.replace("{value}", number.format(value));
    };
  }

  // Draws the target band behind the bars: a shaded box between min and max with its edges.
  var targetBand = {
    id: "targetBand",
    beforeDatasetsDraw: function (chart, args, options) {
      if (!options || options.min === null || options.min === undefined) {
        return;
      }
      var scale = chart.scales.x;
      var area = chart.chartArea;
      var left = scale.getPixelForValue(options.min);
      var right = scale.getPixelForValue(options.max);
      var context = chart.ctx;
      context.save();
      context.fillStyle = "rgba(30, 107, 52, 0.12)";
      context.fillRect(left, area.top, right - left, area.bottom - area.top);
      context.strokeStyle = "rgba(30, 107, 52, 0.8)";
      context.lineWidth = 1;
      context.setLineDash([4, 3]);
      [left, right].forEach(function (x) {
        context.beginPath();
        context.moveTo(x, area.top);
        context.lineTo(x, area.bottom);
        context.stroke();
      });
      context.restore();
    },
  };

  function wardChart(canvas, data, format) {
    var wards = data.wards;
    // One bar per ward, about 22 pixels each: 126 wards make a tall chart that scrolls with
    // the page rather than bars too thin to read.
    canvas.parentNode.style.height = Math.max(160, wards.labels.length * 22 + 60) + "px";
    var band = wards.band || {};
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: wards.labels,
        datasets: [
          {
            label: wards.rateLabel,
            data: wards.rates,
            backgroundColor: wards.statuses.map(function (status) {
              return STATUS_COLOURS[status] || STATUS_COLOURS.no_target;
            }),
          },
        ],
      },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        animation: false,
        locale: language(),
        scales: {
          x: { min: 0, max: 100, ticks: { callback: format } },
          y: { ticks: { autoSkip: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                return wards.rateLabel + ": " + format(item.parsed.x);
              },
            },
          },
          targetBand: { min: band.min, max: band.max },
        },
      },
      plugins: [targetBand],
    });
  }

  function trendChart(canvas, data, format) {
    // The year in progress: its point hollow and the line to it dashed (its figures still grow).
    var current = data.trend.inProgress;
    function isCurrent(index) {
      return current !== null && current !== undefined && index === current;
    }
    return new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.trend.years,
        datasets: data.trend.series.map(function (series, i) {
          var colour = LINE_COLOURS[i % LINE_COLOURS.length];
          return {
            label: series.label,
            data: series.rates,
            borderColor: colour,
            backgroundColor: colour,
            spanGaps: true,
            pointBackgroundColor: series.rates.map(function (rate, index) {
              return isCurrent(index) ? "#fff" : colour;
            }),
            pointRadius: series.rates.map(function (rate, index) {
              return isCurrent(index) ? 5 : 3;
            }),
            segment: {
              borderDash: function (context) {
                return isCurrent(context.p1DataIndex) ? [6, 4] : undefined;
              },
            },
          };
        }),
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        locale: language(),
        scales: { y: { min: 0, max: 100, ticks: { callback: format } } },
        plugins: {
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + format(item.parsed.y);
              },
            },
          },
        },
      },
    });
  }

  function drawCharts() {
    var element = document.getElementById("dashboard-data");
    if (!element || typeof window.Chart !== "function") {
      return;
    }
    var data = JSON.parse(element.textContent);
    var format = percentFormatter(data.percent || "{value}%");
    var bars = document.getElementById("ward-chart");
    if (bars && data.wards.labels.length) {
      wardChart(bars, data, format);
    }
    var lines = document.getElementById("trend-chart");
    if (lines && data.trend.years.length) {
      trendChart(lines, data, format);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var tables = document.querySelectorAll("table[data-sortable]");
    for (var i = 0; i < tables.length; i++) {
      setUpTable(tables[i]);
    }
    drawCharts();
  });
})();
