/* The MT runs' views: overview, paired significance, direction heatmaps, the segment browser
   (one page of rows in the DOM at a time), the prompt dialog, buckets. */

// -- overview ----------------------------------------------------------------------------------
var SIG = {};   // metric -> direction -> row of the "runs compared" table
(DATA.significance || []).forEach(function (table) {
  SIG[table.metric] = {};
  table.rows.forEach(function (row) { if (!row.domain) SIG[table.metric][row.direction] = row; });
});

function costText(cost) {
  if (!cost) return "";
  var parts = [];
  if (cost.from_cache) parts.push("from the cache (made by an earlier pass; its cost was not recorded)");
  if (cost.seconds !== undefined) parts.push(fmt(cost.seconds, 1) + " s" + (cost.queue_directions === undefined ? "" :
    " (its share of a " + fmt(cost.queue_seconds, 1) + " s queue of " + cost.queue_directions + " directions)"));
  if (cost.candidates !== undefined) parts.push(cost.candidates + " candidates");
  if (cost.generated !== undefined) parts.push(cost.generated + " generated");
  if (cost.utility_evaluations !== undefined) parts.push(cost.utility_evaluations + " utility calls");
  if (cost.batches !== undefined) parts.push(cost.batches + (cost.batches === 1 ? " batch" : " batches"));
  if (cost.clipped_budgets !== undefined) parts.push(cost.clipped_budgets + " budgets clipped");
  if (cost.cut_at_budget !== undefined) parts.push(cost.cut_at_budget + " stopped at their budget");
  return parts.join(", ");
}

// Decimals a metric is shown with, as the text report shows it (4 for COMET's 0-1 scale, where
// systems differ in the third decimal); a sentence's score and a delta of one: one fewer.
function digitsOf(metric) { return (DATA.metrics[metric] || {}).digits || 2; }
function segmentDigits(metric) { return Math.max(1, digitsOf(metric) - 1); }

function scoreCell(runIndex, direction, metric) {
  var entry = direction.scores[metric];
  var td = el("td", { cls: "num" });
  if (!entry) return td;
  var digits = digitsOf(metric);
  td.appendChild(el("span", { cls: "score", title: entry.signature, text: fmt(entry.score, digits) }));
  if (entry.ci) td.appendChild(el("span", { cls: "ci", text: "95% [" + fmt(entry.ci[0], digits) + ", " + fmt(entry.ci[1], digits) + "]",
    title: DATA.intervals ? "percentile bootstrap interval: " + DATA.intervals.samples + " resamples of the segments, seed " +
      DATA.intervals.seed : null }));
  var row = SIG[metric] && SIG[metric][direction.name];
  if (runIndex > 0 && row) {
    var cell = row.cells[runIndex - 1];
    if (cell && cell.comparable && cell.p === null) {
      td.appendChild(el("span", { cls: "sub na", text: cell.judged_both ? cell.why : "no test (no score)" }));
    } else if (cell && cell.comparable) {
      var marked = !!cell.mark;   // PairedResult.verdict: p < 0.05 and a difference (p is shown rounded)
      td.appendChild(el("span", {
        cls: "sub" + (marked ? " " + (cell.mark || "") : ""),
        title: "paired " + (DATA.test.name === "ar" ? "approximate randomization" : "bootstrap") +
          " against " + DATA.runs[0].label + ": p = " + pfmt(cell.p),
        text: signed(cell.delta, digits) + " p=" + pfmt(cell.p) + (marked ? " *" : "") +
          (cell.judged_both ? " (on the " + cell.judged_both + " segments judged for both)" : "")
      }));
    } else if (cell) {
      td.appendChild(el("span", { cls: "sub na", text: "not comparable" }));
    }
  }
  return td;
}

