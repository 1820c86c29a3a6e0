// When a form comes back with errors, move focus to the summary so that a screen reader reads
// it and a keyboard user starts there (the links in it lead to each field).
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
}());
