"""`xling report --format html`: one self-contained page, opened in a real headless browser
(Debian's chromium, driven by Selenium through the system chromedriver; nothing is downloaded).
The runs are real: the tiny causal model translates a small jsonl data set of our own, zero-shot
and one-shot; the escaping test's outputs come from a scripted OpenAI-compatible server."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from browser import check_quiet as _check_quiet
from browser import controls_and_drawing
from browser import open_page as _open
from browser import page_data as _page_data

from xling.cli import main
from xling.reporting.tables import signed

# Our own sentences (ko, en) in two domains.
ROWS = [
    ("나는 사과를 좋아한다.", "I like apples.", "food"),
    ("오늘은 비가 온다.", "It is raining today.", "weather"),
    ("고양이가 창문 옆에서 잔다.", "The cat sleeps by the window.", "home"),
    ("우리는 내일 시장에 간다.", "We go to the market tomorrow.", "food"),
    ("이 책은 아주 재미있다.", "This book is very interesting.", "home"),
    ("그는 매일 아침 달린다.", "He runs every morning.", "home"),
    ("물이 너무 차갑다.", "The water is too cold.", "weather"),
    ("기차가 늦게 도착했다.", "The train arrived late.", "home"),
    ("바다가 조용하다.", "The sea is calm.", "weather"),
    ("저는 학생입니다.", "I am a student.", "home"),
]
SHOTS = [("저녁을 먹었다.", "I had dinner."), ("하늘이 맑다.", "The sky is clear.")]
EVIL_IMG = "<img src=x onerror=alert(1)>"
EVIL_SCRIPT = "</script><script>alert(2)</script>"
EVIL_ENTITY = "Tom &amp; Jerry &lt;b&gt; \u2028 end"


def _write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _cli(*args) -> None:
    code = main([str(a) for a in args])
    assert code == 0, f"xling {' '.join(map(str, args))} exited {code}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_causal):
    """Two runs of the tiny model on the same 10 segments x 2 directions: zero-shot (A) and
    one-shot from a shots file (B)."""
    root = tmp_path_factory.mktemp("html-runs")
    data = _write_jsonl(root / "data.jsonl", [{"id": f"s{i:02d}", "ko": ko, "en": en, "domain": domain}
                                              for i, (ko, en, domain) in enumerate(ROWS)])
    (root / "shots.ko-en.tsv").write_text("".join(f"{ko}\t{en}\n" for ko, en in SHOTS), encoding="utf-8")
    (root / "shots.en-ko.tsv").write_text("".join(f"{en}\t{ko}\n" for ko, en in SHOTS), encoding="utf-8")
    shots = root / "shots.{src}-{tgt}.tsv"     # one file per direction
    common = ["eval", "mt", "-m", tiny_causal, "--data", f"jsonl:{data}", "--pairs", "ko-en,en-ko",
              "--max-new-tokens", "12", "--metrics", "bleu,chrf,offtarget"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLING_CACHE", str(root / "cache"))
        mp.setenv("HF_HUB_OFFLINE", "1")
        _cli(*common, "-o", root / "A")
        _cli(*common, "--shots", "1", "--shots-file", shots, "-o", root / "B")
    return root / "A", root / "B"


def _shown_order(driver) -> list[int]:
    # read in one script call: rows found one call and read the next may have been redrawn meanwhile
    return driver.execute_script("return Array.from(document.querySelectorAll('#segments-body tr'))"
                                 ".map(function (tr) { return Number(tr.getAttribute('data-n')); });")


def _select(driver, element_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", element_id)).select_by_value(value)


# -- without a browser ---------------------------------------------------------------------------
def test_page_json_writes_no_nan():
    """A stored NaN (a judge direction with no parseable answer) is a blank, not a refusal."""
    from xling.reporting.html_report import page_json

    assert json.loads(page_json({"score": float("nan"), "ci": [1.0, float("inf")], "n": 3})) == \
        {"score": None, "ci": [1.0, None], "n": 3}


def test_page_json_cannot_end_its_script_element():
    from xling.reporting.html_report import page_json

    data = {"a": EVIL_SCRIPT, "b": EVIL_IMG, "c": EVIL_ENTITY, "d": "<!-- <script>"}
    text = page_json(data)
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == data


def test_report_writes_one_self_contained_file_with_every_table(runs, tmp_path, capsys):
    a, b = runs
    out = tmp_path / "report.html"
    assert main(["report", str(a), str(b), "--format", "html", "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    html = out.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the page refers to the network"
    assert "<link rel=\"stylesheet\"" not in html and html.count("<script") == 2
    data = _page_data(out)
    from xling.reporting.report import build_report

    tables = build_report([str(a), str(b)])
    assert [t["title"] for t in data["tables"]] == [t.title for t in tables]
    assert [t["rows"] for t in data["tables"]] == [t.rows for t in tables]
    # with JavaScript off, the same tables are there as plain HTML (they were not: empty sections)
    from markupsafe import escape

    plain = html[html.index("<noscript>"):html.index("</noscript>")]
    assert plain.count("<table>") == len(tables) and all(f"<h3>{escape(t.title)}</h3>" in plain for t in tables)
    assert f"<td>{escape(tables[0].rows[0][-1])}</td>" in plain
    # the significance comes from build_report's "runs compared" table, cell for cell
    compared = next(t for t in tables if t.title == "chrF: runs compared")
    chrf = next(s for s in data["significance"] if s["metric"] == "chrf")
    for row, parsed in zip(compared.rows, chrf["rows"]):
        cell = parsed["cells"][0]
        text = f"{cell['score']:.2f} ({signed(cell['delta'], 2)}, p={cell['p']:.4f})"
        assert row[2].startswith(text)
        assert (cell["mark"] is not None) == row[2].endswith("*")
    # every prompt of both runs is rebuilt (B: its demonstration from the shots file) and hashes
    # to the record's prompt_hash
    rows = data["segments"]["rows"]
    assert len(rows) == 2 * len(ROWS)
    assert all(side["ok"] is True for row in rows for side in row["sides"])
    assert [p["shots"] for p in data["segments"]["directions"][0]["prompts"]] == [0, 1]
    # sentence chrF as sacrebleu's sentence_chrf gives it
    import sacrebleu

    first = rows[0]["sides"][0]
    chrf_at = data["segments"]["directions"][0]["metrics"].index("chrf")
    assert first["s"][chrf_at] == pytest.approx(sacrebleu.sentence_chrf(first["out"], [rows[0]["ref"]]).score, abs=1e-3)


def test_html_needs_an_output_outside_the_run_folders(runs, tmp_path, capsys):
    from helpers import assert_error

    a, b = runs
    code = main(["report", str(a), "--format", "html"])
    assert_error(code, capsys.readouterr().err,
                 "--format html writes a page: give it with --output/-o (-o report.html, or -o - for standard output)")
    code = main(["report", str(a), str(b), "--format", "html", "-o", str(b / "report.html")])
    assert_error(code, capsys.readouterr().err, f"is inside the run folder {b}")
    assert not (b / "report.html").exists()


def test_text_formats_are_unchanged(runs, tmp_path, capsys):
    from xling.reporting.report import build_report
    from xling.reporting.tables import render_all

    a, b = runs
    for fmt in ("text", "markdown"):
        assert main(["report", str(a), str(b), "-f", fmt]) == 0
        assert capsys.readouterr().out == render_all(build_report([str(a), str(b)]), fmt)
    out = tmp_path / "report.md"
    assert main(["report", str(a), str(b), "-f", "markdown", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_all(build_report([str(a), str(b)]), "markdown")


def test_a_report_into_a_file_another_xling_writes_is_refused(runs, tmp_path, capsys):
    """(review E of round 24) report -o took no lock: translate -o on the same file swept its
    live temporary file away as a killed run's."""
    from xling.store.locks import output_lock

    out = tmp_path / "r.md"
    with output_lock(out):
        assert main(["report", str(runs[0]), "-f", "markdown", "-o", str(out)]) == 2
    assert "is being written by another xling process" in capsys.readouterr().err and not out.exists()
    assert main(["report", str(runs[0]), "-f", "markdown", "-o", str(out)]) == 0 and out.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".r.md")) == []


