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

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-testid=nav-toggle]"), setupNavToggle);
    Array.prototype.forEach.call(document.querySelectorAll("details.userbox"), setupUserMenu);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), setupConfirm);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-amend-form]"), setupAmendForm);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-opening-form]"), setupOpeningForm);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm-reject]"), setupRejectConfirm);
  });
})();
