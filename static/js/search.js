// learnsociety: choose an entry by typing part of its name. A text box with data-search="URL"
// (a JSON endpoint answering {"results": [{"code", "name"}]} to ?q=) shows the matches under
// it; choosing one puts its code in the box and its name beside it. Without this file the box
// takes the code or the exact name, which the server resolves.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var boxes = document.querySelectorAll("input[data-search]");
  Array.prototype.forEach.call(boxes, enhance);
});

function enhance(input) {
  var field = input.parentNode;
  var listId = input.id + "_suggestions";
  var list = document.createElement("ul");
  var chosen = document.createElement("p");
  var active = -1;
  var results = [];
  var timer = null;
  var asked = 0;

  field.classList.add("search-field");
  list.id = listId;
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  chosen.className = "chosen";
  chosen.id = input.id + "_chosen";
  chosen.setAttribute("aria-live", "polite");
  chosen.textContent = input.getAttribute("data-chosen") || "";
  input.insertAdjacentElement("afterend", chosen);
  input.insertAdjacentElement("afterend", list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", listId);
  input.setAttribute("aria-expanded", "false");
  var described = input.getAttribute("aria-describedby");
  input.setAttribute("aria-describedby", (described ? described + " " : "") + chosen.id);

  function close() {
    list.hidden = true;
    list.textContent = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function choose(index) {
    var result = results[index];
    if (!result) {
      return;
    }
    input.value = result.code;
    chosen.textContent = result.name;
    close();
  }

  function highlight(index) {
    var options = list.querySelectorAll("[role=option]");
    if (!options.length) {
      return;
    }
    active = (index + options.length) % options.length;
    Array.prototype.forEach.call(options, function (option, i) {
      option.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", options[active].id);
    options[active].scrollIntoView({ block: "nearest" });
  }

  function show(found) {
    results = found;
    list.textContent = "";
    active = -1;
    if (!found.length) {
      close();
      return;
    }
    found.forEach(function (result, index) {
      var option = document.createElement("li");
      var code = document.createElement("span");
      option.id = listId + "_" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = result.name + " ";
      code.className = "code";
      code.textContent = result.code;
      option.appendChild(code);
      // mousedown, not click: the box must not lose focus (and close the list) first.
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(index);
      });
      list.appendChild(option);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function ask() {
    var text = input.value.trim();
    var number = ++asked;
    if (!text) {
      close();
      return;
    }
    var url = input.getAttribute("data-search") + "&q=" + encodeURIComponent(text);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { results: [] };
      })
      .then(function (data) {
        if (number === asked && document.activeElement === input) {
          show(data.results || []);
        }
      })
      .catch(function () {
        close(); // offline: the typed code or name is still sent with the form
      });
  }

  input.addEventListener("input", function () {
    chosen.textContent = "";
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 200);
  });
  input.addEventListener("keydown", function (event) {
    if (list.hidden) {
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", function () {
    window.setTimeout(close, 150);
  });
}
