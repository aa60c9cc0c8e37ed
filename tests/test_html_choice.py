"""`xling report --format html` for NLI and multiple-choice runs: the accuracy view, the paired
tests, the confusion matrices, the premise x hypothesis heatmap and the item browser with each
item's exact prompt, opened in a real headless browser (tests/browser.py).

The runs are real: the tiny causal model on a small XNLI-shaped data set of our own (English and
Japanese, one crossed cell), zero-shot (A) and one-shot (B), and on a PAWS-X-shaped multiple-
choice set of our own (C, 55 items: the browser pages). Some items hold markup, quotes, a
backslash and a zero-width space."""
from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

import pytest
from browser import check_quiet, controls_and_drawing, open_page, page_data

from xling.cli import main
from xling.reporting.html_choice import choice_data, items_of, mcnemar_exact, prompt_text, repr_is_simple, simple_repr
from xling.reporting.prompt_view import item_prompt
from xling.runs.records import read_run

EVIL_IMG = "<img src=x onerror=alert(1)>"
EVIL_SCRIPT = "</script><script>alert(2)</script>"

# Our own NLI items, row-aligned in both languages (premise, hypothesis, label).
EN = [
    (f"{EVIL_IMG} The cat sleeps by the window", "An animal is resting.", "entailment"),
    ("It is raining today.", EVIL_SCRIPT + " The weather is dry.", "contradiction"),
    ("We go to the market tomorrow.", "It's a \"plan\" \\ for the week.", "neutral"),
    ("He runs every morning.", "It's good exercise.", "entailment"),
    ("The train arrived late.", "The train was on time.", "contradiction"),
    ("This book is very interesting.", "Someone wrote the book.", "neutral"),
]
JA = [
    (f"{EVIL_IMG} 猫が窓のそばで寝ています", "動物が休んでいます。", "entailment"),
    ("今日は雨が降っています。", "天気は\u200b乾いています。", "contradiction"),
    ("私たちは明日市場に行きます。", "週末の計画です。", "neutral"),
    ("彼は毎朝走ります。", "それは良い運動です。", "entailment"),
    ("電車が遅れて到着しました。", "電車は時間通りでした。", "contradiction"),
    ("この本はとても面白いです。", "誰かがその本を書きました。", "neutral"),
]
DEV_EN = [("The sea is calm.", "There are no waves.", "entailment"),
          ("I am a student.", "I teach at a school.", "contradiction"),
          ("The water is too cold.", "It is winter.", "neutral")]
DEV_JA = [("海は静かです。", "波がありません。", "entailment"),
          ("私は学生です。", "私は学校で教えています。", "contradiction"),
          ("水が冷たすぎます。", "冬です。", "neutral")]
ANIMALS = ["cat", "dog", "bird", "horse", "fish"]
PLACES = ["the window", "the river", "the market", "the station", "the garden", "the school", "the sea"]