function drawOverview() {
  var body = byId("overview-body");
  var metrics = Object.keys(DATA.metrics);
  DATA.runs.forEach(function (run, i) {
    body.appendChild(el("h3", { text: (i === 0 && DATA.runs.length > 1 ? "baseline: " : "") + run.label }));
    var meta = [run.model + (run.revision ? " (" + run.revision + ")" : ""), run.backend, run.data,
      run.template ? "template " + run.template : null, run.shots + "-shot", run.unit, run.select,
      run.created].filter(Boolean).join(" \u00b7 ");
    body.appendChild(el("p", { cls: "run-meta", text: meta, title: run.path }));
    if (run.data_note) body.appendChild(el("p", { cls: "note data-note", text: run.data_note }));
    if ((run.unfinished || []).length) {
      body.appendChild(el("p", { cls: "note warning", text: "not finished: " + run.unfinished.join(", ") +
        " (the run was stopped before it finished, or is being written)" }));
    }
    var head = el("tr", null, el("th", { text: "direction" }), el("th", { text: "n" }));
    metrics.forEach(function (m) {
      head.appendChild(el("th", { text: metricName(m) }));
      DATA.metrics[m].beside.forEach(function (title) { head.appendChild(el("th", { text: title })); });
    });
    head.appendChild(el("th", { text: "generation" }));
    var rows = run.directions.map(function (d) {
      var tr = el("tr", null, el("td", { text: d.name }), el("td", { cls: "num", text: d.n === null ? "" : d.n }));
      metrics.forEach(function (m) {
        tr.appendChild(scoreCell(i, d, m));
        var entry = d.scores[m];
        DATA.metrics[m].beside.forEach(function (_, k) {
          tr.appendChild(el("td", { cls: "num", text: entry ? fmt(entry.beside[k]) : "" }));
        });
      });
      var cost = costText(d.cost);
      if (d.realignment) {
        cost += (cost ? "; " : "") + d.realignment.failed_chunks + " of " + d.realignment.chunks + " chunks not realigned";
      }
      tr.appendChild(el("td", { text: cost }));
      return tr;
    });
    body.appendChild(el("table", { cls: "overview" }, el("thead", null, head), el("tbody", null, rows)));
  });
  var notes = ["Hover a score for its signature."];
  if (DATA.runs.length > 1) notes.push("Below a later run's score: its difference from " + DATA.runs[0].label +
    " and the paired test's p; * marks p < 0.05 (green: better, red: worse, in the metric's own direction).");
  if (metrics.indexOf("offtarget") >= 0) notes.push(DATA.offtarget_note);
  notes.forEach(function (n) { body.appendChild(el("p", { cls: "note", text: n })); });
  // the data's domains (WMT24++: news, social, speech, literary), as the text report has them
  DATA.tables.filter(function (t) { return / by domain$/.test(t.title); }).forEach(function (table) {
    body.appendChild(el("h4", { text: table.title }));
    body.appendChild(tableElement(table));
    table.notes.forEach(function (n) { body.appendChild(el("p", { cls: "note", text: n })); });
  });
}

function drawSignificance() {
  var body = byId("significance-body");
  if (!DATA.significance.length) {
    hideSection("significance");
    return;
  }
  DATA.significance.forEach(function (table) {
    body.appendChild(el("h3", { text: metricName(table.metric) }));
    var digits = digitsOf(table.metric);
    var head = el("tr", null, el("th", { text: "direction" }), table.runs.map(function (r) { return el("th", { text: r }); }));
    var rows = table.rows.map(function (row) {
      return el("tr", null, el("td", { text: row.label }), el("td", { cls: "num", text: fmt(row.base, digits) }),
        row.cells.map(function (c) {
          if (c === null) return el("td", { cls: "num na", text: "—" });
          if (!c.comparable) return el("td", { cls: "num na", text: (c.score === null ? "" : fmt(c.score, digits) + " ") + "(not comparable)" });
          if (c.p === null) return el("td", { cls: "num na", text: (c.score === null ? "n/a" : fmt(c.score, digits)) + " (" + (c.why || "no test") + ")" });
          var marked = !!c.mark;
          var judged = c.judged_both ? " on the " + c.judged_both + " segments judged for both" : "";
          return el("td", { cls: "num" + (marked ? " " + c.mark : ""), title: "p = " + pfmt(c.p),
            text: fmt(c.score, digits) + " (" + signed(c.delta, digits) + judged + ", p=" + pfmt(c.p) + ")" + (marked ? " " + c.mark + "*" : "") });
        }));
    });
    body.appendChild(el("table", null, el("thead", null, head), el("tbody", null, rows)));
    table.notes.forEach(function (n) { body.appendChild(el("p", { cls: "note", text: n })); });
  });
}

// The least score span a heatmap's colours run over: 1/100 of the metric's scale (1 point of
// BLEU's 0-100, 0.01 of COMET's 0-1, told apart by the 4 decimals such scores are shown with).
// The built-in metrics' scales: a heatmap's colours span at least 1/100 of one (99.37 vs 99.36 is
// no red-to-green difference); a metric of unknown scale (a plugin's, GEMBA-MQM's) gets no floor.
var METRIC_SCALES = { bleu: 100, spbleu: 100, chrf: 100, "chrf++": 100, ter: 100, offtarget: 100, "gemba-esa": 100,
  metricx: 25, "metricx-qe": 25, comet: 1, xcomet: 1, cometkiwi: 1, "cometkiwi-xl": 1, "xcomet-qe": 1 };

