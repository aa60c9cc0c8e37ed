/* The NLI / multiple-choice runs' view (DATA.choice, made by html_choice.choice_data): accuracy
   by cell with its 95% interval (table and bars), paired tests against the first run, confusion
   matrices and predicted-label shares, the premise x hypothesis heatmap, and an item browser (one
   page of rows in the DOM at a time) whose prompt dialog shows what `xling prompt` prints. The
   items come gzip-compressed; the browser's own DecompressionStream inflates them. Every name
   here starts with "choice" (the page's scripts share one function scope). */

var CHOICE_MODES = { ll: "log-likelihood", gen: "generation" };
var CHOICE_FIRST_SLOT = 0xE100;
var CHOICE_ITEMS = null;      // the inflated items: cells, schemas, prompts, rows
var choiceState = { cell: "", mode: "", outcome: "", text: "", gold: "", pred: "", sort: "order", page: 0 };
var choiceShown = [];

function choiceRuns() { return DATA.choice.runs; }

// What a crossed cell's second language is: the hypothesis (NLI) or the options (a COPA cell's
// alternatives).
function choiceSecond(run) { return run.task === "nli" ? "hypothesis" : "options"; }

function choiceCell(run, name) {
  for (var i = 0; i < run.cells.length; i++) if (run.cells[i].name === name) return run.cells[i];
  return null;
}

function choiceCellNames(mode) {
  var names = [];
  choiceRuns().forEach(function (run) {
    run.cells.forEach(function (c) {
      if ((!mode || c.modes[mode]) && names.indexOf(c.name) < 0) names.push(c.name);
    });
  });
  return names;
}

function choiceComparison(k, cell, mode) {
  var found = null;
  DATA.choice.comparisons.forEach(function (c) {
    if (c.run === k && c.cell === cell && c.mode === mode) found = c;
  });
  return found;
}

function choicePct(value) { return fmt(100 * value, 1); }

function choiceSwatch(k) {
  return svg("svg", { width: 10, height: 10, cls: "swatch" },
    svg("rect", { width: 10, height: 10, fill: runColor(k) }));
}

// -- accuracy tables ---------------------------------------------------------------------------
function choiceCompared(c) {
  if (!c) return null;
  if (!c.comparable) return el("span", { cls: "sub na", title: c.reason || "", text: "not comparable" });
  var marked = c.mark !== null;
  return el("span", {
    cls: "sub" + (marked ? " " + c.mark : ""),
    title: DATA.choice.test.name + " against " + choiceRuns()[0].label + ": p = " + pfmt(c.p) + "; " +
      c.only_base + " item(s) right only in the first run, " + c.only_run + " only in this one (n = " + c.n + ")",
    text: signed(c.delta, 3) + " p=" + pfmt(c.p) + (marked ? " *" : "")
  });
}

function choiceAccuracyCell(k, cell, mode) {
  var entry = cell.modes[mode];
  var td = el("td", { cls: "num", "data-run": k, "data-cell": cell.name, "data-mode": mode });
  if (!entry) return td;
  td.appendChild(el("span", { cls: "acc", text: fmt(entry.accuracy, 3) }));
  if (typeof entry.ci_low === "number") {
    td.appendChild(el("span", { cls: "ci", title: (entry.bootstrap || "") + " bootstrap resamples, as the run stored them",
      text: "95% [" + fmt(entry.ci_low, 3) + ", " + fmt(entry.ci_high, 3) + "]" }));
  }
  if (k > 0) add(td, choiceCompared(choiceComparison(k, cell.name, mode)));   // none where the first run lacks the cell
  return td;
}

function choiceRunMeta(run) {
  return [run.model + (run.revision ? " (" + run.revision + ")" : ""), run.backend, run.task, run.data,
    run.shots + "-shot", run.mode ? "mode " + run.mode : null,
    run.prompt_lang ? "prompt language " + run.prompt_lang : null,
    Object.keys(run.templates).map(function (m) { return m + " template " + run.templates[m]; }).join(", "),
    run.created].filter(Boolean).join(" \u00b7 ");
}

function choiceAccuracyTables(body) {
  var runs = choiceRuns();
  runs.forEach(function (run, k) {
    body.appendChild(el("h4", null, choiceSwatch(k), " " + (k === 0 && runs.length > 1 ? "baseline: " : "") + run.label));
    body.appendChild(el("p", { cls: "run-meta", title: run.path, text: choiceRunMeta(run) }));
    if (run.note) body.appendChild(el("p", { cls: "note", text: run.note }));
    var modes = DATA.choice.modes.filter(function (m) { return run.cells.some(function (c) { return c.modes[m]; }); });
    var head = el("tr", null, el("th", { text: "cell" }), el("th", { text: "n" }));
    modes.forEach(function (m) {
      head.appendChild(el("th", { text: "accuracy (" + m + ")", title: CHOICE_MODES[m] }));
      if (m === "gen") head.appendChild(el("th", { text: "invalid" }));
    });
    var rows = run.cells.map(function (cell) {
      var tr = el("tr", null, el("td", { text: cell.name, title: cell.crossed ? "premise " + cell.premise +
        ", " + choiceSecond(run) + " " + cell.hypothesis : null }), el("td", { cls: "num", text: cell.n }));
      modes.forEach(function (m) {
        tr.appendChild(choiceAccuracyCell(k, cell, m));
        if (m === "gen") {
          var entry = cell.modes.gen;
          tr.appendChild(el("td", { cls: "num invalid-rate", "data-cell": cell.name,
            text: entry && typeof entry.invalid_rate === "number" ? choicePct(entry.invalid_rate) + "%" : "" }));
        }
      });
      return tr;
    });
    body.appendChild(el("table", { cls: "choice-accuracy", "data-run": k }, el("thead", null, head), el("tbody", null, rows)));
    run.notes.forEach(function (n) { body.appendChild(el("p", { cls: "note warning", text: n })); });
  });
  var notes = ["Accuracy over each cell's items with the 95% bootstrap interval the run stored; invalid: " +
    "generated answers that name no label (counted as wrong)."];
  if (runs.length > 1) notes.push("Below a later run's accuracy: its difference from " + runs[0].label +
    " and the p of the paired test (" + DATA.choice.test.note + ").");
  notes.forEach(function (n) { body.appendChild(el("p", { cls: "note", text: n })); });
}

