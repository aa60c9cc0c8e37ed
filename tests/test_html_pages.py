"""The HTML pages of `xling meta-eval -o DIR` (DIR/report.html) and `xling figures` (DIR/index.html),
opened in the real headless browser (tests/browser.py): meta-eval on the real WMT21 TED MQM
judgments (zh→en; a copy of part of them with one system renamed to a hostile name), figures on
the report's tables and hand-made runs, one in a folder with a hostile name."""
from __future__ import annotations

import base64
import html
import json
import math
import re
from pathlib import Path

import pytest
from browser import check_quiet, open_page, page_data
from helpers import assert_one_line_error, xling
from test_figures import nli_run

from xling.cli import main
from xling.reporting.metaeval_figures import COLUMNS
from xling.reporting.paper import load_paper_table

EVIL = "<img src=x onerror=alert(1)>"
EVIL_SCRIPT = "</script><script>alert(2)</script>"


@pytest.fixture(scope="module")
def ted(data_dir) -> Path:
    tsv = data_dir / "mqm_ted" / "zhen" / "mqm_ted_zhen.tsv"
    if not tsv.is_file():
        pytest.skip(f"the MQM TED judgments are not in {data_dir} (mqm_ted/zhen/, see its SOURCE.md)")
    return tsv


def _meta_eval(*args) -> None:
    code = main(["meta-eval", *map(str, args)])
    assert code == 0


@pytest.fixture(scope="module")
def metaeval_dir(ted, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("metaeval-page") / "run"
    _meta_eval(f"mqm:{ted}", "--reference", "ref", "--metrics", "bleu,chrf", "--permutations", "100", "-o", out)
    return out


@pytest.fixture(scope="module")
def hostile_dir(ted, tmp_path_factory) -> Path:
    """The first 60 segments of the real file, system Online-W renamed to a hostile name, SMU to
    one that is an object's hidden key in JavaScript."""
    root = tmp_path_factory.mktemp("metaeval-hostile")
    lines = ted.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split("\t")
    system, seg = header.index("system"), header.index("seg_id")
    kept, segments = [lines[0]], []
    for line in lines[1:]:
        fields = line.split("\t")
        if fields[seg] not in segments:
            if len(segments) == 60:
                continue
            segments.append(fields[seg])
        if fields[system] in ("Online-W", "SMU"):
            fields[system] = EVIL if fields[system] == "Online-W" else "__proto__"
        kept.append("\t".join(fields))
    data = root / "mqm_ted_zhen.tsv"
    data.write_text("".join(kept), encoding="utf-8")
    _meta_eval(f"mqm:{data}", "--reference", "ref", "--metrics", "bleu", "--permutations", "50", "-o", root / "run")
    return root / "run"


def _report(folder: Path) -> dict:
    return json.loads((folder / "report.json").read_text(encoding="utf-8"))


# -- without a browser ---------------------------------------------------------------------------
def test_meta_eval_page_holds_report_json_and_nothing_from_outside(metaeval_dir):
    page = metaeval_dir / "report.html"
    text = page.read_text(encoding="utf-8")
    data = page_data(page)
    assert data["report"] == _report(metaeval_dir)
    assert [c["label"] for c in data["columns"]] == [label for _, _, label in COLUMNS]
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text).group(1))
    assert csp.startswith("default-src 'none'; ") and "img-src data:" in csp
    assert not re.search(r"(src|href)=\"?(https?:)?//", text)
    assert not re.search(r"\sstyle=", text)
    human = data["report"]["human"]
    assert set(human["interval"]) == set(data["report"]["systems"])
    for system, (low, high) in human["interval"].items():
        assert low <= human["system"][system] <= high
    assert not list(metaeval_dir.glob(".*.partial"))


