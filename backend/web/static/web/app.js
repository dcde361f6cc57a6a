/* custflow web UI: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";
  // Narrow screens fold the navigation behind the menu button only when this file runs.
  document.documentElement.classList.add("js");

  function setupNavToggle(button) {
    var bar = button.closest(".topbar");
    button.addEventListener("click", function () {
      var open = bar.classList.toggle("nav-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // The user menu closes when the user clicks elsewhere or presses Escape.
  function setupUserMenu(menu) {
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") menu.open = false;
    });
  }

  // New opening: phone/address/email are for the advanced level; show them (phone required)
  // only when it is chosen. The service validates either way.
  function setupOpeningForm(form) {
    var advanced = form.getAttribute("data-advanced-value");
    var box = form.querySelector("[data-advanced-fields]");
    var phone = form.querySelector("input[name=phone]");
    if (!box) return;
    function sync() {
      var checked = form.querySelector("input[name=info_level]:checked");
      var isAdvanced = checked && checked.value === advanced;
      var hasValues = Array.prototype.some.call(box.querySelectorAll("input"), function (i) { return i.value; });
      box.hidden = !isAdvanced && !hasValues;
      if (phone) phone.required = !!isAdvanced;
      Array.prototype.forEach.call(form.querySelectorAll("[data-advanced-only]"), function (el) { el.hidden = !isAdvanced; });
    }
    Array.prototype.forEach.call(form.querySelectorAll("input[name=info_level]"), function (r) { r.addEventListener("change", sync); });
    sync();
  }

  // Rejecting is final: ask first.
  function setupRejectConfirm(form) {
    var question = form.getAttribute("data-confirm-reject");
    form.addEventListener("submit", function (event) {
      var decision = form.querySelector("input[name=decision]:checked");
      if (decision && decision.value === "reject" && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  }

  // Destructive or consequential actions (freeze, remove from blacklist): ask first.
  function setupConfirm(form) {
    var question = form.getAttribute("data-confirm");
    form.addEventListener("submit", function (event) {
      if (!window.confirm(question)) event.preventDefault();
    });
  }

  // Change request: highlight each row whose new value differs from the current one (the diff).
  function setupAmendForm(form) {
    Array.prototype.forEach.call(form.querySelectorAll("tr[data-field]"), function (row) {
      var input = row.querySelector("input, select");
      if (!input) return;
      function sync() { row.classList.toggle("changed", !!input.value); }
      input.addEventListener("input", sync);
      input.addEventListener("change", sync);
      sync();
    });
  }

  // Identity scan beside a review: zoom (fit width × 25 %–400 %) and rotate by quarter turns.
  // The canvas takes the rotated image's box, so the stage scrolls over all of it.
  function setupScanViewer(viewer) {
    var stage = viewer.querySelector("[data-scan-stage]");
    var canvas = viewer.querySelector("[data-scan-canvas]");
    var img = viewer.querySelector("[data-scan-image]");
    var label = viewer.querySelector("[data-scan-zoom]");
    if (!stage || !canvas || !img) return;
    var zoom = 1, turn = 0;
    function layout() {
      var nw = img.naturalWidth, nh = img.naturalHeight;
      if (!nw || !nh) return;
      var sideways = turn % 2 === 1;
      var fit = (stage.clientWidth - 16) / (sideways ? nh : nw);
      var w = nw * fit * zoom, h = nh * fit * zoom;
      var bw = sideways ? h : w, bh = sideways ? w : h;
      canvas.style.width = bw + "px";
      canvas.style.height = bh + "px";
      canvas.style.margin = bh < stage.clientHeight ? ((stage.clientHeight - bh) / 2) + "px auto" : "0 auto";
      img.style.width = w + "px";
      img.style.height = h + "px";
      img.style.left = ((bw - w) / 2) + "px";
      img.style.top = ((bh - h) / 2) + "px";
      img.style.transform = "rotate(" + (turn * 90) + "deg)";
      viewer.setAttribute("data-rotation", String(turn * 90));
      viewer.setAttribute("data-zoom", String(Math.round(zoom * 100)));
      if (label) label.textContent = Math.round(zoom * 100) + "%";
    }
    var actions = {
      "zoom-in": function () { zoom = Math.min(4, zoom * 1.25); },
      "zoom-out": function () { zoom = Math.max(0.25, zoom / 1.25); },
      "rotate-left": function () { turn = (turn + 3) % 4; },
      "rotate-right": function () { turn = (turn + 1) % 4; },
      "reset": function () { zoom = 1; turn = 0; }
    };
    Array.prototype.forEach.call(viewer.querySelectorAll("[data-scan-action]"), function (button) {
      button.addEventListener("click", function () {
        actions[button.getAttribute("data-scan-action")]();
        layout();
      });
    });
    if (img.complete) layout(); else img.addEventListener("load", layout);
    window.addEventListener("resize", layout);
  }

  // Task page (issue 17 item 2): the toolbar's actions open their forms in native dialogs; a
  // refused form comes back with its dialog open (data-open). Without this file the dialogs
  // show inline and the toolbar's links jump to them.
  function openDialog(dialog) {
    if (!dialog || dialog.open) return;
    if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
    var first = dialog.querySelector(".has-error input, .has-error select, .has-error textarea") ||
      dialog.querySelector("input:not([type=hidden]), select, textarea, [data-approve-confirm]");
    if (first) first.focus();
  }

  function setupTaskPage(toolbar) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-dialog-open]"), function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        openDialog(document.getElementById(link.getAttribute("data-dialog-open")));
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("dialog.action-dialog"), function (dialog) {
      Array.prototype.forEach.call(dialog.querySelectorAll("[data-dialog-close]"), function (button) {
        button.addEventListener("click", function () { dialog.close(); });
      });
      // A click on the backdrop (outside the dialog's box) closes it too.
      dialog.addEventListener("click", function (event) {
        if (event.target !== dialog) return;
        var r = dialog.getBoundingClientRect();
        if (event.clientX < r.left || event.clientX > r.right || event.clientY < r.top || event.clientY > r.bottom) dialog.close();
      });
    });
    var approve = document.getElementById("dlg-approve");
    var taskForm = document.querySelector("form.task-form");
    if (approve && taskForm) {
      approve.querySelector("[data-approve-confirm]").addEventListener("click", function () {
        var choice = taskForm.querySelector("input[name=decision][value=approve]");
        if (choice) choice.checked = true;
        approve.close();
        if (typeof taskForm.requestSubmit === "function") taskForm.requestSubmit(); else taskForm.submit();
      });
    }
    var reopen = document.querySelector("dialog.action-dialog[data-open]");
    if (reopen) openDialog(reopen);

    // Keyboard: J / Alt+↓ next task, K / Alt+↑ previous, A approve (after confirming), ? help.
    // Ignored while typing in a field or while a dialog is open (Esc closes dialogs natively).
    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey) return;
      var target = event.target;
      if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
      if (document.querySelector("dialog[open]")) return;
      var key = event.key, go = null;
      if (event.altKey) {
        if (key === "ArrowDown") go = "next"; else if (key === "ArrowUp") go = "prev"; else return;
      } else if (key === "j" || key === "J") go = "next";
      else if (key === "k" || key === "K") go = "prev";
      if (go) {
        var link = toolbar.querySelector("a[rel=" + go + "]");
        if (link) { event.preventDefault(); window.location.href = link.href; }
        return;
      }
      if ((key === "a" || key === "A") && !event.altKey && approve) { event.preventDefault(); openDialog(approve); return; }
      if (key === "?") { event.preventDefault(); openDialog(document.getElementById("dlg-keys")); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-testid=task-toolbar]"), setupTaskPage);
    Array.prototype.forEach.call(document.querySelectorAll("[data-scan-viewer]"), setupScanViewer);
    Array.prototype.forEach.call(document.querySelectorAll("[data-testid=nav-toggle]"), setupNavToggle);
    Array.prototype.forEach.call(document.querySelectorAll("details.userbox"), setupUserMenu);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), setupConfirm);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-amend-form]"), setupAmendForm);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-opening-form]"), setupOpeningForm);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm-reject]"), setupRejectConfirm);
  });
})();