function choiceSignificance(body) {
  var runs = choiceRuns();
  if (runs.length < 2 || !DATA.choice.comparisons.length) return;
  body.appendChild(el("h3", { text: "Paired significance against the first run" }));
  DATA.choice.modes.forEach(function (mode) {
    var cells = [];
    DATA.choice.comparisons.forEach(function (c) { if (c.mode === mode && cells.indexOf(c.cell) < 0) cells.push(c.cell); });
    if (!cells.length) return;
    body.appendChild(el("h4", { text: CHOICE_MODES[mode] + " (" + mode + ")" }));
    var head = el("tr", null, el("th", { text: "cell" }), runs.map(function (r) { return el("th", { text: r.label }); }));
    var rows = cells.map(function (name) {
      var base = choiceCell(runs[0], name);
      var tr = el("tr", null, el("td", { text: name }),
        el("td", { cls: "num", text: base && base.modes[mode] ? fmt(base.modes[mode].accuracy, 3) : "" }));
      for (var k = 1; k < runs.length; k++) {
        var c = choiceComparison(k, name, mode);
        if (!c) { tr.appendChild(el("td")); continue; }
        if (!c.comparable) {
          tr.appendChild(el("td", { cls: "num na", title: c.reason || "", "data-run": k, "data-cell": name,
            text: (typeof c.acc === "number" ? fmt(c.acc, 3) + " " : "") + "(not comparable)" }));
          continue;
        }
        var marked = c.mark !== null;
        tr.appendChild(el("td", { cls: "num compared" + (marked ? " " + c.mark : ""), "data-run": k, "data-cell": name,
          title: c.only_base + " right only in " + runs[0].label + ", " + c.only_run + " only in " + runs[k].label +
            "; p = " + pfmt(c.p),
          text: fmt(c.acc, 3) + " (" + signed(c.delta, 3) + ", p=" + pfmt(c.p) + ")" + (marked ? " " + c.mark + "*" : "") }));
      }
      return tr;
    });
    body.appendChild(el("table", { cls: "choice-significance" }, el("thead", null, head), el("tbody", null, rows)));
  });
  body.appendChild(el("p", { cls: "note", text: "Each later run against " + runs[0].label + ": accuracy " +
    "(difference, p of the " + DATA.choice.test.name + " over the items paired by id); * marks p < 0.05 (green: " +
    "better, red: worse). A cell is not comparable where the two runs hold different items (hover for why)." }));
}

