/* The process owners' modeler: bpmn-js + our properties panel for the custflow extensions
   (lane → role, user task form and deadline, service operation, timer expression), save with
   server validation shown as overlays and as a list, publish request / approval. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("modeler-config").textContent);
  var L = cfg.labels;
  var SPIFF = "spiffworkflow:";
  var modeler = new window.BpmnJS({
    container: "#canvas",
    keyboard: { bindTo: document },
    // Token simulation (play a path before publishing), when its bundle is there.
    additionalModules: [{ translate: ["value", window.custflowBpmnTranslate] }].concat(
      window.custflowTokenSimulation ? [window.custflowTokenSimulation] : []),
    moddleExtensions: { spiffworkflow: window.custflowSpiffModdle }
  });
  var moddle = modeler.get("moddle");
  var modeling = modeler.get("modeling");
  var registry = modeler.get("elementRegistry");
  var overlays = modeler.get("overlays");
  var canvas = modeler.get("canvas");
  var panel = document.getElementById("props");
  var status = document.getElementById("modeler-status");
  var directEditing = modeler.get("directEditing");
  var rowVersion = cfg.draft.row_version;
  var dirty = false;
  var edits = 0; // commands executed so far (an edit made while a save is on its way stays unsaved)
  var leaving = false; // the owner confirmed leaving: no second warning from beforeunload

  // Every edit is committed before it is saved or the page is left: a label still being typed
  // on the canvas (direct editing) and a panel field that still has the focus (its change event
  // fires on blur).
  function commitEdits() {
    if (directEditing.isActive()) { directEditing.complete(); }
    var focused = document.activeElement;
    if (focused && panel.contains(focused) && focused.blur) { focused.blur(); }
  }
  function unsaved() { return dirty || directEditing.isActive(); }

  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : cfg.csrf;
  }
  function api(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      // A non-JSON answer (a proxy's or server's error page) never reaches the owner as such.
      return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j || {} }; },
        function () { return { ok: false, status: r.status, body: { detail: L.server_error } }; });
    }, function () { return { ok: false, status: 0, body: { detail: L.network_error } }; });
  }
  function say(text, kind) {
    status.textContent = text;
    status.className = "modeler-status " + (kind || "");
  }
  function firstError(body) {
    if (typeof body.detail === "string" && body.detail) { return body.detail; }
    for (var k in body) { if (Array.isArray(body[k]) && body[k].length) { return body[k][0]; } }
    return L.failed;
  }

  // ---- extension elements ------------------------------------------------------------------
  function extensionValues(bo, create) {
    if (!bo.extensionElements && create) {
      bo.extensionElements = moddle.create("bpmn:ExtensionElements", { values: [] });
      bo.extensionElements.$parent = bo;
    }
    if (!bo.extensionElements) { return null; }
    bo.extensionElements.values = bo.extensionElements.values || [];
    return bo.extensionElements.values;
  }
  function findExt(bo, type, create) {
    var values = extensionValues(bo, create);
    if (!values) { return null; }
    for (var i = 0; i < values.length; i++) { if (values[i].$type === type) { return values[i]; } }
    if (!create) { return null; }
    var made = moddle.create(type, {});
    made.$parent = bo.extensionElements;
    values.push(made);
    return made;
  }
  function getProperty(bo, name) {
    var props = findExt(bo, SPIFF + "Properties", false);
    var list = (props && props.properties) || [];
    for (var i = 0; i < list.length; i++) { if (list[i].name === name) { return list[i].value || ""; } }
    return "";
  }
  function setProperty(element, name, value) {
    var bo = element.businessObject;
    var props = findExt(bo, SPIFF + "Properties", true);
    props.properties = props.properties || [];
    var found = null;
    props.properties.forEach(function (p) { if (p.name === name) { found = p; } });
    if (!found) {
      found = moddle.create(SPIFF + "Property", { name: name, value: value });
      found.$parent = props;
      props.properties.push(found);
    } else {
      found.value = value;
    }
    changed(element);
  }
  function changed(element) {
    dirty = true;
    modeling.updateProperties(element, {}); // marks the command stack, redraws
  }
  function timerDefinition(bo) {
    var defs = bo.eventDefinitions || [];
    for (var i = 0; i < defs.length; i++) { if (defs[i].$type === "bpmn:TimerEventDefinition") { return defs[i]; } }
    return null;
  }
  function timerExpression(bo) {
    var t = timerDefinition(bo);
    if (!t) { return null; }
    var e = t.timeDuration || t.timeDate || t.timeCycle;
    return { def: t, kind: t.timeDate ? "timeDate" : t.timeCycle ? "timeCycle" : "timeDuration", body: e ? e.body || "" : "" };
  }
  function setTimer(element, body) {
    var found = timerExpression(element.businessObject);
    if (!found) { return; }
    var expr = moddle.create("bpmn:FormalExpression", { body: body });
    expr.$parent = found.def;
    found.def[found.kind] = expr;
    changed(element);
  }
  function boundaryTimers(task) {
    return registry.filter(function (e) {
      return e.type === "bpmn:BoundaryEvent" && e.host === task && timerDefinition(e.businessObject);
    });
  }
  function quote(value) { return JSON.stringify(value); }

  // ---- the panel ---------------------------------------------------------------------------
  function field(label, input, help) {
    var wrap = document.createElement("div");
    wrap.className = "field";
    var l = document.createElement("label");
    l.textContent = label;
    wrap.appendChild(l);
    wrap.appendChild(input);
    if (help) {
      var h = document.createElement("p");
      h.className = "muted";
      h.textContent = help;
      wrap.appendChild(h);
    }
    return wrap;
  }
  function select(name, options, current, onChange) {
    var s = document.createElement("select");
    s.name = name;
    s.setAttribute("data-testid", "prop-" + name);
    var blank = document.createElement("option");
    blank.value = "";
    blank.textContent = L.choose;
    s.appendChild(blank);
    var known = false;
    options.forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = o.value;
      opt.textContent = o.label;
      if (o.value === current) { opt.selected = true; known = true; }
      s.appendChild(opt);
    });
    if (current && !known) {
      var odd = document.createElement("option");
      odd.value = current;
      odd.textContent = current + " (" + L.unknown + ")";
      odd.selected = true;
      s.appendChild(odd);
    }
    s.disabled = !cfg.editable;
    s.addEventListener("change", function () { onChange(s.value); });
    return s;
  }
  function text(name, current, onChange) {
    var i = document.createElement("input");
    i.type = "text";
    i.name = name;
    i.value = current || "";
    i.className = "mono";
    i.setAttribute("data-testid", "prop-" + name);
    i.disabled = !cfg.editable;
    i.addEventListener("change", function () { onChange(i.value.trim()); });
    return i;
  }
  function render(element) {
    panel.innerHTML = "";
    var h = document.createElement("h3");
    if (!element || element.type === "bpmn:Process" || element.type === "bpmn:Collaboration") {
      h.textContent = L.select_element;
      panel.appendChild(h);
      return;
    }
    var bo = element.businessObject;
    h.textContent = (bo.name || bo.id) + " · " + element.type.replace("bpmn:", "");
    panel.appendChild(h);
    var idLine = document.createElement("p");
    idLine.className = "muted mono";
    idLine.textContent = "id: " + bo.id;
    panel.appendChild(idLine);

    if (element.type === "bpmn:Lane") {
      panel.appendChild(field(L.lane_role, select("lane", cfg.catalog.lanes.map(function (l) {
        return { value: l.name, label: l.label + " @ " + l.level_label + " (" + l.name + ")" };
      }), bo.name || "", function (v) { modeling.updateLabel(element, v); dirty = true; }), L.lane_help));
    }
    if (element.type === "bpmn:UserTask") {
      panel.appendChild(field(L.form, select("form", cfg.catalog.forms.map(function (f) {
        return { value: f.key, label: f.title + " (" + f.key + ")" };
      }), getProperty(bo, "form"), function (v) { setProperty(element, "form", v); render(element); })));
      var formKey = getProperty(bo, "form");
      if (formKey && cfg.urls.form_editor) {
        // 编辑表单: the form's JSON with a live preview; saved into this draft, published with it.
        var edit = document.createElement("a");
        edit.href = cfg.urls.form_editor + formKey.split("/").map(encodeURIComponent).join("/") + "/";
        edit.textContent = L.edit_form;
        edit.className = "btn btn-link";
        edit.setAttribute("data-testid", "edit-form");
        panel.appendChild(edit);
      }
      var current = getProperty(bo, "deadline");
      var deadlineInput = text("deadline", current, function (v) {
        setProperty(element, "deadline", v);
        // The deadline drives the task's timers: the interrupting one fires at the deadline,
        // a non-interrupting one reminds before it.
        boundaryTimers(element).forEach(function (b) {
          var interrupting = b.businessObject.cancelActivity !== false;
          setTimer(b, (interrupting ? "deadline(" : "reminder_after(") + quote(v) + ")");
        });
      });
      // The configured deadlines to choose from (a duration can still be typed).
      var choices = document.createElement("datalist");
      choices.id = "deadline-choices";
      cfg.catalog.deadlines.forEach(function (d) {
        var opt = document.createElement("option");
        opt.value = d.name;
        opt.label = d.name + " = " + d.value;
        choices.appendChild(opt);
      });
      deadlineInput.setAttribute("list", choices.id);
      panel.appendChild(field(L.deadline, deadlineInput, L.deadline_help + " " + cfg.catalog.deadlines.map(function (d) { return d.name + " = " + d.value; }).join(L.list_separator)));
      panel.appendChild(choices);
    }
    if (element.type === "bpmn:ServiceTask") {
      var op = findExt(bo, SPIFF + "ServiceTaskOperator", false);
      panel.appendChild(field(L.operation, select("operation", cfg.catalog.operations.map(function (o) {
        return { value: o.name, label: (o.description || o.name) + " (" + o.name + ")" };
      }), op ? op.id || "" : "", function (v) {
        var operator = findExt(bo, SPIFF + "ServiceTaskOperator", true);
        operator.id = v;
        if (!operator.parameters) { // the schema wants the (possibly empty) parameter list
          operator.parameters = moddle.create(SPIFF + "Parameters", { parameters: [] });
          operator.parameters.$parent = operator;
        }
        changed(element);
      })));
    }
    var timer = timerExpression(bo);
    if (timer) {
      panel.appendChild(field(L.timer, text("timer", timer.body, function (v) { setTimer(element, v); }), L.timer_help));
    }
    var mine = problemsByElement[bo.id] || [];
    if (mine.length) {
      var ul = document.createElement("ul");
      ul.className = "problems";
      mine.forEach(function (p) { var li = document.createElement("li"); li.textContent = p.message; ul.appendChild(li); });
      panel.appendChild(ul);
    }
  }
  modeler.on("selection.changed", function (e) { render(e.newSelection[0]); });
  modeler.on("commandStack.changed", function () { dirty = true; edits += 1; });

  // ---- problems ----------------------------------------------------------------------------
  var problemsByElement = {};
  function showProblems(problems) {
    overlays.remove({ type: "lint" });
    Object.keys(problemsByElement).forEach(function (id) {
      if (registry.get(id)) { canvas.removeMarker(id, "lint-error"); canvas.removeMarker(id, "lint-warning"); }
    });
    problemsByElement = {};
    var list = document.getElementById("problem-list");
    list.innerHTML = "";
    problems.forEach(function (p) {
      var li = document.createElement("li");
      li.className = "problem-" + (p.severity || "error");
      li.setAttribute("data-element", p.element || "");
      li.setAttribute("data-testid", "problem");
      li.textContent = (p.severity === "warning" ? L.warning : L.error) + " " + (p.element ? "[" + p.element + "] " : "") + p.message;
      if (p.element && registry.get(p.element)) {
        li.addEventListener("click", function () { modeler.get("selection").select(registry.get(p.element)); });
      }
      list.appendChild(li);
      if (!p.element || !registry.get(p.element)) { return; }
      (problemsByElement[p.element] = problemsByElement[p.element] || []).push(p);
    });
    Object.keys(problemsByElement).forEach(function (id) {
      var items = problemsByElement[id];
      var isError = items.some(function (p) { return (p.severity || "error") === "error"; });
      canvas.addMarker(id, isError ? "lint-error" : "lint-warning");
      var badge = document.createElement("div");
      badge.className = "lint-badge " + (isError ? "lint-badge-error" : "lint-badge-warning");
      badge.setAttribute("data-testid", "overlay-" + id);
      badge.title = items.map(function (p) { return p.message; }).join("\n");
      badge.textContent = String(items.length);
      overlays.add(id, "lint", { position: { top: -10, right: 10 }, html: badge });
    });
    document.getElementById("problem-count").textContent = String(problems.length);
    var errors = problems.filter(function (p) { return (p.severity || "error") === "error"; }).length;
    var request = document.getElementById("btn-request");
    if (request) { request.disabled = errors > 0; }
  }

  // ---- actions -----------------------------------------------------------------------------
  function save() {
    if (!cfg.editable) { return Promise.resolve(false); }
    commitEdits();
    say(L.saving);
    var started = edits;
    return modeler.saveXML({ format: true }).then(function (out) {
      return api("PUT", cfg.urls.save, { bpmn_xml: out.xml, row_version: rowVersion });
    }).then(function (r) {
      if (!r.ok) { say(firstError(r.body), "error"); return false; }
      rowVersion = r.body.row_version;
      // An edit made while the save was on its way stays unsaved.
      dirty = edits !== started;
      showProblems(r.body.problems);
      document.getElementById("draft-status").textContent = r.body.status;
      var errors = r.body.problems.filter(function (p) { return (p.severity || "error") === "error"; }).length;
      var warnings = r.body.problems.length - errors;
      if (errors) { say(L.saved_with_problems.replace("%s", errors), "error"); }
      else if (warnings) { say(L.saved_with_warnings.replace("%s", warnings), "warning"); }
      else { say(L.saved, "ok"); }
      return r.body;
    }).catch(function (err) {
      if (window.console) { window.console.error(err); }
      say(L.server_error, "error");
      return false;
    });
  }
  function post(url, body, done) {
    return api("POST", url, body || {}).then(function (r) {
      if (!r.ok) { say(firstError(r.body), "error"); if (r.body.problems) { showProblems(r.body.problems); } return; }
      say(done, "ok");
      leaving = true;
      window.setTimeout(function () { window.location.reload(); }, 300);
    });
  }
  var bind = function (id, fn) { var b = document.getElementById(id); if (b) { b.addEventListener("click", fn); } };
  bind("btn-save", function () { save(); });
  // Ctrl+S / ⌘S saves (also while a label is being typed on the canvas).
  window.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "s" || e.key === "S")) {
      e.preventDefault();
      save();
    }
  }, true);
  // Unsaved changes: the browser asks before the page is closed or reloaded, and a link on the
  // page asks first in the user's language.
  window.addEventListener("beforeunload", function (e) {
    if (leaving || !cfg.editable || !unsaved()) { return; }
    e.preventDefault();
    e.returnValue = L.leave_confirm;
    return L.leave_confirm;
  });
  document.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("a[href]") : null;
    if (!link || !cfg.editable || !unsaved() || e.defaultPrevented) { return; }
    var href = link.getAttribute("href") || "";
    if (href.charAt(0) === "#" || link.target === "_blank" || link.hasAttribute("download")) { return; }
    if (window.confirm(L.leave_confirm)) { leaving = true; } else { e.preventDefault(); }
  }, true);
  bind("btn-request", function () {
    (unsaved() ? save() : Promise.resolve(true)).then(function (ok) { if (ok) { post(cfg.urls.request, {}, L.requested); } });
  });
  // The approval names what was shown: the server compares this hash (computed when the page was
  // rendered, over the same text) with the draft's current content and refuses a stale one.
  bind("btn-approve", function () {
    post(cfg.urls.approve, { content_sha256: cfg.draft.content_sha256, comment: document.getElementById("decision-comment").value || "" }, L.approved);
  });
  bind("btn-reject", function () { post(cfg.urls.reject, { comment: document.getElementById("decision-comment").value || "" }, L.rejected); });

  modeler.importXML(cfg.draft.bpmn_xml).then(function (result) {
    canvas.zoom("fit-viewport");
    showProblems(cfg.draft.problems);
    render(null);
    dirty = false;
    document.body.setAttribute("data-modeler-ready", "1");
    if (result.warnings && result.warnings.length) { say(L.import_warnings.replace("%s", result.warnings.length), "warning"); }
  }).catch(function (err) {
    if (window.console) { window.console.error(err); }
    say(L.import_failed, "error");
    document.body.setAttribute("data-modeler-ready", "error");
  });
  window.custflowModeler = modeler;
})();
