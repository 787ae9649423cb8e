(function () {
  "use strict";
  var form = document.getElementById("filters"), table = document.getElementById("priorities");
  if (!form || !table) return;
  var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows), shown = document.getElementById("shown");
  form.hidden = false;
  // A link such as priorities.html?reason=price&stage=proposal opens the list filtered (the
  // overview's rows link to these); an unknown value leaves its filter at "any".
  var params = new URLSearchParams(window.location.search);
  ["q", "owner", "temp", "reason", "source", "stage", "category"].forEach(function (name) {
    var value = params.get(name === "temp" && !params.has("temp") ? "temperature" : name), field = form[name];
    if (value === null || !field) return;
    if (field.tagName === "SELECT" && !Array.prototype.some.call(field.options, function (o) { return o.value === value; })) return;
    field.value = value;
  });
  function apply() {
    var q = form.q.value.trim().toLowerCase(), n = 0;
    rows.forEach(function (tr) {
      var d = tr.dataset, ok = (!form.owner.value || d.owner === form.owner.value) &&
        (!form.temp.value || d.temp === form.temp.value) && (!form.reason.value || d.reason === form.reason.value) &&
        (!form.source.value || d.source === form.source.value) &&
        (!form.stage.value || d.stage === form.stage.value) &&
        (!form.category.value || d.category === form.category.value) && (!q || tr.textContent.toLowerCase().indexOf(q) >= 0);
      tr.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = n + (n === 1 ? " lead" : " leads");
  }
  form.addEventListener("input", apply);
  apply();
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    var button = th.querySelector("button");
    if (!button) return;
    button.addEventListener("click", function () {
      var up = th.getAttribute("aria-sort") !== "ascending", num = th.dataset.sort === "num";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = a.cells[col], y = b.cells[col];
        x = num ? parseFloat(x.dataset.v) : x.textContent.trim().toLowerCase();
        y = num ? parseFloat(y.dataset.v) : y.textContent.trim().toLowerCase();
        return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
      });
      rows.forEach(function (tr) { body.appendChild(tr); });
    });
  });
})();