def test_meta_eval_rerun_keeps_its_scores_and_format_html_prints_the_page(ted, metaeval_dir, capsys):
    code = main(["meta-eval", f"mqm:{ted}", "--reference", "ref", "--metrics", "bleu,chrf", "--permutations", "100",
                 "-o", str(metaeval_dir), "--format", "html"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "with BLEU" not in captured.err and "with chrF" not in captured.err     # scores.json kept
    assert captured.out == f"{metaeval_dir / 'report.html'}\n"
    assert page_data(metaeval_dir / "report.html")["report"] == _report(metaeval_dir)


def test_meta_eval_format_html_needs_a_folder(tmp_path):
    """Refused before anything is read (the data here does not exist), in one line."""
    result = xling("meta-eval", f"mqm:{tmp_path / 'absent.tsv'}", "--reference", "ref", "--format", "html")
    assert_one_line_error(result, "--format html writes a page into a folder: give it with --out/-o")


# -- in the browser ------------------------------------------------------------------------------
def _number(text: str) -> float:
    return float(text.replace("\u2212", "-"))


def test_meta_eval_page_in_a_browser(metaeval_dir, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    page = metaeval_dir / "report.html"
    report = _report(metaeval_dir)
    open_page(browser, page)
    check_quiet(browser, page)
    find = browser.find_elements
    facts = {r.get_attribute("data-fact"): r.find_element(By.TAG_NAME, "td").text
             for r in find(By.CSS_SELECTOR, "#facts tr")}
    assert facts["data"] == report["data"] and facts["reference"].startswith("ref ")
    assert facts["systems"].startswith(f"{len(report['systems'])}: ")
    # each name isolated in its own <bdi>, so a right-to-left mark in one never turns the next
    # around, and nothing invisible is added to what a reader copies (round 17)
    cell = browser.find_element(By.CSS_SELECTOR, "#facts tr[data-fact='systems'] td")
    assert cell.get_attribute("textContent") == f"{len(report['systems'])}: " + ", ".join(report["systems"])
    assert [b.get_attribute("textContent") for b in cell.find_elements(By.TAG_NAME, "bdi")] == report["systems"]
    assert facts["segments"].startswith(f"{report['segments']} ")
    # The agreement table: every measure of every metric, as report.json holds it.
    for name, result in report["metrics"].items():
        row = browser.find_element(By.CSS_SELECTOR, f"#agreement-table tr[data-metric='{name}']")
        for level, measure, _ in COLUMNS:
            cell = row.find_element(By.CSS_SELECTOR, f"td[data-measure='{level}_{measure}']")
            value = result[level][measure]
            assert float(cell.get_attribute("data-value")) == value
            assert abs(_number(cell.find_element(By.CLASS_NAME, "value").text) - value) <= 0.0005 + 1e-12
            p = report["significance"].get(f"{level}_{measure}", {}).get(name, "untested")
            marks = [m.text for m in cell.find_elements(By.CLASS_NAME, "mark")]
            if p == "untested":
                assert marks == []
            elif p is None:
                assert marks == ["best"]
            else:
                assert float(cell.get_attribute("data-p")) == p
                assert marks == [f"p={p:.4f}" + ("*" if p < 0.05 else "")]
        eps = row.find_element(By.CSS_SELECTOR, "td[data-measure='segment_epsilon']")
        assert float(eps.get_attribute("data-value")) == result["segment"]["epsilon"]
    assert set(report["significance"]) == {"system_pearson", "segment_kendall_by_item"}
    # The heatmap: one coloured cell per metric and measure, holding its value.
    rects = find(By.CSS_SELECTOR, "#heatmap-svg rect[data-cell]")
    assert len(rects) == len(report["metrics"]) * len(COLUMNS)
    for rect in rects:
        name, key = rect.get_attribute("data-cell").split("|")
        level, measure = key.split("_", 1)
        value = report["metrics"][name][level][measure]
        assert float(rect.get_attribute("data-value")) == value
        # one fixed scale (audit round 22): r as it is, an accuracy as 2 acc - 1 (chance at r = 0)
        accuracy = measure in ("pairwise_accuracy", "soft_pairwise_accuracy", "acc_eq")
        shade = min(1, max(0, ((2 * value - 1 if accuracy else value) + 1) / 2))
        hue, light = math.floor(10.5 + 110 * shade), math.floor(80.5 - 18 * shade)   # (JS rounds half up)
        assert rect.get_attribute("fill") == f"hsl({hue}, 62%, {light}%)"
    # A scatter per metric: one point per system, at distinct places, named by its hover title.
    for name in report["metrics"]:
        points = find(By.CSS_SELECTOR, f"svg.scatter[data-metric='{name}'] circle.point")
        assert [p.get_attribute("data-system") for p in points] == report["systems"]
        titles = [p.find_element(By.TAG_NAME, "title").get_attribute("textContent") for p in points]
        assert [t.split("\n")[0] for t in titles] == report["systems"]
        places = {(p.get_attribute("cx"), p.get_attribute("cy")) for p in points}
        assert len(places) == len(points)
    # The human scores with their 95% intervals, best first.
    human = report["human"]
    rows = find(By.CSS_SELECTOR, "#human-table tbody tr")
    assert [r.get_attribute("data-system") for r in rows] == sorted(human["system"], key=lambda s: -human["system"][s])
    for row in rows:
        system = row.get_attribute("data-system")
        assert row.find_element(By.CLASS_NAME, "system").text == system
        ci = row.find_element(By.CLASS_NAME, "ci-cell")
        assert [float(ci.get_attribute("data-low")), float(ci.get_attribute("data-high"))] == human["interval"][system]
        bleu = row.find_element(By.CSS_SELECTOR, "td[data-metric='bleu']")
        assert float(bleu.get_attribute("data-value")) == report["metric_system_scores"]["bleu"][system]
    # Hovering a point lights its system's row.
    point = find(By.CSS_SELECTOR, "svg.scatter[data-metric='chrf'] circle.point")[3]
    ActionChains(browser).move_to_element(point).perform()
    lit = find(By.CSS_SELECTOR, "#human-table tr.lit")
    assert [r.get_attribute("data-system") for r in lit] == [report["systems"][3]]
    signatures = {r.get_attribute("data-metric"): r.find_element(By.TAG_NAME, "code").text
                  for r in find(By.CSS_SELECTOR, "#signatures-table tr")}
    assert signatures == report["signatures"]
    check_quiet(browser, page)
    browser.save_screenshot(str(tmp_path / "metaeval.png"))


def test_a_hostile_system_name_is_shown_as_text(hostile_dir, browser):
    from selenium.webdriver.common.by import By

    page = hostile_dir / "report.html"
    report = _report(hostile_dir)
    assert EVIL in report["systems"] and report["segments"] == 60
    open_page(browser, page)
    check_quiet(browser, page)
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    shown = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#human-table td.system")]
    assert EVIL in shown
    assert EVIL in browser.find_element(By.CSS_SELECTOR, "#facts tr[data-fact='systems'] td").text
    point = browser.find_element(By.CSS_SELECTOR, f"circle.point[data-system='{EVIL}']")
    assert point.find_element(By.TAG_NAME, "title").get_attribute("textContent").startswith(EVIL + "\n")
    # (audit round 18) "__proto__" was ranked "[object Object]": ranks were kept in a plain {}
    row = browser.find_element(By.CSS_SELECTOR, "#human-table tr[data-system='__proto__']")
    cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
    assert cells[0].isdigit() and re.fullmatch(r".* \(\d+\)", cells[-1]), cells


# -- figures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def figures_dir(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("figures-page")
    run = nli_run(root / EVIL, {"ar": [1, 0, 1, 1], "ar>hi": [1, 1, 0, 0]})
    out = root / "figs"
    code = main(["figures", "--runs", str(run.path), "--out", str(out)])
    assert code == 0
    return out, run.path


def test_figures_page_shows_every_figure_with_its_table(figures_dir, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    out, run = figures_dir
    page = out / "index.html"
    data = page_data(page)
    stems = [f["stem"] for f in data["figures"]]
    assert sorted(f"{s}.png" for s in stems) == sorted(p.name for p in out.glob("*.png"))
    assert f"{EVIL}_accuracy_matrix" in stems
    for figure in data["figures"]:     # the very PNG written beside the page
        png = base64.b64decode(figure["png"].removeprefix("data:image/png;base64,"))
        assert png == (out / f"{figure['stem']}.png").read_bytes()
    assert data["runs"] == [str(run)]
    text = page.read_text(encoding="utf-8")
    assert EVIL not in text and EVIL_SCRIPT not in text and not re.search(r"\sstyle=", text)

    open_page(browser, page)
    WebDriverWait(browser, 20).until(lambda d: d.execute_script("return document.body.getAttribute('data-painted')"))
    check_quiet(browser, page)
    canvases = browser.find_elements(By.CSS_SELECTOR, "section.figure-section canvas[data-painted]")
    assert [c.get_attribute("data-stem") for c in canvases] == stems
    for canvas in canvases:    # the PNG's own size, and painted: many pixels are not white
        png = (out / f"{canvas.get_attribute('data-stem')}.png").read_bytes()
        assert [int(canvas.get_attribute("width")), int(canvas.get_attribute("height"))] == [
            int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")]
        inked = browser.execute_script(
            "var c = arguments[0], d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = 0;"
            "for (var i = 0; i < d.length; i += 4)"
            "  if (d[i + 3] && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) n++;"
            "return n / (c.width * c.height);", canvas)
        assert inked > 0.02
    assert browser.execute_script("return document.images.length") == 0      # none injected, none requested
    sections = {s.get_attribute("data-stem"): s
                for s in browser.find_elements(By.CSS_SELECTOR, "section.figure-section")}
    assert sections["table13_xnli"].find_element(By.TAG_NAME, "h2").text == load_paper_table("table13").title
    # Table 13 beside its figure: the printed rows, then the run's row with its intervals.
    rows = sections["table13_xnli"].find_elements(By.CSS_SELECTOR, ".figure-table tbody tr")
    paper = load_paper_table("table13")
    assert len(rows) == len(paper.rows) + 1
    first = rows[0].find_elements(By.TAG_NAME, "td")
    model = next(iter(paper.rows))
    printed = paper.printed[model]
    assert [c.text for c in first] == [printed[c] for c in paper.columns] + [printed["avg_as_printed"]]
    mine = rows[-1]
    assert mine.find_element(By.TAG_NAME, "th").text == f"{EVIL} (yours)"
    assert mine.find_elements(By.TAG_NAME, "td")[0].text.split("\n") == ["0.750", "[0.65,0.85]"]
    # The run's own heatmap and its table, its title naming the hostile folder as text.
    matrix = sections[f"{EVIL}_accuracy_matrix"]
    assert matrix.find_element(By.TAG_NAME, "h2").text.startswith(f"{EVIL}: accuracy")
    cells = [c.text for c in matrix.find_elements(By.CSS_SELECTOR, ".figure-table tbody td")]
    assert cells == ["0.750", "0.500"]    # premise ar x hypotheses ar, hi (3 decimals, as the report)
    assert "figure2_language_ratio" in sections and not sections["figure2_language_ratio"].find_elements(
        By.CLASS_NAME, "figure-table")          # no ratio runs: nothing to tabulate
    check_quiet(browser, page)
    browser.save_screenshot(str(tmp_path / "figures.png"))


def test_no_page_script_declares_a_function_twice():
    """A page's scripts are joined in one scope, where a second `function significant` silently
    replaced the first: the meta-eval page marked p = 0.12 as significant."""
    from xling.reporting.html_pages import FIGURES_SCRIPTS, METAEVAL_SCRIPTS
    from xling.reporting.html_report import REPORT_SCRIPTS, page_script

    for scripts in (REPORT_SCRIPTS, METAEVAL_SCRIPTS, FIGURES_SCRIPTS):
        names = re.findall(r"^\s*function\s+(\w+)\s*\(", page_script(scripts), flags=re.M)
        assert len(names) == len(set(names)), (scripts, sorted({n for n in names if names.count(n) > 1}))


def test_runs_past_the_sixth_get_colours_of_their_own(browser):
    """Round 26: the bars and swatches of run 7 took run 1's colour again (six colours, repeated),
    so two runs could not be told apart. The six stay; later runs get hues away from theirs."""
    import colorsys

    from xling.reporting.html_report import _asset

    browser.get("about:blank")   # (common.js reads the page's data element first: an empty one)
    browser.execute_script("var d = document.createElement('script'); d.id = 'data'; d.type = 'application/json';"
                           "d.textContent = '{}'; document.body.appendChild(d);")
    shown = browser.execute_script(   # each colour as the browser paints it: rgb(r, g, b)
        "return (function () {" + _asset("common.js", "</script") + "\n var probe = document.createElement('i');"
        " document.body.appendChild(probe); var out = [];"
        " for (var k = 0; k < 31; k++) { probe.style.color = runColor(k); out.push(getComputedStyle(probe).color); }"
        " return out; })();")
    rgb = [tuple(int(v) for v in re.findall(r"\d+", c)) for c in shown]
    assert [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb[:6]] == \
        ["#2f5fb3", "#d9822b", "#1a7f37", "#b42318", "#6941c6", "#0e7490"]
    assert len(set(rgb)) == 31
    hues = [360 * colorsys.rgb_to_hls(*(v / 255 for v in c))[0] for c in rgb]
    for k in range(6, 31):
        assert min(min(abs(hues[k] - h), 360 - abs(hues[k] - h)) for h in hues[:6]) > 20, (k, shown[k])


def test_the_pages_round_numbers_as_the_text_tables_do(browser):
    """Round 25: an exact tie (5 of 16 = 31.25%) read "31.3" in the page's tables (JavaScript's
    toFixed rounds ties up) beside "31.2" in the text table of the same page (Python's format)."""
    from xling.reporting.html_report import _asset

    values = [31.25, 6.25, 0.0625, 0.125, 2.5, 3.5, -0.25, 0.1, 1 / 3, 12.345, 0.5, 1.5, -2.5, 99.995, 1e-7, 0.0]
    digits = [1, 1, 3, 2, 0, 0, 1, 1, 2, 2, 0, 0, 0, 2, 3, 2]
    browser.get("about:blank")   # (common.js reads the page's data element first: an empty one)
    browser.execute_script("var d = document.createElement('script'); d.id = 'data'; d.type = 'application/json';"
                           "d.textContent = '{}'; document.body.appendChild(d);")
    shown = browser.execute_script(
        "return (function (values, digits) {" + _asset("common.js", "</script") + "\n return values.map("
        "function (v, i) { return fmt(v, digits[i]); }); })(arguments[0], arguments[1]);", values, digits)
    assert shown == [f"{v:.{d}f}" for v, d in zip(values, digits)]
