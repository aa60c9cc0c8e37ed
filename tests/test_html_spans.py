"""Error spans for the HTML report (xling/reporting/html_spans.py and templates/spans.js): the
Python side on entries a real run stored (an HTTP-served run scored by a tiny real xCOMET-shaped
checkpoint with its error spans, and by GEMBA-MQM and GEMBA-ESA through a scripted judge), and the
page side in the real headless browser: hostile text stays text, astral characters keep the
offsets, and the marks sit where the Python side says."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser import check_quiet, open_page
from servers import FakeOpenAI

from xling.reporting.html_spans import SEVERITY_RANK, locate_quote, merge_spans, segment_spans

EVIL = "<img src=x onerror=alert(1)>"
# (source, what the scripted translator answers)
SEGMENTS = [
    ("나는 사과를 좋아한다.", f"I like \U0001F34E apples, {EVIL} apples."),
    ("오늘은 비가 온다.", "\U0001D4AFoday it rains \U0001F600 rain and RAIN."),
    ("고양이가 창문 옆에서 잔다.", "The cat sleeps by the window."),
    ("저는 학생입니다.", "I am a student."),
]
# The scripted judges' answers, by a word of the translation.
MQM = {
    "apples": f'Critical:\nno-error\nMajor:\naccuracy/mistranslation - "apples"\nMinor:\n'
              f'fluency/grammar - "apples"\nstyle/awkward - "{EVIL}"',
    "RAIN": 'Critical:\naccuracy/addition - "it rains \U0001F600 rain"\nMajor:\nfluency/spelling - "rain"\n'
            'Minor:\nterminology/wrong term - "thunder"\nfluency/inconsistency - "rain and rain"',
    "cat": "Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error",
    "student": "I am not sure what to say.",
}
ESA = {"apples": 'minor - "\U0001F34E"\nScore: 80', "RAIN": 'major - "it rains"\nminor - "hail"\nScore: 55',
       "cat": "no-error\nScore: 100", "student": "Score: 90"}


def _translate(payload) -> str:
    user = payload["messages"][-1]["content"]
    return next(out for src, out in SEGMENTS if src in user)


def _judge(payload) -> str:
    user = payload["messages"][-1]["content"]
    translation = user.rsplit("translation:\n", 1)[1]
    answers = ESA if "Score: NUMBER" in user else MQM
    return next(answer for word, answer in answers.items() if word in translation)


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory) -> Path:
    """A real run folder: the scripted translator's outputs, scored with chrF, xCOMET-QE (a tiny
    xCOMET-shaped checkpoint with word-level tags) and both GEMBA judges."""
    from tiny_models import build_comet_unified

    from xling.runs.config import build_config
    from xling.tasks.mt import run_mt

    root = tmp_path_factory.mktemp("spans")
    xcomet = build_comet_unified(root / "xcomet", with_reference=True)
    (root / "t.ko").write_text("".join(s + "\n" for s, _ in SEGMENTS), encoding="utf-8")
    (root / "t.en").write_text("I like apples.\nIt rains today.\nThe cat sleeps by the window.\nI am a student.\n",
                               encoding="utf-8")
    translator, judge = FakeOpenAI(respond=_translate), FakeOpenAI(respond=_judge)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("XLING_CACHE", str(root / "cache"))
            mp.setenv("HF_HUB_OFFLINE", "1")
            config = build_config({"out": str(root / "run"), "data": f"text:{root}/t.{{lang}}", "pairs": ["ko-en"],
                                   "metrics": ["chrf", "xcomet-qe", "gemba-mqm", "gemba-esa"], "model": "fake",
                                   "backend": "http", "base_url": translator.url, "xcomet_model": str(xcomet),
                                   "judge_model": "judge", "judge_base_url": judge.url})
            run_mt(config, progress=False)
    finally:
        translator.close()
        judge.close()
    return Path(config.out)


@pytest.fixture(scope="module")
def scored(scored_run):
    """The run's metrics entries and outputs, as the report reads them."""
    from xling.runs.records import read_run

    run = read_run(scored_run, fresh=True)
    records = run.run.read_outputs("ko-en")
    return run.direction("ko-en").metrics, [r["output"] for r in records]


