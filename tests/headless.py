"""The headless browser the browser tests share: Debian's Chromium and its driver through selenium.

Debian's /usr/bin/chromium and /usr/bin/chromedriver are used with the driver path given, so
selenium never looks for a driver on the network. Outside CI a missing browser (or selenium)
skips a browser test, saying why; under CI (CI=true) it fails it, saying why, since a browser
test that quietly skips checks nothing (`.ci/run` installs them when it can). Screenshots go to
`outputs/screenshots/` (or `$TOKENSIM_SCREENSHOTS`), where a person can look at them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
SCREENSHOTS = Path(os.environ.get("TOKENSIM_SCREENSHOTS", ROOT / "outputs" / "screenshots"))
IN_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")


def unavailable(reason: str) -> None:
    """Fail under CI, skip elsewhere: either way, say why."""
    if IN_CI:
        pytest.fail(f"CI=true but the browser test cannot run: {reason}")
    pytest.skip(reason)


def chromium(profile: Path):
    """A headless Chromium driven by selenium, logging the page's console; the caller quits it."""
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        unavailable(f"no headless browser here: {CHROMIUM} or {CHROMEDRIVER} is missing "
                    "(apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium is not installed (pip install -e '.[test]')")
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium manager, if ever consulted, stays off the network
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def save_screenshot(driver, name: str) -> Path:
    """The browser's view as SCREENSHOTS/NAME (a .png name), kept for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    assert driver.save_screenshot(str(path)), f"could not save {path}"
    return path
