/* The page of one report job: while the job is queued or running, ask the
   server for its status every few seconds and show it without a reload.

   The region #job-status is aria-live="polite": screen readers read out the
   new state when it changes. Only text that has changed is replaced, so
   nothing is read out twice. When the job is done the download link appears;
   when it has finished either way the polling stops and the "Update" link
   (for browsers without JavaScript) is hidden. Plain JavaScript, no library. */
(function () {
  "use strict";

  var INTERVAL = 2500; // milliseconds between two polls
  var MAX_FAILURES = 5; // then stop: the "Update" link still works

  var region = document.getElementById("job-status");
  if (!region || region.getAttribute("data-finished") === "true") {
    return;
  }
  var url = region.getAttribute("data-status-url");
  var failures = 0;

  function each(selector, callback) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), callback);
  }

  function setText(field, value) {
    each('[data-job-field="' + field + '"]', function (element) {
      if (element.textContent !== value) {
        element.textContent = value;
      }
    });
  }

  function show(part, visible) {
    each('[data-job-part="' + part + '"]', function (element) {
      element.hidden = !visible;
    });
  }

  function update(status) {
    setText("state_label", status.state_label);
    each('[data-job-field="state_label"]', function (element) {
      element.className = "job-state job-state--" + status.state;
    });
    setText("progress", status.progress || "");
    each('[data-job-field="progress"]', function (element) {
      element.hidden = !status.progress;
    });
    setText("error", status.error || "");
    show("error", Boolean(status.error));
    setText("started", status.started || "–");
    setText("finished", status.finished || "–");
    setText("page_count", status.page_count === null ? "–" : String(status.page_count));
    if (status.download_url) {
      each('[data-job-link="download"]', function (link) {
        link.setAttribute("href", status.download_url);
      });
    }
    show("download", Boolean(status.download_url));
    if (status.is_finished) {
      region.setAttribute("data-finished", "true");
      show("refresh", false);
    }
  }

  function schedule(delay) {
    window.setTimeout(poll, delay);
  }

  function poll() {
    window
      .fetch(url, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (status) {
        failures = 0;
        update(status);
        if (!status.is_finished) {
          schedule(INTERVAL);
        }
      })
      .catch(function () {
        failures += 1;
        if (failures < MAX_FAILURES) {
          schedule(INTERVAL * (failures + 1));
        }
      });
  }

  if (window.fetch) {
    schedule(INTERVAL);
  }
})();
