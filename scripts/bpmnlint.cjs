#!/usr/bin/env node
// bpmnlint's recommended rules on one diagram: BPMN XML on stdin, JSON on stdout:
// [{"id": "<element id>", "message": "...", "rule": "...", "category": "error|warn"}].
// Called by processes/bpmnlint.py when a process owner saves a draft.
"use strict";
const path = require("path");
const root = path.dirname(require.resolve("bpmnlint/package.json"));
const BpmnModdle = require(require.resolve("bpmn-moddle", { paths: [root] }));
const { Linter } = require("bpmnlint");
const NodeResolver = require("bpmnlint/lib/resolver/node-resolver");

let xml = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { xml += chunk; });
process.stdin.on("end", async () => {
  try {
    const { rootElement } = await new BpmnModdle().fromXML(xml);
    const linter = new Linter({ config: { extends: "bpmnlint:recommended" }, resolver: new NodeResolver() });
    const reports = await linter.lint(rootElement);
    const out = [];
    for (const [rule, items] of Object.entries(reports)) {
      for (const item of items) {
        out.push({ id: item.id || "", message: item.message, rule, category: item.category || "error" });
      }
    }
    process.stdout.write(JSON.stringify(out));
  } catch (err) {
    process.stdout.write(JSON.stringify([{ id: "", message: String(err && err.message || err), rule: "bpmnlint", category: "error" }]));
  }
});
