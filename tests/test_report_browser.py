"""The checks a person would make on the report: open report.html in a real browser (headless
Chromium through selenium) on a desktop and a phone-sized window, and read the PDF.

Debian's /usr/bin/chromium and /usr/bin/chromedriver are used with the driver path given, so
selenium never looks for a driver on the network; the browser tests are skipped, saying why,
only where those binaries are missing (`.ci/run` installs them when it can).
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import SCENARIOS
from sim.experiment import api
from sim.report.document import build_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
TINY = ["horizon_days=5", "investors.retail.accounts=200", "investors.institutional.accounts=20"]
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A small waiver-against-baseline comparison and its report."""
    out = tmp_path_factory.mktemp("browser")
    result = api.compare(SCENARIOS / "baseline.yaml", [SCENARIOS / "stamp_duty_waiver.yaml"], reps=2, overrides=TINY,
                         out=out, workers=1)
    build_report(result.folder, out)
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        pytest.skip(f"no headless browser here: {CHROMIUM} or {CHROMEDRIVER} is missing "
                    "(apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # selenium manager, if ever consulted, stays off the network
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _open(browser, report: Path, width: int, height: int) -> None:
    browser.set_window_size(width, height)
    browser.get((report / "report.html").resolve().as_uri())


def test_report_loads_cleanly_with_every_image_summary_and_table(browser, report):
    from selenium.webdriver.common.by import By

    _open(browser, report, 1280, 1600)
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
    widths = browser.execute_script("return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
    assert len(widths) >= 8 and all(w > 0 for w in widths), widths
    summary = browser.find_elements(By.CSS_SELECTOR, "p.summary")
    assert summary and "stamp_duty_waiver" in summary[0].text and "stamp duty forgone" in summary[0].text
    rows = browser.find_elements(By.CSS_SELECTOR, "table#headline tbody tr")
    assert len(rows) >= 5 and "Stamp duty collected" in browser.find_element(By.ID, "headline").text
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(browser.get_screenshot_as_png()), format="png")[..., :3]
    assert pixels.shape[0] > 100 and float(np.var(pixels)) > 1e-3, "the screenshot is blank"


def test_report_fits_a_phone_screen(browser, report):
    _open(browser, report, 390, 844)
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, "the page scrolls sideways on a phone"
    fitting = browser.execute_script(
        "return Array.from(document.images).every(i => i.getBoundingClientRect().width <= window.innerWidth)")
    assert fitting


def test_pdf_pages_and_extractable_text(report):
    pypdf = pytest.importorskip("pypdf", reason="pypdf is not installed (pip install -e '.[test]')")
    page = (report / "report.html").read_text(encoding="utf-8")
    figures = len(re.findall(r"<img ", page))
    pdf = pypdf.PdfReader(report / "report.pdf")
    assert len(pdf.pages) == 1 + figures  # the title page (the short table fits on it), then one page per figure
    first = " ".join(pdf.pages[0].extract_text().split())
    assert "Policy report: stamp_duty_waiver against baseline" in first
    assert "stamp duty forgone" in first and "Headline table" in first
