/* Report jobs that are queued or running show their progress without a reload:
   on a job's page and in the rows of the Rapporter list.

   Each element with data-status-url and data-finished="false" is followed: the
   script asks the server for the job's status every few seconds and writes it
   into the elements of its scope (the closest [data-job-scope], else the whole
   page) that carry data-job-field, data-job-part and data-job-link. Only text
   that has changed is replaced, so a polite live region reads nothing twice.
   When the job is done the download link appears; when it has finished either
   way its polling stops and its "Update" link (for browsers without
   JavaScript) is hidden. Plain JavaScript, no library. */
(function () {
  "use strict";

  var INTERVAL = 2500; // milliseconds between two polls of one job
  var MAX_FAILURES = 5; // then stop: a reload still works

  function follow(source) {
    var url = source.getAttribute("data-status-url");
    var scope = source.closest("[data-job-scope]") || document;
    var failures = 0;

    function each(selector, callback) {
      Array.prototype.forEach.call(scope.querySelectorAll(selector), callback);
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
      show("no-download", !status.download_url);
      if (status.is_finished) {
        source.setAttribute("data-finished", "true");
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

    schedule(INTERVAL);
  }

  if (!window.fetch) {
    return;
  }
  Array.prototype.forEach.call(
    document.querySelectorAll('[data-status-url][data-finished="false"]'),
    follow
  );
})();