// -- bars with interval whiskers ---------------------------------------------------------------
function choiceChart(mode) {
  var runs = choiceRuns(), cells = choiceCellNames(mode);
  if (!cells.length) return null;
  var bar = 14, gap = 18, group = runs.length * bar + gap, left = 44, top = 12, base = 172, high = base - top;
  var width = left + cells.length * group + 10, height = base + 30;
  var chart = svg("svg", { width: width, height: height, role: "img", cls: "choice-chart", "data-mode": mode,
    "aria-label": "accuracy (" + mode + ") by cell with 95% intervals" });
  [0, 0.25, 0.5, 0.75, 1].forEach(function (t) {
    var y = base - t * high;
    chart.appendChild(svg("line", { x1: left, y1: y, x2: width - 6, y2: y, stroke: t ? "#e3e7ee" : "#9aa3b2" }));
    chart.appendChild(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", text: fmt(t, 2) }));
  });
  if (runs.every(function (r) { return r.task === "nli"; })) {
    var chance = base - high / 3;
    chart.appendChild(svg("line", { x1: left, y1: chance, x2: width - 6, y2: chance, stroke: "#b42318",
      "stroke-dasharray": "4 3" }, svg("title", { text: "chance: 1/3" })));
  }
  cells.forEach(function (name, i) {
    var x0 = left + i * group + gap / 2;
    runs.forEach(function (run, k) {
      var cell = choiceCell(run, name), entry = cell && cell.modes[mode];
      if (!entry) return;
      var h = Math.max(1, entry.accuracy * high), x = x0 + k * bar;
      var rect = svg("rect", { x: x, y: base - h, width: bar - 2, height: h, fill: runColor(k),
        "data-run": k, "data-cell": name });
      var ci = typeof entry.ci_low === "number" ? " [" + fmt(entry.ci_low, 3) + ", " + fmt(entry.ci_high, 3) + "]" : "";
      rect.appendChild(svg("title", { text: run.label + ", " + name + " (" + mode + "): accuracy " + fmt(entry.accuracy, 3) +
        ci + ", n = " + cell.n }));
      chart.appendChild(rect);
      if (ci) {
        var cx = x + (bar - 2) / 2, y1 = base - entry.ci_high * high, y2 = base - entry.ci_low * high;
        chart.appendChild(svg("line", { x1: cx, y1: y1, x2: cx, y2: y2, stroke: "#1d2330", "pointer-events": "none" }));
        chart.appendChild(svg("line", { x1: cx - 3, y1: y1, x2: cx + 3, y2: y1, stroke: "#1d2330", "pointer-events": "none" }));
        chart.appendChild(svg("line", { x1: cx - 3, y1: y2, x2: cx + 3, y2: y2, stroke: "#1d2330", "pointer-events": "none" }));
      }
    });
    chart.appendChild(svg("text", { x: x0 + runs.length * bar / 2, y: base + 15, "text-anchor": "middle", text: name }));
  });
  var legend = el("p", { cls: "note legend" }, runs.map(function (r, k) {
    return el("span", { cls: "legend-item" }, choiceSwatch(k), " " + r.label);
  }));
  return el("figure", { cls: "choice-figure" }, el("figcaption", { text: "Accuracy (" + CHOICE_MODES[mode] +
    ") by cell, whiskers: 95% bootstrap interval" + (runs.every(function (r) { return r.task === "nli"; })
    ? "; dashed: chance (1/3)" : "") }), el("div", { cls: "chart-wrap" }, chart), legend);
}

// -- confusion matrices ------------------------------------------------------------------------
function choiceConfusionOf(run, mode, cellName) {
  var matrix = null, labels = null;
  run.cells.forEach(function (cell) {
    var entry = cell.modes[mode];
    if (!entry || !entry.confusion || (cellName && cell.name !== cellName)) return;
    if (matrix === null) {
      labels = entry.labels;
      matrix = entry.confusion.map(function (row) { return row.map(function () { return 0; }); });
    }
    if (entry.confusion.length !== matrix.length) return;      // another label set: not summed
    entry.confusion.forEach(function (row, g) { row.forEach(function (v, p) { matrix[g][p] += v; }); });
  });
  return matrix && { matrix: matrix, labels: labels };
}

function choiceConfusionTable(found, drill) {
  var labels = found.labels, matrix = found.matrix, width = labels.length;
  var head = el("tr", null, el("th", { text: "gold \\ predicted" }), labels.map(function (l) { return el("th", { text: l }); }),
    el("th", { text: "invalid" }), el("th", { text: "n" }));
  var total = 0, columns = [];
  for (var p = 0; p <= width; p++) columns.push(0);
  var rows = matrix.map(function (row, g) {
    var n = row.reduce(function (a, b) { return a + b; }, 0);
    total += n;
    return el("tr", null, el("th", { text: labels[g] }), row.map(function (v, p) {
      columns[p] += v;
      var share = n ? v / n : 0;
      var level = Math.min(4, Math.floor(share * 5));
      return el("td", { cls: "num q" + level + (p === g ? " diag" : "") + (p === width && v > 0 ? " inv" : "") + (v > 0 ? " drill" : ""),
        title: labels[g] + " \u2192 " + (p < width ? labels[p] : "invalid") + ": " + v + " of " + n + " (" + choicePct(share) + "%)" +
          (v > 0 ? "; click: these items below" : ""),
        "data-gold": g, "data-predicted": p < width ? p : "invalid",
        onclick: v > 0 ? function () { drill(g, p < width ? String(p) : "invalid"); } : null,
        // reachable from the keyboard too: Tab to it, Enter or Space
        tabindex: v > 0 ? 0 : null, role: v > 0 ? "button" : null,
        onkeydown: v > 0 ? function (event) {
          if (event.key !== "Enter" && event.key !== " ") return;
          event.preventDefault();
          drill(g, p < width ? String(p) : "invalid");
        } : null,
        text: v });
    }), el("td", { cls: "num", text: n }));
  });
  rows.push(el("tr", { cls: "shares" }, el("th", { text: "predicted %" }), columns.map(function (v) {
    return el("td", { cls: "num", text: total ? choicePct(v / total) : "" });
  }), el("td", { cls: "num", text: total })));
  return el("table", { cls: "confusion" }, el("thead", null, head), el("tbody", null, rows));
}

function choiceSharesTable(run, mode) {
  var entries = run.cells.filter(function (c) { return c.modes[mode] && c.modes[mode].confusion; });
  if (!entries.length) return null;
  var labels = entries[0].modes[mode].labels;
  var head = el("tr", null, el("th", { text: "cell" }), labels.map(function (l) { return el("th", { text: l + " %" }); }),
    el("th", { text: "invalid %" }));
  var rows = entries.map(function (cell) {
    var confusion = cell.modes[mode].confusion, cols = [], total = 0;
    confusion[0].forEach(function (_, p) {
      var s = confusion.reduce(function (a, row) { return a + (row[p] || 0); }, 0);
      cols.push(s);
      total += s;
    });
    return el("tr", null, el("td", { text: cell.name }), cols.map(function (v) {
      return el("td", { cls: "num", text: total ? choicePct(v / total) : "" });
    }));
  });
  return el("table", { cls: "choice-shares" }, el("thead", null, head), el("tbody", null, rows));
}

function choiceConfusion(body) {
  var runs = choiceRuns();
  var section = el("div", { id: "choice-confusion" });
  var runSelect = el("select", { id: "choice-confusion-run" }, runs.map(function (r, k) { return option(String(k), r.label); }));
  var modeSelect = el("select", { id: "choice-confusion-mode" }, DATA.choice.modes.map(function (m) { return option(m, m); }));
  var cellSelect = el("select", { id: "choice-confusion-cell" });
  var out = el("div", { id: "choice-confusion-body" });
  function cells() {
    var run = runs[Number(runSelect.value)];
    cellSelect.replaceChildren(option("", "all cells"));
    run.cells.forEach(function (c) { if (c.modes[modeSelect.value]) cellSelect.appendChild(option(c.name, c.name)); });
  }
  function draw() {
    var run = runs[Number(runSelect.value)], mode = modeSelect.value;
    out.replaceChildren();
    var found = choiceConfusionOf(run, mode, cellSelect.value);
    if (!found) {
      out.appendChild(el("p", { cls: "note", text: run.label + " has no " + mode + " confusion matrix" }));
      return;
    }
    out.appendChild(el("p", { cls: "note", text: run.label + ", " + CHOICE_MODES[mode] + ", " +
      (cellSelect.value ? "cell " + cellSelect.value : "all cells") + ": rows gold, columns predicted; shading: share of the row" }));
    out.appendChild(choiceConfusionTable(found, function (gold, predicted) {
      choiceDrill(Number(runSelect.value), mode, cellSelect.value, gold, predicted);
    }));
    var shares = choiceSharesTable(run, mode);
    if (shares) {
      out.appendChild(el("p", { cls: "note", text: "Predicted labels by cell, % of the cell's items" +
        (run.task === "nli" ? " (XNLI's gold labels are balanced: about 33.3% each)" : "") }));
      out.appendChild(shares);
    }
  }
  runSelect.addEventListener("change", function () { cells(); draw(); });
  modeSelect.addEventListener("change", function () { cells(); draw(); });
  cellSelect.addEventListener("change", draw);
  section.appendChild(el("div", { cls: "controls" },
    runs.length > 1 ? el("label", null, "Run ", runSelect) : null,
    DATA.choice.modes.length > 1 ? el("label", null, "Mode ", modeSelect) : null,
    el("label", null, "Cell ", cellSelect)));
  section.appendChild(out);
  body.appendChild(el("h3", { text: "Confusion and predicted labels" }));
  body.appendChild(section);
  cells();
  draw();
}

// -- premise x hypothesis ----------------------------------------------------------------------
function choiceMatrices(body) {
  var figures = el("div", { cls: "heatmaps" });
  choiceRuns().forEach(function (run) {
    if (!run.cells.some(function (c) { return c.crossed; })) return;
    var premises = [], hypotheses = [];
    run.cells.forEach(function (c) {
      if (premises.indexOf(c.premise) < 0) premises.push(c.premise);
      if (hypotheses.indexOf(c.hypothesis) < 0) hypotheses.push(c.hypothesis);
    });
    DATA.choice.modes.forEach(function (mode) {
      var byPair = {};
      run.cells.forEach(function (c) { if (c.modes[mode]) byPair[c.premise + "\u0000" + c.hypothesis] = c; });
      var second = choiceSecond(run);
      var figure = matrixFigure({
        // accuracies 0.612 and 0.615 are no red-to-green difference: colours span >= 1 point
        rows: premises, cols: hypotheses, colTitle: second, higher: true, minSpan: 0.01,
        caption: run.label + ": accuracy (" + mode + ", %) by premise (rows) x " + second + " (columns) language" +
          "; colours are relative within this matrix, over an accuracy span of at least 1 point",
        cellOf: function (p, h) {
          var c = byPair[p + "\u0000" + h];
          if (!c) return null;
          var e = c.modes[mode];
          return { value: e.accuracy, label: choicePct(e.accuracy),
            title: "premise " + p + ", " + second + " " + h + ": accuracy " + fmt(e.accuracy, 3) +
              (typeof e.ci_low === "number" ? " [" + fmt(e.ci_low, 3) + ", " + fmt(e.ci_high, 3) + "]" : "") + ", n = " + c.n };
        }
      });
      if (figure) figures.appendChild(figure);
    });
  });
  if (!figures.childNodes.length) return;
  body.appendChild(el("h3", { text: "Premise x " + choiceSecond(choiceRuns()[0]) }));
  body.appendChild(figures);
}

// -- item prompts (as `xling prompt RUN ID --lang CELL` prints them) ---------------------------
function choiceFlat(values) {
  var flat = [];
  values.forEach(function (v) {
    if (typeof v === "string") flat.push(v);
    else if (Array.isArray(v) && v.every(function (x) { return typeof x === "string"; })) v.forEach(function (x) { flat.push(x); });
  });
  return flat;
}

function choiceFillSlots(pattern, flat) {
  return pattern.replace(/[\uE100-\uE7FF]/g, function (ch) { return flat[ch.charCodeAt(0) - CHOICE_FIRST_SLOT]; });
}

// Python's repr of a string whose characters are printable (html_choice.simple_repr; the items
// where Python's repr differs carry it).
function choicePyRepr(text) {
  var quote = text.indexOf("'") >= 0 && text.indexOf("\"") < 0 ? "\"" : "'";
  var out = text.split("\\").join("\\\\").split("\n").join("\\n").split("\r").join("\\r").split("\t").join("\\t");
  if (quote === "'") out = out.split("'").join("\\'");
  return quote + out + quote;
}

function choiceFields(row) {
  var keys = CHOICE_ITEMS.schemas[row.k], fields = {};
  keys.forEach(function (key, i) { fields[key] = row.f[i]; });
  return fields;
}

function choiceLabels(run, row) {
  if (run.task === "nli") return DATA.choice.nli_labels;
  var fields = choiceFields(row);
  if (Array.isArray(fields.letters) && fields.letters.length) return fields.letters;
  var n = Array.isArray(fields.options) ? fields.options.length : 0, labels = [];
  for (var i = 0; i < n; i++) labels.push(String.fromCharCode(65 + i));
  return labels;
}

function choicePromptText(k, row, side) {
  if (side.e !== undefined) return side.e;
  if (side.t === undefined) return null;
  var run = choiceRuns()[k], own = CHOICE_ITEMS.prompts[k][String(row.c)], pattern = own.patterns[side.t];
  var flat = choiceFlat(row.f), labels = choiceLabels(run, row), gold = row.g;
  var lines = ["# " + run.path + ": cell " + CHOICE_ITEMS.cells[row.c] + ", item " + row.id + ", gold " + labels[gold]];
  if (pattern.ll) {
    var options = pattern.ll.o.map(function (o) { return choiceFillSlots(o, flat); });
    lines.push(run.heads.ll, (own.demos.ll || "") + choiceFillSlots(pattern.ll.c, flat), "## scored continuations");
    var scores = side.s && side.s.length ? side.s : options.map(function () { return null; });
    var odd = side.or || {};
    for (var i = 0; i < Math.min(options.length, scores.length); i++) {
      var marks = (i === gold ? ", gold" : "") + (i === side.l ? ", predicted" : "");
      var score = scores[i] === null ? "" : ", log-likelihood " + scores[i];
      var shown = odd[String(i)] !== undefined ? odd[String(i)] : choicePyRepr(options[i]);
      lines.push("[" + labels[i] + score + marks + "] " + shown);
    }
  }
  if (pattern.gen !== undefined) {
    var answer = side.rr !== undefined ? side.rr : (side.r === null || side.r === undefined ? "None" : choicePyRepr(side.r));
    var pred = side.q;
    lines.push(run.heads.gen, (own.demos.gen || "") + choiceFillSlots(pattern.gen, flat), "## answer",
      answer + " -> " + (pred !== null && pred !== undefined ? labels[pred] : "invalid"));
  }
  return lines.join("\n") + "\n";
}

function choiceShellWord(text) {
  return /^[A-Za-z0-9_.\/:@%+=,-]+$/.test(text) ? text : "'" + text.split("'").join("'\\''") + "'";
}

function choiceOpenPrompt(row) {
  var body = byId("prompt-body");
  body.replaceChildren();
  var cell = CHOICE_ITEMS.cells[row.c];
  byId("prompt-title").textContent = "Prompt: " + row.id + " (" + cell + ")";
  row.p.forEach(function (side, k) {
    if (!side) return;
    var run = choiceRuns()[k];
    var section = el("section", { cls: "prompt-side", "data-run": k }, el("h3", null, choiceSwatch(k), " " + run.label));
    section.appendChild(el("p", { cls: "note" }, "as ", el("code", { text: "xling prompt " + choiceShellWord(run.path) + " " +
      choiceShellWord(row.id) + " --lang " + choiceShellWord(cell) }), " prints it"));
    var text = choicePromptText(k, row, side);
    if (text === null) section.appendChild(el("p", { cls: "note warning", text: "This record keeps no prompt that " +
      "`xling prompt` can show (written before records kept their prompts, or damaged)." }));
    else section.appendChild(el("pre", { cls: "prompt choice-prompt", "data-run": k, text: text }));
    body.appendChild(section);
  });
  var dialog = byId("prompt-dialog");
  if (!dialog.open) dialog.showModal();
}

// -- item browser ------------------------------------------------------------------------------
function choiceOutcome(side, mode, gold) {
  if (!side) return null;
  if (mode === "ll") {
    if (side.l === undefined) return null;
    return side.l === null ? "invalid" : side.l === gold ? "correct" : "wrong";
  }
  if (side.q === undefined) return null;
  return side.q === null ? "invalid" : side.q === gold ? "correct" : "wrong";
}

function choicePrediction(side, mode) {
  var p = mode === "ll" ? side.l : side.q;
  return p === null || p === undefined ? "invalid" : String(p);
}

function choiceMatches(row) {
  if (choiceState.cell !== "" && String(row.c) !== choiceState.cell) return false;
  var mode = choiceState.mode, outcome = choiceState.outcome;
  if (choiceState.gold !== "" && String(row.g) !== choiceState.gold) return false;
  if (choiceState.pred !== "") {
    var at = choiceState.pred.indexOf(":"), side = row.p[Number(choiceState.pred.slice(0, at))];
    if (!side || choiceOutcome(side, mode, row.g) === null || choicePrediction(side, mode) !== choiceState.pred.slice(at + 1)) return false;
  }
  if (outcome) {
    var parts = outcome.split(":");
    if (parts.length === 2) {
      var got = choiceOutcome(row.p[Number(parts[1])], mode, row.g);
      if (parts[0] === "wrong" ? !(got === "wrong" || got === "invalid") : got !== parts[0]) return false;
    } else {
      var outcomes = [], preds = [];
      row.p.forEach(function (side) {
        var o = choiceOutcome(side, mode, row.g);
        if (o === null) return;
        outcomes.push(o);
        if (preds.indexOf(choicePrediction(side, mode)) < 0) preds.push(choicePrediction(side, mode));
      });
      if (outcome === "disagree" && !(outcomes.length > 1 && preds.length > 1)) return false;
      if (outcome === "all-correct" && !(outcomes.length && outcomes.every(function (o) { return o === "correct"; }))) return false;
      if (outcome === "all-wrong" && !(outcomes.length && outcomes.every(function (o) { return o !== "correct"; }))) return false;
    }
  }
  if (choiceState.text) {
    if (row.hay === undefined) {
      var hay = [row.id].concat(choiceFlat(row.f));
      row.p.forEach(function (side) { if (side && typeof side.r === "string") hay.push(side.r); });
      row.hay = foldText(hay.join("\n"));
    }
    if (row.hay.indexOf(foldText(choiceState.text)) < 0) return false;
  }
  return true;
}

function choiceItemText(row) {
  var fields = choiceFields(row), cell = el("td", { cls: "item" });
  var letters = Array.isArray(fields.letters) ? fields.letters : null;
  Object.keys(fields).forEach(function (key) {
    var value = fields[key];
    if (key === "letters" && Array.isArray(fields.options)) return;
    cell.appendChild(el("span", { cls: "label", text: key }));
    if (Array.isArray(value)) {
      var list = el("div", { cls: "text options" });
      value.forEach(function (v, i) {
        var mark = key === "options" ? (letters && letters[i] !== undefined ? letters[i] : String.fromCharCode(65 + i)) + ". " : "";
        list.appendChild(el("div", { cls: "option" + (key === "options" && i === row.g ? " gold" : "") },
          mark + (typeof v === "string" ? v : JSON.stringify(v))));
      });
      cell.appendChild(list);
    } else {
      cell.appendChild(el("div", { cls: "text", text: typeof value === "string" ? value : JSON.stringify(value) }));
    }
  });
  return cell;
}

function choiceSideCell(k, row, side) {
  if (!side) return el("td", { cls: "na", text: "not in this run" });
  var run = choiceRuns()[k], labels = choiceLabels(run, row), td = el("td", { cls: "side", "data-run": k });
  if (side.l !== undefined) {
    var ll = choiceOutcome(side, "ll", row.g);
    td.appendChild(el("div", { cls: "pred " + ll }, el("span", { cls: "mode", text: "ll " }),
      el("span", { cls: "answer", text: side.l === null ? "invalid" : labels[side.l] })));
    if (side.s) {
      var best = -Infinity;
      side.s.forEach(function (s) { if (Number(s) > best) best = Number(s); });
      var scores = el("div", { cls: "scores" });
      side.s.forEach(function (s, i) {
        scores.appendChild(el("span", { cls: "sub" + (Number(s) === best ? " best" : ""),
          title: "log-likelihood of the continuation for " + labels[i], text: labels[i] + " " + s }));
      });
      td.appendChild(scores);
    }
  }
  if (side.q !== undefined || side.r !== undefined) {
    var gen = choiceOutcome(side, "gen", row.g);
    td.appendChild(el("div", { cls: "pred " + gen }, el("span", { cls: "mode", text: "gen " }),
      el("span", { cls: "answer", text: side.q === null || side.q === undefined ? "invalid" : labels[side.q] })));
    if (side.r !== null && side.r !== undefined) td.appendChild(el("div", { cls: "text raw", title: "the generated answer", text: side.r }));
  }
  return td;
}

function choiceDrawRows() {
  var rows = choiceShown, total = CHOICE_ITEMS.rows.length;
  var pages = Math.max(1, Math.ceil(rows.length / PAGE));
  choiceState.page = Math.min(Math.max(0, choiceState.page), pages - 1);
  var start = choiceState.page * PAGE, stop = Math.min(rows.length, start + PAGE);
  byId("choice-page-info").textContent = rows.length ? "items " + (start + 1) + "\u2013" + stop + " of " + rows.length +
    (rows.length !== total ? " (of " + total + ")" : "") : "0 items";
  byId("choice-prev").disabled = choiceState.page === 0;
  byId("choice-next").disabled = choiceState.page >= pages - 1;
  byId("choice-items-empty").hidden = rows.length > 0;
  var body = document.createDocumentFragment();
  rows.slice(start, stop).forEach(function (row) {
    var labels = choiceLabels(choiceRuns()[row.p.findIndex(function (s) { return !!s; })], row);
    body.appendChild(el("tr", { "data-n": row.n },
      el("td", null, el("span", { cls: "item-id", text: row.id }), el("span", { cls: "sub", text: CHOICE_ITEMS.cells[row.c] })),
      choiceItemText(row),
      el("td", { cls: "gold", text: labels[row.g] !== undefined ? labels[row.g] : String(row.g) }),
      row.p.map(function (side, k) { return choiceSideCell(k, row, side); }),
      el("td", null, el("button", { type: "button", cls: "show-prompt", onclick: function () { choiceOpenPrompt(row); }, text: "prompt" }))));
  });
  byId("choice-items-body").replaceChildren(body);
  byId("choice-items").setAttribute("data-rows-drawn", String(stop - start));
}

// How sure a run's log-likelihood answer is: its best continuation's log-likelihood minus the
// second best (null without scores).
function choiceMargin(side) {
  if (!side || !side.s || side.s.length < 2) return null;
  var sorted = side.s.map(Number).sort(function (a, b) { return b - a; });
  return sorted[0] - sorted[1];
}

function choiceSortKey(row) {
  if (choiceState.sort === "id") return row.id;
  if (choiceState.sort.slice(0, 7) === "margin:") return choiceMargin(row.p[Number(choiceState.sort.slice(7))]);
  return row.n;
}

function choiceRefilter() {
  choiceState.page = 0;
  choiceShown = CHOICE_ITEMS.rows.filter(choiceMatches);
  if (choiceState.sort !== "order") {
    choiceShown.sort(function (a, b) {
      var x = choiceSortKey(a), y = choiceSortKey(b);
      if (x === y) return a.n - b.n;
      if (x === null) return 1;        // rows without the key last
      if (y === null) return -1;
      return compareValues(x, y) || a.n - b.n;
    });
  }
  choiceDrawRows();
}

// A run's answer labels in this mode (NLI's, else its first cell's letters): each run its own, as
// a page may hold XCOPA (A, B) beside NLI or X-CSQA (A-E).
function choiceRunLabelNames(run, mode) {
  var found = null;
  run.cells.forEach(function (cell) { if (!found && cell.modes[mode] && cell.modes[mode].labels) found = cell.modes[mode].labels; });
  return found || [];
}

function choiceLabelOptions(goldSelect, predSelect) {
  var runs = choiceRuns(), mode = choiceState.mode;
  var own = runs.map(function (run) { return choiceRunLabelNames(run, mode); }), golds = [];
  own.forEach(function (labels) {
    labels.forEach(function (l, i) {
      golds[i] = golds[i] || [];
      if (golds[i].indexOf(l) < 0) golds[i].push(l);
    });
  });
  goldSelect.replaceChildren.apply(goldSelect, [option("", "any")].concat(golds.map(function (names, i) {
    return option(String(i), names.join(" / "));
  })));
  predSelect.replaceChildren(option("", "any"));
  runs.forEach(function (run, k) {
    var prefix = runs.length > 1 ? run.label + ": " : "";
    own[k].forEach(function (l, i) { predSelect.appendChild(option(k + ":" + i, prefix + l)); });
    predSelect.appendChild(option(k + ":invalid", prefix + "invalid"));
  });
  goldSelect.value = choiceState.gold;
  predSelect.value = choiceState.pred;
  if (goldSelect.value !== choiceState.gold) choiceState.gold = goldSelect.value = "";
  if (predSelect.value !== choiceState.pred) choiceState.pred = predSelect.value = "";
}

// A confusion cell clicked: the items behind it, in the browser below.
function choiceDrill(k, mode, cellName, gold, predicted) {
  if (!CHOICE_ITEMS) return;
  var cell = CHOICE_ITEMS.cells.indexOf(cellName);
  choiceState.mode = mode;
  choiceState.cell = cellName && cell >= 0 ? String(cell) : "";
  choiceState.gold = String(gold);
  choiceState.pred = k + ":" + predicted;
  choiceState.outcome = "";
  choiceState.text = "";
  var modeSelect = byId("choice-filter-mode");   // (only where the page has two modes)
  if (modeSelect) modeSelect.value = mode;
  byId("choice-filter-cell").value = choiceState.cell;
  byId("choice-filter-text").value = "";
  choiceOutcomeOptions(byId("choice-filter-outcome"));
  choiceLabelOptions(byId("choice-filter-gold"), byId("choice-filter-pred"));
  choiceRefilter();
  byId("choice-browser").scrollIntoView();
}

function choiceOutcomeOptions(select) {
  var runs = choiceRuns(), mode = choiceState.mode;
  var keep = choiceState.outcome;   // (not the select's: a confusion cell's drill sets "any" there)
  select.replaceChildren(option("", "any"));
  runs.forEach(function (run, k) {
    var prefix = runs.length > 1 ? run.label + ": " : "";
    select.appendChild(option("correct:" + k, prefix + "correct"));
    select.appendChild(option("wrong:" + k, prefix + "wrong (invalid included)"));
    if (mode === "gen") select.appendChild(option("invalid:" + k, prefix + "invalid answer"));
  });
  if (runs.length > 1) {
    select.appendChild(option("disagree", "the runs disagree"));
    select.appendChild(option("all-correct", "every run correct"));
    select.appendChild(option("all-wrong", "every run wrong"));
  }
  var values = Array.prototype.map.call(select.options, function (o) { return o.value; });
  select.value = values.indexOf(keep) >= 0 ? keep : "";
  choiceState.outcome = select.value;
}

function choiceSetupItems(holder, items) {
  CHOICE_ITEMS = items;
  items.rows.forEach(function (row, n) { row.n = n; });
  var runs = choiceRuns();
  var cellSelect = el("select", { id: "choice-filter-cell" }, option("", "all (" + items.cells.length + ")"),
    items.cells.map(function (c, i) { return option(String(i), c); }));
  var modeSelect = el("select", { id: "choice-filter-mode" }, DATA.choice.modes.map(function (m) { return option(m, CHOICE_MODES[m] + " (" + m + ")"); }));
  var outcomeSelect = el("select", { id: "choice-filter-outcome" });
  var goldSelect = el("select", { id: "choice-filter-gold" });
  var predSelect = el("select", { id: "choice-filter-pred" });
  var sortSelect = el("select", { id: "choice-sort" }, option("order", "data order"), option("id", "id"),
    runs.map(function (r, k) {   // only runs that scored log-likelihoods have margins
      var ll = r.cells.some(function (c) { return c.modes.ll; });
      return ll ? option("margin:" + k, (runs.length > 1 ? r.label + ": " : "") + "least sure first (ll margin)") : null;
    }));
  var search = el("input", { id: "choice-filter-text", type: "search", placeholder: "item text, id, answer", size: 26 });
  choiceState.mode = DATA.choice.modes[0] || "ll";
  choiceOutcomeOptions(outcomeSelect);
  choiceLabelOptions(goldSelect, predSelect);
  goldSelect.addEventListener("change", function () { choiceState.gold = goldSelect.value; choiceRefilter(); });
  predSelect.addEventListener("change", function () { choiceState.pred = predSelect.value; choiceRefilter(); });
  sortSelect.addEventListener("change", function () { choiceState.sort = sortSelect.value; choiceRefilter(); });
  cellSelect.addEventListener("change", function () { choiceState.cell = cellSelect.value; choiceRefilter(); });
  modeSelect.addEventListener("change", function () {
    choiceState.mode = modeSelect.value;
    choiceOutcomeOptions(outcomeSelect);
    choiceLabelOptions(goldSelect, predSelect);
    choiceRefilter();
  });
  outcomeSelect.addEventListener("change", function () { choiceState.outcome = outcomeSelect.value; choiceRefilter(); });
  var typing = null;
  search.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(function () { choiceState.text = search.value; choiceRefilter(); }, 120);
  });
  var prev = el("button", { id: "choice-prev", type: "button", text: "\u2190 previous" });
  var next = el("button", { id: "choice-next", type: "button", text: "next \u2192" });
  prev.addEventListener("click", function () { choiceState.page--; choiceDrawRows(); });
  next.addEventListener("click", function () { choiceState.page++; choiceDrawRows(); });
  var cols = el("colgroup", null, el("col", { cls: "c-id" }), el("col"), el("col", { cls: "c-gold" }),
    runs.map(function () { return el("col", { cls: "c-run" }); }), el("col", { cls: "c-prompt" }));
  var head = el("tr", null, el("th", { text: "id" }), el("th", { text: "item" }), el("th", { text: "gold" }),
    runs.map(function (r, k) { return el("th", null, choiceSwatch(k), " " + r.label); }), el("th", { text: "prompt" }));
  holder.replaceChildren(
    el("div", { cls: "controls" }, el("label", null, "Cell ", cellSelect),
      DATA.choice.modes.length > 1 ? el("label", null, "Mode ", modeSelect) : null,
      el("label", null, "Outcome ", outcomeSelect), el("label", null, "Gold ", goldSelect),
      el("label", null, "Predicted ", predSelect), el("label", null, "Sort ", sortSelect),
      el("label", null, "Search ", search)),
    el("div", { cls: "pager" }, prev, el("span", { id: "choice-page-info" }), next),
    el("table", { id: "choice-items", cls: "segments choice-items" }, cols, el("thead", null, head),
      el("tbody", { id: "choice-items-body" })),
    el("p", { id: "choice-items-empty", cls: "note", hidden: true, text: "No item matches these filters." }),
    el("p", { cls: "note", text: "Each run's answers to the item: by log-likelihood (ll; below, each continuation's " +
      "log-likelihood, the highest in bold) and by generation (gen; the generated text below). The prompt " +
      "button shows each run's exact prompt, as `xling prompt` prints it (" + DATA.choice.prompts.verified +
      " prompts rebuilt here and checked against it when this page was written)." }));
  choiceRefilter();
}