function heatmapMinSpan(metric) { return METRIC_SCALES.hasOwnProperty(metric) ? METRIC_SCALES[metric] / 100 : 0; }

function heatmap(run, metric) {
  var scored = run.directions.filter(function (d) { return d.scores[metric]; });
  if (scored.length < 2) return null;
  var langs = [], value = {};
  scored.forEach(function (d) {
    [d.src, d.tgt].forEach(function (l) { if (langs.indexOf(l) < 0) langs.push(l); });
    value[d.src + ">" + d.tgt] = d.scores[metric];
  });
  var higher = DATA.metrics[metric].higher;
  var minSpan = heatmapMinSpan(metric);
  return matrixFigure({
    rows: langs, cols: langs, colTitle: "target", higher: higher, minSpan: minSpan,
    caption: run.label + ": " + metricName(metric) + " (rows: source, columns: target)" + (higher ? "" : "; lower is better") +
      "; colours are relative within this matrix" + (minSpan ? ", over a score span of at least " + minSpan : ""),
    cellOf: function (src, tgt) {
      var entry = src === tgt ? null : value[src + ">" + tgt];
      return entry && { value: entry.score, label: fmt(entry.score, digitsOf(metric) > 2 ? 3 : entry.score >= 100 ? 0 : 1),
        title: src + "-" + tgt + ": " + metricName(metric) + " " + fmt(entry.score, digitsOf(metric)) + "\n" + entry.signature };
    }
  });
}

function drawHeatmaps() {
  var body = el("div", { cls: "heatmaps" });
  DATA.runs.forEach(function (run) {
    Object.keys(DATA.metrics).forEach(function (m) {
      var figure = heatmap(run, m);
      if (figure) body.appendChild(figure);
    });
  });
  if (!body.childNodes.length) {
    hideSection("heatmaps");
    return;
  }
  byId("heatmaps-body").appendChild(body);
}

// -- word differences --------------------------------------------------------------------------
function tokens(text, chars) {
  if (chars) return Array.from(text);
  return text.match(/\s+|\S+/g) || [];
}

function isSpace(token) { return /^\s+$/.test(token); }

// Longest common subsequence of the word tokens of a and b: which tokens of each are kept.
function commonTokens(a, b) {
  var wa = [], wb = [];
  a.forEach(function (t, i) { if (!isSpace(t)) wa.push(i); });
  b.forEach(function (t, i) { if (!isSpace(t)) wb.push(i); });
  var n = wa.length, m = wb.length;
  var keepA = new Uint8Array(a.length), keepB = new Uint8Array(b.length);
  if (n * m > 4000000) return null;   // too long to compare here
  var table = new Uint32Array((n + 1) * (m + 1));
  for (var i = n - 1; i >= 0; i--) {
    for (var j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] = a[wa[i]] === b[wb[j]] ? table[(i + 1) * (m + 1) + j + 1] + 1
        : Math.max(table[(i + 1) * (m + 1) + j], table[i * (m + 1) + j + 1]);
    }
  }
  i = 0; j = 0;
  while (i < n && j < m) {
    if (a[wa[i]] === b[wb[j]]) { keepA[wa[i]] = 1; keepB[wb[j]] = 1; i++; j++; }
    else if (table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1]) i++;
    else j++;
  }
  a.forEach(function (t, k) { if (isSpace(t)) keepA[k] = 1; });
  b.forEach(function (t, k) { if (isSpace(t)) keepB[k] = 1; });
  return [keepA, keepB];
}

function marked(tokenList, keep, tag) {
  var node = el("div", { cls: "text" });
  if (!keep) { node.textContent = tokenList.join(""); return node; }
  var run = [], changed = false;
  function flush() {
    if (!run.length) return;
    node.appendChild(changed ? el(tag, { text: run.join("") }) : document.createTextNode(run.join("")));
    run = [];
  }
  tokenList.forEach(function (t, k) {
    var isChanged = !keep[k];
    if (isSpace(t) && changed && k + 1 < tokenList.length && !keep[k + 1]) isChanged = true;
    if (isChanged !== changed) { flush(); changed = isChanged; }
    run.push(t);
  });
  flush();
  return node;
}

// -- segment browser ---------------------------------------------------------------------------
var SEG = DATA.segments;
var state = { direction: "", domain: "", flag: "", text: "", metric: "", key: "order", order: 1, page: 0, marks: "" };
var shown = null;   // the filtered, sorted rows (recomputed when a filter or the order changes)

function metricIndex(row, metric) { return SEG.directions[row.d].metrics.indexOf(metric); }

