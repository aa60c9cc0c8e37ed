/* The page of `xling meta-eval -o DIR` (DIR/report.html): DATA.report is report.json as written;
   DATA.columns the table's measures, DATA.metrics each metric's display name. Every number shown
   is report.json's; every text goes in as text. */

var REPORT = DATA.report;
var NAMES = Object.keys(REPORT.metrics);
var SYSTEMS = REPORT.systems;
var TESTS = REPORT.significance || {};
var COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"];
var marked = {};   // system index -> its marks (table rows, points), lit together on hover

// A permutation test's p cannot be told below 1 / permutations: a 0 reads "p<" that, and is
// significant only where that is below 0.05 (as the text table).
function permFloor(p) { return Math.max(p, 1 / REPORT.samples); }
function isSignificant(p) { return permFloor(p) < 0.05; }
function permText(p) {
  return (p < permFloor(p) ? "p<" + pfmt(permFloor(p)) : "p=" + pfmt(p)) + (isSignificant(p) ? "*" : "");
}

function section(id, title) {
  var node = el("section", { id: id }, el("h2", { text: title }));
  byId("main").appendChild(node);
  byId("nav").appendChild(el("a", { href: "#" + id, text: title }));
  return node;
}

function precise(value) { return typeof value === "number" && isFinite(value) ? String(value) : "undefined"; }

function significant(value) {   // as Python's "%.4g"
  if (typeof value !== "number" || !isFinite(value)) return "";
  return String(Number(value.toPrecision(4)));
}

function markSystem(k, node) {
  (marked[k] = marked[k] || []).push(node);
  node.addEventListener("mouseenter", function () { light(k, true); });
  node.addEventListener("mouseleave", function () { light(k, false); });
}

function light(k, on) {
  (marked[k] || []).forEach(function (node) { node.classList.toggle("lit", on); });
}

// The p-value of a tested measure for a metric: a number, null for the best metric, undefined
// where the measure is not tested.
function pValue(column, name) {
  var tested = TESTS[column.level + "_" + column.measure];
  if (!tested || !(name in tested)) return undefined;
  return tested[name];
}

function bestOf(column) {
  var tested = TESTS[column.level + "_" + column.measure];
  if (!tested) return null;
  var best = null;
  NAMES.forEach(function (name) {
    if (name in tested && tested[name] === null && REPORT.metrics[name][column.level][column.measure] !== null) best = name;
  });
  return best;
}

// -- overview --------------------------------------------------------------------------------
function drawOverview() {
  var body = section("overview", "Data");
  var rows = [
    ["data", REPORT.data],
    ["reference", REPORT.reference + " (its texts are the metrics' reference; it is not scored)"],
    ["target language", REPORT.tgt_lang],
    ["systems", [SYSTEMS.length + ": ", isolatedNames(SYSTEMS)]],
    ["segments", REPORT.segments + " translated by every system and the reference, each rated for at least one system" +
      (typeof REPORT.data_segments === "number" ? " (of " + REPORT.data_segments + " in the data)" : "") +
      (typeof REPORT.rated_cells === "number" ? "; " + REPORT.rated_cells + " of " + REPORT.segments * SYSTEMS.length +
        " system-segment cells rated (a cell without a human score is left out of every measure)" : "")],
    (REPORT.unrated_systems || []).length ? ["left out", [isolatedNames(REPORT.unrated_systems), " (no human score)"]] : null,
    (REPORT.excluded_systems || []).length ? ["left out by --exclude", isolatedNames(REPORT.excluded_systems)] : null,
    (REPORT.human_systems || []).length ? ["human translations scored as systems", isolatedNames(REPORT.human_systems)] : null,
    ["metrics", NAMES.map(metricName).join(", ")],
    ["permutations", REPORT.samples + " (seed " + REPORT.seed + ")"]
  ];
  rows = rows.filter(function (row) { return row; });
  body.appendChild(el("table", { id: "facts", cls: "facts" }, el("tbody", null, rows.map(function (row) {
    return el("tr", { "data-fact": row[0] }, el("th", { text: row[0] }), el("td", null, row[1]));
  }))));
}

// -- the agreement table ---------------------------------------------------------------------
function drawAgreement() {
  var body = section("agreement", "Agreement with the human judgments");
  var head = el("tr", null, el("th", { text: "metric" }), DATA.columns.map(function (c) {
    return el("th", { cls: "num", title: c.name, text: c.label });
  }), el("th", { cls: "num", title: "acc_eq's tie threshold: metric differences up to it count as ties", text: "eps" }));
  var rows = NAMES.map(function (name) {
    var cells = DATA.columns.map(function (c) { return agreementCell(name, c); });
    var epsilon = REPORT.metrics[name].segment.epsilon;
    var eps = el("td", { cls: "num", "data-measure": "segment_epsilon",
      "data-value": typeof epsilon === "number" ? String(epsilon) : null,
      title: "acc_eq's tie threshold: " + precise(epsilon) }, epsilon === null ? el("span", { cls: "na", text: "n/a" }) : significant(epsilon));
    return el("tr", { "data-metric": name }, el("th", { text: metricName(name) }), cells, eps);
  });
  body.appendChild(el("table", { id: "agreement-table", cls: "agreement" }, el("thead", null, head), el("tbody", null, rows)));
  DATA.notes.forEach(function (n) { body.appendChild(el("p", { cls: "note", text: n })); });
}

