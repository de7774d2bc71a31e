// The print pages' "Print" button (certificates, lists): it opens the browser's print dialog.
// Without this file the button stays hidden and the browser's own Print command does the same.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var buttons = document.querySelectorAll("button[data-print]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
});
