"""report_html: what the HTML report costs at the size of a direction matrix, against the Markdown
report of the same runs.

Two runs of the tiny test model (tests/data/frozen_tiny_causal; zero-shot and one-shot) on the
12 directions between ko, en, ja and zh, N FLORES-200 devtest segments each, are made once
(answers capped at 16 new tokens: the tiny model's text is not the point here). Then, in the
same process:

- markdown: `xling report A B -f markdown -o F` (tables and paired tests), seconds and bytes;
- html: `xling report A B -f html -o F`, seconds and bytes (the same tables and tests, plus the
  95% bootstrap intervals, the segment browser's sentence scores, off-target flags and rebuilt
  prompts, the length and word-frequency buckets);
- browser: headless chromium (Debian's, through /usr/bin/chromedriver) opens the page from
  file://: the page's own clock when its script has drawn everything (the first page of segment
  rows included), the wall time of the load, the time to re-sort all rows by the chrF delta,
  the console messages and the requests other than the file (both must be none).

Prints one JSON object. `--small`: 8 segments per direction. `--screenshots DIR`: also saves
overview.png and segments.png there (a 2-direction report, for figures/html_report/).

    python experiments/bench/report_html.py [--small] [--segments N] [--work DIR] [--out F] [--screenshots DIR]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import require_data  # also puts the repository on sys.path

from xling.cli import main as xling

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "tests" / "data" / "frozen_tiny_causal"


def make_runs(work: Path, data_dir: Path, langs: str, segments: int) -> tuple[Path, Path]:
    """The zero-shot and one-shot runs (resumed from the work folder when there)."""
    common = ["eval", "mt", "-m", str(MODEL), "--data", "flores200:devtest", "--data-dir", str(data_dir),
              "--langs", langs, "--limit", str(segments), "--max-new-tokens", "16",
              "--metrics", "bleu,chrf,offtarget"]
    runs = []
    for name, extra in (("zero", []), ("one", ["--shots", "1"])):
        out = work / f"{name}-{langs.replace(',', '')}-{segments}"
        with contextlib.redirect_stdout(io.StringIO()):   # its tables: this script prints JSON only
            code = xling(common + extra + ["-o", str(out)])
        if code != 0:
            raise SystemExit(f"xling eval mt exited {code}")
        runs.append(out)
    return runs[0], runs[1]


def timed_report(runs, fmt: str, out: Path) -> dict:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = xling(["report", *map(str, runs), "-f", fmt, "-o", str(out)])
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"xling report -f {fmt} exited {code}")
    return {"seconds": round(seconds, 3), "bytes": out.stat().st_size}


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,800", "--hide-scrollbars"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def measure_page(driver, page: Path, repeats: int = 3) -> dict:
    """Load the page `repeats` times; the median of each figure."""
    loads, drawn, sorts = [], [], []
    console, requests = [], set()
    uri = page.resolve().as_uri()
    for _ in range(repeats):
        driver.get("about:blank")
        driver.get_log("browser")
        driver.get_log("performance")
        start = time.perf_counter()
        driver.get(uri)
        loads.append(time.perf_counter() - start)
        drawn.append(float(driver.execute_script("return document.body.getAttribute('data-ready')")) / 1000)
        sorts.append(driver.execute_script(
            "var t = performance.now(); document.querySelector(\"th[data-sort='delta']\").click();"
            "return (performance.now() - t) / 1000;"))
        console += driver.get_log("browser")
        requests |= {json.loads(e["message"])["message"]["params"]["request"]["url"]
                     for e in driver.get_log("performance")
                     if json.loads(e["message"])["message"]["method"] == "Network.requestWillBeSent"}
        requests |= set(driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"))
    rows = int(driver.execute_script("return document.querySelectorAll('#segments-body tr').length"))

    def median(values):
        return round(sorted(values)[len(values) // 2], 4)

    return {"drawn_s": median(drawn), "load_wall_s": median(loads), "sort_all_rows_s": median(sorts),
            "rows_in_dom": rows, "console_messages": len(console), "other_requests": sorted(requests - {uri})}


def screenshots(driver, page: Path, folder: Path) -> list[str]:
    """overview.png (top of the page) and segments.png (the browser: the segments whose outputs
    differ, sorted by the chrF delta), reduced to a small palette."""
    folder.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(1200, 760)
    driver.get(page.resolve().as_uri())
    saved = []
    shot = folder / "overview.png"
    driver.save_screenshot(str(shot))
    saved.append(shot)
    driver.execute_script("var flag = document.getElementById('filter-flag'); flag.value = 'differ';"
                          "flag.dispatchEvent(new Event('change'));"
                          "document.querySelector(\"th[data-sort='delta']\").click();"
                          "document.getElementById('browser').scrollIntoView();")
    shot = folder / "segments.png"
    driver.save_screenshot(str(shot))
    saved.append(shot)
    try:
        from PIL import Image
        for path in saved:
            Image.open(path).convert("RGB").quantize(colors=96).save(path, optimize=True)
    except ImportError:
        pass
    return [str(p) for p in saved]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="8 segments per direction")
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--work", default=None, help="folder for the runs and reports (default: a temporary one)")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    parser.add_argument("--screenshots", default=None, help="save overview.png and segments.png in this folder")
    args = parser.parse_args(argv)
    data_dir = require_data(args.data_dir)
    segments = 8 if args.small else args.segments
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="report-html-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XLING_CACHE", str(work / "cache"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    runs = make_runs(work, data_dir, "ko,en,ja,zh", segments)
    result: dict = {"directions": 12, "segments_per_direction": segments, "runs": 2,
                    "rows": 12 * segments, "runs_seconds": round(time.perf_counter() - start, 1)}
    result["markdown"] = timed_report(runs, "markdown", work / "report.md")
    result["html"] = timed_report(runs, "html", work / "report.html")
    result["html_over_markdown_seconds"] = round(result["html"]["seconds"] / result["markdown"]["seconds"], 2)
    if shutil.which("chromium") and Path("/usr/bin/chromedriver").exists():
        driver = browser()
        try:
            result["browser"] = measure_page(driver, work / "report.html")
            if args.screenshots:
                pair = make_runs(work, data_dir, "ko,en", 8)
                page = work / "report-ko-en.html"
                timed_report(pair, "html", page)
                result["screenshots"] = screenshots(driver, page, Path(args.screenshots))
        finally:
            driver.quit()
    else:
        result["browser"] = "skipped: chromium and /usr/bin/chromedriver are not installed"
    result["total_seconds"] = round(time.perf_counter() - start, 1)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
