// Small behaviours that pages opt into; no inline scripts (the CSP forbids them).
(function () {
  "use strict";
  // Show htmx error responses (4xx/5xx) in the flash area instead of dropping them.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr.status;
    if (status >= 400) {
      var flash = document.getElementById("flash");
      if (flash) {
        evt.detail.shouldSwap = true;
        evt.detail.isError = false;
        evt.detail.target = flash;
        // Into the flash area, whatever the form swaps normally (a row's
        // outerHTML would replace the live region itself).
        evt.detail.swapOverride = "innerHTML";
      }
    }
  });
  // Ask before destructive actions: <form data-confirm="...">.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var msg = form && form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      evt.preventDefault();
    }
  }, true);
  // Organisation switcher: submit on change, keep a button for no-JS use.
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.requestSubmit();
    }
  });
  // Copy buttons: <button data-copy="#id">.
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest && evt.target.closest("[data-copy]");
    if (!btn) return;
    var src = document.querySelector(btn.getAttribute("data-copy"));
    if (src && navigator.clipboard) {
      navigator.clipboard.writeText(src.textContent.trim());
      btn.textContent = "Copied";
    }
  });
})();
// The narrow-screen menu: a button with aria-expanded that shows the navigation.
(function () {
  "use strict";
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest && evt.target.closest(".menu-toggle");
    if (!btn) return;
    var nav = document.getElementById(btn.getAttribute("aria-controls"));
    if (!nav) return;
    var open = btn.getAttribute("aria-expanded") !== "true";
    btn.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("open", open);
    if (open) {
      var first = nav.querySelector("a[aria-current]") || nav.querySelector("a");
      if (first) first.focus();
    }
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape") return;
    var btn = document.querySelector(".menu-toggle[aria-expanded='true']");
    if (!btn) return;
    btn.setAttribute("aria-expanded", "false");
    var nav = document.getElementById(btn.getAttribute("aria-controls"));
    if (nav) nav.classList.remove("open");
    btn.focus();
  });
})();
// Focus after htmx swaps a table row (WCAG 2.4.3): an edit row gets focus on
// its first field; a saved or cancelled row gets it back on its first
// control, so the next Tab goes on from where the person was. After an
// error (shown in the flash area) the focus goes to the form's first field.
(function () {
  "use strict";
  // Remembered per request: other requests (a chart that reloads itself)
  // may start while a row's request is under way.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    var row = elt && elt.closest && elt.closest("tr[id]");
    if (evt.detail.xhr) {
      evt.detail.xhr.ismsRow = row ? row.id : null;
      evt.detail.xhr.ismsForm = elt && elt.closest ? elt.closest("form") : null;
    }
  });
  function firstField(root) {
    return root.querySelector("input:not([type=hidden]), select, textarea, button, a[href]");
  }
  document.addEventListener("htmx:afterSettle", function (evt) {
    var xhr = evt.detail.xhr;
    if (!xhr) return;
    var status = xhr.status;
    var form = xhr.ismsForm;
    var rowId = xhr.ismsRow;
    if (status >= 400) {
      if (form && document.body.contains(form)) {
        var f = form.querySelector("[aria-invalid=true]") ||
          form.querySelector("input:not([type=hidden]), select, textarea") || firstField(form);
        if (f) f.focus();
      }
      return;
    }
    if (!rowId) return;
    var row = document.getElementById(rowId);
    if (!row) return;
    var target = row.classList.contains("editing")
      ? row.querySelector("input:not([type=hidden]), select, textarea")
      : row.querySelector("[data-row-focus]") || firstField(row);
    if (!target) {
      row.setAttribute("tabindex", "-1");
      target = row;
    }
    target.focus();
  });
  // The server names what happened in an HX-Trigger header: {"announce": "Saved A.5.1"}.
  document.addEventListener("announce", function (evt) {
    var flash = document.getElementById("flash");
    var text = evt.detail && evt.detail.value;
    if (!flash || !text) return;
    flash.textContent = "";
    var div = document.createElement("div");
    div.className = "alert ok";
    div.textContent = text;
    flash.appendChild(div);
  });
})();
