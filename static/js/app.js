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

// The menu collapses behind a "Menu" button on a phone (CSS shows the button below 40rem).
// Without this file the menu stays open, as on a wide screen.
document.addEventListener("DOMContentLoaded", function () {
  var toggle = document.querySelector(".menu-toggle");
  var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (!menu) {
    return;
  }
  toggle.hidden = false;
  document.documentElement.classList.add("menu-collapsible");
  toggle.addEventListener("click", function () {
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
});

// Select-all: a checkbox with data-select-all="NAME" ticks or clears every enabled checkbox
// named NAME in its form (or page), and shows whether all, some or none are ticked.
document.addEventListener("DOMContentLoaded", function () {
  var masters = document.querySelectorAll("input[type=checkbox][data-select-all]");
  Array.prototype.forEach.call(masters, function (master) {
    var scope = master.form || document;
    var name = master.getAttribute("data-select-all");
    function boxes() {
      return Array.prototype.filter.call(
        scope.querySelectorAll("input[type=checkbox]"),
        function (box) {
          return box.name === name && !box.disabled && box !== master;
        }
      );
    }
    function reflect() {
      var all = boxes();
      var ticked = all.filter(function (box) {
        return box.checked;
      }).length;
      master.checked = all.length > 0 && ticked === all.length;
      master.indeterminate = ticked > 0 && ticked < all.length;
    }
    if (!boxes().length) {
      return;
    }
    master.hidden = false;
    master.addEventListener("change", function () {
      boxes().forEach(function (box) {
        box.checked = master.checked;
      });
      master.indeterminate = false;
    });
    scope.addEventListener("change", function (event) {
      if (event.target !== master && event.target.name === name) {
        reflect();
      }
    });
    reflect();
  });
});
