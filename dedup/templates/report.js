(function () {
  "use strict";
  document.documentElement.setAttribute("data-script", "ran");
  // time from navigation to the end of parsing (this script is the last element of the body)
  document.documentElement.setAttribute("data-parsed-ms", String(Math.round(performance.now())));
  var query = document.getElementById("filter");
  var relation = document.getElementById("relation");
  var shown = document.getElementById("shown");
  if (!query || !relation) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll("#clusters tbody tr"));
  function apply() {
    var text = query.value.toLowerCase();
    var wanted = relation.value;
    var count = 0;
    rows.forEach(function (row) {
      var ok = (!text || row.getAttribute("data-search").indexOf(text) >= 0) &&
        (!wanted || (" " + row.getAttribute("data-relations") + " ").indexOf(" " + wanted + " ") >= 0);
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = String(count);
  }
  query.addEventListener("input", apply);
  relation.addEventListener("change", apply);
  if (query.value || relation.value) { apply(); }  // a value the browser restored (back, reload)
})();
