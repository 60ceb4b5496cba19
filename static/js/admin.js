/* The admin's autocomplete fields (Select2 4.0.13, as Django ships it) fail
   two WCAG checks where several organisations can be chosen:
   - the search field inside the field has no name: it gets the field's label;
   - the "remove all" cross (a mouse-only control: with the keyboard,
     Backspace removes the choices) is put inside the list of chosen items,
     where only list items belong: it is hidden from assistive technology, as
     Select2 does with its arrow.
   Select2 redraws the field on every change, so each redraw is corrected. */
"use strict";
(function () {
  function fieldLabel(container) {
    var select = container.previousElementSibling;
    if (!select || select.tagName !== "SELECT") {
      return "";
    }
    var label = select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
    return label ? label.textContent.replace(/:\s*$/, "").trim() : select.getAttribute("aria-label") || "";
  }

  function correct() {
    document
      .querySelectorAll(".select2-selection__rendered > .select2-selection__clear:not([aria-hidden])")
      .forEach(function (cross) {
        cross.setAttribute("aria-hidden", "true");
      });
    document.querySelectorAll(".select2-search__field:not([aria-label])").forEach(function (field) {
      var container = field.closest(".select2-container");
      var name = container ? fieldLabel(container) : "";
      if (name) {
        field.setAttribute("aria-label", name);
      }
    });
  }

  function start() {
    correct();
    new MutationObserver(correct).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