# -- the Python side on the stored entries ------------------------------------------------------
def test_outputs_are_the_scripted_ones(scored):
    _, outputs = scored
    assert outputs == [out for _, out in SEGMENTS]


def test_only_metrics_with_spans_get_them(scored):
    metrics, outputs = scored
    found = segment_spans(metrics, outputs)
    assert set(found) == {"xcomet-qe", "gemba-mqm", "gemba-esa"}
    for entry in found.values():
        assert len(entry["spans"]) == len(entry["unplaced"]) == len(outputs)
        for text, spans in zip(outputs, entry["spans"]):
            assert [s["start"] for s in spans] == sorted(s["start"] for s in spans)
            assert all(0 <= a["start"] < a["end"] <= b["start"] for a, b in zip(spans, spans[1:]))
            assert all(0 <= s["start"] < s["end"] <= len(text) for s in spans)


def test_xcomet_spans_are_the_stored_offsets_in_code_points(scored):
    """Every character the stored xCOMET spans cover is marked (but white space at their edges),
    with the most severe severity over it. The offsets count code points: each span's text as the
    tokenizer decoded it ([UNK] for what the tiny encoder's vocabulary lacks, the emoji among
    them) is what the output holds at those offsets."""
    metrics, outputs = scored
    stored = metrics["xcomet-qe"]["extra"]["error_spans"]
    found = segment_spans(metrics, outputs)["xcomet-qe"]
    assert any(found["spans"])
    after_astral = 0
    for text, raw, spans in zip(outputs, stored, found["spans"]):
        wanted: dict[int, int] = {}
        for s in raw:
            assert 0 <= s["start"] < s["end"] <= len(text), s     # the tiny model's spans lie in the text
            decoded = re.sub(r"\[(CLS|SEP)\]|##|\s", "", s["text"])
            pattern = "".join(".+?" if piece == "[UNK]" else re.escape(piece)
                              for piece in re.split(r"(\[UNK\])", decoded) if piece)
            assert re.fullmatch(pattern, re.sub(r"\s", "", text[s["start"]:s["end"]])), (s, text)
            after_astral += any(ord(c) > 0xFFFF for c in text[:s["start"]])
            for k in range(s["start"], s["end"]):
                wanted[k] = max(wanted.get(k, 0), SEVERITY_RANK[s["severity"]])
        marked = {k: SEVERITY_RANK[s["severity"]] for s in spans for k in range(s["start"], s["end"])}
        assert set(marked) <= set(wanted)
        assert all(text[k].isspace() for k in set(wanted) - set(marked))
        assert all(marked[k] == wanted[k] for k in marked)
        assert all(s["label"].startswith("xCOMET-QE: ") for s in spans)
    assert after_astral      # some spans start after an emoji or an astral letter


def text_of(text: str, span: dict) -> str:
    return text[span["start"]:span["end"]]