function agreementCell(name, column) {
  var value = REPORT.metrics[name][column.level][column.measure];
  var key = column.level + "_" + column.measure;
  var cell = el("td", { cls: "num", "data-measure": key });
  if (value === null) {
    cell.appendChild(el("span", { cls: "na", text: "n/a" }));
    cell.setAttribute("title", metricName(name) + ", " + column.name + ": undefined (the metric, or the human scores, give every system or segment the same score)");
    return cell;
  }
  cell.setAttribute("data-value", String(value));
  cell.appendChild(el("span", { cls: "value", text: fmt(value, 3) }));
  var title = metricName(name) + ", " + column.name + ": " + precise(value);
  var p = pValue(column, name);
  if (p === null) {
    cell.appendChild(el("span", { cls: "mark best", text: "best" }));
    cell.classList.add("is-best");
    title += "; the best metric by this measure, which the others are tested against";
  } else if (typeof p === "number") {
    cell.setAttribute("data-p", String(p));
    cell.appendChild(el("span", { cls: isSignificant(p) ? "mark p sig" : "mark p", text: permText(p) }));
    title += "; p = " + precise(p) + " against " + metricName(bestOf(column)) + " (one-sided paired permutation test" +
      (isSignificant(p) ? ": worse at p < 0.05)" : ")");
  }
  cell.setAttribute("title", title);
  return cell;
}

// -- the heatmap -----------------------------------------------------------------------------
// One fixed scale, -1 to 1 with 0 for no agreement, as agreement.png draws it: a correlation as
// it is, an accuracy (a share of pairs ordered right, 0.5 by chance) as 2 acc - 1.
var AGREEMENT_ACCURACIES = ["pairwise_accuracy", "soft_pairwise_accuracy", "acc_eq"];

function agreementShade(measure, v) {
  var x = AGREEMENT_ACCURACIES.indexOf(measure) >= 0 ? 2 * v - 1 : v;
  return Math.max(0, Math.min(1, (x + 1) / 2));
}

function drawHeatmap() {
  var body = section("heatmap", "Metrics x measures");
  var longest = Math.max.apply(null, NAMES.map(function (n) { return metricName(n).length; }));
  var cw = 82, ch = 30, left = Math.max(50, 7 * longest + 16), top = 44;
  var width = left + DATA.columns.length * cw + 8, height = top + NAMES.length * ch + 52;
  var picture = svg("svg", { id: "heatmap-svg", width: width, height: height, viewBox: "0 0 " + width + " " + height,
    role: "img", "aria-label": "agreement of each metric with the human judgments, by measure" });
  [["system", "system level (one score per system)"], ["segment", "segment level (sentence scores)"]].forEach(function (group) {
    var at = [];
    DATA.columns.forEach(function (c, j) { if (c.level === group[0]) at.push(j); });
    if (!at.length) return;
    var x0 = left + at[0] * cw, x1 = left + (at[at.length - 1] + 1) * cw - 2;
    picture.appendChild(svg("line", { x1: x0, x2: x1, y1: 18, y2: 18, stroke: "#5d6677" }));
    picture.appendChild(svg("text", { x: (x0 + x1) / 2, y: 13, "text-anchor": "middle", text: group[1] }));
  });
  DATA.columns.forEach(function (c, j) {
    picture.appendChild(svg("text", { x: left + j * cw + cw / 2, y: top - 8, "text-anchor": "middle", text: c.label },
      svg("title", { text: c.name })));
  });
  NAMES.forEach(function (name, i) {
    var y = top + i * ch;
    picture.appendChild(svg("text", { x: left - 8, y: y + ch / 2 + 4, "text-anchor": "end", text: metricName(name) }));
    DATA.columns.forEach(function (c, j) {
      var x = left + j * cw, v = REPORT.metrics[name][c.level][c.measure];
      var t = v === null ? null : agreementShade(c.measure, v);
      var p = pValue(c, name);
      var tip = metricName(name) + ", " + c.name + ": " + (v === null ? "undefined" : precise(v)) +
        (p === null && v !== null ? " (best)" : typeof p === "number" ? " (" + permText(p) + " against the best)" : "");
      var rect = svg("rect", { x: x, y: y, width: cw - 2, height: ch - 2, fill: t === null ? "#f0f2f5" : heatColor(t),
        "data-cell": name + "|" + c.level + "_" + c.measure, "data-value": v === null ? null : String(v) }, svg("title", { text: tip }));
      picture.appendChild(rect);
      picture.appendChild(svg("text", { x: x + (cw - 2) / 2, y: y + ch / 2 + 3, "text-anchor": "middle", "pointer-events": "none",
        cls: v === null ? "na" : null, text: v === null ? "n/a" : fmt(v, 3) + (typeof p === "number" && isSignificant(p) ? "*" : "") }));
    });
  });
  // the colour scale: five steps of r (or tau) from -1 to 1, with the accuracy each stands for
  var ly = top + NAMES.length * ch + 14;
  picture.appendChild(svg("text", { x: left - 8, y: ly + 13, "text-anchor": "end", text: "r / acc" }));
  for (var k = 0; k < 5; k++) {
    var r = -1 + k / 2;
    picture.appendChild(svg("rect", { x: left + k * cw, y: ly, width: cw - 2, height: 18, fill: heatColor(k / 4), cls: "legend" }));
    picture.appendChild(svg("text", { x: left + k * cw + (cw - 2) / 2, y: ly + 13, "text-anchor": "middle",
      text: fmt(r, 1) + " / " + fmt((r + 1) / 2, 2) }));
  }
  body.appendChild(el("figure", { cls: "heatmap" }, el("figcaption", {
    text: "Each metric's agreement with the human judgments (" + REPORT.segments + " segments, " + SYSTEMS.length +
      " systems), on one scale: a correlation from -1 to 1, an accuracy from 0 to 1 (0.5 is chance, coloured as " +
      "r = 0); higher is better; * p < 0.05 against the best metric."
  }), picture));
}

