// learnsociety titles pages: the copy button of the self-assessment link, and the print buttons
// of the slips. The page works without this file: the link is shown in a read-only box to select
// by hand, and the browser's own menu prints.
"use strict";

(function () {
  function copyText(input) {
    if (navigator.clipboard && window.isSecureContext) {
      // A browser may refuse the clipboard API (no permission): then try the older command.
      return navigator.clipboard.writeText(input.value).catch(function () {
        return copyBySelection(input);
      });
    }
    // Plain-HTTP intranets have no clipboard API: select the text and use the older command.
    return copyBySelection(input);
  }

  function copyBySelection(input) {
    input.focus();
    input.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function setUp(button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!input) {
      return;
    }
    var status = button.parentNode.querySelector(".copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(input).then(
        function () {
          if (status) {
            status.textContent = button.getAttribute("data-copied-text") || "";
          }
        },
        function () {
          // Leave the link selected so that the user can copy it with the keyboard or menu.
          input.focus();
          input.select();
          if (status) {
            status.textContent = button.getAttribute("data-failed-text") || "";
          }
        }
      );
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("button[data-copy-target]");
    for (var i = 0; i < buttons.length; i++) {
      setUp(buttons[i]);
    }
    var printButtons = document.querySelectorAll("button[data-print]");
    for (var j = 0; j < printButtons.length; j++) {
      printButtons[j].hidden = false;
      printButtons[j].addEventListener("click", function () {
        window.print();
      });
    }
  });
})();