# -- in the browser ------------------------------------------------------------------------------
def test_report_in_a_browser(runs, browser, tmp_path):
    from selenium.webdriver.common.by import By

    a, b = runs
    page = tmp_path / "report.html"
    assert main(["report", str(a), str(b), "--format", "html", "-o", str(page)]) == 0
    data = _page_data(page)
    rows = data["segments"]["rows"]
    _open(browser, page)
    _check_quiet(browser, page)
    browser.save_screenshot(str(tmp_path / "report.png"))
    assert (tmp_path / "report.png").stat().st_size > 10_000

    # the overview: each run's table, scores with their signature as a tooltip
    scores = browser.find_elements(By.CSS_SELECTOR, "#overview-body span.score")
    assert len(scores) == 2 * 2 * 3      # runs x directions x metrics
    assert scores[0].get_attribute("title") == data["runs"][0]["directions"][0]["scores"]["bleu"]["signature"]
    assert browser.find_elements(By.CSS_SELECTOR, "#heatmaps-body svg rect[data-cell]")
    # every text laid out by its own script (Arabic, Hebrew: right to left, full stop on the left)
    texts = browser.find_elements(By.CSS_SELECTOR, "div.text")
    assert texts and {t.value_of_css_property("unicode-bidi") for t in texts} == {"plaintext"}

    # one page of rows at a time, in data order
    assert _shown_order(browser) == list(range(len(rows)))
    assert browser.find_element(By.ID, "page-info").text == f"rows 1–{len(rows)} of {len(rows)}"

    # sort by the chrF delta (a click on its header: largest first, rows without one last)
    browser.find_element(By.CSS_SELECTOR, "th[data-sort='delta']").click()
    at = data["segments"]["directions"][0]["metrics"].index("chrf")

    def delta(n):
        s = [side["s"][at] for side in rows[n]["sides"]]
        return s[1] - s[0]

    expected = sorted(range(len(rows)), key=lambda n: (-delta(n), n))
    assert expected != list(range(len(rows)))
    assert _shown_order(browser) == expected
    # and smallest first, from the keyboard too (round 24: only a mouse click reversed an order)
    from selenium.webdriver.common.keys import Keys
    browser.find_element(By.CSS_SELECTOR, "th[data-sort='delta']").send_keys(Keys.ENTER)
    assert _shown_order(browser) == sorted(range(len(rows)), key=lambda n: (delta(n), n))
    assert browser.switch_to.active_element.get_attribute("data-sort") == "delta"   # still there for the next key
    assert browser.switch_to.active_element.get_attribute("aria-sort") == "ascending"

    # filters: a direction, a domain, a flag, a text
    _select(browser, "filter-direction", "1")
    en_ko = [n for n, r in enumerate(rows) if r["d"] == 1]
    assert sorted(_shown_order(browser)) == en_ko
    assert browser.find_element(By.ID, "page-info").text.endswith(f"of {len(en_ko)} (of {len(rows)})")
    _select(browser, "filter-domain", "weather")
    assert sorted(_shown_order(browser)) == [n for n in en_ko if rows[n]["dom"] == "weather"]
    _select(browser, "filter-domain", "")
    _select(browser, "filter-direction", "")
    _select(browser, "filter-flag", "off-a")
    assert sorted(_shown_order(browser)) == [n for n, r in enumerate(rows) if r["sides"][0]["off"] == 1]
    _select(browser, "filter-flag", "")
    search = browser.find_element(By.ID, "filter-text")
    import unicodedata
    search.send_keys(unicodedata.normalize("NFD", "창문"))   # (round 24: jamo found no syllable)
    browser.implicitly_wait(0)
    import time

    deadline = time.monotonic() + 60   # generous: the loop ends as soon as it shows
    while len(_shown_order(browser)) != 2 and time.monotonic() < deadline:   # the search waits 120 ms
        time.sleep(0.05)
    assert sorted(_shown_order(browser)) == [n for n, r in enumerate(rows) if "창문" in r["src"] + r["ref"]]

    # the exact prompt, on demand: the second run's holds its one demonstration
    browser.find_element(By.CSS_SELECTOR, "#segments-body button.show-prompt").click()
    dialog = browser.find_element(By.ID, "prompt-dialog")
    assert dialog.get_attribute("open") is not None
    shown = [row for row in rows if "창문" in row["src"] + row["ref"]]
    text = dialog.text
    assert text.count("the rebuilt prompt hashes to it") == 2
    inputs = [e.text for e in dialog.find_elements(By.CSS_SELECTOR, "pre.model-input")]
    assert len(inputs) == 2 and all(any(r["src"] in t for r in shown) for t in inputs)
    assert sum(ko in inputs[1] or en in inputs[1] for ko, en in SHOTS) == 1
    browser.save_screenshot(str(tmp_path / "prompt.png"))
    browser.find_element(By.ID, "prompt-close").click()
    assert dialog.get_attribute("open") is None
    assert browser.get_log("browser") == []