// -- metric vs human system scores -----------------------------------------------------------
function ticks(low, high, count) {   // round values between low and high, at most count + 1
  var raw = (high - low) / count, base = Math.pow(10, Math.floor(Math.log10(raw)));
  var step = [1, 2, 5, 10].map(function (m) { return m * base; }).filter(function (s) { return s >= raw; })[0];
  var out = [];
  for (var k = Math.ceil(low / step); k * step <= high; k++) out.push(k === 0 ? 0 : k * step);
  return { values: out, digits: Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) };
}

function extent(values) {
  var low = Math.min.apply(null, values), high = Math.max.apply(null, values);
  var pad = high > low ? (high - low) * 0.06 : Math.max(Math.abs(low) * 0.05, 0.5);
  return [low - pad, high + pad];
}

function drawScatters() {
  var body = section("scatter", "Metric vs human system scores");
  body.appendChild(el("p", { cls: "note", text: "One point per system (hover for its name and scores). Metric scores as report.json " +
    "holds them: oriented so that higher is better (scores where lower is better are negated), like the human scores." }));
  var human = REPORT.human.system;
  var xs = SYSTEMS.map(function (s) { return human[s]; });
  var xr = extent(xs), xt = ticks(xr[0], xr[1], 5);
  var panels = el("div", { cls: "panels" });
  NAMES.forEach(function (name, k) {
    var scores = REPORT.metric_system_scores[name];
    var ys = SYSTEMS.map(function (s) { return scores[s]; });
    var yr = extent(ys), yt = ticks(yr[0], yr[1], 5);
    var w = 300, h = 260, left = 56, right = 10, top = 26, bottom = 42;
    var pw = w - left - right, ph = h - top - bottom;
    function px(v) { return left + (v - xr[0]) / (xr[1] - xr[0]) * pw; }
    function py(v) { return top + ph - (v - yr[0]) / (yr[1] - yr[0]) * ph; }
    var r = REPORT.metrics[name].system.pearson;
    var picture = svg("svg", { width: w, height: h, viewBox: "0 0 " + w + " " + h, role: "img", "data-metric": name,
      cls: "scatter", "aria-label": metricName(name) + " system scores against the human system scores" });
    picture.appendChild(svg("text", { x: left + pw / 2, y: 14, "text-anchor": "middle", cls: "panel-title",
      text: metricName(name) + " (r = " + (r === null ? "n/a" : fmt(r, 2)) + ")" }));
    picture.appendChild(svg("rect", { x: left, y: top, width: pw, height: ph, fill: "none", stroke: "#d9dee7" }));
    xt.values.forEach(function (v) {
      picture.appendChild(svg("line", { x1: px(v), x2: px(v), y1: top + ph, y2: top + ph + 4, stroke: "#5d6677" }));
      picture.appendChild(svg("text", { x: px(v), y: top + ph + 15, "text-anchor": "middle", text: fmt(v, xt.digits) }));
    });
    yt.values.forEach(function (v) {
      picture.appendChild(svg("line", { x1: left - 4, x2: left, y1: py(v), y2: py(v), stroke: "#5d6677" }));
      picture.appendChild(svg("text", { x: left - 6, y: py(v) + 4, "text-anchor": "end", text: fmt(v, yt.digits) }));
    });
    picture.appendChild(svg("text", { x: left + pw / 2, y: h - 6, "text-anchor": "middle", text: "human system score" }));
    picture.appendChild(svg("text", { x: 12, y: top + ph / 2, "text-anchor": "middle",
      transform: "rotate(-90 12 " + (top + ph / 2) + ")", text: metricName(name) + " system score" }));
    SYSTEMS.forEach(function (s, i) {
      var point = svg("circle", { cx: px(human[s]), cy: py(scores[s]), r: 4.5, fill: COLORS[k % COLORS.length],
        stroke: "#000", "stroke-width": 0.5, cls: "point", "data-system": s },
        svg("title", { text: s + "\nhuman " + fmt(human[s], 3) + ", " + metricName(name) + " " + fmt(scores[s], DATA.metrics[name].digits) }));
      markSystem(i, point);
      picture.appendChild(point);
    });
    panels.appendChild(el("figure", { cls: "panel" }, picture));
  });
  body.appendChild(panels);
}