function sideScore(row, side, metric) {
  var k = metricIndex(row, metric);
  if (k < 0 || !row.sides[side]) return null;
  var v = row.sides[side].s[k];
  return v === null || v === undefined ? null : v;
}

function delta(row, metric) {
  var a = sideScore(row, 0, metric), b = sideScore(row, 1, metric);
  if (a === null || b === null) return null;
  return b - a;
}

var FLAGS = [
  ["", "any"],
  ["differ", "outputs differ"],
  ["same", "outputs identical"],
  ["off-a", "off-target: first run"],
  ["off-b", "off-target: second run"],
  ["off-any", "off-target: either run"],
  ["undetermined", "language undetermined"],
  ["unaligned", "not realigned (document mode)"],
  ["unverified", "prompt not verified"]
];

function flagged(row, flag) {
  var a = row.sides[0], b = row.sides[1];
  var both = b ? [a, b] : [a];
  switch (flag) {
    case "": return true;
    case "differ": return !!b && a.out !== b.out;
    case "same": return !!b && a.out === b.out;
    case "off-a": return a.off === 1;
    case "off-b": return !!b && b.off === 1;
    case "off-any": return both.some(function (s) { return s.off === 1; });
    case "undetermined": return both.some(function (s) { return s.off === 2; });
    case "unaligned": return both.some(function (s) { return !!s.unaligned; });
    case "unverified": return both.some(function (s) { return s.ok !== true; });
  }
  return true;
}

function matches(row) {
  if (state.direction !== "" && String(row.d) !== state.direction) return false;
  if (state.domain !== "" && row.dom !== state.domain) return false;
  if (!flagged(row, state.flag)) return false;
  if (state.text) {
    var q = foldText(state.text);
    var hay = [row.id, row.src, row.ref].concat(row.sides.map(function (s) { return s.out; }));
    if (!hay.some(function (h) { return foldText(h).indexOf(q) >= 0; })) return false;
  }
  return true;
}

function sortValue(row) {
  switch (state.key) {
    case "delta": return delta(row, state.metric);
    case "a": return sideScore(row, 0, state.metric);
    case "b": return sideScore(row, 1, state.metric);
    case "length": return row.ref.length;
    case "id": return row.id;
  }
  return row.n;
}

function compute() {
  var rows = SEG.rows.filter(matches);
  var order = state.order;
  rows.sort(function (x, y) {
    var a = sortValue(x), b = sortValue(y);
    if (a === b) return x.n - y.n;
    if (a === null) return 1;     // rows without a value last, whichever the order
    if (b === null) return -1;
    return (compareValues(a, b) || x.n - y.n) * order;
  });
  shown = rows;
}

