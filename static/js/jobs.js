// learnsociety job page: polls the job's progress and moves the bar without reloading; when the
// job ends, the page is loaded once more to show its outcome (the file, notes or errors).
// Without this file the page still works: reload it by hand.
"use strict";

(function () {
  var section = document.getElementById("job");
  if (!section || !section.getAttribute("data-poll-url")) {
    return;
  }
  var url = section.getAttribute("data-poll-url");
  // The translated "about {time} left" names where the time goes.
  var timeSlot = "{time}";
  var leftText = section.getAttribute("data-text-left");
  var bar = document.getElementById("job-bar");
  var state = document.getElementById("job-state");
  var done = document.getElementById("job-done");
  var total = document.getElementById("job-total");
  var left = document.getElementById("job-left");
  var delay = 1000;

  function duration(seconds) {
    if (seconds < 90) {
      return section.getAttribute("data-text-seconds").replace("{n}", String(seconds));
    }
    var minutes = String(Math.round(seconds / 60));
    return section.getAttribute("data-text-minutes").replace("{n}", minutes);
  }

  function show(job) {
    state.textContent = job.state_label;
    done.textContent = String(job.done);
    if (job.total !== null) {
      total.textContent = section.getAttribute("data-text-of") + " " + String(job.total);
    }
    if (job.percent !== null) {
      bar.value = job.percent;
      bar.textContent = job.percent + "%";
    }
    left.textContent = job.seconds_left === null ? "" :
      "(" + leftText.replace(timeSlot, duration(job.seconds_left)) + ")";
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (job) {
        show(job);
        if (job.finished) {
          window.location.reload();
          return;
        }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 10000); // a slow link or a restart: try again, less often
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
