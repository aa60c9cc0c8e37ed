/* xling's HTML pages: what every page's script shares. The page's scripts are joined in one
   function scope (see html_report.render_page): the data, the DOM helpers, heatmaps, tables.
   Every text from the data goes in with textContent (or as a text node). */
"use strict";

var DATA = JSON.parse(document.getElementById("data").textContent);
var SVGNS = "http://www.w3.org/2000/svg";
var SENTINEL = "\uE000xling:source\uE000";
var PAGE = 50;

// -- helpers -----------------------------------------------------------------------------------
function el(tag, attrs) {
  var node = document.createElement(tag);
  // a control keeps no value across Back (the browser put the old one back; the script drew its defaults)
  if (tag === "select" || tag === "input") node.setAttribute("autocomplete", "off");
  setAttrs(node, attrs);
  for (var i = 2; i < arguments.length; i++) add(node, arguments[i]);
  return node;
}

// Text as search compares it: one Unicode form (a typed "é" finds a decomposed one, Hangul jamo
// their syllables, full-width letters the plain ones), lower-cased.
function foldText(text) {
  return String(text).normalize("NFKC").toLowerCase();
}

function svg(tag, attrs) {
  var node = document.createElementNS(SVGNS, tag);
  setAttrs(node, attrs);
  for (var i = 2; i < arguments.length; i++) add(node, arguments[i]);
  return node;
}

function setAttrs(node, attrs) {
  if (!attrs) return;
  Object.keys(attrs).forEach(function (key) {
    var value = attrs[key];
    if (value === null || value === undefined || value === false) return;
    if (key === "text") node.textContent = String(value);
    else if (key === "cls") node.setAttribute("class", value);
    else if (key.slice(0, 2) === "on" && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  });
}

function add(node, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) { child.forEach(function (c) { add(node, c); }); return; }
  if (typeof child === "string" || typeof child === "number") node.appendChild(document.createTextNode(String(child)));
  else node.appendChild(child);
}

// Order of two sort keys: numbers by value, text naturally ("2" before "10", as ids are meant).
function compareValues(a, b) {
  if (typeof a === "string" && typeof b === "string") return a.localeCompare(b, "en", { numeric: true });
  return a < b ? -1 : a > b ? 1 : 0;
}

// As Python formats numbers (the text tables beside the page): an exact tie (31.25 to one
// digit) goes to the even digit, where toFixed takes the larger one ("31.3" beside "31.2").
function fmt(value, digits) {
  if (value === null || value === undefined || typeof value !== "number" || !isFinite(value)) return "";
  var d = digits === undefined ? 2 : digits, text = value.toFixed(d);
  if (Math.abs(value) >= 1e21 || d > 40) return text;
  var exact = Math.abs(value).toFixed(d + 60), point = exact.indexOf(".");   // (exact for |value| > 1e-14)
  if (/^50*$/.test(exact.slice(point + 1 + d))) {
    var cut = exact.slice(0, d > 0 ? point + 1 + d : point);
    if (Number(cut.charAt(cut.length - 1)) % 2 === 0) text = (value < 0 ? "-" : "") + cut;
  }
  return text;
}

// A p-value to 4 decimals, never rounded up to 0.05 (0.04995 read "0.0500" beside a mark that
// says p < 0.05): rounded down where rounding would cross it.
function pfmt(p) {
  var text = fmt(p, 4);
  return typeof p === "number" && p < 0.05 && Number(text) >= 0.05 ? (Math.floor(p * 1e4) / 1e4).toFixed(4) : text;
}

function signed(value, digits) {
  var text = fmt(value, digits);
  if (/^-?0(\.0+)?$/.test(text)) return text.replace("-", "");   // no "-0.0"
  return value > 0 ? "+" + text : text;
}

function metricName(m) { return DATA.metrics[m] ? DATA.metrics[m].display : m; }

function fill(text, source) { return String(text).split(SENTINEL).join(source); }

function byId(id) { return document.getElementById(id); }

// A section with nothing to show is hidden, and its link in the navigation with it (a link to a
// hidden section goes nowhere).
function hideSection(id) {
  byId(id).hidden = true;
  var link = document.querySelector("#nav a[href='#" + id + "']");
  if (link) link.hidden = true;
}

// Names listed in one cell: each in its own <bdi>, so a right-to-left mark inside one never turns
// the names after it around (and nothing invisible is added to what a reader copies).
function isolatedNames(names) {
  return names.map(function (name, i) { return [i ? ", " : null, el("bdi", { text: name })]; });
}

function option(value, label) { return el("option", { value: value, text: label }); }

// A run's colour (bars, swatches): the six first as they were, then hues away from theirs (mustard,
// lime, sea green, magenta, pink) in five lightnesses, so that no two of 31 runs share one.
var RUN_COLORS = ["#2f5fb3", "#d9822b", "#1a7f37", "#b42318", "#6941c6", "#0e7490"];
var RUN_MORE_HUES = [62, 98, 165, 292, 326];
var RUN_MORE_LIGHTNESS = [36, 62, 48, 26, 72];