def test_judge_spans_are_found_in_the_output(scored):
    metrics, outputs = scored
    found = segment_spans(metrics, outputs)
    mqm, esa = found["gemba-mqm"], found["gemba-esa"]
    first, second = outputs[0], outputs[1]
    # Segment 1: "apples" twice (the second error takes the second occurrence), the hostile words.
    # (quoted, the hostile words are stored whole: the ">" that ended them was read as markdown
    # and dropped, before audit round 28)
    assert metrics["gemba-mqm"]["extra"]["judgments"][0]["errors"][2]["span"] == EVIL
    apples = [m.start() for m in re.finditer("apples", first)]
    assert [(s["start"], s["end"], s["severity"]) for s in mqm["spans"][0]] == [
        (apples[0], apples[0] + 6, "major"), (first.index(EVIL), first.index(EVIL) + len(EVIL), "minor"),
        (apples[1], apples[1] + 6, "minor")]
    assert [text_of(first, s) for s in mqm["spans"][0]] == ["apples", EVIL, "apples"]
    assert mqm["spans"][0][0]["label"] == "GEMBA-MQM: major accuracy/mistranslation error"
    assert mqm["unplaced"][0] == []
    # Segment 2: overlapping errors split; the most severe wins each piece, which keeps every
    # label over it; "rain" is first found inside "rains"; "rain and rain" ignoring case.
    crit = "GEMBA-MQM: critical accuracy/addition error"
    major = "GEMBA-MQM: major fluency/spelling error"
    minor = "GEMBA-MQM: minor fluency/inconsistency error"
    pieces = [(text_of(second, s), s["severity"], s["label"]) for s in mqm["spans"][1]]
    assert pieces == [("it ", "critical", crit), ("rain", "critical", f"{crit}; {major}"),
                      ("s \U0001F600 ", "critical", crit), ("rain", "critical", f"{crit}; {minor}"),
                      (" and RAIN", "minor", minor)]
    assert mqm["spans"][1][0]["start"] == second.index("it")  # code points: the astral first letter counts 1
    assert mqm["unplaced"][1] == [{"severity": "minor", "label": "GEMBA-MQM: minor terminology/wrong term error",
                                   "text": "thunder"}]
    # No errors, and an unparseable answer (no judgment): nothing marked, nothing listed.
    assert mqm["spans"][2:] == [[], []] and mqm["unplaced"][2:] == [[], []]
    # ESA: spans without categories; the emoji alone is found at its code point.
    assert [(text_of(first, s), s["severity"], s["label"]) for s in esa["spans"][0]] == \
        [("\U0001F34E", "minor", "GEMBA-ESA: minor error")]
    assert esa["spans"][0][0]["start"] == 7
    assert [text_of(second, s) for s in esa["spans"][1]] == ["it rains"]
    assert esa["unplaced"][1] == [{"severity": "minor", "label": "GEMBA-ESA: minor error", "text": "hail"}]


# -- the Python side on made-up entries ---------------------------------------------------------
def test_merge_splits_overlaps_and_joins_alike_neighbours():
    def span(a, b, severity, label):
        return {"start": a, "end": b, "severity": severity, "label": label}
    assert merge_spans([span(0, 5, "minor", "A"), span(3, 8, "major", "B"), span(8, 10, "major", "B"),
                        span(12, 12, "critical", "empty")]) == [
        span(0, 3, "minor", "A"), span(3, 5, "major", "A; B"), span(5, 10, "major", "B")]
    # nested: the inner piece takes the outer's severity when it is more severe, and both labels
    assert merge_spans([span(2, 4, "minor", "in"), span(0, 9, "critical", "out")]) == [
        span(0, 2, "critical", "out"), span(2, 4, "critical", "out; in"), span(4, 9, "critical", "out")]
    # an unknown severity ranks below minor
    assert merge_spans([span(0, 4, "neutral", "n"), span(0, 4, "minor", "m")]) == [span(0, 4, "minor", "n; m")]
    assert merge_spans([]) == []


def test_locating_quoted_words():
    text = "the bank and the Bank"
    assert locate_quote(text, "bank") == (4, 8)
    assert locate_quote(text, "bank", {(4, 8)}) == (17, 21)          # then ignoring case
    assert locate_quote(text, "bank", {(4, 8), (17, 21)}) == (4, 8)  # every one taken: the first
    assert locate_quote(text, " THE   bank. ") == (0, 8)              # case, white space, punctuation
    assert locate_quote(text, "\u201cbank\u201d") == (4, 8)
    assert locate_quote(text, "river") is None and locate_quote(text, "  ") is None


def test_comet_offsets_that_do_not_fit_the_output():
    text = "ab cd ef"
    entry = {"xcomet": {"extra": {"error_spans": [[
        {"text": "cd [SEP]", "start": 3, "end": 0, "severity": "major", "confidence": 0.5},  # through [SEP]
        {"text": "[CLS]", "start": 0, "end": 0, "severity": "minor", "confidence": 0.4},     # specials only
        {"text": "zz", "start": 7, "end": 30, "severity": "minor", "confidence": 0.3},       # past the end
        {"text": "ab", "start": "0", "end": 2, "severity": "minor"},                        # not a number
    ]]}}, "chrf": {"score": 50.0, "extra": {}}}
    found = segment_spans(entry, [text])
    assert list(found) == ["xcomet"]
    assert found["xcomet"]["spans"] == [[{"start": 3, "end": 8, "severity": "major",
                                          "label": "xCOMET: major error (confidence 0.50)"}]]
    assert [u["text"] for u in found["xcomet"]["unplaced"][0]] == ["[CLS]", "zz", "ab"]
    # a run from the first word through [SEP]: the whole output
    whole = {"xcomet": {"extra": {"error_spans": [[{"text": "[CLS] ab cd ef [SEP]", "start": 0, "end": 0,
                                                    "severity": "critical"}]]}}}
    assert segment_spans(whole, [text])["xcomet"]["spans"] == [[{"start": 0, "end": 8, "severity": "critical",
                                                                 "label": "xCOMET: critical error"}]]
    # spans of another number of segments (scored on a subset) cannot be matched: left out
    assert segment_spans(entry, [text, text]) == {}


