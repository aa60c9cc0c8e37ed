"""A real headless browser for the HTML pages' tests: Debian's chromium driven by Selenium
through the system chromedriver (nothing is downloaded), and what the tests check on each page."""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

CHROMEDRIVER = "/usr/bin/chromedriver"


def start_browser(tmp_path_factory):
    """Headless chromium with its console and network logged."""
    chromium = shutil.which("chromium")
    reason = None
    if chromium is None or not Path(CHROMEDRIVER).exists():
        reason = ("chromium and chromedriver are not installed (apt-get install -y chromium "
                  "chromium-driver); the HTML report's browser tests need them")
    else:
        try:
            import selenium  # noqa: F401
        except ImportError:
            reason = "selenium is not installed (pip install -e '.[dev]')"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the HTML report's browser tests, but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--disable-extensions", "--no-first-run",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    # chromium's start-up page loads chrome:// resources for a while: wait until it stops logging,
    # so that check_quiet sees only what our pages do
    driver.get("about:blank")
    deadline = time.monotonic() + 30
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
        quiet = 0 if driver.get_log("performance") or driver.get_log("browser") else quiet + 1
    return driver


def open_page(driver, page: Path) -> None:
    driver.get_log("browser")          # what earlier pages logged
    driver.get_log("performance")
    driver.get(page.resolve().as_uri())
    driver.implicitly_wait(0)
    assert driver.execute_script("return document.body.getAttribute('data-ready')"), "the page's script did not finish"


def page_data(page: Path) -> dict:
    text = page.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    assert found
    return json.loads(found.group(1))


def check_quiet(driver, page: Path) -> None:
    """No console message at all, and no request but the page itself."""
    logs = driver.get_log("browser")
    assert logs == [], logs
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    urls = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.add(message["params"]["request"]["url"])
    assert urls <= {page.resolve().as_uri()}, urls


def controls_and_drawing(driver, controls: str, drawn: dict[str, str]) -> dict:
    """Every control's value (by id) matching the CSS selector `controls`, and what the page
    drew (`drawn`: name -> a JavaScript expression), read in one script call."""
    return driver.execute_script(
        "var values = {}; document.querySelectorAll(arguments[0]).forEach(function (c) { values[c.id] = c.value; });"
        "return {values: values, " + ", ".join(f"{name}: {js}" for name, js in drawn.items()) + "};", controls)
