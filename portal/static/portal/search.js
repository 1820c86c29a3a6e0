// Progressive enhancement: the kommun list shows only the kommuner of the chosen län.
// Without JavaScript the list shows every kommun grouped by län, and the server checks the pair.
(function () {
  "use strict";
  var county = document.getElementById("id_lan");
  var municipality = document.getElementById("id_kommun");
  if (!county || !municipality) { return; }
  var groups = Array.prototype.slice.call(municipality.querySelectorAll("optgroup"));
  var countyNames = {};
  Array.prototype.forEach.call(county.options, function (option) {
    countyNames[option.value] = option.text;
  });
  function update() {
    var chosen = countyNames[county.value];
    groups.forEach(function (group) {
      var show = !county.value || group.label === chosen;
      group.hidden = !show;
      group.disabled = !show;
    });
    var selected = municipality.options[municipality.selectedIndex];
    if (selected && selected.parentElement.tagName === "OPTGROUP" && selected.parentElement.disabled) {
      municipality.value = "";
    }
  }
  county.addEventListener("change", update);
  update();
}());
