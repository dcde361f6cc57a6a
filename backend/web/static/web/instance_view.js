/* An instance on its diagram (bpmn-js viewer): completed, current, overdue and failed elements. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("instance-config").textContent);
  var viewer = new window.BpmnJS({ container: "#viewer" });
  viewer.importXML(cfg.bpmn_xml).then(function () {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    canvas.zoom("fit-viewport");
    function mark(ids, marker) {
      ids.forEach(function (id) {
        if (registry.get(id)) {
          canvas.addMarker(id, marker);
          var gfx = registry.getGraphics(id);
          if (gfx) { gfx.setAttribute("data-state-" + marker.replace("state-", ""), "1"); }
        }
      });
    }
    registry.filter(function (e) { return e.type === "bpmn:StartEvent"; }).forEach(function (e) { mark([e.id], "state-done"); });
    mark(cfg.completed, "state-done");
    mark(cfg.current, "state-current");
    mark(cfg.overdue, "state-overdue");
    mark(cfg.failed, "state-failed");
    Object.keys(cfg.incidents).forEach(function (id) {
      if (!registry.get(id)) { return; }
      var badge = document.createElement("div");
      badge.className = "lint-badge lint-badge-error";
      badge.title = cfg.incidents[id];
      badge.textContent = "!";
      overlays.add(id, "incident", { position: { top: -10, right: 10 }, html: badge });
    });
    document.body.setAttribute("data-viewer-ready", "1");
  }).catch(function () { document.body.setAttribute("data-viewer-ready", "error"); });
})();