# -- the page side, in the browser --------------------------------------------------------------
def _css_rules() -> str:
    js = (Path(__file__).resolve().parent.parent / "xling" / "reporting" / "templates" / "spans.js").read_text()
    return js.split("(for report.css):", 1)[1].split("*/", 1)[0]


def _page(tmp_path) -> Path:
    """A page made by render_page with the report's template, common.js and spans.js under the
    page's CSP (nothing draws: main.js is not in it); the script must load without a message."""
    from xling.reporting.html_report import render_page

    page = tmp_path / "spans.html"
    page.write_text(render_page({"title": "spans"}, "report.html.j2", ("common.js", "spans.js"), ("report.css",)),
                    encoding="utf-8")
    return page


# Runs in the page: common.js and spans.js again (the page's own copies are in a closed scope),
# then draws each case and reads back, per mark, its code-point offset, text, class and title.
PROBE = """
var ARGS = arguments;
return (function () {
%s
%s
var cases = ARGS[0], css = ARGS[1];
var sheet = new CSSStyleSheet();
sheet.replaceSync(css);
document.adoptedStyleSheets = [sheet];
return {rules: sheet.cssRules.length, cases: cases.map(function (c) {
  var box = el("div", { cls: "text" }, spanNodes(c.text, c.spans), unplacedList(c.unplaced));
  document.body.appendChild(box);
  var marks = [], at = 0;
  Array.prototype.forEach.call(box.childNodes, function (node) {
    if (node.nodeName === "MARK") {
      marks.push({start: at, text: node.textContent, cls: node.getAttribute("class"), title: node.getAttribute("title"),
                  background: getComputedStyle(node).backgroundColor, children: node.childNodes.length});
    }
    if (node.nodeName !== "UL") at += Array.from(node.textContent).length;
  });
  var list = box.querySelector("ul");
  return {marks: marks, shown: Array.prototype.filter.call(box.childNodes, function (n) { return n.nodeName !== "UL"; })
    .map(function (n) { return n.textContent; }).join(""), unplaced: list ? list.textContent : null,
    elements: box.querySelectorAll("*").length};
})};
})();
"""


def _probe(browser, tmp_path, cases):
    page = _page(tmp_path)
    browser.get_log("browser")
    browser.get(page.resolve().as_uri())
    assert browser.get_log("browser") == []          # spans.js loads under the page's CSP, quietly
    templates = Path(__file__).resolve().parent.parent / "xling" / "reporting" / "templates"
    script = PROBE % ((templates / "common.js").read_text(), (templates / "spans.js").read_text())
    result = browser.execute_script(script, cases, _css_rules())
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    assert browser.get_log("browser") == []
    return result


def test_marks_sit_where_python_says_on_the_runs_spans(scored, browser, tmp_path):
    metrics, outputs = scored
    found = segment_spans(metrics, outputs)
    cases, expected = [], []
    for metric in ("xcomet-qe", "gemba-mqm", "gemba-esa"):
        for text, spans, unplaced in zip(outputs, found[metric]["spans"], found[metric]["unplaced"]):
            cases.append({"text": text, "spans": spans, "unplaced": unplaced})
            expected.append([{"start": s["start"], "text": text[s["start"]:s["end"]], "cls": f"err err-{s['severity']}",
                              "title": s["label"]} for s in spans])
    result = _probe(browser, tmp_path, cases)
    for case, got, want in zip(cases, result["cases"], expected):
        assert got["shown"] == case["text"]                # every character once, as text
        assert [{k: m[k] for k in ("start", "text", "cls", "title")} for m in got["marks"]] == want
        assert all(m["children"] == 1 for m in got["marks"])    # a text node only
        assert got["elements"] == len(want) + (1 + len(case["unplaced"]) if case["unplaced"] else 0)
    hostile = [m for got in result["cases"] for m in got["marks"] if m["text"] == EVIL]
    assert hostile and all(m["cls"] == "err err-minor" for m in hostile)
    mqm_second = result["cases"][len(outputs) + 1]
    assert mqm_second["unplaced"] == ("GEMBA-MQM: minor terminology/wrong term error: \u201cthunder\u201d "
                                      "(not found in the output)")