function setupBrowser() {
  if (!SEG || !SEG.rows.length) {
    if (SEG && SEG.notes && SEG.notes.length) {   // every direction left out: say why, browse nothing
      byId("browser-summary").textContent = "No segments to browse.";
      SEG.notes.forEach(function (n) { byId("browser-summary").appendChild(el("span", { cls: "sub", text: n })); });
      byId("browser-controls").hidden = true;
      document.querySelector("#browser .pager").hidden = true;
      byId("segments").hidden = true;
    } else {
      hideSection("browser");
    }
    return;
  }
  SEG.rows.forEach(function (row, n) { row.n = n; });
  var two = SEG.runs.length > 1;
  var dirSelect = byId("filter-direction");
  dirSelect.appendChild(option("", "all (" + SEG.directions.length + ")"));
  SEG.directions.forEach(function (d, k) { dirSelect.appendChild(option(String(k), d.name)); });
  var domains = [];
  SEG.rows.forEach(function (r) { if (r.dom && domains.indexOf(r.dom) < 0) domains.push(r.dom); });
  var domSelect = byId("filter-domain");
  domSelect.appendChild(option("", "all"));
  domains.forEach(function (d) { domSelect.appendChild(option(d, d)); });
  if (!domains.length) byId("domain-label").hidden = true;
  var flagSelect = byId("filter-flag");
  FLAGS.forEach(function (f) {
    if (!two && ["differ", "same", "off-b"].indexOf(f[0]) >= 0) return;
    flagSelect.appendChild(option(f[0], f[1]));
  });
  var metrics = [];
  SEG.directions.forEach(function (d) { d.metrics.forEach(function (m) { if (metrics.indexOf(m) < 0) metrics.push(m); }); });
  var metricSelect = byId("sort-metric");
  metrics.forEach(function (m) { metricSelect.appendChild(option(m, metricName(m))); });
  state.metric = metrics.indexOf("chrf") >= 0 ? "chrf" : (metrics[0] || "");
  metricSelect.value = state.metric;
  var keySelect = byId("sort-key");
  [["order", "data order"], ["delta", "\u0394 (second \u2212 first)"], ["a", "first run's score"],
    ["b", "second run's score"], ["length", "reference length"], ["id", "id"]].forEach(function (k) {
    if (!two && (k[0] === "delta" || k[0] === "b")) return;
    keySelect.appendChild(option(k[0], k[1]));
  });
  var spanMetrics = [];
  SEG.directions.forEach(function (d) { (d.spans || []).forEach(function (m) { if (spanMetrics.indexOf(m) < 0) spanMetrics.push(m); }); });
  var marksSelect = byId("marks");
  if (two) marksSelect.appendChild(option("", "word differences"));
  else marksSelect.appendChild(option("", "none"));
  spanMetrics.forEach(function (m) { marksSelect.appendChild(option(m, m + " error spans")); });
  if (!spanMetrics.length) byId("marks-label").hidden = true;
  marksSelect.addEventListener("change", function () { state.marks = marksSelect.value; drawRows(); });
  function refilter() { state.page = 0; compute(); drawRows(); }
  dirSelect.addEventListener("change", function () { state.direction = dirSelect.value; refilter(); });
  domSelect.addEventListener("change", function () { state.domain = domSelect.value; refilter(); });
  flagSelect.addEventListener("change", function () { state.flag = flagSelect.value; refilter(); });
  metricSelect.addEventListener("change", function () { state.metric = metricSelect.value; drawHead(); refilter(); });
  keySelect.addEventListener("change", function () { state.key = keySelect.value; state.order = ["delta", "a", "b"].indexOf(state.key) >= 0 ? -1 : 1; drawHead(); refilter(); });
  var typing = null;
  byId("filter-text").addEventListener("input", function (event) {
    clearTimeout(typing);
    typing = setTimeout(function () { state.text = event.target.value; refilter(); }, 120);
  });
  byId("page-prev").addEventListener("click", function () { state.page--; drawRows(); });
  byId("page-next").addEventListener("click", function () { state.page++; drawRows(); });
  byId("prompt-close").addEventListener("click", function () { byId("prompt-dialog").close(); });
  var summary = SEG.runs.length > 1
    ? "The outputs of " + SEG.runs[0] + " (first) and " + SEG.runs[1] + " (second) on the same " + SEG.rows.length +
      " segments; words only in one output are highlighted. Sentence scores: BLEU with effective order, chrF, and " +
      "the scores the runs keep (model-based metrics)."
    : "The outputs of " + SEG.runs[0] + " (" + SEG.rows.length + " segments).";
  byId("browser-summary").textContent = summary;
  SEG.notes.forEach(function (n) { byId("browser-summary").appendChild(el("span", { cls: "sub", text: n })); });
  drawHead();
  compute();
  drawRows();
}

function sortHeader(label, key, title) {
  var th = el("th", { cls: "sortable", "data-sort": key, title: title || "sort by " + label, text: label });
  if (state.key === key) th.classList.add(state.order > 0 ? "sorted-asc" : "sorted-desc");
  th.setAttribute("aria-sort", state.key !== key ? "none" : state.order > 0 ? "ascending" : "descending");
  // reachable from the keyboard too (the only way to reverse an order): Tab to it, Enter or Space
  // (no role="button": a column header's aria-sort is what a screen reader announces)
  th.tabIndex = 0;
  th.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    th.click();
  });
  th.addEventListener("click", function () {
    if (state.key === key) state.order = -state.order;
    else { state.key = key; state.order = key === "delta" || key === "a" || key === "b" ? -1 : 1; }
    byId("sort-key").value = key;
    state.page = 0;
    var focused = document.activeElement === th;
    drawHead();   // (a new header row: the focus goes to this column's new header)
    compute();
    drawRows();
    var again = focused && document.querySelector('th.sortable[data-sort="' + key + '"]');
    if (again) again.focus();
  });
  return th;
}

function drawHead() {
  var two = SEG.runs.length > 1;
  var name = metricName(state.metric);
  var cols = el("colgroup", null, el("col", { cls: "c-id" }), el("col"), el("col"), two ? el("col") : null,
    two ? el("col", { cls: "c-delta" }) : null, el("col", { cls: "c-scores" }), el("col", { cls: "c-flags" }),
    el("col", { cls: "c-prompt" }));
  var old = byId("segments").querySelector("colgroup");
  if (old) old.remove();
  byId("segments").insertBefore(cols, byId("segments-head"));
  var tr = el("tr", null,
    sortHeader("#", "order", "data order"),
    el("th", { text: "source / reference" }),
    two ? sortHeader(SEG.runs[0], "a", "sort by the first run's " + name) : el("th", { text: SEG.runs[0] }),
    two ? sortHeader(SEG.runs[1], "b", "sort by the second run's " + name) : null,
    two ? sortHeader("\u0394 " + name, "delta", "sort by the second run's " + name + " minus the first's") : null,
    el("th", { text: "sentence scores" }),
    el("th", { text: "flags" }),
    el("th", { text: "prompt" }));
  byId("segments-head").replaceChildren(tr);
}