def _tsv(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")


def _pawsx(root: Path, n: int) -> None:
    """A PAWS-X-shaped test split of our own: pairs that mean the same (label 1) or not."""
    folder = root / "pawsx" / "test"
    folder.mkdir(parents=True)
    rows, labels = [], []
    for i in range(n):
        animal, place = ANIMALS[i % len(ANIMALS)], PLACES[i % len(PLACES)]
        first = f"The {animal} number {i} sat near {place}."
        same = i % 2 == 0
        second = f"Near {place} sat the {animal} number {i}." if same else f"The {animal} number {i + 1} left {place}."
        rows.append([first, second])
        labels.append("1" if same else "0")
    with open(folder / "en.tsv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter="\t").writerows(rows)
    (root / "pawsx" / "test_labels_derived.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")


def _cli(*args) -> None:
    code = main([str(a) for a in args])
    assert code == 0, f"xling {' '.join(map(str, args))} exited {code}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_causal):
    """A: NLI en, ja and en>ja, both modes, 0-shot; B: the same, 1-shot; C: multiple choice."""
    root = tmp_path_factory.mktemp("choice-runs")
    data = root / "data"
    for split, en, ja in (("test", EN, JA), ("dev", DEV_EN, DEV_JA)):
        _tsv(data / "xnli" / split / "en.tsv", en)
        _tsv(data / "xnli" / split / "ja.tsv", ja)
    _pawsx(data, 55)
    nli = ["eval", "nli", "-m", tiny_causal, "--data", "xnli:test", "--data-dir", data, "--langs", "en,ja",
           "--premise-langs", "en", "--hypothesis-langs", "ja", "--mode", "both"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLING_CACHE", str(root / "cache"))
        mp.setenv("HF_HUB_OFFLINE", "1")
        _cli(*nli, "-o", root / "A")
        _cli(*nli, "--shots", "1", "-o", root / "B")
        _cli("eval", "mc", "-m", tiny_causal, "--data", "pawsx:test", "--data-dir", data, "--langs", "en",
             "--mode", "both", "-o", root / "C")
    return root / "A", root / "B", root / "C"


@pytest.fixture(scope="module")
def page(runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("choice-page") / "report.html"
    assert main(["report", *map(str, runs), "--format", "html", "-o", str(out)]) == 0
    return out


def _records(path: Path) -> dict[str, list[dict]]:
    run = read_run(path)
    return {cell.name: run.run.read_outputs(cell.name) for cell in run.cells}


# -- without a browser ---------------------------------------------------------------------------
def test_prompt_text_is_what_xling_prompt_prints(runs):
    checked = 0
    for path in runs:
        run = read_run(path)
        for name, records in _records(path).items():
            for record in records:
                assert prompt_text(str(path), run.task, run.config, name, record) == \
                    item_prompt(str(path), str(record["id"]), name)
                checked += 1
    assert checked == 2 * 3 * len(EN) + 55


def test_mcnemar_is_the_exact_binomial_test():
    from scipy.stats import binomtest

    for a, b in [(0, 0), (0, 1), (3, 10), (10, 3), (7, 7), (40, 62), (1400, 1500), (0, 30)]:
        expected = 1.0 if a + b == 0 else binomtest(a, a + b, 0.5).pvalue
        assert mcnemar_exact(a, b) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_simple_repr_is_pythons_for_printable_text():
    for text in ["plain", "It's", 'say "hi"', "both ' and \"", "back\\slash", "line\nend\r\ttab", "한국어 日本語",
                 "emoji \U0001F600", EVIL_SCRIPT, ""]:
        assert simple_repr(text) == repr(text)
        assert repr_is_simple(text)
    for text in ["zero\u200bwidth", "nul\x00", "bell\x07", "nbsp\xa0", "\ue100"]:
        assert not repr_is_simple(text)


def test_page_data_is_the_runs_numbers(runs, page):
    from scipy.stats import binomtest

    a, b, c = runs
    choice = page_data(page)["choice"]
    assert [r["label"] for r in choice["runs"]] == ["A", "B", "C"]
    for entry, path in zip(choice["runs"], runs):
        stored = json.loads((path / "metrics.json").read_text(encoding="utf-8"))["directions"]
        assert [cell["name"] for cell in entry["cells"]] == list(stored)
        for cell in entry["cells"]:
            for mode in ("ll", "gen"):
                for key in ("accuracy", "ci_low", "ci_high", "confusion"):
                    assert cell["modes"][mode][key] == stored[cell["name"]][mode][key]
            assert cell["modes"]["gen"]["invalid_rate"] == stored[cell["name"]]["gen"]["invalid_rate"]
        assert entry["notes"] == []
    assert [c["crossed"] for c in choice["runs"][0]["cells"]] == [False, False, True]
    # B against A: paired by item id, the exact McNemar p from the records
    records_a, records_b = _records(a), _records(b)
    compared = [x for x in choice["comparisons"] if x["run"] == 1]
    assert {(x["cell"], x["mode"]) for x in compared} == {(n, m) for n in ("en", "ja", "en>ja") for m in ("ll", "gen")}
    for x in compared:
        key = "ll_pred" if x["mode"] == "ll" else "gen_pred"
        right_a = [r[key] == r["gold"] for r in records_a[x["cell"]]]
        right_b = [r[key] == r["gold"] for r in records_b[x["cell"]]]
        only_a = sum(p and not q for p, q in zip(right_a, right_b))
        only_b = sum(q and not p for p, q in zip(right_a, right_b))
        assert x["comparable"] and (x["only_base"], x["only_run"]) == (only_a, only_b)
        assert x["p"] == pytest.approx(1.0 if only_a + only_b == 0 else binomtest(only_a, only_a + only_b).pvalue)
        assert x["delta"] == pytest.approx((sum(right_b) - sum(right_a)) / len(right_a))
    # C holds other items in its cell "en": not comparable, and why
    (other,) = {x["cell"]: x for x in choice["comparisons"] if x["run"] == 2 and x["mode"] == "ll"}.values()
    assert other["cell"] == "en" and not other["comparable"] and "different items" in other["reason"]
    # the items: A's and B's records of the same item are one row; every prompt checked, none kept whole
    items = items_of(choice)
    assert len(items["rows"]) == 3 * len(EN) + 55
    assert choice["prompts"] == {"verified": 2 * 3 * len(EN) + 55, "exact": 0}
    for row in items["rows"]:
        nli = items["schemas"][row["k"]] == ["premise", "hypothesis"]
        assert [k for k, side in enumerate(row["p"]) if side is not None] == ([0, 1] if nli else [2])
    # the prompts are held once per run and cell, with the items' texts as slots
    assert all(len(own["patterns"]) <= 3 for run in items["prompts"] for own in run.values())


def test_an_item_the_page_cannot_rebuild_keeps_its_exact_prompt(runs, tmp_path, browser):
    """A record whose prompt holds a slot character outside its item's texts: the page would fill
    it in, so its exact prompt goes in whole, and the dialog shows it."""
    a, _, _ = runs
    odd = tmp_path / "odd"
    shutil.copytree(a, odd)
    path = odd / "outputs" / "en.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records[1]["prompt"]["ll"]["context"] += " \ue101"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    choice = choice_data([read_run(odd)])
    assert choice["prompts"]["exact"] == 1
    side = items_of(choice)["rows"][1]["p"][0]
    assert side["e"] == item_prompt(str(odd), records[1]["id"], "en")
    out = tmp_path / "odd.html"
    assert main(["report", str(odd), "--format", "html", "-o", str(out)]) == 0
    open_page(browser, out)
    _wait_items(browser)
    _click(browser, browser.find_elements("css selector", "#choice-items-body button.show-prompt")[1])
    assert _dialog_prompts(browser) == {0: item_prompt(str(odd), records[1]["id"], "en")}
    check_quiet(browser, out)


# -- in the browser ------------------------------------------------------------------------------
def _wait_items(driver) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = driver.execute_script("return document.getElementById('choice').getAttribute('data-items')")
        if state:
            assert state == "ready"
            return
        time.sleep(0.05)
    raise AssertionError("the items were not read")


def _shown(driver) -> list[int]:
    return driver.execute_script("return Array.from(document.querySelectorAll('#choice-items-body tr'))"
                                 ".map(function (tr) { return Number(tr.getAttribute('data-n')); })")


def _click(driver, element) -> None:
    """A click on an element scrolled to the middle of the window (not under the sticky header)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def _select(driver, element_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", element_id)).select_by_value(value)


def _dialog_prompts(driver) -> dict[int, str]:
    found = driver.execute_script(
        "return Array.from(document.querySelectorAll('#prompt-body pre.choice-prompt'))"
        ".map(function (p) { return [Number(p.getAttribute('data-run')), p.textContent]; })")
    return {k: text for k, text in found}


def test_choice_view_in_a_browser(runs, page, browser, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    choice = page_data(page)["choice"]
    items = items_of(choice)
    rows = items["rows"]
    open_page(browser, page)
    _wait_items(browser)
    check_quiet(browser, page)
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    assert browser.find_elements(By.CSS_SELECTOR, "img") == []
    assert browser.execute_script("return document.querySelectorAll('script').length") == 2
    assert browser.find_element(By.ID, "choice").is_displayed()
    assert not browser.find_element(By.ID, "overview").is_displayed()

    # the accuracy tables: metrics.json's numbers, and B's paired test under its accuracy
    for k, path in enumerate(runs):
        stored = json.loads((path / "metrics.json").read_text(encoding="utf-8"))["directions"]
        for name, entry in stored.items():
            for mode in ("ll", "gen"):
                td = browser.find_element(By.CSS_SELECTOR, f"table.choice-accuracy[data-run='{k}'] "
                                                           f"td[data-cell='{name}'][data-mode='{mode}']")
                assert td.find_element(By.CSS_SELECTOR, ".acc").text == f"{entry[mode]['accuracy']:.3f}"
                assert td.find_element(By.CSS_SELECTOR, ".ci").text == \
                    f"95% [{entry[mode]['ci_low']:.3f}, {entry[mode]['ci_high']:.3f}]"
            rate = browser.find_element(By.CSS_SELECTOR, f"table.choice-accuracy[data-run='{k}'] "
                                                         f"td.invalid-rate[data-cell='{name}']").text
            assert rate == f"{100 * entry['gen']['invalid_rate']:.1f}%"
    b_en = next(x for x in choice["comparisons"] if (x["run"], x["cell"], x["mode"]) == (1, "en", "ll"))
    sub = browser.find_element(By.CSS_SELECTOR,
                               "table.choice-accuracy[data-run='1'] td[data-cell='en'][data-mode='ll'] .sub")
    assert f"p={b_en['p']:.4f}" in sub.text and sub.text.endswith("*") == (b_en["p"] < 0.05)
    assert browser.find_element(By.CSS_SELECTOR, "table.choice-significance td.na[data-run='2'][data-cell='en']") \
        .text.endswith("(not comparable)")
    # bars with whiskers: one per run and cell for each mode; the premise x hypothesis heatmaps
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.choice-chart[data-mode='ll'] rect[data-run]")) == 3 + 3 + 1
    assert len(browser.find_elements(By.CSS_SELECTOR, "#choice-body figure.heatmap")) == 4    # A, B x ll, gen
    # (audit round 23) the colours span at least 1 point of accuracy, as the MT heatmaps' floor
    captions = [f.text for f in browser.find_elements(By.CSS_SELECTOR, "#choice-body figure.heatmap figcaption")]
    assert all(c.endswith("colours are relative within this matrix, over an accuracy span of at least 1 point")
               for c in captions), captions
    # the confusion matrix: all cells, then one cell
    total = sum(sum(row) for cell in choice["runs"][0]["cells"] for row in cell["modes"]["ll"]["confusion"])
    counted = "#choice-confusion-body table.confusion tr.shares td:last-child"
    assert browser.find_element(By.CSS_SELECTOR, counted).text == str(total)
    _select(browser, "choice-confusion-cell", "en>ja")
    assert browser.find_element(By.CSS_SELECTOR, counted).text == str(len(EN))

    # the items: 50 rows in the DOM, then the rest
    assert _shown(browser) == list(range(50))
    assert browser.find_element(By.ID, "choice-page-info").text == f"items 1–50 of {len(rows)}"
    _click(browser, browser.find_element(By.ID, "choice-next"))
    assert _shown(browser) == list(range(50, len(rows)))
    # filters: a cell, an outcome, the runs disagreeing, a text
    crossed = items["cells"].index("en>ja")
    _select(browser, "choice-filter-cell", str(crossed))
    assert _shown(browser) == [n for n, r in enumerate(rows) if r["c"] == crossed]
    _select(browser, "choice-filter-cell", "")
    _select(browser, "choice-filter-outcome", "correct:0")
    expected = [n for n, r in enumerate(rows) if r["p"][0] and r["p"][0]["l"] == r["g"]][:50]
    assert expected and _shown(browser) == expected
    _select(browser, "choice-filter-mode", "gen")
    _select(browser, "choice-filter-outcome", "invalid:1")
    assert _shown(browser) == [n for n, r in enumerate(rows) if r["p"][1] and r["p"][1]["q"] is None][:50]
    _select(browser, "choice-filter-mode", "ll")
    _select(browser, "choice-filter-outcome", "")
    search = browser.find_element(By.ID, "choice-filter-text")
    search.send_keys("onerror")
    deadline = time.monotonic() + 60   # generous: the loop ends as soon as it shows
    wanted = [n for n, r in enumerate(rows) if EVIL_IMG in r["f"][0]]
    while _shown(browser) != wanted and time.monotonic() < deadline:     # the search waits 120 ms
        time.sleep(0.05)
    assert len(wanted) == 3 and _shown(browser) == wanted
    shown = browser.execute_script("return document.getElementById('choice-items-body').textContent")
    assert EVIL_IMG in shown
    browser.execute_script("var s = document.getElementById('choice-filter-text'); s.value = '';"
                           "s.dispatchEvent(new Event('input'));")
    while len(_shown(browser)) != 50 and time.monotonic() < deadline + 60:
        time.sleep(0.05)
    assert _shown(browser) == list(range(50))

    # every item's prompt, as `xling prompt RUN ID --lang CELL` prints it, for each run holding it
    paths = [str(p) for p in runs]
    dialog = browser.find_element(By.ID, "prompt-dialog")
    for page_number in range(2):
        for button, n in zip(browser.find_elements(By.CSS_SELECTOR, "#choice-items-body button.show-prompt"),
                             _shown(browser)):
            _click(browser, button)
            assert dialog.get_attribute("open") is not None
            row = rows[n]
            want = {k: item_prompt(paths[k], row["id"], items["cells"][row["c"]])
                    for k, side in enumerate(row["p"]) if side is not None}
            assert _dialog_prompts(browser) == want
            browser.find_element(By.ID, "prompt-close").click()
            assert dialog.get_attribute("open") is None
        if page_number == 0:
            _click(browser, browser.find_element(By.ID, "choice-next"))
    # a hostile item in the dialog: its markup is text
    _select(browser, "choice-filter-cell", str(items["cells"].index("en")))
    _click(browser, browser.find_element(By.CSS_SELECTOR, "#choice-items-body button.show-prompt"))
    assert EVIL_IMG in dialog.text
    browser.save_screenshot(str(tmp_path / "choice.png"))
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    assert browser.find_elements(By.CSS_SELECTOR, "img") == []
    assert browser.get_log("browser") == []


def test_significant_differences_are_marked_and_disagreements_found(runs, tmp_path, browser, capsys):
    """A copy of run A whose answers were edited: on en, every generated answer right (A has
    none: p = 2/2^6 < 0.05, marked better) and two log-likelihood answers changed (the runs
    disagree there). metrics.json was left as it was: the page says its accuracy and the
    outputs' differ."""
    from selenium.webdriver.common.by import By

    a, _, _ = runs
    edited = tmp_path / "A2"
    shutil.copytree(a, edited)
    path = edited / "outputs" / "en.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for k, record in enumerate(records):
        record["gen_pred"] = record["gold"]
        if k < 2:
            record["ll_pred"] = (record["ll_pred"] + 1) % 3
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    page = tmp_path / "edited.html"
    assert main(["report", str(a), str(edited), "--format", "html", "-o", str(page)]) == 0
    choice = page_data(page)["choice"]
    gen = next(x for x in choice["comparisons"] if (x["cell"], x["mode"]) == ("en", "gen"))
    assert (gen["only_base"], gen["only_run"], gen["p"], gen["mark"]) == (0, len(EN), 2 / 2 ** len(EN), "better")
    assert any("metrics.json gives accuracy" in n for n in choice["runs"][1]["notes"])
    # round 16: the text report (and figures) showed the stored accuracy with no word
    from xling.runs import records as run_records

    assert capsys.readouterr().err.count("en (ll): metrics.json gives accuracy") == 1   # said once
    run_records._SAID.clear()   # (as a new process would)
    assert main(["report", str(edited)]) == 0
    assert f"xling: warning: {edited}: en (ll): metrics.json gives accuracy" in capsys.readouterr().err
    rows = items_of(choice)["rows"]
    open_page(browser, page)
    _wait_items(browser)
    check_quiet(browser, page)
    marked = browser.find_element(By.CSS_SELECTOR, "table.choice-significance td[data-run='1'][data-cell='en'].better")
    assert marked.text.endswith("better*")
    _select(browser, "choice-filter-outcome", "disagree")
    assert _shown(browser) == [0, 1]
    _select(browser, "choice-filter-mode", "gen")
    assert _shown(browser) == list(range(len(EN)))
    _select(browser, "choice-filter-outcome", "correct:1")
    assert _shown(browser) == [n for n, r in enumerate(rows) if r["p"][1]["q"] == r["g"]] == list(range(len(EN)))
    _click(browser, browser.find_elements(By.CSS_SELECTOR, "#choice-items-body button.show-prompt")[0])
    assert _dialog_prompts(browser) == {0: item_prompt(str(a), rows[0]["id"], "en"),
                                        1: item_prompt(str(edited), rows[0]["id"], "en")}
    assert browser.get_log("browser") == []


def test_cells_the_first_run_lacks_are_drawn_without_a_comparison(runs, tmp_path, browser):
    """The first run (multiple choice, en) lacks the second's ja and en>ja cells: they are drawn
    with no comparison, and the page finishes (it stopped at the first such cell)."""
    a, _, c = runs
    out = tmp_path / "c-then-a.html"
    assert main(["report", str(c), str(a), "--format", "html", "-o", str(out)]) == 0
    open_page(browser, out)
    check_quiet(browser, out)
    cells = browser.find_elements("css selector", "td[data-run='1'][data-cell='ja']")
    assert cells and "p=" not in cells[0].text


def test_runs_of_different_kinds_are_refused_in_one_line(runs, tiny_causal, tmp_path, capsys):
    a, _, _ = runs
    data = tmp_path / "mt.jsonl"
    data.write_text('{"id": "1", "en": "I like apples.", "ko": "나는 사과를 좋아한다."}\n', encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLING_CACHE", str(tmp_path / "cache"))
        _cli("eval", "mt", "-m", tiny_causal, "--data", f"jsonl:{data}", "--pairs", "en-ko", "--max-new-tokens", "4",
             "--metrics", "chrf", "-o", tmp_path / "mt")
    capsys.readouterr()
    for fmt in ("text", "html"):
        assert main(["report", str(a), str(tmp_path / "mt"), "-f", fmt, "-o", str(tmp_path / f"r.{fmt}")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("xling: error: xling report compares runs of one kind") and "(MT)" in err, err
        assert "\n" not in err and not (tmp_path / f"r.{fmt}").exists()


def test_confusion_cells_gold_and_prediction_filters_and_sort_pick_items(runs, page, browser):
    """A click on a confusion cell lists its items below (as many as the cell counts, each with
    that gold and that prediction); the gold filter and the least-sure-first sort work alone."""
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    _wait_items(browser)
    find = browser.find_elements
    cell = next(td for td in find(By.CSS_SELECTOR, "#choice-confusion-body table.confusion td.drill")
                if td.get_attribute("data-predicted") != "invalid")
    n = int(cell.text)
    _click(browser, cell)
    assert browser.find_element(By.ID, "choice-page-info").text.startswith(f"items 1–{min(n, 50)} of {n} ")
    gold = browser.find_element(By.CSS_SELECTOR, "#choice-filter-gold option:checked").text
    predicted = browser.find_element(By.CSS_SELECTOR, "#choice-filter-pred option:checked").text.split(": ")[-1]
    golds = [td.text for td in find(By.CSS_SELECTOR, "#choice-items-body td.gold")]   # (option: each run's name)
    assert len(golds) == min(n, 50) and len(set(golds)) == 1 and golds[0] in gold.split(" / ")
    answers = [div.text for div in find(By.CSS_SELECTOR, "#choice-items-body td.side[data-run='0'] div.pred")
               if div.text.startswith("ll ")]
    assert answers == [f"ll {predicted}"] * min(n, 50)

    _select(browser, "choice-filter-pred", "")
    _select(browser, "choice-filter-gold", "1")
    _select(browser, "choice-filter-cell", "")
    golds = {td.text for td in find(By.CSS_SELECTOR, "#choice-items-body td.gold")}
    assert golds == {"neutral", "B"}       # the second answer of NLI items and of run C's items
    _select(browser, "choice-filter-gold", "")
    _select(browser, "choice-sort", "margin:0")

    def margin(tr):
        spans = tr.find_elements(By.CSS_SELECTOR, "td.side[data-run='0'] .scores span")
        scores = sorted((float(s.text.rsplit(" ", 1)[1]) for s in spans), reverse=True)
        return scores[0] - scores[1] if len(scores) > 1 else None

    margins = [margin(tr) for tr in find(By.CSS_SELECTOR, "#choice-items-body tr")]
    known = [m for m in margins if m is not None]
    assert known and known == sorted(known) and margins[:len(known)] == known
    assert browser.get_log("browser") == []


def test_a_confusion_cell_lists_its_items_whatever_outcome_was_chosen(page, browser):
    """Round 26: with Outcome "correct" chosen, a click on an off-diagonal confusion cell ("10 of 30")
    listed 0 items and Outcome still said "correct" (the drill cleared the outcome, then the select's
    old value was written back). The cell's items are listed, and Outcome says "any"."""
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    _wait_items(browser)
    _select(browser, "choice-filter-outcome", "correct:0")
    cell = next(td for td in browser.find_elements(By.CSS_SELECTOR, "#choice-confusion-body table.confusion td.drill")
                if "diag" not in td.get_attribute("class").split() and td.get_attribute("data-predicted") != "invalid")
    n = int(cell.text)
    _click(browser, cell)
    assert browser.find_element(By.ID, "choice-page-info").text.startswith(f"items 1–{min(n, 50)} of {n} ")
    assert browser.find_element(By.ID, "choice-filter-outcome").get_attribute("value") == ""
    assert browser.get_log("browser") == []


def _choice_controls_and_drawing(driver) -> dict:
    """Every control's value in the choice view, the confusion matrix and the items drawn."""
    return controls_and_drawing(driver, "#choice select, #choice input", {
        "confusion": "document.getElementById('choice-confusion-body').innerHTML",
        "info": "document.getElementById('choice-page-info').textContent",
        "rows": "Array.from(document.querySelectorAll('#choice-items-body tr'))"
                ".map(function (tr) { return Number(tr.getAttribute('data-n')); })"})


def test_after_back_the_choice_views_controls_say_what_they_draw(page, browser):
    """Round 26: after the browser's Back, chromium put the old choice back into the confusion
    matrix's Cell select while the script drew all cells. The view (its item browser too) is drawn
    as when first opened, and its controls say so."""
    open_page(browser, page)
    _wait_items(browser)
    fresh = _choice_controls_and_drawing(browser)
    cells = browser.execute_script("return Array.from(document.getElementById('choice-confusion-cell').options)"
                                   ".map(function (o) { return o.value; })")
    _select(browser, "choice-confusion-cell", cells[1])
    _select(browser, "choice-filter-outcome", "wrong:0")
    _select(browser, "choice-filter-cell", "1")
    _select(browser, "choice-sort", "id")
    browser.find_element("id", "choice-filter-text").send_keys("the")    # (what it draws is not waited for)
    changed = _choice_controls_and_drawing(browser)
    assert changed["values"] != fresh["values"] and changed["confusion"] != fresh["confusion"]
    assert changed["rows"] != fresh["rows"]
    browser.get("about:blank")
    browser.back()
    _wait_items(browser)
    assert _choice_controls_and_drawing(browser) == fresh


def test_a_generation_run_names_only_its_own_template_and_offers_no_margin_sort(runs, tiny_causal, tmp_path, browser):
    from selenium.webdriver.common.by import By

    data = runs[0].parent / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLING_CACHE", str(runs[0].parent / "cache"))
        _cli("eval", "nli", "-m", tiny_causal, "--data", "xnli:test", "--data-dir", data, "--langs", "en",
             "--mode", "gen", "-o", tmp_path / "G")
    page = tmp_path / "g.html"
    assert main(["report", str(tmp_path / "G"), "--format", "html", "-o", str(page)]) == 0
    assert list(page_data(page)["choice"]["runs"][0]["templates"]) == ["gen"]
    open_page(browser, page)
    sorts = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#choice-sort option")]
    assert sorts == ["order", "id"]


def test_confusion_cells_of_one_mode_pages_and_of_runs_with_other_labels_list_their_items(runs, tiny_causal,
                                                                                         tmp_path, browser):
    """Round 16: on a page of one mode (the default --mode ll) a click on a confusion cell threw
    a TypeError (no Mode select) and filtered nothing; with PAWS-X (2 labels) first, an NLI cell
    of gold "contradiction" listed every item (the first run's labels served all runs). Cells
    are reached from the keyboard too."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    data = runs[0].parent / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLING_CACHE", str(runs[0].parent / "cache"))
        _cli("eval", "mc", "-m", tiny_causal, "--data", "pawsx:test", "--data-dir", data, "--langs", "en",
             "--limit", "6", "-o", tmp_path / "P")
        _cli("eval", "nli", "-m", tiny_causal, "--data", "xnli:test", "--data-dir", data, "--langs", "en",
             "-o", tmp_path / "N")
    page = tmp_path / "pn.html"
    assert main(["report", str(tmp_path / "P"), str(tmp_path / "N"), "--format", "html", "-o", str(page)]) == 0
    open_page(browser, page)
    _wait_items(browser)
    for run in ("0", "1"):
        _select(browser, "choice-confusion-run", run)
        drills = browser.find_elements(By.CSS_SELECTOR, "#choice-confusion-body table.confusion td.drill")
        assert drills
        for k in range(len(drills)):
            cell = browser.find_elements(By.CSS_SELECTOR, "#choice-confusion-body table.confusion td.drill")[k]
            n = int(cell.text)
            if k % 2:    # by the keyboard: focused, then Enter
                browser.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus()", cell)
                assert browser.switch_to.active_element == cell
                cell.send_keys(Keys.ENTER)
            else:
                _click(browser, cell)
            info = browser.find_element(By.ID, "choice-page-info").text
            assert info.startswith(f"items 1–{n} of {n} "), (run, k, info)
    assert browser.get_log("browser") == []


def test_a_gold_label_is_never_broken_inside_its_word(page, browser):
    """(audit round 28) "contradiction" wrapped inside the word in the item browser's gold column
    (7.5em wide, and the item table breaks a word anywhere when it does not fit)."""
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    _wait_items(browser)
    _select(browser, "choice-filter-gold", "2")
    golds = browser.find_elements(By.CSS_SELECTOR, "#choice-items-body td.gold")
    assert golds and {td.text for td in golds} == {"contradiction"}
    lines = browser.execute_script(   # the line boxes of each cell's text
        "return arguments[0].map(function (td) { var range = document.createRange();"
        " range.selectNodeContents(td); return range.getClientRects().length; });", golds)
    assert set(lines) == {1}, lines
