// learnsociety titles pages: the copy button of the self-assessment link.
// The page works without this file: the link is shown in a read-only box to select by hand.
"use strict";

(function () {
  function copyText(input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value);
    }
    // Plain-HTTP intranets have no clipboard API: select the text and use the older command.
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
        }
      );
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("button[data-copy-target]");
    for (var i = 0; i < buttons.length; i++) {
      setUp(buttons[i]);
    }
  });
})();