function flagsOf(side, label) {
  var out = [];
  if (side.off === 1) out.push(el("span", { cls: "flag off", title: label + ": off-target (" + (side.lang === "empty" ? "empty output" : "output language " + (side.lang || "?")) + ")", text: label + " off-target" }));
  if (side.off === 2) out.push(el("span", { cls: "flag und", title: label + ": language undetermined", text: label + " undetermined" }));
  if (side.unaligned) out.push(el("span", { cls: "flag unaligned", title: label + ": its document chunk could not be split back into segments", text: label + " not realigned" }));
  if (side.ok === false) out.push(el("span", { cls: "flag off", title: label + ": the rebuilt prompt does not hash to the record's prompt_hash", text: label + " prompt?" }));
  return out;
}

function drawRows() {
  var rows = shown;
  var pages = Math.max(1, Math.ceil(rows.length / PAGE));
  state.page = Math.min(Math.max(0, state.page), pages - 1);
  var start = state.page * PAGE, stop = Math.min(rows.length, start + PAGE);
  byId("page-info").textContent = rows.length ? "rows " + (start + 1) + "\u2013" + stop + " of " + rows.length +
    (rows.length !== SEG.rows.length ? " (of " + SEG.rows.length + ")" : "") : "0 rows";
  byId("page-prev").disabled = state.page === 0;
  byId("page-next").disabled = state.page >= pages - 1;
  byId("segments-empty").hidden = rows.length > 0;
  var two = SEG.runs.length > 1;
  var body = document.createDocumentFragment();
  rows.slice(start, stop).forEach(function (row) {
    var dir = SEG.directions[row.d];
    var a = row.sides[0], b = row.sides[1];
    var outA, outB;
    if (state.marks) {
      outA = spansCell(a, state.marks);
      outB = two ? spansCell(b, state.marks) : null;
    } else if (two) {
      var ta = tokens(a.out, dir.chars), tb = tokens(b.out, dir.chars);
      var keep = a.out === b.out ? null : commonTokens(ta, tb);
      outA = marked(ta, keep && keep[0], "del");
      outB = marked(tb, keep && keep[1], "ins");
    } else {
      outA = el("div", { cls: "text", text: a.out });
    }
    var idCell = el("td", null, el("span", { cls: "seg-id", text: row.id }), el("span", { cls: "sub", text: dir.name }),
      row.dom ? el("span", { cls: "sub", text: row.dom }) : null,
      row.doc ? el("span", { cls: "sub", title: "document", text: row.doc }) : null);
    var scores = el("td", { cls: "scores" });
    dir.metrics.forEach(function (m, k) {
      var va = a.s[k], vb = b ? b.s[k] : null;
      var line = metricName(m) + " " + fmt(va, segmentDigits(m)) + (b ? " \u2192 " + fmt(vb, segmentDigits(m)) : "");
      scores.appendChild(el("span", { cls: "sub", text: line }));
    });
    var d = two ? delta(row, state.metric) : null;
    var better = d !== null && d !== 0 && (d > 0) === (DATA.metrics[state.metric] ? DATA.metrics[state.metric].higher : true);
    var tr = el("tr", { "data-n": row.n },
      idCell,
      el("td", null, el("span", { cls: "label", text: "source" }), el("div", { cls: "text src", text: row.src }),
        el("span", { cls: "label", text: "reference" }), el("div", { cls: "text ref", text: row.ref })),
      el("td", null, outA),
      two ? el("td", null, outB) : null,
      two ? el("td", { cls: "num delta" + (d ? (better ? " better" : " worse") : ""), text: d === null ? "" : signed(d, segmentDigits(state.metric)) }) : null,
      scores,
      el("td", null, flagsOf(a, two ? "1st" : ""), b ? flagsOf(b, "2nd") : null),
      el("td", null, el("button", { type: "button", cls: "show-prompt", onclick: function () { openPrompt(row); }, text: "prompt" })));
    body.appendChild(tr);
  });
  byId("segments-body").replaceChildren(body);
  document.body.setAttribute("data-rows-drawn", String(stop - start));
}

