// Suggestions while a registrar types in the case page's facility search (linking/case.html).
//
// The page works without this: the search box is a GET form whose answer lists the facilities
// to choose from. This adds the ARIA 1.2 combobox pattern on top: a listbox below the box, the
// arrow keys move through it (aria-activedescendant keeps focus in the box), Enter or a click
// picks one, Escape closes it. Picking a suggestion searches for its verksamhetsid, so the
// page's own list shows that facility chosen, and "Koppla" links it: the same form, CSRF token
// and checks as without JavaScript.
(function () {
  "use strict";
  var form = document.querySelector("form[data-suggestions]");
  if (!form || !window.fetch) { return; }
  var input = form.querySelector("#sok");
  var status = form.querySelector("#sok-status");
  var minLength = parseInt(form.getAttribute("data-min-length"), 10) || 2;
  var listbox = document.createElement("ul");
  var options = [];
  var active = -1;
  var timer = null;
  var latest = 0;

  listbox.id = "sok-forslag";
  listbox.className = "suggestions";
  listbox.setAttribute("role", "listbox");
  listbox.setAttribute("aria-labelledby", "other-heading");
  listbox.hidden = true;
  input.parentNode.appendChild(listbox);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", listbox.id);
  input.setAttribute("aria-expanded", "false");

  function close() {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    options.forEach(function (option, position) {
      option.setAttribute("aria-selected", position === index ? "true" : "false");
    });
    active = index;
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    input.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  }

  function pick(option) {
    input.value = option.getAttribute("data-id");
    close();
    form.submit();
  }

  function show(results) {
    listbox.textContent = "";
    options = results.map(function (result, position) {
      var option = document.createElement("li");
      var detail = document.createElement("span");
      option.id = "sok-forslag-" + position;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.setAttribute("data-id", result.id);
      option.appendChild(document.createTextNode(result.name + " (" + result.id + ")"));
      detail.className = "muted";
      detail.textContent = ", " + result.kommun;
      option.appendChild(detail);
      option.addEventListener("mousedown", function (event) { event.preventDefault(); });
      option.addEventListener("click", function () { pick(option); });
      listbox.appendChild(option);
      return option;
    });
    active = -1;
    input.removeAttribute("aria-activedescendant");
    if (options.length) {
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } else {
      close();
    }
    status.textContent = form.getAttribute(options.length ? "data-status-some" : "data-status-none");
  }

  function suggest() {
    var text = input.value.trim();
    var asked = ++latest;
    if (text.length < minLength) {
      close();
      status.textContent = "";
      return;
    }
    var url = form.getAttribute("data-suggestions") + "?sok=" + encodeURIComponent(text);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (answer) {
        if (asked === latest) { show(answer.results); }
      })
      .catch(function () { close(); });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(suggest, 200);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") {
      if (listbox.hidden) { return; }
      event.preventDefault();
      highlight(active < options.length - 1 ? active + 1 : 0);
    } else if (event.key === "ArrowUp") {
      if (listbox.hidden) { return; }
      event.preventDefault();
      highlight(active > 0 ? active - 1 : options.length - 1);
    } else if (event.key === "Enter") {
      if (!listbox.hidden && active >= 0) {
        event.preventDefault();
        pick(options[active]);
      }
    } else if (event.key === "Escape") {
      if (!listbox.hidden) {
        event.preventDefault();
        close();
      }
    }
  });
  input.addEventListener("blur", close);
}());
