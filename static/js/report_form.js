/* The reporter page's form ("Mina rapporter"), improved where JavaScript runs;
   without it the form works the same, only without these signs.

   - While a POST is on its way the page says so: the button pressed reads
     "Sparar…", the status regions announce it, the form is aria-busy, and a
     second press does not post the form twice.
   - Leaving the page (a link to another view or page, another period) with
     changes not saved asks first, as browsers do for beforeunload.

   The texts come from the form's data attributes, translated by the server. */
(function () {
  "use strict";

  var form = document.querySelector("form.report-form");
  if (!form) {
    return;
  }
  var busyLabel = form.getAttribute("data-busy-label") || "…";
  var dirty = false;
  var sending = false;

  form.addEventListener("input", function () {
    dirty = true;
  });
  form.addEventListener("change", function () {
    dirty = true;
  });

  form.addEventListener("submit", function (event) {
    if (sending) {
      event.preventDefault();
      return;
    }
    sending = true;
    form.setAttribute("aria-busy", "true");
    form.classList.add("report-form--saving");
    var button = event.submitter;
    if (button) {
      // The button's name and value are still posted: it is not disabled.
      button.setAttribute("data-label", button.textContent);
      button.textContent = busyLabel;
      button.classList.add("button--busy");
    }
    Array.prototype.forEach.call(form.querySelectorAll(".report-saving"), function (region) {
      region.textContent = busyLabel;
    });
  });

  // Coming back with the browser's back button must not leave the form busy.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      sending = false;
      form.removeAttribute("aria-busy");
      form.classList.remove("report-form--saving");
      Array.prototype.forEach.call(form.querySelectorAll(".button--busy"), function (button) {
        button.textContent = button.getAttribute("data-label");
        button.classList.remove("button--busy");
      });
      Array.prototype.forEach.call(form.querySelectorAll(".report-saving"), function (region) {
        region.textContent = "";
      });
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (dirty && !sending) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