// An output with one metric's error spans marked, and the errors it could not place below.
function spansCell(side, metric) {
  var spans = side.err ? side.err[metric] : null;
  var lost = side.lost ? side.lost[metric] : null;
  return el("div", { cls: "text" + (spans || lost ? " has-spans" : "") }, spanNodes(side.out, spans || []),
    lost ? unplacedList(lost) : null);
}

// A prompt that was sent: its hash check, its messages and the model's input, rebuilt.
function drawSentPrompt(section, view, side, row) {
  var check = side.ok === true ? "the rebuilt prompt hashes to it" : side.ok === false
    ? "the rebuilt prompt does NOT hash to it" : "not checked";
  section.appendChild(el("p", { cls: "note" }, "prompt_hash ", el("code", { text: side.hash || "(none)" }), " \u2014 " + check));
  // A document's chunk has its own prompt, written out whole; a segment's is filled in here.
  var chunk = view.chunks && side.chunk !== undefined ? view.chunks[String(side.chunk)] : null;
  var messages = chunk ? chunk.messages : view.messages;
  var source = chunk ? null : row.src;
  if (messages) {
    section.appendChild(el("span", { cls: "label", text: "messages" }));
    messages.forEach(function (m) {
      section.appendChild(el("div", { cls: "role", text: m[0] }));
      section.appendChild(el("pre", { cls: "prompt", text: source === null ? m[1] : fill(m[1], source) }));
    });
  }
  var exact = !chunk && view.exact && view.exact[String(row.i)];
  var input = chunk ? chunk.input : view.input;
  if (exact || input) {
    section.appendChild(el("span", { cls: "label", text: "the model's input" }));
    section.appendChild(el("pre", { cls: "prompt model-input", text: exact || (source === null ? input : fill(input, source)) }));
  }
}

function openPrompt(row) {
  var dir = SEG.directions[row.d];
  var body = byId("prompt-body");
  body.replaceChildren();
  byId("prompt-title").textContent = "Prompt: " + row.id + " (" + dir.name + ")";
  row.sides.forEach(function (side, k) {
    var view = dir.prompts[k] || {};
    var section = el("section", { cls: "prompt-side" }, el("h3", { text: SEG.runs[k] }));
    section.appendChild(el("p", { cls: "note", text: view.status || "" }));
    if (view.template) section.appendChild(el("p", { cls: "note", text: "template " + view.template + ", " + (view.shots || 0) + " demonstration(s)" }));
    if (side.unsent) {   // (as `xling prompt` says it: no prompt was made, none to show or check)
      section.appendChild(el("p", { cls: "note unsent", text: "its source is blank: it was not sent to the model" +
        (side.chunk !== undefined ? "; its document chunk's numbered prompt leaves it out" : "") +
        ", and its output is empty" }));
    } else {
      drawSentPrompt(section, view, side, row);
    }
    if (side.chosen) {   // as `xling prompt` says it
      var score = typeof side.chosen.score === "number" ? fmt(side.chosen.score, 4) : "n/a";
      section.appendChild(el("p", { cls: "note chosen", text: "chosen: candidate " + side.chosen.index + " of " +
        side.chosen.of + " (" + side.chosen.select + "; " + (side.chosen.select === "mbr" ? "expected utility " : "QE score ") +
        score + "; the records hold every candidate and its score)" }));
    }
    section.appendChild(el("span", { cls: "label", text: "raw answer" }));
    section.appendChild(el("pre", { cls: "prompt raw", text: side.raw !== undefined ? side.raw : side.out }));
    if (side.removed) section.appendChild(el("p", { cls: "note", text: "cleaning removed: " + JSON.stringify(side.removed) }));
    if (side.chunk !== undefined) {
      section.appendChild(el("p", { cls: "note", text: "document chunk " + side.chunk + (side.unaligned
        ? ": its answer could not be split back into segments, so this segment's output is empty" : "") }));
      var chunkRaw = dir.chunks && dir.chunks[k] ? dir.chunks[k][String(side.chunk)] : undefined;
      if (chunkRaw !== undefined) {
        section.appendChild(el("span", { cls: "label", text: "the chunk's raw answer" }));
        section.appendChild(el("pre", { cls: "prompt chunk-raw", text: chunkRaw }));
      }
    }
    body.appendChild(section);
  });
  var dialog = byId("prompt-dialog");
  if (!dialog.open) dialog.showModal();
}