function runColor(k) {
  if (k < RUN_COLORS.length) return RUN_COLORS[k];
  var j = k - RUN_COLORS.length, n = RUN_MORE_HUES.length;
  return "hsl(" + RUN_MORE_HUES[j % n] + ", 65%, " + RUN_MORE_LIGHTNESS[Math.floor(j / n) % n] + "%)";
}

// -- heatmaps ----------------------------------------------------------------------------------
function heatColor(t) {   // t in [0, 1], 1 best
  var hue = Math.round(10 + 110 * t);
  return "hsl(" + hue + ", 62%, " + Math.round(80 - 18 * t) + "%)";
}

// A heatmap of values over rows x columns (language by language): `cellOf(row, col)` gives
// {value, label, title} or null; colors run from the worst to the best value shown, over a span
// of at least `spec.minSpan` (a spread smaller than that is no red-to-green difference).
function matrixFigure(spec) {
  var rows = spec.rows, cols = spec.cols, cells = {}, values = [];
  rows.forEach(function (r) {
    cols.forEach(function (c) {
      var entry = spec.cellOf(r, c);
      if (entry && typeof entry.value === "number") { cells[r + "\u0000" + c] = entry; values.push(entry.value); }
    });
  });
  if (!values.length) return null;
  var low = Math.min.apply(null, values), high = Math.max.apply(null, values);
  var widen = Math.max(0, (spec.minSpan || 0) - (high - low)) / 2;   // centred on the values' middle
  low -= widen;
  high += widen;
  var cell = 46, left = 44, top = 36;
  var picture = svg("svg", { width: left + cols.length * cell + 4, height: top + rows.length * cell + 4, role: "img",
    "aria-label": spec.caption });
  picture.appendChild(svg("text", { x: left + cols.length * cell / 2, y: 11, "text-anchor": "middle", text: spec.colTitle }));
  cols.forEach(function (c, k) {
    picture.appendChild(svg("text", { x: left + k * cell + cell / 2, y: top - 6, "text-anchor": "middle", text: c }));
  });
  rows.forEach(function (r, k) {
    picture.appendChild(svg("text", { x: left - 6, y: top + k * cell + cell / 2 + 4, "text-anchor": "end", text: r }));
  });
  rows.forEach(function (r, i) {
    cols.forEach(function (c, j) {
      var x = left + j * cell, y = top + i * cell;
      var entry = cells[r + "\u0000" + c];
      if (!entry) {
        picture.appendChild(svg("rect", { x: x, y: y, width: cell - 2, height: cell - 2, fill: "#f0f2f5" }));
        return;
      }
      var t = high > low ? (entry.value - low) / (high - low) : 0.5;
      if (spec.higher === false) t = 1 - t;
      var rect = svg("rect", { x: x, y: y, width: cell - 2, height: cell - 2, fill: heatColor(t), "data-cell": r + "-" + c });
      rect.appendChild(svg("title", { text: entry.title }));
      picture.appendChild(rect);
      picture.appendChild(svg("text", { x: x + (cell - 2) / 2, y: y + cell / 2 + 2, "text-anchor": "middle",
        "pointer-events": "none", text: entry.label }));
    });
  });
  return el("figure", { cls: "heatmap" }, el("figcaption", { text: spec.caption }), picture);
}

// -- the text report's tables ------------------------------------------------------------------
function tableElement(table) {
  var head = el("tr", null, table.header.map(function (h) { return el("th", { text: h }); }));
  var rows = table.rows.map(function (row) {
    return el("tr", null, row.map(function (c, i) { return el("td", { cls: i ? "num" : null, text: c }); }));
  });
  return el("table", null, el("thead", null, head), el("tbody", null, rows));
}

// Printing shows every table: the folded ones ("All tables" opens only the first two) are opened
// for the print and folded again after it.
var unfoldedForPrint = [];
window.addEventListener("beforeprint", function () {
  var every = document.querySelectorAll("details");
  unfoldedForPrint = Array.prototype.filter.call(every, function (d) { return !d.open; });
  unfoldedForPrint.forEach(function (d) { d.open = true; });
});
window.addEventListener("afterprint", function () {
  unfoldedForPrint.forEach(function (d) { d.open = false; });
  unfoldedForPrint = [];
});

function drawTables() {
  var body = byId("tables-body");
  DATA.tables.forEach(function (table, k) {
    var details = el("details", { open: k < 2 || !DATA.runs.length ? true : null });
    details.appendChild(el("summary", { text: table.title }));
    details.appendChild(tableElement(table));
    table.notes.forEach(function (n) { details.appendChild(el("p", { cls: "note", text: n })); });
    body.appendChild(details);
  });
}