def test_hostile_labels_and_severities_and_astral_offsets(browser, tmp_path):
    text = f"\U0001F600\U0001F600 {EVIL} x \U0001D4AF{EVIL}"
    evil_at = text.index(EVIL)
    cases = [
        {"text": text, "spans": [
            {"start": evil_at, "end": evil_at + len(EVIL), "severity": "major", "label": "</script><script>alert(2)"},
            {"start": 0, "end": 1, "severity": "critical", "label": "first emoji"},
            {"start": len(text) - len(EVIL) - 1, "end": len(text) - len(EVIL), "severity": 'x" onmouseover="alert(3)',
             "label": "astral letter"},
            {"start": len(text) - len(EVIL) - 1, "end": len(text) + 50, "severity": "minor", "label": "past the end"},
        ], "unplaced": [{"severity": "major", "label": "<b>bold</b>", "text": EVIL},
                        {"severity": "minor", "label": "GEMBA-ESA: minor error", "text": ""}]},
        {"text": EVIL, "spans": [], "unplaced": []},
        {"text": "", "spans": [{"start": 0, "end": 3, "severity": "minor", "label": "none"}], "unplaced": []},
    ]
    result = _probe(browser, tmp_path, cases)
    assert result["rules"] == _css_rules().count("{")         # every rule of the CSS comment parses
    first, plain, empty = result["cases"]
    assert first["shown"] == text and plain["shown"] == EVIL and empty["shown"] == ""
    assert [(m["start"], m["text"], m["cls"], m["title"]) for m in first["marks"]] == [
        (0, "\U0001F600", "err err-critical", "first emoji"),
        (evil_at, EVIL, "err err-major", "</script><script>alert(2)"),
        (len(text) - len(EVIL) - 1, "\U0001D4AF", "err err-other", "astral letter"),
        (len(text) - len(EVIL), EVIL, "err err-minor", "past the end")]   # cut where the one before ended
    backgrounds = {m["cls"]: m["background"] for m in first["marks"]}
    assert len(set(backgrounds.values())) == 4 and "rgba(0, 0, 0, 0)" not in backgrounds.values()
    assert first["unplaced"] == (f"<b>bold</b>: \u201c{EVIL}\u201d (not found in the output)"
                                 "GEMBA-ESA: minor error (no words quoted)")
    assert plain["marks"] == [] and plain["elements"] == 0
    assert empty["marks"] == [] and empty["elements"] == 0


def test_the_report_marks_a_runs_spans_on_demand(scored_run, scored, browser, tmp_path):
    """In `xling report --format html`, the segment browser's Marks select shows each metric's
    spans in the outputs, and the errors it could not place below them."""
    from selenium.webdriver.support.ui import Select

    from xling.cli import main

    metrics, outputs = scored
    found = segment_spans(metrics, outputs)
    page = tmp_path / "report.html"
    assert main(["report", str(scored_run), "--format", "html", "-o", str(page)]) == 0
    open_page(browser, page)
    check_quiet(browser, page)
    assert not browser.find_elements("css selector", "#segments-body mark")
    for metric, title in (("xcomet-qe", "xCOMET-QE"), ("gemba-mqm", "GEMBA-MQM")):
        Select(browser.find_element("id", "marks")).select_by_value(title)
        marks = browser.find_elements("css selector", "#segments-body mark")
        want = [outputs[i][s["start"]:s["end"]] for i, spans in enumerate(found[metric]["spans"]) for s in spans]
        assert [m.get_attribute("textContent") for m in marks] == want and want
    lost = browser.find_elements("css selector", "#segments-body ul.err-unplaced li")
    assert len(lost) == sum(len(u) for u in found["gemba-mqm"]["unplaced"]) > 0
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    assert browser.get_log("browser") == []
