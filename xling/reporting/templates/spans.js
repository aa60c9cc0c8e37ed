/* Error spans (xCOMET, GEMBA-MQM/ESA) marked in an output: html_spans.segment_spans gives, per
   metric and segment, sorted non-overlapping {start, end, severity, label} in code points of the
   output, and the errors it could not place. Needs el() from common.js. Text goes in as text
   nodes only; a severity names a class only if it is one of SPAN_SEVERITIES ("err-other" else).

   The rules these use (for report.css):

   mark.err { color: inherit; background: none; padding: 0 1px; border-radius: 2px;
     border-bottom: 2px solid var(--muted); }
   mark.err-minor { background: #fff3cd; border-bottom-color: #c99a06; }
   mark.err-major { background: #fde0de; border-bottom-color: #d1242f; }
   mark.err-critical { background: #f6b8b3; border-bottom-color: #82071e; border-bottom-style: double;
     border-bottom-width: 3px; }
   mark.err-other { background: #eceff4; border-bottom-color: var(--muted); }
   ul.err-unplaced { margin: 2px 0 0; padding-left: 16px; font-size: 11px; color: var(--muted); }
   ul.err-unplaced li.err-minor { color: #7a5a00; }
   ul.err-unplaced li.err-major, ul.err-unplaced li.err-critical { color: var(--bad); }
*/
var SPAN_SEVERITIES = { minor: true, major: true, critical: true };

function spanClass(severity) {
  return "err-" + (Object.prototype.hasOwnProperty.call(SPAN_SEVERITIES, severity) ? severity : "other");
}

// `text` with `spans` marked: an array of text nodes and <mark class="err err-SEVERITY"
// title="LABEL"> elements, to append where the text goes. Offsets count code points (as Python
// does), not UTF-16 units; a span out of order, overlapping one before it or past the text's end
// is cut to what is left of the text.
function spanNodes(text, spans) {
  var chars = Array.from(String(text === null || text === undefined ? "" : text));
  var nodes = [], at = 0;
  function plain(from, to) { if (to > from) nodes.push(document.createTextNode(chars.slice(from, to).join(""))); }
  (spans || []).slice().sort(function (a, b) { return a.start - b.start || a.end - b.end; }).forEach(function (s) {
    if (!s || !Number.isInteger(s.start) || !Number.isInteger(s.end)) return;
    var start = Math.max(at, Math.min(s.start, chars.length)), end = Math.min(s.end, chars.length);
    if (end <= start) return;
    plain(at, start);
    nodes.push(el("mark", { cls: "err " + spanClass(s.severity), title: s.label || String(s.severity || "") },
      chars.slice(start, end).join("")));
    at = end;
  });
  plain(at, chars.length);
  return nodes;
}

// The errors a metric could not place in the output (words not found in it, or none quoted):
// a <ul class="err-unplaced">, or null when there are none.
function unplacedList(errors) {
  if (!errors || !errors.length) return null;
  return el("ul", { cls: "err-unplaced" }, errors.map(function (e) {
    return el("li", { cls: spanClass(e.severity), title: e.label || null },
      (e.label || String(e.severity || "")) +
      (e.text ? ": \u201c" + e.text + "\u201d (not found in the output)" : " (no words quoted)"));
  }));
}