// -- the human scores ------------------------------------------------------------------------
function ranks(values) {   // system -> rank, 1 = the highest score; equal scores share a rank
  var out = Object.create(null);   // (a system named "__proto__" gets its rank)
  SYSTEMS.forEach(function (s) {
    out[s] = 1 + SYSTEMS.filter(function (t) { return values[t] > values[s]; }).length;
  });
  return out;
}

function drawHuman() {
  var body = section("human", "Human system scores");
  var human = REPORT.human.system, intervals = REPORT.human.interval || {};
  var order = SYSTEMS.slice().sort(function (a, b) { return human[b] - human[a]; });
  var humanRanks = ranks(human), metricRanks = Object.create(null);
  NAMES.forEach(function (name) { metricRanks[name] = ranks(REPORT.metric_system_scores[name]); });
  var head = el("tr", null, el("th", { text: "rank" }), el("th", { text: "system" }), el("th", { cls: "num", text: "human" }),
    el("th", { cls: "num", text: "95% interval" }), NAMES.map(function (name) {
      return el("th", { cls: "num", title: metricName(name) + " system score (higher is better) and its rank", text: metricName(name) + " (rank)" });
    }));
  var rows = order.map(function (s) {
    var ci = intervals[s];
    var row = el("tr", { "data-system": s },
      el("td", { cls: "num", text: String(humanRanks[s]) }),
      el("td", { cls: "system", text: s }),
      el("td", { cls: "num", "data-value": String(human[s]), title: precise(human[s]), text: fmt(human[s], 3) }),
      el("td", { cls: "num ci-cell", "data-low": ci ? String(ci[0]) : null, "data-high": ci ? String(ci[1]) : null,
        text: ci ? "[" + fmt(ci[0], 3) + ", " + fmt(ci[1], 3) + "]" : "" }),
      NAMES.map(function (name) {
        var v = REPORT.metric_system_scores[name][s];
        return el("td", { cls: "num", "data-metric": name, "data-value": String(v), title: precise(v),
          text: fmt(v, DATA.metrics[name].digits) + " (" + metricRanks[name][s] + ")" });
      }));
    markSystem(SYSTEMS.indexOf(s), row);
    return row;
  });
  body.appendChild(el("table", { id: "human-table" }, el("thead", null, head), el("tbody", null, rows)));
  var source = REPORT.human.system_source || "the mean of each system's rated segments";
  body.appendChild(el("p", { cls: "note", text: "Human scores: " + source + " (higher is better; MQM negated). " +
    "95% interval of the mean of each system's rated segments: bootstrap over them, " + REPORT.samples + " resamples, seed " +
    REPORT.seed + " (percentile). Hover a row to find the system in the scatter plots." }));
}

// -- signatures ------------------------------------------------------------------------------
function drawSignatures() {
  var body = section("signatures", "Signatures");
  var rows = NAMES.map(function (name) {
    return el("tr", { "data-metric": name }, el("th", { text: metricName(name) }),
      el("td", null, el("code", { cls: "signature", text: REPORT.signatures[name] || "" })));
  });
  body.appendChild(el("table", { id: "signatures-table" }, el("tbody", null, rows)));
}

drawOverview();
drawAgreement();
drawHeatmap();
drawScatters();
drawHuman();
drawSignatures();
byId("footer").textContent = "Made by xling " + DATA.xling + " (xling meta-eval). Everything on this page is in this one file; " +
  "its numbers are those of report.json beside it.";
document.body.setAttribute("data-ready", String(performance.now()));
