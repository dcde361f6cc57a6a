/* Chinese interface for bpmn-js: palette, context pad, replace menu, search and errors.
   Used as an additional module: { translate: ['value', window.custflowBpmnTranslate] }. */
(function () {
  "use strict";
  var zh = {
    "Activate create/remove space tool": "插入/删除空间工具",
    "Activate global connect tool": "全局连线工具",
    "Activate hand tool": "抓手工具",
    "Activate lasso tool": "套索工具",
    "Add lane above": "在上方添加泳道",
    "Add lane below": "在下方添加泳道",
    "Add text annotation": "添加文本注释",
    "Append compensation activity": "追加补偿活动",
    "Append conditional intermediate catch event": "追加条件中间捕获事件",
    "Append end event": "追加结束事件",
    "Append gateway": "追加网关",
    "Append intermediate/boundary event": "追加中间/边界事件",
    "Append message intermediate catch event": "追加消息中间捕获事件",
    "Append receive task": "追加接收任务",
    "Append signal intermediate catch event": "追加信号中间捕获事件",
    "Append task": "追加任务",
    "Append timer intermediate catch event": "追加定时中间捕获事件",
    "Change element": "更改类型",
    "Change type": "更改类型",
    "Connect to other element": "连接到其他元素",
    "Connect using association": "用关联连接",
    "Connect using data input association": "用数据输入关联连接",
    "Create data object reference": "创建数据对象引用",
    "Create data store reference": "创建数据存储引用",
    "Create end event": "创建结束事件",
    "Create expanded sub-process": "创建展开的子流程",
    "Create gateway": "创建网关",
    "Create group": "创建分组",
    "Create intermediate/boundary event": "创建中间/边界事件",
    "Create pool/participant": "创建池/参与者",
    "Create start event": "创建开始事件",
    "Create task": "创建任务",
    "Delete": "删除",
    "Divide into three lanes": "分成三条泳道",
    "Divide into two lanes": "分成两条泳道",
    "Search in diagram": "在图中搜索",
    "Business rule task": "业务规则任务",
    "Call activity": "调用活动",
    "Conditional flow": "条件流",
    "Default flow": "默认流",
    "End event": "结束事件",
    "Event-based gateway": "事件网关",
    "Exclusive gateway": "排他网关",
    "Inclusive gateway": "包容网关",
    "Parallel gateway": "并行网关",
    "Complex gateway": "复杂网关",
    "Intermediate throw event": "中间抛出事件",
    "Manual task": "手工任务",
    "Receive task": "接收任务",
    "Script task": "脚本任务",
    "Send task": "发送任务",
    "Sequence flow": "顺序流",
    "Service task": "服务任务",
    "Start event": "开始事件",
    "Sub-process": "子流程",
    "Sub-process (collapsed)": "子流程(折叠)",
    "Sub-process (expanded)": "子流程(展开)",
    "Event sub-process": "事件子流程",
    "Task": "任务",
    "Terminate end event": "终止结束事件",
    "Timer boundary event": "定时边界事件",
    "Timer boundary event (non-interrupting)": "定时边界事件(非中断)",
    "Timer intermediate catch event": "定时中间捕获事件",
    "Timer start event": "定时开始事件",
    "Message boundary event": "消息边界事件",
    "Message start event": "消息开始事件",
    "Message end event": "消息结束事件",
    "Message intermediate catch event": "消息中间捕获事件",
    "Message intermediate throw event": "消息中间抛出事件",
    "Error boundary event": "错误边界事件",
    "Error end event": "错误结束事件",
    "Signal boundary event": "信号边界事件",
    "Signal end event": "信号结束事件",
    "User task": "用户任务",
    "Transaction": "事务",
    "Data object reference": "数据对象引用",
    "Data store reference": "数据存储引用",
    "Expanded pool/participant": "展开的池/参与者",
    "no parent for {element} in {parent}": "{parent} 中没有 {element} 的父元素",
    "no shape type specified": "未指定图形类型",
    "out of bounds release": "超出范围",
    "element required": "需要元素",
    "unparsable content <{tag}> detected; this may indicate an invalid BPMN 2.0 diagram file": "检测到无法解析的内容 <{tag}>,BPMN 2.0 文件可能无效",
    "unrecognized element <{element}>": "无法识别的元素 <{element}>"
  };
  window.custflowBpmnTranslate = function (template, replacements) {
    replacements = replacements || {};
    template = zh[template] || template;
    return template.replace(/{([^}]+)}/g, function (_, key) {
      return replacements[key] !== undefined ? replacements[key] : "{" + key + "}";
    });
  };
  /* Our extension elements (spiffworkflow:*): without a descriptor bpmn-js would keep them
     as opaque elements the panel cannot edit. */
  window.custflowSpiffModdle = {
    name: "SpiffWorkflow",
    uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
    prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [
      { name: "Properties", superClass: ["Element"], properties: [{ name: "properties", type: "Property", isMany: true }] },
      { name: "Property", superClass: ["Element"], properties: [
        { name: "name", isAttr: true, type: "String" }, { name: "value", isAttr: true, type: "String" }] },
      { name: "ServiceTaskOperator", superClass: ["Element"], properties: [
        { name: "id", isAttr: true, type: "String" }, { name: "resultVariable", isAttr: true, type: "String" },
        { name: "parameters", type: "Parameters" }] },
      { name: "Parameters", superClass: ["Element"], properties: [{ name: "parameters", type: "Parameter", isMany: true }] },
      { name: "Parameter", superClass: ["Element"], properties: [
        { name: "id", isAttr: true, type: "String" }, { name: "type", isAttr: true, type: "String" },
        { name: "value", isAttr: true, type: "String" }] },
      { name: "PreScript", superClass: ["Element"], properties: [{ name: "value", isBody: true, type: "String" }] },
      { name: "PostScript", superClass: ["Element"], properties: [{ name: "value", isBody: true, type: "String" }] }
    ]
  };
})();
