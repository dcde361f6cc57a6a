// 客服信息分析报告 charts (ECharts, vendored): contacts by channel, hotline calls by category.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("service-chart-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var charts = [];
    function pie(id, title, values) {
      var el = document.getElementById(id);
      if (!el) return;
      var chart = window.echarts.init(el);
      chart.setOption({
        animation: false,
        title: { text: title, subtext: values.length ? "" : "本月暂无数据", left: "center", textStyle: { fontSize: 14 } },
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["35%", "65%"], data: values }],
      });
      charts.push(chart);
    }
    pie("service-contacts", "联系记录（按渠道）", data.contacts);
    pie("service-hotline", "热线咨询热点", data.hotline);
    document.body.setAttribute("data-charts-ready", "1");
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
