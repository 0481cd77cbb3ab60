// Click a header to sort its table; click again to reverse. Cells carry their sort key in data-v
// (numbers) or are sorted by text; rows without a value always go last. Reads the DOM only.
(function () {
  function key(cell) {
    if (!cell) return null;
    var v = cell.getAttribute("data-v");
    if (v === "") return null;
    if (v !== null) return parseFloat(v);
    return cell.textContent.trim().toLowerCase();
  }
  function sortBy(table, th) {
    var index = parseInt(th.getAttribute("data-col"), 10);
    var desc = th.getAttribute("aria-sort") !== "descending";
    if (th.getAttribute("data-type") === "text" && th.getAttribute("aria-sort") === null) desc = false;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index]), y = key(b.cells[index]);
      if (x === null && y === null) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      if (x < y) return desc ? 1 : -1;
      if (x > y) return desc ? -1 : 1;
      return 0;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    table.querySelectorAll("th.sortable").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
  }
  document.querySelectorAll("table.sortable-table").forEach(function (table) {
    table.querySelectorAll("th.sortable").forEach(function (th) {
      th.addEventListener("click", function () { sortBy(table, th); });
    });
  });
})();
