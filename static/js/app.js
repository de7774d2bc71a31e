// learnsociety: small progressive enhancements; every page works without this file.
"use strict";

// On a slow link a second tap on "Save" or "Confirm import" would post twice. Disable the
// form's buttons once it is submitted (after the submission has read the clicked button).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.method.toLowerCase() !== "post") {
    return;
  }
  window.setTimeout(function () {
    var buttons = form.querySelectorAll("button[type=submit]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = true;
    }
  }, 0);
});

// Browsers restore a page from the back/forward cache with the buttons still disabled.
window.addEventListener("pageshow", function () {
  var buttons = document.querySelectorAll("form button[type=submit][disabled]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].disabled = false;
  }
});
