// 客户投诉分析表 charts (ECharts, vendored from npm by scripts/build_static.sh): complaints by
// category and channel, closed on time / late / open per responsible org unit, root causes.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("complaint-chart-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var charts = [];
    function pie(id, title, values) {
      var chart = window.echarts.init(document.getElementById(id));
      chart.setOption({
        title: { text: title, left: "center", textStyle: { fontSize: 14 } },
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["35%", "65%"], data: values }],
      });
      charts.push(chart);
    }
    pie("complaint-category", "投诉类别", data.category);
    pie("complaint-channel", "投诉渠道", data.channel);
    var org = window.echarts.init(document.getElementById("complaint-org"));
    org.setOption({
      title: { text: "责任机构办结情况", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0, data: ["按时办结", "超时办结", "未办结"] },
      grid: { left: 140 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: data.org_unit.labels, inverse: true },
      series: [
        { name: "按时办结", type: "bar", stack: "n", data: data.org_unit.on_time, itemStyle: { color: "#3a8f5c" } },
        { name: "超时办结", type: "bar", stack: "n", data: data.org_unit.late, itemStyle: { color: "#c0392b" } },
        { name: "未办结", type: "bar", stack: "n", data: data.org_unit.open, itemStyle: { color: "#999" } },
      ],
    });
    charts.push(org);
    var cause = window.echarts.init(document.getElementById("complaint-cause"));
    cause.setOption({
      title: { text: "根本原因与整改", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, data: ["投诉量", "整改中"] },
      xAxis: { type: "category", data: data.root_cause.labels },
      yAxis: { type: "value" },
      series: [
        { name: "投诉量", type: "bar", data: data.root_cause.total },
        { name: "整改中", type: "bar", data: data.root_cause.actions_open, itemStyle: { color: "#e67e22" } },
      ],
    });
    charts.push(cause);
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
