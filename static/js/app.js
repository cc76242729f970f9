/* Progressive enhancement only: every page works without this file, and each feature does
   nothing when its elements are absent. Loaded at the end of <body>; no inline script is needed
   (the Content-Security-Policy forbids it). */
(function () {
  "use strict";

  function each(selector, fn, root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), fn);
  }

  function parseNumber(value) {
    var text = String(value || "").replace(/[,\s$]/g, "");
    if (text === "") { return null; }
    var n = Number(text);
    return isFinite(n) ? n : NaN;
  }

  /* (a) Breakdown tables: <table data-breakdown-total="INPUT_ID"> with inputs marked
     data-breakdown-part; the status goes into [data-breakdown-status] (made a polite live region). */
  function initBreakdowns() {
    each("table[data-breakdown-total]", function (table) {
      var total = document.getElementById(table.getAttribute("data-breakdown-total"));
      var status = table.querySelector("[data-breakdown-status]");
      if (!total || !status) { return; }
      status.setAttribute("aria-live", "polite");
      status.classList.add("app-breakdown-status");
      var parts = table.querySelectorAll("[data-breakdown-part]");
      function update() {
        var sum = 0;
        var entered = 0;
        var invalid = false;
        Array.prototype.forEach.call(parts, function (input) {
          var n = parseNumber(input.value);
          if (n === null) { return; }
          if (isNaN(n)) { invalid = true; return; }
          sum += n;
          entered += 1;
        });
        var target = parseNumber(total.value);
        status.classList.remove("app-breakdown-status--ok", "app-breakdown-status--mismatch");
        if (invalid) {
          status.textContent = "Some entries are not numbers";
          status.classList.add("app-breakdown-status--mismatch");
        } else if (target === null || isNaN(target)) {
          status.textContent = entered ? "Adds up to " + sum.toLocaleString("en-US") +
            " (no total entered)" : "";
        } else {
          status.textContent = "Adds up to " + sum.toLocaleString("en-US") + " of " +
            target.toLocaleString("en-US");
          status.classList.add(sum === target ? "app-breakdown-status--ok" : "app-breakdown-status--mismatch");
        }
      }
      Array.prototype.forEach.call(parts, function (input) { input.addEventListener("input", update); });
      total.addEventListener("input", update);
      update();
    });
  }

  /* (b) Autosave: form[data-autosave="KEY"] keeps what was typed in localStorage and offers to
     restore it; a page carrying data-autosave-clear="KEY" (after a successful save) clears it. */
  function storage() {
    try {
      var probe = "__app_probe__";
      window.localStorage.setItem(probe, probe);
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null;
    }
  }

  function storedKey(key) { return "autosave:" + key; }

  function autosaveFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      if (!el.name || el.disabled) { return false; }
      var type = (el.type || "").toLowerCase();
      return ["hidden", "password", "file", "submit", "button", "reset"].indexOf(type) === -1 &&
        el.name !== "csrf_token";
    });
  }

  function readForm(form) {
    var values = {};
    autosaveFields(form).forEach(function (el) {
      var type = (el.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        values[el.name + "\u0000" + el.value] = el.checked;
      } else if (el.tagName === "SELECT" && el.multiple) {
        values[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  }

  function writeForm(form, values) {
    autosaveFields(form).forEach(function (el) {
      var type = (el.type || "").toLowerCase();
      var changed = false;
      if (type === "checkbox" || type === "radio") {
        var k = el.name + "\u0000" + el.value;
        if (Object.prototype.hasOwnProperty.call(values, k) && el.checked !== values[k]) {
          el.checked = values[k];
          changed = true;
        }
      } else if (el.tagName === "SELECT" && el.multiple) {
        if (Array.isArray(values[el.name])) {
          Array.prototype.forEach.call(el.options, function (o) {
            o.selected = values[el.name].indexOf(o.value) !== -1;
          });
          changed = true;
        }
      } else if (Object.prototype.hasOwnProperty.call(values, el.name) && el.value !== values[el.name]) {
        el.value = values[el.name];
        changed = true;
      }
      if (changed) { el.dispatchEvent(new Event("input", { bubbles: true })); }
    });
  }

  function differs(a, b) {
    return Object.keys(a).some(function (k) {
      return Object.prototype.hasOwnProperty.call(b, k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]);
    });
  }

  function restoreNotice(form, onRestore, onDiscard) {
    var alert = document.createElement("div");
    alert.className = "usa-alert usa-alert--info usa-alert--slim app-autosave-notice";
    alert.setAttribute("role", "status");
    var body = document.createElement("div");
    body.className = "usa-alert__body";
    var text = document.createElement("p");
    text.className = "usa-alert__text";
    text.textContent = "This browser kept changes to this form that were not saved.";
    var group = document.createElement("div");
    group.className = "usa-button-group";
    var restore = document.createElement("button");
    restore.type = "button";
    restore.className = "usa-button";
    restore.textContent = "Restore unsaved changes";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "usa-button usa-button--outline";
    discard.textContent = "Discard them";
    restore.addEventListener("click", function () { onRestore(); alert.remove(); });
    discard.addEventListener("click", function () { onDiscard(); alert.remove(); });
    group.appendChild(restore);
    group.appendChild(discard);
    body.appendChild(text);
    body.appendChild(group);
    alert.appendChild(body);
    form.parentNode.insertBefore(alert, form);
  }

  function initAutosave() {
    var store = storage();
    if (!store) { return; }
    each("[data-autosave-clear]", function (el) {
      store.removeItem(storedKey(el.getAttribute("data-autosave-clear")));
    });
    each("form[data-autosave]", function (form) {
      var key = storedKey(form.getAttribute("data-autosave"));
      var saved = null;
      try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
      if (saved && typeof saved === "object" && differs(saved, readForm(form))) {
        restoreNotice(form, function () { writeForm(form, saved); },
          function () { store.removeItem(key); });
      } else if (saved) {
        store.removeItem(key);
      }
      var timer = null;
      function save() {
        timer = null;
        try { store.setItem(key, JSON.stringify(readForm(form))); } catch (e) { /* quota: skip */ }
      }
      function schedule() {
        if (timer) { window.clearTimeout(timer); }
        timer = window.setTimeout(save, 500);
      }
      /* Only what a person typed: the page's own events (a restore, counters updated on load) are not. */
      function typed(event) { if (event.isTrusted) { schedule(); } }
      form.addEventListener("input", typed);
      form.addEventListener("change", typed);
      /* Keep the copy through the POST: only a page confirming success clears it. */
      form.addEventListener("submit", function () { if (timer) { window.clearTimeout(timer); save(); } });
    });
  }

  /* (c) Confirmations: buttons (or links) with data-confirm="question". */
  function initConfirm() {
    document.addEventListener("click", function (event) {
      var target = event.target.closest ? event.target.closest("[data-confirm]") : null;
      if (target && !window.confirm(target.getAttribute("data-confirm"))) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    }, true);
  }

  /* (d) select[data-autosubmit] submits its form on change; the form's submit button stays for
     people without JavaScript. */
  function initAutosubmit() {
    each("select[data-autosubmit]", function (select) {
      select.addEventListener("change", function () {
        if (!select.form) { return; }
        if (typeof select.form.requestSubmit === "function") { select.form.requestSubmit(); }
        else { select.form.submit(); }
      });
    });
  }

  /* (e) Charts: <canvas data-chart="ID"> drawn from <script type="application/json" id="ID">
     holding {type, labels, datasets, options?}. The data should also be on the page as a table. */
  function initCharts() {
    if (typeof window.Chart !== "function") { return; }
    each("canvas[data-chart]", function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) { return; }
      var spec;
      try { spec = JSON.parse(source.textContent); } catch (e) { return; }
      if (!spec || !spec.type) { return; }
      var options = spec.options || {};
      if (options.animation === undefined &&
          window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
        options.animation = false;
      }
      var datasets = spec.datasets || [];
      if (spec.type === "line" && Array.isArray(spec.incomplete)) { markIncomplete(datasets, spec.incomplete); }
      new window.Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels || [], datasets: datasets },
        options: options
      });
    });
  }

  /* A line's points whose figures are not complete yet (incomplete[i] true): the segment leading
     to each is dashed and the point is a larger triangle: the shape says it, not a colour. */
  function markIncomplete(datasets, incomplete) {
    datasets.forEach(function (dataset) {
      dataset.segment = {
        borderDash: function (ctx) { return incomplete[ctx.p1DataIndex] ? [6, 4] : undefined; }
      };
      dataset.pointStyle = incomplete.map(function (partial) { return partial ? "triangle" : "circle"; });
      dataset.pointRadius = incomplete.map(function (partial) { return partial ? 6 : 3; });
    });
  }

  /* Move focus to a form's error summary so screen reader and keyboard users hear it first. */
  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  }

  /* (f) Character counts: USWDS counts from an empty box when the page loads; a text already in
     it (a saved draft) is counted at once by telling the counter the text is there. */
  function initCharacterCounts() {
    each(".usa-character-count__field", function (field) {
      if (field.value) { field.dispatchEvent(new Event("input", { bubbles: true })); }
    });
  }

  function init() {
    initCharacterCounts();
    initBreakdowns();
    initAutosave();
    initConfirm();
    initAutosubmit();
    initCharts();
    focusErrorSummary();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