function choiceInflate(b64) {
  return new Promise(function (resolve) {
    var binary = atob(b64), bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    resolve(new Response(stream).text());
  }).then(function (text) { return JSON.parse(text); });
}

function choiceItems(body) {
  body.appendChild(el("h3", { text: "Items" }));
  var holder = el("div", { id: "choice-browser" }, el("p", { cls: "note", text: "Reading the items\u2026" }));
  body.appendChild(holder);
  var section = byId("choice");
  if (typeof DecompressionStream !== "function" || typeof Response !== "function") {
    holder.replaceChildren(el("p", { cls: "note warning", text: "This browser cannot inflate the page's items " +
      "(it has no DecompressionStream); the tables above are complete." }));
    section.setAttribute("data-items", "unavailable");
    return;
  }
  choiceInflate(DATA.choice.items.gzip).then(function (items) {
    choiceSetupItems(holder, items);
    section.setAttribute("data-items", "ready");
  }, function () {
    holder.replaceChildren(el("p", { cls: "note warning", text: "The page's items could not be read." }));
    section.setAttribute("data-items", "failed");
  });
}

// -- the view ----------------------------------------------------------------------------------
function drawChoice() {
  var body = byId("choice-body");
  byId("prompt-close").addEventListener("click", function () { byId("prompt-dialog").close(); });
  body.appendChild(el("h3", { text: "Accuracy by cell" }));
  choiceAccuracyTables(body);
  var charts = el("div", { cls: "choice-charts" });
  DATA.choice.modes.forEach(function (m) { var figure = choiceChart(m); if (figure) charts.appendChild(figure); });
  body.appendChild(charts);
  choiceSignificance(body);
  choiceConfusion(body);
  choiceMatrices(body);
  DATA.choice.notes.forEach(function (n) { body.appendChild(el("p", { cls: "note warning", text: n })); });
  choiceItems(body);
}
