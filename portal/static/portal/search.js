// Progressive enhancement: the kommun list shows only the kommuner of the chosen län (the one in
// the list, any more ticked, and their neighbours when "Ta med grannlän" is ticked).
// Without JavaScript the list shows every kommun grouped by län, and the server checks the pair.
(function () {
  "use strict";
  var county = document.getElementById("id_lan");
  var municipality = document.getElementById("id_kommun");
  if (!county || !municipality) { return; }
  var neighboursData = document.getElementById("county-neighbours");
  var neighbours = neighboursData ? JSON.parse(neighboursData.textContent) : {};
  var withNeighbours = document.getElementById("id_grannlan");
  var more = Array.prototype.slice.call(document.querySelectorAll("input[name='lan']"));
  var groups = Array.prototype.slice.call(municipality.querySelectorAll("optgroup"));
  var countyNames = {};
  Array.prototype.forEach.call(county.options, function (option) {
    countyNames[option.value] = option.text;
  });
  function chosenNames() {
    var codes = county.value ? [county.value] : [];
    more.forEach(function (box) { if (box.checked) { codes.push(box.value); } });
    if (withNeighbours && withNeighbours.checked) {
      codes.slice().forEach(function (code) { codes = codes.concat(neighbours[code] || []); });
    }
    var names = {};
    codes.forEach(function (code) { names[countyNames[code]] = true; });
    return codes.length ? names : null;
  }
  function update() {
    var chosen = chosenNames();
    groups.forEach(function (group) {
      var show = !chosen || chosen[group.label] === true;
      group.hidden = !show;
      group.disabled = !show;
    });
    var selected = municipality.options[municipality.selectedIndex];
    if (selected && selected.parentElement.tagName === "OPTGROUP" && selected.parentElement.disabled) {
      municipality.value = "";
    }
  }
  county.addEventListener("change", update);
  if (withNeighbours) { withNeighbours.addEventListener("change", update); }
  more.forEach(function (box) { box.addEventListener("change", update); });
  update();
}());