// -- buckets -----------------------------------------------------------------------------------
// One analysis of one direction (DATA.buckets.directions[d].analyses[a]), for one measure.
function drawBucket() {
  var entry = DATA.buckets.directions[Number(byId("bucket-direction").value)];
  var analysis = entry.analyses[Number(byId("bucket-analysis").value)];
  var measures = Object.keys(analysis.values);
  var measureSelect = byId("bucket-measure");
  if (measureSelect.getAttribute("data-measures") !== measures.join("\n")) {   // this direction's and analysis's
    var kept = measureSelect.value;
    measureSelect.replaceChildren();
    measures.forEach(function (m) { measureSelect.appendChild(option(m, m)); });
    if (measures.indexOf(kept) >= 0) measureSelect.value = kept;
    measureSelect.setAttribute("data-measures", measures.join("\n"));
  }
  var measure = measureSelect.value || measures[0];
  var runs = DATA.buckets.runs;
  var values = analysis.values[measure] || [];
  var bucketDigits = (analysis.digits || {})[measure] || 2;
  var body = byId("buckets-body");
  body.replaceChildren();
  if (!measures.length) {
    body.appendChild(el("p", { cls: "note", text: "No metric of these runs can be split into buckets." }));
    return;
  }
  var head = el("tr", null, el("th", { text: analysis.unit }), el("th", { text: analysis.count_unit }),
    runs.map(function (r) { return el("th", { text: measure + " " + r }); }));
  var rows = analysis.labels.map(function (label, b) {
    return el("tr", { "data-bucket": label }, el("td", { text: label }), el("td", { cls: "num", text: analysis.counts[b] }),
      runs.map(function (_, r) { return el("td", { cls: "num", text: values[r] ? fmt(values[r][b], bucketDigits) : "" }); }));
  });
  var step = runs.length * 16 + 20;
  var width = 60 + analysis.labels.length * step, height = 170, base = 140;
  // the value range drawn, 0 included: scores below 0 (GEMBA-MQM's penalties) hang below the axis
  var low = 0, high = 0;
  values.forEach(function (s) { (s || []).forEach(function (v) {
    if (v === null || v === undefined || !isFinite(v)) return;
    if (v > high) high = v;
    if (v < low) low = v;
  }); });
  if (high === low) high = low + 1;
  var top = 24;
  function yOf(v) { return top + ((high - v) / (high - low)) * (base - top); }
  var zero = yOf(0);
  var chart = svg("svg", { width: width, height: height + 20, role: "img", "aria-label": measure + " " + analysis.title });
  chart.appendChild(svg("line", { x1: 40, y1: zero, x2: width - 10, y2: zero, stroke: "#9aa3b2" }));
  chart.appendChild(svg("text", { x: 4, y: 14, text: measure + (low < 0 ? " (" + fmt(low, 1) + " to " + fmt(high, 1) + ")" :
    " (max " + fmt(high, 1) + ")") + (analysis.higher[measure] === false ? "; lower is better" : "") }));
  analysis.labels.forEach(function (label, b) {
    var x0 = 46 + b * step;
    runs.forEach(function (run, r) {
      var v = values[r] ? values[r][b] : null;
      if (v === null || v === undefined || !isFinite(v)) return;
      var h = Math.max(1, Math.abs(yOf(v) - zero));
      var bar = svg("rect", { x: x0 + r * 16, y: v >= 0 ? zero - h : zero, width: 14, height: h, fill: runColor(r) });
      bar.appendChild(svg("title", { text: run + ", " + label + ": " + measure + " " + fmt(v, bucketDigits) + " (" +
        analysis.counts[b] + " " + analysis.count_unit + ")" }));
      chart.appendChild(bar);
    });
    chart.appendChild(svg("text", { x: x0 + (runs.length * 16) / 2, y: base + 14, "text-anchor": "middle", text: label }));
  });
  var legend = el("p", { cls: "note" }, runs.map(function (r, i) {
    var swatch = svg("svg", { width: 10, height: 10 }, svg("rect", { width: 10, height: 10, fill: runColor(i) }));
    return el("span", { cls: "legend" }, swatch, " " + r + "  ");
  }));
  body.appendChild(el("table", null, el("thead", null, head), el("tbody", null, rows)));
  body.appendChild(chart);
  body.appendChild(legend);
  body.appendChild(el("p", { cls: "note", text: analysis.note }));
}

function setupBuckets() {
  if (!DATA.buckets || !DATA.buckets.directions.length) {
    hideSection("buckets");
    return;
  }
  var select = byId("bucket-direction");
  DATA.buckets.directions.forEach(function (d, k) { select.appendChild(option(String(k), d.name)); });
  var analyses = byId("bucket-analysis");
  DATA.buckets.directions[0].analyses.forEach(function (a, k) { analyses.appendChild(option(String(k), a.title)); });
  [select, analyses, byId("bucket-measure")].forEach(function (s) { s.addEventListener("change", drawBucket); });
  drawBucket();
}

