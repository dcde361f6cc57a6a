// 时限报表 charts (ECharts, vendored from npm by scripts/build_static.sh): the on-time /
// breached trend per period and the breakdown by the report's groups.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("sla-chart-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var trend = window.echarts.init(document.getElementById("sla-trend"));
    trend.setOption({
      title: { text: "按时 / 超时趋势", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, data: ["按时完成", "超时", "按时率"] },
      xAxis: { type: "category", data: data.trend.periods },
      yAxis: [{ type: "value" }, { type: "value", min: 0, max: 1, axisLabel: { formatter: function (v) { return Math.round(v * 100) + "%"; } } }],
      series: [
        { name: "按时完成", type: "bar", stack: "n", data: data.trend.on_time, itemStyle: { color: "#3a8f5c" } },
        { name: "超时", type: "bar", stack: "n", data: data.trend.breached, itemStyle: { color: "#c0392b" } },
        { name: "按时率", type: "line", yAxisIndex: 1, data: data.trend.rate },
      ],
    });
    var breakdown = window.echarts.init(document.getElementById("sla-breakdown"));
    breakdown.setOption({
      title: { text: "分组对比", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0, data: ["按时完成", "超时"] },
      grid: { left: 160 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: data.breakdown.labels, inverse: true },
      series: [
        { name: "按时完成", type: "bar", stack: "n", data: data.breakdown.on_time, itemStyle: { color: "#3a8f5c" } },
        { name: "超时", type: "bar", stack: "n", data: data.breakdown.breached, itemStyle: { color: "#c0392b" } },
      ],
    });
    window.addEventListener("resize", function () { trend.resize(); breakdown.resize(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
