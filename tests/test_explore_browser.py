"""The explorer in a real browser (headless Chromium through selenium): the page loads with no
console error, a lever change runs the setting and the numbers change, and the page is usable
at phone width. The tests save screenshots of the explorer before and after a lever change, on
a desktop and a phone, into `outputs/screenshots/` (or `$TOKENSIM_SCREENSHOTS`).

Debian's /usr/bin/chromium and /usr/bin/chromedriver are used with the driver path given, so
selenium never looks for a driver on the network. Outside CI a missing browser skips these
tests, saying why; under CI (CI=true) it fails them, saying why, since a browser test that
quietly skips checks nothing.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from headless import SCREENSHOTS, chromium, save_screenshot, unavailable
from waiver_scenarios import write_waiver_scenarios
from sim.explore.catalogue import Catalogue
from sim.explore.jobs import Runner
from sim.scenario import load_scenario

TINY = ["horizon_days=3", "investors.retail.accounts=200", "investors.institutional.accounts=20"]
RUN_SECONDS = 120


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The explorer on a free local port, serving the law, the counterfactual duty and the waiver."""
    try:
        import uvicorn

        from sim.explore.app import Explorer, create_app
    except ImportError as error:
        unavailable(f"the explorer's web packages are not installed ({error.name}): pip install -e '.[test]'")
    folder = tmp_path_factory.mktemp("scenarios")
    write_waiver_scenarios(folder)
    explorer = Explorer(Catalogue([str(folder)], None, TINY), Runner(tmp_path_factory.mktemp("out"), workers=1),
                        reps=2, workers=1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    web = uvicorn.Server(uvicorn.Config(create_app(explorer), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not web.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert web.started, "the explorer's server did not start"
    yield f"http://127.0.0.1:{port}"
    web.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def _until(browser, condition, what: str, seconds: float = RUN_SECONDS):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, poll_frequency=0.1).until(lambda driver: condition(driver), message=what)


def _settled(browser) -> tuple[str, str]:
    """Wait for the setting on screen to finish; its job key and the page's status."""
    _until(browser, lambda d: d.execute_script("return document.body.dataset.status") in ("done", "failed"),
           "the setting did not finish")
    return browser.execute_script("return [document.body.dataset.job, document.body.dataset.status]")


def _cell(browser, table: str, kpi: str, column: str) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, f"#{table} tr[data-kpi='{kpi}'] td.{column}").text


def _move(browser, lever: str, value) -> None:
    """Set a lever's control as a reader would leave it, and fire its change event."""
    browser.execute_script(
        "const input = document.querySelector(`[data-lever='${arguments[0]}'] input`);"
        "if (input.type === 'checkbox') { input.checked = arguments[1]; } else { input.value = arguments[1]; }"
        "input.dispatchEvent(new Event('input')); input.dispatchEvent(new Event('change'));", lever, value)


def _save(browser, name: str) -> Path:
    path = save_screenshot(browser, name)
    assert path.stat().st_size > 5_000, f"{path} is empty"
    return path


def _errors(browser) -> list[dict]:
    return [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


def test_a_lever_change_runs_the_setting_and_updates_the_numbers(browser, server):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 1000)
    browser.get(server)
    _until(browser, lambda d: d.find_element(By.ID, "scenario").get_attribute("value") == "stamp_duty_waiver",
           "the waiver (the scenario that moves a lever) is not selected first", 30)
    first, status = _settled(browser)
    assert status == "done", browser.find_element(By.ID, "error").text
    assert "3 business days" in browser.find_element(By.ID, "scale").text
    assert "scaled-down market" in browser.find_element(By.ID, "scale").text
    assert browser.find_element(By.ID, "effects-comparator").text == "Comparator (counterfactual)"
    assert "tokenized_etf_duty is a counterfactual" in browser.find_element(By.ID, "counterfactual-note").text
    before = _cell(browser, "fiscal", "stamp_duty_hkd", "difference")
    assert before.startswith("HKD ")
    _save(browser, "explore-desktop-before.png")

    _move(browser, "duty.tokenized_etf.rate", 0.003)
    _until(browser, lambda d: d.execute_script("return document.body.dataset.job") != first, "no new run started", 30)
    second, status = _settled(browser)
    assert status == "done", browser.find_element(By.ID, "error").text
    progress = browser.execute_script("const bar = document.getElementById('progress'); return [bar.value, bar.max]")
    assert progress == [4, 4], "the progress bar does not count the setting's 4 runs"
    assert "runs computed" in browser.find_element(By.ID, "status-text").text
    after = _cell(browser, "fiscal", "stamp_duty_hkd", "difference")
    assert after != before, "the duty difference did not change with the duty rate"
    assert "0.30%" in browser.find_element(By.CSS_SELECTOR, "[data-lever='duty.tokenized_etf.rate'] output").text
    href = browser.find_element(By.ID, "download").get_attribute("href")
    assert "duty.tokenized_etf.rate" in urllib.request.unquote(href)
    _save(browser, "explore-desktop-after.png")
    assert _errors(browser) == []

    with urllib.request.urlopen(href, timeout=30) as response:  # the download link gives this setting's file
        text = response.read().decode("utf-8")
    saved = SCREENSHOTS.parent / "explore-download-test.yaml"
    saved.write_text(text, encoding="utf-8")
    try:
        assert load_scenario(saved).policy.stamp_duty.tokenized_etf.rate_per_side == 0.003
    finally:
        saved.unlink()


def test_the_page_is_usable_at_phone_width(browser, server):
    from selenium.webdriver.common.by import By

    browser.set_window_size(390, 844)
    browser.get(server)
    first, status = _settled(browser)
    assert status == "done"
    width = browser.execute_script("return window.innerWidth")
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, "the page scrolls sideways on a phone"
    for element in ("scenario", "download", "reset"):
        box = browser.find_element(By.ID, element).rect
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, f"#{element} is cut off at phone width"
    _save(browser, "explore-phone-before.png")

    more = browser.find_element(By.CSS_SELECTOR, "#levers details > summary")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", more)
    more.click()  # the settlement levers are under "More levers"
    switch = browser.find_element(By.CSS_SELECTOR, "[data-lever='tokenized_cash.enabled'] input")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", switch)
    assert switch.is_displayed() and switch.is_enabled()
    switch.click()
    _until(browser, lambda d: d.execute_script("return document.body.dataset.job") != first, "no new run started", 30)
    _, status = _settled(browser)
    assert status == "done"
    assert browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth") <= 1
    browser.execute_script("document.getElementById('results').scrollIntoView()")
    _save(browser, "explore-phone-after.png")
    assert _errors(browser) == []


def test_an_unknown_scenario_is_a_clear_error_in_the_page(browser, server):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 1000)
    browser.get(f"{server}/?scenario=nope")
    _settled(browser)
    error = browser.find_element(By.ID, "error")
    assert error.is_displayed() and error.text.startswith("unknown scenario nope (on offer: ")


def test_a_counterfactual_policy_is_labelled_as_one_where_its_numbers_appear(browser, server):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 1000)
    browser.get(f"{server}/?scenario=tokenized_etf_duty")
    _, status = _settled(browser)
    assert status == "done"
    assert browser.find_element(By.ID, "error").is_displayed() is False
    selected = browser.find_element(By.CSS_SELECTOR, "#scenario option:checked").text
    assert selected == "tokenized_etf_duty (counterfactual)"
    assert browser.find_element(By.ID, "effect-title").text == "Effect of tokenized_etf_duty (counterfactual) against baseline"
    assert [browser.find_element(By.ID, f"{table}-policy").text for table in ("fiscal", "effects")] == \
        ["Policy (counterfactual)"] * 2
    assert browser.find_element(By.ID, "effects-comparator").text == "Comparator"
    assert "This scenario is itself a counterfactual" in browser.find_element(By.ID, "comparator").text
    assert _errors(browser) == []