def test_one_run_alone(runs, browser, tmp_path):
    a, _ = runs
    page = tmp_path / "one.html"
    assert main(["report", str(a), "--format", "html", "-o", str(page)]) == 0
    _open(browser, page)
    _check_quiet(browser, page)
    assert len(_shown_order(browser)) == 2 * len(ROWS)
    assert not browser.find_elements("css selector", "th[data-sort='delta']")


def test_nothing_in_the_data_runs_as_code(tmp_path, browser):
    """Sources, references and model outputs holding markup are shown as text: no alert, no
    element made from them, and the page's JSON is not cut short by a `</script>`."""
    from selenium.common.exceptions import NoAlertPresentException
    from servers import FakeOpenAI

    evil = [EVIL_IMG, EVIL_SCRIPT, EVIL_ENTITY]
    data = _write_jsonl(tmp_path / "evil.jsonl", [
        {"id": f"e{i}", "ko": f"{text} 나는 사과를 좋아한다.", "en": f"{text} I like apples."}
        for i, text in enumerate(evil)])

    def answer(style):
        def respond(payload):
            user = payload["messages"][-1]["content"]
            k = next(i for i, text in enumerate(evil) if text in user)
            return evil[(k + style) % len(evil)] + (" apples" if style else "")
        return respond

    pages = []
    for style in (0, 1):
        server = FakeOpenAI(respond=answer(style))
        try:
            _cli("eval", "mt", "--backend", "http", "--base-url", server.url, "-m", "fake", "--data",
                 f"jsonl:{data}", "--pairs", "ko-en", "--metrics", "bleu,chrf,offtarget", "-o", tmp_path / f"R{style}")
        finally:
            server.close()
        pages.append(tmp_path / f"R{style}")
    page = tmp_path / "evil.html"
    assert main(["report", *map(str, pages), "--format", "html", "-o", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert EVIL_SCRIPT not in html and EVIL_IMG not in html and html.count("</script>") == 2
    assert _page_data(page)["segments"]["rows"][1]["sides"][0]["out"] == EVIL_SCRIPT
    _open(browser, page)
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    _check_quiet(browser, page)
    assert browser.find_elements("css selector", "img") == []
    assert browser.execute_script("return document.querySelectorAll('script').length") == 2
    shown = browser.execute_script("return document.getElementById('segments-body').textContent")
    for text in evil:
        assert text in shown, text
    # and in the prompt: the rebuilt messages (the HTTP backend's input) hash to the records' prompt_hash
    browser.find_elements("css selector", "#segments-body button.show-prompt")[1].click()
    dialog = browser.find_element("id", "prompt-dialog").text
    assert EVIL_SCRIPT in dialog and dialog.count("the rebuilt prompt hashes to it") == 2
    browser.save_screenshot(str(tmp_path / "evil.png"))
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    assert browser.get_log("browser") == []


def test_document_mode_rows_carry_their_realignment(tiny_causal, tmp_path, browser):
    """A run translated by document: segments whose chunk could not be split back are flagged;
    each chunk's prompt is rebuilt and checked against every record's prompt_hash, and the dialog
    shows it with the chunk's raw answer."""
    data = Path(__file__).parent / "data" / "wmt_like_docs.jsonl"
    _cli("eval", "mt", "-m", tiny_causal, "--data", f"jsonl:{data}", "--pairs", "en-ko", "--unit", "document",
         "--max-new-tokens", "24", "--metrics", "chrf,offtarget", "-o", tmp_path / "D")
    page = tmp_path / "doc.html"
    assert main(["report", str(tmp_path / "D"), "--format", "html", "-o", str(page)]) == 0
    records = [json.loads(line) for line in (tmp_path / "D" / "outputs" / "en-ko.jsonl").read_text().splitlines()]
    segments = _page_data(page)["segments"]
    assert [bool(r["sides"][0].get("unaligned")) for r in segments["rows"]] == \
        [r.get("realigned") is False for r in records]
    view = segments["directions"][0]["prompts"][0]
    assert set(view["chunks"]) == {str(r["chunk"]) for r in records}
    assert all(r["sides"][0]["ok"] is True for r in segments["rows"])
    _open(browser, page)
    _check_quiet(browser, page)
    browser.find_element("css selector", "#segments-body button.show-prompt").click()
    dialog = browser.find_element("id", "prompt-dialog").text
    assert f"document chunk {records[0]['chunk']}" in dialog
    assert records[0]["source"] in dialog and "the rebuilt prompt hashes to it" in dialog
    assert main(["prompt", str(tmp_path / "D"), records[0]["id"]]) == 0      # and in the shell
    assert records[0]["chunk_raw"].strip().splitlines()[0] in dialog


def test_intervals_and_buckets_are_computed_over_their_segments(runs, tmp_path):
    """The overview's 95% intervals are the bootstrap intervals of the stored scores; a length
    bucket's BLEU is sacrebleu's corpus BLEU over that bucket's segments; the frequency buckets'
    precision and recall are clipped word matches, counted here by brute force."""
    from collections import Counter

    from sacrebleu.metrics import BLEU

    from xling.metrics.significance import bootstrap_ci
    from xling.reporting.buckets import FREQUENCY_EDGES, WORD_EDGES, bucket_of
    from xling.runs.records import metric_result, read_run

    a, b = runs
    page = tmp_path / "report.html"
    assert main(["report", str(a), str(b), "--format", "html", "-o", str(page)]) == 0
    data = _page_data(page)
    run = read_run(a)
    entry = data["runs"][0]["directions"][0]
    result = metric_result(run.run, entry["name"], "chrf")
    _, low, high = bootstrap_ci(result, data["intervals"]["samples"], data["intervals"]["seed"])
    assert entry["scores"]["chrf"]["ci"] == [round(low, 4), round(high, 4)]
    assert low <= entry["scores"]["chrf"]["score"] <= high

    ko_en = next(d for d in data["buckets"]["directions"] if d["name"] == "ko-en")
    length, frequency = ko_en["analyses"]
    for k, path in enumerate((a, b)):
        records = read_run(path).run.read_outputs("ko-en")
        groups: dict[int, list[dict]] = {}
        for r in records:
            groups.setdefault(bucket_of(len(r["reference"].split()), WORD_EDGES), []).append(r)
        for index, group in groups.items():
            expected = BLEU().corpus_score([r["output"] for r in group], [[r["reference"] for r in group]]).score
            assert length["values"]["BLEU"][k][index] == pytest.approx(expected, abs=1e-4)
        tokenize = BLEU(tokenize="13a").tokenizer
        refs = [tokenize(r["reference"]).split() for r in records]
        outs = [tokenize(r["output"]).split() for r in records]
        counts = Counter(w for words in refs for w in words)

        def bucket(word):
            return 0 if counts[word] == 0 else 1 + bucket_of(counts[word], FREQUENCY_EDGES)

        matched, out_total, ref_total = Counter(), Counter(), Counter()
        for out, ref in zip(outs, refs):
            for w in ref:
                ref_total[bucket(w)] += 1
            for w in out:
                out_total[bucket(w)] += 1
            for w, c in Counter(out).items():
                matched[bucket(w)] += min(c, Counter(ref)[w])
        # compare-mt's FreqWordBucketer buckets (3 and 4 were merged)
        assert frequency["labels"] == ["unseen", "1", "2", "3", "4", "5-9", "10-99", "100-999", ">=1000"]
        for index in range(len(frequency["labels"])):
            precision = frequency["values"]["precision"][k][index]
            recall = frequency["values"]["recall"][k][index]
            assert precision == (round(100 * matched[index] / out_total[index], 2) if out_total[index] else None)
            assert recall == (round(100 * matched[index] / ref_total[index], 2) if ref_total[index] else None)
            # compare-mt's F of reference words never matched is 0 (it was blank: "no data")
            f_measure = frequency["values"]["word F-measure"][k][index]
            if recall is None:
                assert f_measure is None
            elif not matched[index]:
                assert f_measure == 0.0
            else:
                assert f_measure == round(2 * precision * recall / (precision + recall), 2)
        assert frequency["counts"] == [ref_total[i] for i in range(len(frequency["labels"]))]


def test_overview_intervals_and_bucket_views_in_the_browser(runs, browser, tmp_path):
    from selenium.webdriver.common.by import By

    a, b = runs
    page = tmp_path / "report.html"
    assert main(["report", str(a), str(b), "--format", "html", "-o", str(page)]) == 0
    data = _page_data(page)
    _open(browser, page)
    _check_quiet(browser, page)
    intervals = browser.find_elements(By.CSS_SELECTOR, "#overview-body span.ci")
    first = data["runs"][0]["directions"][0]["scores"]["bleu"]["ci"]
    assert intervals and intervals[0].text == f"95% [{first[0]:.2f}, {first[1]:.2f}]"
    by_domain = [t for t in data["tables"] if t["title"].endswith(" by domain")]
    assert len(by_domain) == 4      # runs x directions
    assert [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#overview-body h4")] == \
        [t["title"] for t in by_domain]

    def header():
        return [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#buckets-body th")]

    assert header()[:2] == ["reference words", "segments"] and header()[2].startswith("BLEU ")
    _select(browser, "bucket-measure", "chrF")
    assert header()[2].startswith("chrF ")
    _select(browser, "bucket-analysis", "1")
    assert header()[:3] == ["occurrences in this direction's references", "reference words",
                            f"word F-measure {data['buckets']['runs'][0]}"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#buckets-body tbody tr")
    labels = [tr.get_attribute("data-bucket") for tr in rows]
    assert labels == data["buckets"]["directions"][0]["analyses"][1]["labels"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#buckets-body svg rect")) > 0
    assert browser.get_log("browser") == []


def _controls_and_drawing(driver) -> dict:
    """Every control's value, the rows drawn and the buckets drawn."""
    return controls_and_drawing(driver, "#browser select, #browser input, #buckets select", {
        "rows": "Array.from(document.querySelectorAll('#segments-body tr'))"
                ".map(function (tr) { return Number(tr.getAttribute('data-n')); })",
        "info": "document.getElementById('page-info').textContent",
        "buckets": "document.getElementById('buckets-body').innerHTML"})


def test_after_back_the_controls_say_what_the_page_draws(runs, browser, tmp_path):
    """Round 26: after the browser's Back, chromium put the old choices back into the segment
    browser's and the buckets' controls (direction, flag, sort, search) while the script drew its
    defaults: the selects said ko-en, outputs differ, by delta, yet the table held every row in data
    order. The page is drawn as when first opened, and its controls say so."""
    a, b = runs
    page, other = tmp_path / "report.html", tmp_path / "other.html"
    assert main(["report", str(a), str(b), "--format", "html", "-o", str(page)]) == 0
    assert main(["report", str(a), "--format", "html", "-o", str(other)]) == 0
    _open(browser, page)
    fresh = _controls_and_drawing(browser)
    _select(browser, "filter-direction", "1")
    _select(browser, "filter-flag", "differ")
    _select(browser, "sort-key", "delta")
    _select(browser, "bucket-direction", "1")
    browser.find_element("id", "filter-text").send_keys("e")    # (what it draws is not waited for)
    changed = _controls_and_drawing(browser)
    assert changed["values"] != fresh["values"] and changed["rows"] != fresh["rows"]
    assert changed["buckets"] != fresh["buckets"]
    browser.get(other.resolve().as_uri())
    browser.back()
    assert browser.execute_script("return document.body.getAttribute('data-ready')")
    assert _controls_and_drawing(browser) == fresh


def test_equal_scores_are_never_called_better_or_worse(runs, tmp_path, capsys):
    """A run compared with a copy of itself: sacrebleu's paired bootstrap gives its smallest p
    (1/1001) to a difference of exactly 0, but there is no difference to call: no better*/worse*
    in the text report, none in the page."""
    from xling.metrics import bleu, paired_test

    a, _ = runs
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    assert main(["report", str(a), str(copy)]) == 0
    text = capsys.readouterr().out
    assert "p=0.0010)" in text and ") better*" not in text and ") worse*" not in text
    page = tmp_path / "same.html"
    assert main(["report", str(a), str(copy), "--format", "html", "-o", str(page)]) == 0
    cells = [c for table in _page_data(page)["significance"] for row in table["rows"] for c in row["cells"]]
    assert cells and all(c["delta"] == 0 and c["mark"] is None for c in cells)
    (p,) = paired_test(bleu(["a b c", "d e"], ["a b c", "d f"]), {"x": bleu(["a b c", "d e"], ["a b c", "d f"])})
    assert p.p_value == 1 / 1001 and p.verdict is None and p.to_dict()["verdict"] is None


def test_buckets_leave_out_a_run_with_other_segments(tiny_causal, tmp_path):
    """Three runs: the first lacks en-ko, the other two hold different en-ko segments (the third
    only 4; no direction is in all three, so no paired test refuses them). en-ko's
    buckets are the second run's; the third gets none there (its positions are other segments)."""
    data = _write_jsonl(tmp_path / "d.jsonl", [{"id": f"s{i}", "ko": ko, "en": en}
                                                for i, (ko, en, _) in enumerate(ROWS)])
    common = ["eval", "mt", "-m", tiny_causal, "--data", f"jsonl:{data}", "--max-new-tokens", "6", "--metrics", "chrf"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLING_CACHE", str(tmp_path / "cache"))
        _cli(*common, "--pairs", "ko-en", "-o", tmp_path / "A")
        _cli(*common, "--pairs", "ko-en,en-ko", "-o", tmp_path / "B")
        _cli(*common, "--pairs", "en-ko", "--limit", "4", "-o", tmp_path / "C")
    page = tmp_path / "r.html"
    assert main(["report", *(str(tmp_path / r) for r in "ABC"), "--format", "html", "-o", str(page)]) == 0
    en_ko = next(d for d in _page_data(page)["buckets"]["directions"] if d["name"] == "en-ko")
    for analysis in en_ko["analyses"]:
        for values in analysis["values"].values():
            assert values[0] is None and values[1] is not None and values[2] is None


def test_xling_prompt_prints_an_mt_segments_prompt_as_the_page_shows_it(runs, tmp_path, capsys):
    """`xling prompt RUN ID --lang SRC-TGT` on an MT run: the rebuilt prompt, checked against the
    record's prompt_hash, equal to the page's; an id in several directions needs --lang."""
    _, b = runs
    records = [json.loads(line) for line in (b / "outputs" / "ko-en.jsonl").read_text(encoding="utf-8").splitlines()]
    record = records[3]
    capsys.readouterr()
    assert main(["prompt", str(b), record["id"]]) == 2
    assert "is in several directions" in capsys.readouterr().err
    assert main(["prompt", str(b), record["id"], "--lang", "ko-en"]) == 0
    out = capsys.readouterr().out
    assert main(["prompt", str(b), record["id"], "--lang", "KO-eng_Latn"]) == 0   # (round 19: any spelling)
    assert capsys.readouterr().out == out
    assert f"## prompt_hash {record['prompt_hash']}: the rebuilt prompt hashes to it" in out
    assert out.rstrip("\n").endswith(f"## output\n{record['output']}")
    page = tmp_path / "b.html"
    assert main(["report", str(b), "--format", "html", "-o", str(page)]) == 0
    view = _page_data(page)["segments"]["directions"][0]["prompts"][0]
    model_input = view["input"].replace("\ue000xling:source\ue000", record["source"])
    assert f"## the model's input\n{model_input}\n## prompt_hash" in out
    assert "1 demonstration(s)" in out and any(ko in model_input for ko, _ in SHOTS)    # from the shots file
    assert main(["prompt", str(b), record["id"], "--lang", "ko-ja"]) == 2
    assert "has no direction 'ko-ja'" in capsys.readouterr().err
    assert main(["prompt", str(b), record["id"], "--lang", "ko-en", "--mode", "ll"]) == 2


def test_a_direction_made_by_an_earlier_pass_shows_no_cost_of_zero_seconds():
    """Audit round 10: outputs made before an interrupt were shown as costing 0 s on resume."""
    from xling.reporting.html_report import _cost

    assert _cost({"seconds": 0.004, "from_cache": True}) == {"from_cache": True}
    assert _cost({"seconds": 2.5, "generated": 4}) == {"seconds": 2.5, "generated": 4}


def test_a_direction_from_the_cache_keeps_its_cut_and_clipped_counts():
    """(audit round 26) Every output from the cache: the cost kept only from_cache, and the page lost
    how many outputs stopped at their budget and how many budgets the context window cut."""
    from xling.reporting.html_report import _cost

    assert _cost({"seconds": 0.01, "from_cache": True, "cut_at_budget": 5, "clipped_budgets": 2}) == \
        {"from_cache": True, "cut_at_budget": 5, "clipped_budgets": 2}


def test_a_run_stopped_before_it_finished_says_so_on_its_page(runs, tmp_path, capsys, browser):
    """Only stderr said "finished 1 of its 2 directions": the page had no trace of the other."""
    import json
    import shutil

    stopped = tmp_path / "stopped"
    shutil.copytree(runs[0], stopped)
    metrics = json.loads((stopped / "metrics.json").read_text(encoding="utf-8"))
    del metrics["directions"]["en-ko"]
    (stopped / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    (stopped / "outputs" / "en-ko.jsonl").unlink()
    page = tmp_path / "report.html"
    assert main(["report", str(stopped), "--format", "html", "-o", str(page)]) == 0
    assert "finished 1 of its 2 directions" in capsys.readouterr().err
    assert _page_data(page)["runs"][0]["unfinished"] == ["en-ko"]
    assert _page_data(page)["runs"][0]["directions"][0]["name"] == "ko-en"
    _open(browser, page)
    _check_quiet(browser, page)
    shown = [p.text for p in browser.find_elements("css selector", "#overview-body p.warning")]
    assert any(text.startswith("not finished: en-ko") for text in shown), shown


def test_comet_scores_on_the_page_have_the_text_reports_decimals(runs, browser, tmp_path):
    """COMET's 0-1 scores were shown to 2 decimals (1 in heatmaps and sentences) where the text
    report gives 4: two runs read "0.85 | 0.85 (0.00, p=0.0010) better*"."""
    from selenium.webdriver.common.by import By
    from tiny_models import build_comet

    comet = build_comet(tmp_path / "comet")
    copies = []
    for run in runs:
        shutil.copytree(run, tmp_path / run.name)
        copies.append(tmp_path / run.name)
        assert main(["rescore", str(tmp_path / run.name), "-m", "comet", "--comet-model", str(comet)]) == 0
    page = tmp_path / "comet.html"
    assert main(["report", *map(str, copies), "--format", "html", "-o", str(page)]) == 0
    stored = json.loads((copies[0] / "metrics.json").read_text(encoding="utf-8"))
    first = next(iter(stored["directions"].values()))["metrics"]["comet"]["score"]
    _open(browser, page)
    _check_quiet(browser, page)
    shown = [s.text for s in browser.find_elements(By.CSS_SELECTOR, "#overview-body span.score")
             if s.get_attribute("title").startswith(stored_signature(stored))]
    assert shown and shown[0] == f"{first:.4f}"
    assert all(re.fullmatch(r"-?\d+\.\d{4}", text) for text in shown)


def stored_signature(metrics: dict) -> str:
    return next(iter(metrics["directions"].values()))["metrics"]["comet"]["signature"][:12]


def test_a_right_to_left_override_in_a_run_name_stays_out_of_the_page(runs, tmp_path):
    """An override never closed in a folder's name turned the names after it around in the
    page's <title> and <h1> (round 17), and in every sentence naming the run: the segment
    browser's summary, the notes, the heatmap captions (audit round 18)."""
    import shutil

    from xling.reporting.html_report import report_data

    named = tmp_path / "b\u202eRTL"
    shutil.copytree(runs[1], named)
    data = report_data([str(runs[0]), str(named)])
    text = json.dumps(data, ensure_ascii=False).replace(json.dumps(str(named), ensure_ascii=False)[1:-1], "")
    assert data["title"].endswith(", bRTL") and "\u202e" not in text   # (the folder's path is as it is)


def _judged_run(path: Path, scores: dict[str, list[float | None]], signature: str, metric: str = "gemba-esa"):
    """A hand-made MT run whose directions a judge (or `metric`) scored (None: an answer it could not read)."""
    from xling.runs.folder import RunDir, RunHeader

    run = RunDir(path)
    run.prepare(RunHeader("mt", {"x": 1}, {"data": "flores200:devtest", "shots": 0}, list(scores),
                          model={"model": "hand", "revision": "0"}, data={"spec": "flores200:devtest"}))
    entries = {}
    for direction, segments in scores.items():
        digest = run.write_outputs(direction, [{"id": str(i), "source": f"s{i}", "output": "o", "reference": f"r{i}"}
                                               for i in range(len(segments))])
        scored = [s for s in segments if s is not None]
        entries[direction] = {"n": len(segments), "outputs_sha256": digest, "metrics": {metric: {
            "name": metric, "score": sum(scored) / len(scored), "segments": segments, "signature": signature}}}
    run.write_metrics({"directions": entries})
    return run.path


def test_a_judges_paired_tests_read_on_the_page_as_in_the_text_report(tmp_path, browser):
    """(audit round 22) the page re-read the text cells and filed a judge's "S (+D on the N/M
    segments judged for both, p=P)" as "(not comparable)": no delta, no p, no mark."""
    from xling.reporting.report import build_report

    base = _judged_run(tmp_path / "base", {"en-ko": [None] * 4 + [90.0] * 4, "ko-en": [50.0] * 8}, "j|parsed:4/8")
    worse = _judged_run(tmp_path / "worse", {"en-ko": [40.0] * 4 + [60.0, 61.0, 59.0, 60.0],
                                             "ko-en": [55.0] * 8}, "j|parsed:8/8")
    other = _judged_run(tmp_path / "other", {"en-ko": [70.0] * 4 + [None] * 4, "ko-en": [45.0] * 8}, "j|parsed:4/8")
    paths = [str(base), str(worse), str(other)]
    (table,) = [t for t in build_report(paths, ["gemba-esa"]) if t.title.endswith("runs compared")]
    texts = {row[0]: row[2:] for row in table.rows}
    assert texts["en-ko"][0].startswith("50.00 (-30.00 on the 4/8 segments judged for both, p=")
    assert texts["en-ko"][0].endswith("worse*")
    assert texts["en-ko"][1] == "70.00 (no test: no segment judged for both)"
    page = tmp_path / "judged.html"
    assert main(["report", *paths, "-m", "gemba-esa", "-o", str(page)]) == 0
    (significance,) = _page_data(page)["significance"]
    cells = {row["label"]: row["cells"] for row in significance["rows"]}
    tested, untested = cells["en-ko"]
    assert tested["comparable"] and tested["judged_both"] == "4/8" and tested["mark"] == "worse"
    assert (tested["score"], tested["delta"]) == (50.0, -30.0) and tested["p"] < 0.05
    assert untested["comparable"] and untested["p"] is None
    assert cells["ko-en"][0]["judged_both"] is None and cells["ko-en"][0]["mark"] == "better"
    _open(browser, page)
    from selenium.webdriver.common.by import By

    shown = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#significance-body td")]
    # the page's cells read as the text report's (p to 4 decimals both ways)
    for row in table.rows:
        start = shown.index(row[0])
        assert shown[start:start + len(row)] == row, (shown[start:start + len(row)], row)
    assert not any("not comparable" in text for text in shown)
    overview = browser.find_element(By.ID, "overview-body").text
    assert "on the 4/8 segments judged for both" in overview and "no segment judged for both" in overview


def test_a_second_run_with_other_segments_gets_a_page_as_the_text_report_compares_it(tmp_path, browser):
    """(audit round 22) `report R0 R4` (R4 made with --limit) was compared in text, but the page
    refused it in one line: the browser now leaves that direction out with a note."""
    full = _judged_run(tmp_path / "full", {"en-ko": [50.0] * 8, "ko-en": [60.0] * 8}, "j|parsed:8/8")
    limited = _judged_run(tmp_path / "limited", {"en-ko": [55.0] * 4, "ko-en": [65.0] * 8}, "j|parsed:8/8")
    page = tmp_path / "limited.html"
    assert main(["report", str(full), str(limited), "-o", str(page)]) == 0
    data = _page_data(page)
    segments = data["segments"]
    assert [d["name"] for d in segments["directions"]] == ["ko-en"] and len(segments["rows"]) == 8
    (note,) = segments["notes"]
    assert note.startswith("en-ko: ") and "scored different segments for en-ko (4 vs 8)" in note
    assert note.endswith("; not browsed")
    (significance,) = data["significance"]
    cells = {row["label"]: row["cells"] for row in significance["rows"]}
    assert cells["en-ko"] == [None] and cells["ko-en"][0]["mark"] == "better"
    _open(browser, page)
    from selenium.webdriver.common.by import By

    assert "not browsed" in browser.find_element(By.ID, "browser-summary").text


@pytest.mark.parametrize("metric, close, far, floor", [("gemba-esa", (99.3708, 99.3674), (60.0, 90.0), "1"),
                                                        ("xcomet", (0.9001, 0.9003), (0.5, 0.9), "0.01")])
def test_heatmap_colours_do_not_stretch_a_tiny_spread(tmp_path, browser, metric, close, far, floor):
    """(audit round 22) BLEU 99.3708 and 99.3674 (both shown 99.4) were painted best green and
    worst red: the colours now span at least 1/100 of the metric's scale."""
    from selenium.webdriver.common.by import By

    fills = {}
    for name, (a, b) in (("close", close), ("far", far)):
        run = _judged_run(tmp_path / name, {"en-ko": [a] * 2, "ko-en": [b] * 2}, "s", metric)
        page = tmp_path / f"{name}.html"
        assert main(["report", str(run), "-o", str(page)]) == 0
        _open(browser, page)
        rects = browser.find_elements(By.CSS_SELECTOR, "#heatmaps-body svg rect[data-cell]")
        fills[name] = {r.get_attribute("data-cell"): r.get_attribute("fill") for r in rects}
        caption = browser.find_element(By.CSS_SELECTOR, "#heatmaps-body figcaption").text
        assert f"colours are relative within this matrix, over a score span of at least {floor}" in caption
    hues = [int(re.match(r"hsl\((\d+),", fill)[1]) for fill in fills["close"].values()]
    assert all(64 <= hue <= 66 for hue in hues)   # both the middle of the scale (10 red .. 120 green)
    # a real spread still runs from the worst colour to the best
    assert fills["far"] == {"en-ko": "hsl(10, 62%, 80%)", "ko-en": "hsl(120, 62%, 62%)"}


def test_the_pages_off_target_note_is_the_text_reports(runs, browser, tmp_path):
    """(audit round 22) the page said "outputs empty or not in the target language" and left out
    what the rate also counts for zh and zh-Hant: the other Chinese script."""
    from selenium.webdriver.common.by import By

    from xling.reporting.scores import OFF_TARGET_NOTE

    page = tmp_path / "offtarget.html"
    assert main(["report", *map(str, runs), "-o", str(page)]) == 0
    _open(browser, page)
    notes = [p.text for p in browser.find_elements(By.CSS_SELECTOR, "#overview-body p.note")]
    assert OFF_TARGET_NOTE in notes and "or in the other Chinese script" in OFF_TARGET_NOTE


def test_a_page_keeps_why_nothing_was_compared_or_browsed(tmp_path, browser):
    """(review of audit round 22) the page left out a metric's "not compared" table (no later run
    scored it, or the baseline did not) and, when every direction was left out of the browser,
    its notes with it."""
    from selenium.webdriver.common.by import By

    full = _judged_run(tmp_path / "full", {"en-ko": [50.0] * 8, "ko-en": [60.0] * 8}, "j|parsed:8/8")
    other = _judged_run(tmp_path / "other", {"en-ko": [0.5] * 8, "ko-en": [0.6] * 8}, "x", "xcomet")
    page = tmp_path / "other.html"
    assert main(["report", str(full), str(other), "-o", str(page)]) == 0
    notes = {s["metric"]: s["notes"] for s in _page_data(page)["significance"]}
    assert set(notes) == {"gemba-esa", "xcomet"}
    assert notes["gemba-esa"][0].startswith("not compared: no run but full (the baseline) has")
    assert notes["xcomet"][0].startswith("not compared: full (the baseline) has no xCOMET score")
    limited = _judged_run(tmp_path / "limited", {"en-ko": [55.0] * 4, "ko-en": [65.0] * 4}, "j|parsed:4/4")
    page = tmp_path / "limited.html"
    assert main(["report", str(full), str(limited), "-o", str(page)]) == 0
    _open(browser, page)
    assert browser.find_element(By.ID, "browser").is_displayed()
    summary = browser.find_element(By.ID, "browser-summary").text
    assert summary.startswith("No segments to browse.") and summary.count("not browsed") == 2
    assert not browser.find_element(By.ID, "segments").is_displayed()


def _nav_and_sections(driver) -> dict[str, tuple[bool, bool]]:
    """Per link of the page's navigation: (the link shown, the section it points at shown)."""
    return driver.execute_script(
        "var out = {}; document.querySelectorAll('#nav a').forEach(function (a) {"
        " var target = document.querySelector(a.getAttribute('href'));"
        " out[a.getAttribute('href')] = [a.offsetParent !== null, !!target && target.offsetParent !== null]; });"
        " return out;")


def test_a_hidden_sections_link_is_hidden_with_it(tmp_path, browser):
    """(audit round 28) one run, or one direction, hid the significance and direction matrix
    sections (and a page with nothing to browse or bucket hides those), but their links stayed in
    the navigation and went nowhere."""
    one = _judged_run(tmp_path / "one", {"en-ko": [50.0] * 4}, "j|parsed:4/4")
    two = _judged_run(tmp_path / "two", {"en-ko": [60.0] * 4}, "j|parsed:4/4")
    for name, paths in (("one", [one]), ("two", [one, two])):
        page = tmp_path / f"{name}.html"
        assert main(["report", *map(str, paths), "-o", str(page)]) == 0
        _open(browser, page)
        shown = _nav_and_sections(browser)
        assert {link: seen for link, (seen, _) in shown.items()} == {link: there for link, (_, there) in shown.items()}
        hidden = {link for link, (seen, _) in shown.items() if not seen}
        expected = {"#heatmaps", "#choice"} | ({"#significance"} if name == "one" else set())
        assert hidden == expected, (name, shown)


def test_a_direction_only_the_second_run_has_is_noted_as_not_browsed(tmp_path, browser):
    """(audit round 28) `report F0 U` said "en-ja: only in F0, not browsed", but `report U F0`
    said nothing of it: the browser pairs the first two runs, so each one's own directions are noted."""
    from selenium.webdriver.common.by import By

    a = _judged_run(tmp_path / "a", {"en-ko": [50.0] * 4, "en-ja": [40.0] * 4}, "j|parsed:4/4")
    b = _judged_run(tmp_path / "b", {"en-ko": [60.0] * 4, "ko-en": [70.0] * 4}, "j|parsed:4/4")
    for paths, expected in (([a, b], ["en-ja: only in a, not browsed", "ko-en: only in b, not browsed"]),
                            ([b, a], ["ko-en: only in b, not browsed", "en-ja: only in a, not browsed"])):
        page = tmp_path / "ab.html"
        assert main(["report", *map(str, paths), "-o", str(page)]) == 0
        segments = _page_data(page)["segments"]
        assert [d["name"] for d in segments["directions"]] == ["en-ko"]
        assert sorted(segments["notes"]) == sorted(expected)
        _open(browser, page)
        summary = browser.find_element(By.ID, "browser-summary").text
        assert all(note in summary for note in expected), summary


def test_the_overview_floors_a_p_value_as_the_significance_table_does(tmp_path, browser):
    """(audit round 28) p = 50/1001 (the paired bootstrap's (49 + 1)/(1000 + 1)) read "p=0.0500 *"
    under a later run's score in the overview, where the significance table and the text report
    read "p=0.0499" (pfmt: never rounded up to 0.05). `report_data` writes p as the text report
    rounds it; the page's data here holds the exact p, which the overview rounded itself."""
    from selenium.webdriver.common.by import By

    from xling.reporting.html_report import render_page, report_data

    base = _judged_run(tmp_path / "base", {"en-ko": [50.0] * 8}, "j|parsed:8/8")
    later = _judged_run(tmp_path / "later", {"en-ko": [55.0, 50.0, 70.0, 55.0, 55.0, 60.0, 65.0, 40.0]}, "j|parsed:8/8")
    data = report_data([str(base), str(later)])
    (table,) = [t for t in data["tables"] if t["title"].endswith("runs compared")]
    assert table["rows"] == [["en-ko", "50.00", "56.25 (+6.25, p=0.0499) better*"]]
    (cell,) = data["significance"][0]["rows"][0]["cells"]
    assert cell["p"] == 0.0499 and cell["mark"] == "better"
    cell["p"] = 50 / 1001
    page = tmp_path / "p.html"
    page.write_text(render_page(data), encoding="utf-8")
    _open(browser, page)
    sub = browser.find_element(By.CSS_SELECTOR, "#overview-body table.overview td .sub")
    assert (sub.text, sub.get_attribute("title")) == ("+6.25 p=0.0499 *", "paired bootstrap against base: p = 0.0499")
    assert browser.find_element(By.CSS_SELECTOR, "#significance-body td.better").text == \
        "56.25 (+6.25, p=0.0499) better*"


def test_a_printed_page_holds_every_table_and_its_overview_fits_the_paper(runs, browser, tmp_path):
    """(audit round 28) printing left "All tables" folded (bare titles; the page opens only the
    first two) and cut the overview at the paper's edge (its numbers never wrapped). Chromium's
    own print (print_page) fires beforeprint, which opens every table, and afterprint folds them
    back; under print media the overview fits a page's width."""
    from selenium.webdriver.common.print_page_options import PrintOptions

    page = tmp_path / "print.html"
    assert main(["report", *map(str, runs), "-o", str(page)]) == 0
    _open(browser, page)
    folded = "return Array.from(document.querySelectorAll('details')).map(function (d) { return d.open; });"
    before = browser.execute_script(folded)
    assert False in before and True in before
    browser.execute_script("window.seenAtPrint = null; window.addEventListener('beforeprint', function () {"
                           " window.seenAtPrint = document.querySelectorAll('details:not([open])').length; });")
    assert browser.print_page(PrintOptions())
    assert browser.execute_script("return window.seenAtPrint") == 0
    assert browser.execute_script(folded) == before
    size = browser.get_window_size()
    try:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        browser.set_window_size(800, size["height"])   # A4's width at 96 dpi, less its margins
        edges = browser.execute_script(
            "return [document.documentElement.clientWidth].concat(Array.from(document.querySelectorAll("
            "'table.overview')).map(function (t) { return t.getBoundingClientRect().right; }));")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.set_window_size(size["width"], size["height"])
    width, rights = edges[0], edges[1:]
    assert rights and max(rights) <= width, edges


def _wmt24pp(folder: Path, rows) -> Path:
    """A WMT24++-shaped en-ko_KR file of our own (a canary, a bad source, post-edits that differ
    from the translations before post-editing)."""
    (folder / "wmt24pp").mkdir(parents=True)
    _write_jsonl(folder / "wmt24pp" / "en-ko_KR.jsonl", [
        {"lp": "en-ko_KR", "domain": domain, "document_id": f"doc-{domain}", "segment_id": k, "is_bad_source": bad,
         "source": en, "target": ko, "original_target": ko + " 원본"} for k, (ko, en, domain, bad) in enumerate(rows)])
    return folder


def test_the_page_says_each_runs_data_note_and_a_comparison_of_other_references(tmp_path, browser):
    """(audit round 28, item 1) A run's data note (WMT24++'s dropped rows, the references scored)
    was on no page, and two runs on other references were compared without a word of it."""
    from servers import FakeOpenAI

    root = _wmt24pp(tmp_path, [("카나리아", "CANARY", "canary", True), ("나쁜", "BROKEN", "news", True)]
                    + [(ko, en, domain, False) for ko, en, domain in ROWS[:4]])
    server = FakeOpenAI(respond=lambda payload: payload["messages"][-1]["content"].split("\n\n", 1)[1].upper())
    try:
        for name, extra in (("pe", []), ("orig", ["--reference", "original"])):
            _cli("eval", "mt", "--backend", "http", "--base-url", server.url, "-m", "fake", "--data",
                 "wmt24pp:en-ko_KR", "--data-dir", root, "--metrics", "chrf", "-o", tmp_path / name, *extra)
    finally:
        server.close()
    page = tmp_path / "refs.html"
    assert main(["report", str(tmp_path / "pe"), str(tmp_path / "orig"), "--format", "html", "-o", str(page)]) == 0
    head = ("data (wmt24pp:en-ko_KR): WMT24++ (ko_KR): 4 of 6 segments; dropped the canary and 1 row marked "
            "is_bad_source (2 in all); references: ")
    notes = [head + "post-edits ('target'); English is the original side",
             head + "original references, before post-editing ('original_target'); English is the original side"]
    assert [run["data_note"] for run in _page_data(page)["runs"]] == notes
    _open(browser, page)
    _check_quiet(browser, page)
    shown = browser.execute_script("return Array.from(document.querySelectorAll('#overview-body p.data-note'))"
                                   ".map(function (p) { return p.textContent; })")
    assert shown == notes
    compared = browser.execute_script("return document.getElementById('significance-body').textContent")
    assert "pe and orig were scored against different references: post-edit vs original (--reference)" in compared
    tables = browser.execute_script("return document.getElementById('tables-body').textContent")
    assert all(tables.count(note) == 1 for note in notes)


def test_a_blank_segments_prompt_says_it_was_not_sent(tmp_path, browser):
    """(audit round 28, item 5) The prompt dialog of a blank segment showed its chunk's whole
    prompt and "prompt_hash (none) — not checked", never saying it was not sent."""
    from servers import FakeOpenAI

    data = _write_jsonl(tmp_path / "docs.jsonl", [
        {"document_id": "d", "segment_id": 1, "en": "The bridge opened.", "ko": "다리가 개통했다."},
        {"document_id": "d", "segment_id": 2, "en": " ", "ko": "빈"}])
    server = FakeOpenAI(respond=lambda payload: "[1] 다리가 개통했다.")
    try:
        _cli("eval", "mt", "--backend", "http", "--base-url", server.url, "-m", "fake", "--data", f"jsonl:{data}",
             "--pairs", "en-ko", "--unit", "document", "--metrics", "chrf", "-o", tmp_path / "D")
    finally:
        server.close()
    page = tmp_path / "blank.html"
    assert main(["report", str(tmp_path / "D"), "--format", "html", "-o", str(page)]) == 0
    _open(browser, page)
    _check_quiet(browser, page)
    buttons = browser.find_elements("css selector", "#segments-body button.show-prompt")
    buttons[1].click()
    dialog = browser.find_element("id", "prompt-dialog").text
    assert "its source is blank: it was not sent to the model; its document chunk's numbered prompt leaves it " \
           "out, and its output is empty" in dialog
    assert "prompt_hash" not in dialog and "The bridge opened." not in dialog
    browser.find_element("id", "prompt-close").click()
    buttons[0].click()   # the segment that was sent: as before
    assert "the rebuilt prompt hashes to it" in browser.find_element("id", "prompt-dialog").text
