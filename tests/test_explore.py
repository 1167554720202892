"""The explorer without a browser: levers and their overrides, the cache key, the downloaded
scenario file (it loads anywhere and reproduces the explorer's runs), the JSON API and its
errors, and the command line's mistakes. Scenarios are tiny so each test takes seconds."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, SCENARIOS
from waiver_scenarios import COUNTERFACTUAL, write_waiver_scenarios
import sim
from sim.explore.catalogue import Catalogue
from sim.explore.jobs import Runner
from sim.explore.levers import LeverError, levers_for, overrides
from sim.explore.setting import Setting
from sim.provenance import scenario_digest
from sim.scenario import ScenarioError, load_scenario

fastapi = pytest.importorskip("fastapi", reason="the explorer needs FastAPI: pip install -e '.[explore]'")
from fastapi.testclient import TestClient  # noqa: E402

from sim.explore.app import Explorer, create_app  # noqa: E402

TINY = ["horizon_days=3", "investors.retail.accounts=200", "investors.institutional.accounts=20"]
RATE = "duty.tokenized_etf.rate"
START = "duty.tokenized_etf.from_day"
BEFORE = "duty.tokenized_etf.before"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The law, the counterfactual duty and the waiver measured against it."""
    folder = tmp_path_factory.mktemp("scenarios")
    write_waiver_scenarios(folder)
    return folder


@pytest.fixture(scope="module")
def catalogue(folder) -> Catalogue:
    return Catalogue([str(folder)], None, TINY)


def _levers(catalogue: Catalogue, name: str = "stamp_duty_waiver"):
    policy = catalogue.policy(name)
    return levers_for(policy.entry.data(), policy.comparator.data())


def _setting(catalogue: Catalogue, values: dict, name: str = "stamp_duty_waiver", reps: int = 2,
             scale: list[str] = TINY) -> Setting:
    return Setting(catalogue.policy(name), tuple(overrides(_levers(catalogue, name), values)), tuple(scale), reps)


def _wait(client: TestClient, job: dict, seconds: float = 120) -> dict:
    end = time.monotonic() + seconds
    while job["status"] in ("queued", "running") and time.monotonic() < end:
        time.sleep(0.2)
        job = client.get(f"/api/runs/{job['key']}").json()
    return job


# Levers and overrides


def test_the_waiver_offers_its_duty_lever_moved_against_the_counterfactual(catalogue):
    policy = catalogue.policy("stamp_duty_waiver")
    assert policy.comparator.name == "tokenized_etf_duty" and policy.comparator.counterfactual == COUNTERFACTUAL
    levers = {lever.id: lever for lever in _levers(catalogue)}
    rate = levers[RATE]
    assert (rate.value, rate.comparator_value, rate.moved) == (0.0, 0.001, True)
    assert rate.key == "policy.stamp_duty.tokenized_etf.rate_per_side" and rate.kind == "rate"
    assert levers[BEFORE].value == 0.001  # before a mid-run start, the comparator's rate
    assert levers[START].maximum == 2  # the last business day of a 3-day horizon
    assert "settlement.exchange.cycle" in levers and "tokenized_cash.enabled" in levers
    assert "access.retail.tokenized" in levers
    assert not any(lever.startswith(("duty.tokenized_stock", "grant.")) for lever in levers)  # no shares, no issuer
    assert _levers(catalogue)[0].group == rate.group  # the scenario's own levers come first


def test_levers_follow_what_the_shipped_scenarios_contain():
    shipped = Catalogue([str(SCENARIOS / name) for name in ("baseline.yaml", "retail_access.yaml",
                                                             "digital_bond_grant.yaml", "equity_channels.yaml")],
                        None, TINY)
    retail = {lever.id: lever for lever in _levers(shipped, "retail_access")}
    assert retail["access.retail.tokenized"].moved and retail["access.retail.tokenized"].value is True
    grant = {lever.id for lever in _levers(shipped, "digital_bond_grant")}
    assert {"grant.enabled", "grant.share", "grant.from_day"} <= grant
    assert shipped.policy("digital_bond_grant").comparator.name == "regular_bond_issuance"
    equity = {lever.id for lever in _levers(shipped, "equity_channels")}
    assert {"duty.tokenized_stock.rate", "duty.conventional_stock.rate"} <= equity


def test_overrides_set_only_what_the_reader_moved(catalogue):
    levers = _levers(catalogue)
    assert overrides(levers, {}) == []
    assert overrides(levers, {RATE: 0.0}) == []  # the scenario's own value: no override
    assert overrides(levers, {RATE: 0.0005}) == ["policy.stamp_duty.tokenized_etf.rate_per_side=0.0005"]
    assert overrides(levers, {RATE: 0.00001}) == ["policy.stamp_duty.tokenized_etf.rate_per_side=1.0e-05"]
    assert overrides(levers, {"tokenized_cash.enabled": True, "settlement.exchange.cycle": 0}) == [
        "venues.exchange.settlement_cycle_days=0", "policy.tokenized_cash.enabled=true"]


def test_a_mid_run_start_charges_the_rate_before_it_and_not_otherwise(catalogue):
    levers = _levers(catalogue)
    assert overrides(levers, {START: 1}) == ["policy.stamp_duty.tokenized_etf.from_day=1",
                                             "policy.stamp_duty.tokenized_etf.otherwise_rate_per_side=0.001"]
    assert overrides(levers, {START: 1, BEFORE: 0.002})[-1] == "policy.stamp_duty.tokenized_etf.otherwise_rate_per_side=0.002"
    assert overrides(levers, {BEFORE: 0.002}) == []  # no start day: the rate outside the window is never used
    scenario = load_scenario(catalogue.policy("stamp_duty_waiver").entry.path, [*TINY, *overrides(levers, {START: 1})])
    duty = scenario.policy.stamp_duty.tokenized_etf
    assert (duty.rate_per_side, duty.from_day, duty.otherwise_rate_per_side) == (0.0, 1, 0.001)


@pytest.mark.parametrize("values, words", [
    ({RATE: 0.5}, "must be between 0 and 0.005"),
    ({RATE: -0.001}, "must be between 0 and 0.005"),
    ({RATE: "0.001"}, "expected a number"),
    ({RATE: True}, "expected a number"),
    ({RATE: float("nan")}, "expected a number"),
    ({START: 1.5}, "expected a whole number of business days"),
    ({START: 3}, "must be between 0 and 2"),
    ({"tokenized_cash.enabled": 1}, "expected true or false"),
    ({"grant.enabled": True}, "unknown lever grant.enabled for this scenario (its levers: duty.tokenized_etf.rate"),
])
def test_a_value_the_lever_does_not_take_is_refused_saying_why(catalogue, values, words):
    with pytest.raises(LeverError) as error:
        overrides(_levers(catalogue), values)
    assert words in str(error.value)


# The cache key


def test_the_cache_key_is_the_scenario_with_its_overrides_and_changes_with_anything_that_changes_a_number(catalogue):
    untouched = _setting(catalogue, {})
    assert untouched.key == _setting(catalogue, {}).key == _setting(catalogue, {RATE: 0.0}).key
    moved = _setting(catalogue, {RATE: 0.0005})
    others = [moved, _setting(catalogue, {}, reps=3), _setting(catalogue, {}, scale=[*TINY[:2], "investors.institutional.accounts=40"]),
              _setting(catalogue, {}, name="tokenized_etf_duty")]
    keys = {untouched.key, *(setting.key for setting in others)}
    assert len(keys) == 5
    assert moved.describe()["overrides"] == ["policy.stamp_duty.tokenized_etf.rate_per_side=0.0005"]


def test_the_cache_key_changes_when_the_comparator_file_changes(tmp_path):
    write_waiver_scenarios(tmp_path)
    before = _setting(Catalogue([str(tmp_path)], None, TINY), {}).key
    counterfactual = tmp_path / "tokenized_etf_duty.yaml"
    counterfactual.write_text(counterfactual.read_text().replace("0.001", "0.002"))
    assert _setting(Catalogue([str(tmp_path)], None, TINY), {}).key != before


# The downloaded scenario


def test_the_downloaded_file_loads_anywhere_and_is_the_setting(catalogue, tmp_path):
    setting = _setting(catalogue, {RATE: 0.0005, START: 1})
    saved = tmp_path / "far" / "away" / setting.file_name()
    saved.parent.mkdir(parents=True)
    saved.write_text(setting.yaml_text(), encoding="utf-8")
    loaded = load_scenario(saved)
    assert scenario_digest(loaded) == scenario_digest(setting.scenario)
    duty = loaded.policy.stamp_duty.tokenized_etf
    assert (duty.rate_per_side, duty.from_day, duty.otherwise_rate_per_side) == (0.0005, 1, 0.001)
    assert loaded.horizon_days == 3 and loaded.measured_against is None
    assert loaded.seed == catalogue.policy("stamp_duty_waiver").comparator.scenario.seed
    text = setting.yaml_text()
    assert "--set policy.stamp_duty.tokenized_etf.rate_per_side=0.0005   (lever)" in text
    assert f"against tokenized_etf_duty (counterfactual: {COUNTERFACTUAL})" in text
    validated = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(saved)], cwd=tmp_path,
                               capture_output=True, text=True, timeout=120)
    assert validated.returncode == 0 and "ok (stamp_duty_waiver)" in validated.stdout, validated.stderr


def test_a_setting_runs_and_its_download_reproduces_the_runs_kpis(folder, tmp_path):
    explorer = Explorer(Catalogue([str(folder)], None, TINY), Runner(tmp_path / "out", workers=1), reps=2, workers=1)
    client = TestClient(create_app(explorer))
    values = {RATE: 0.0005, "tokenized_cash.enabled": True}
    job = _wait(client, client.post("/api/runs", json={"scenario": "stamp_duty_waiver", "levers": values}).json())
    assert job["status"] == "done", job["error"]
    assert (job["done"], job["total"]) == (4, 4)
    runs = pd.read_csv(Path(job["result"]["folder"]) / "runs.csv")
    mine = runs[(runs["scenario"] == "stamp_duty_waiver") & (runs["replication"] == 0)].iloc[0]
    download = client.get("/api/download", params={"scenario": "stamp_duty_waiver", "levers": json.dumps(values)})
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith('attachment; filename="stamp_duty_waiver-explore-')
    saved = tmp_path / "downloaded.yaml"
    saved.write_text(download.text, encoding="utf-8")
    again = sim.run(load_scenario(saved), seed=int(mine["seed"])).kpis
    for kpi in ("stamp_duty_hkd", "net_fiscal_hkd", "turnover_hkd_tokenized", "trades"):
        assert again[kpi] == pytest.approx(mine[kpi], rel=1e-12), kpi


# The API


@pytest.fixture(scope="module")
def client(folder, tmp_path_factory) -> TestClient:
    out = tmp_path_factory.mktemp("explore-out")
    explorer = Explorer(Catalogue([str(folder)], None, TINY), Runner(out, workers=1), reps=2, workers=1)
    return TestClient(create_app(explorer))


def test_the_scenarios_name_their_comparators_and_counterfactuals_and_the_scale(client):
    body = client.get("/api/scenarios").json()
    by_name = {s["name"]: s for s in body["scenarios"]}
    assert set(by_name) == {"stamp_duty_waiver", "tokenized_etf_duty"}
    assert by_name["stamp_duty_waiver"]["comparator"]["name"] == "tokenized_etf_duty"
    assert by_name["stamp_duty_waiver"]["comparator"]["counterfactual"] == COUNTERFACTUAL
    assert by_name["tokenized_etf_duty"]["counterfactual"] == COUNTERFACTUAL
    assert by_name["tokenized_etf_duty"]["comparator"]["name"] == "baseline"
    assert body["scale"]["horizon_days"] == 3 and body["scale"]["reps"] == 2
    assert body["scale"]["groups"]["retail"]["accounts"] == 200
    assert client.get("/").text.count("/static/explore.js") == 1
    assert "function requestRun" in client.get("/static/explore.js").text


def test_a_run_gives_the_fiscal_line_and_a_repeated_setting_comes_from_the_cache(client, folder):
    request = {"scenario": "stamp_duty_waiver", "levers": {RATE: 0.0002}}
    first = client.post("/api/runs", json=request)
    assert first.status_code in (200, 202)
    job = _wait(client, first.json())
    assert job["status"] == "done" and not job["cached"], job["error"]
    fiscal = {row["kpi"]: row for row in job["result"]["effects"]["fiscal"]}
    assert {"stamp_duty_hkd", "stamp_duty_hkd_per_year", "net_fiscal_hkd", "net_fiscal_hkd_per_year"} <= set(fiscal)
    duty = fiscal["stamp_duty_hkd"]
    assert duty["difference"] == pytest.approx(duty["policy_mean"] - duty["comparator_mean"])
    assert duty["ci_low"] <= duty["difference"] <= duty["ci_high"]
    assert duty["text"]["difference"].startswith("HKD ")
    assert {row["kpi"] for row in job["result"]["effects"]["headlines"]} >= {"turnover_hkd_tokenized", "investor_cost_bps"}
    assert job["result"]["comparator"]["counterfactual"] == COUNTERFACTUAL
    again = client.post("/api/runs", json=request)
    assert again.status_code == 200 and again.json()["result"] == job["result"]
    # a new server on the same folder serves it from the disk cache without running anything
    out = Path(job["result"]["folder"]).parent
    fresh = Explorer(Catalogue([str(folder)], None, TINY), Runner(out, workers=1), reps=2)
    cached = TestClient(create_app(fresh)).post("/api/runs", json=request)
    assert cached.status_code == 200 and cached.json()["cached"] and cached.json()["result"] == job["result"]


@pytest.mark.parametrize("method, path, body, status, words", [
    ("post", "/api/runs", {"scenario": "nope"}, 404, "unknown scenario 'nope' (on offer: stamp_duty_waiver"),
    ("post", "/api/runs", {"scenario": "stamp_duty_waiver", "levers": {RATE: 0.5}}, 400, "must be between 0 and 0.005"),
    ("post", "/api/runs", {"scenario": "stamp_duty_waiver", "levers": {RATE: "high"}}, 400, "expected a number"),
    ("post", "/api/runs", {"scenario": "stamp_duty_waiver", "levers": {"x": 1}}, 400, "unknown lever x"),
    ("post", "/api/runs", {"levers": {}}, 422, "bad request: scenario"),
    ("post", "/api/runs", {"scenario": "stamp_duty_waiver", "levers": [1]}, 422, "bad request: levers"),
    ("get", "/api/runs/0123", None, 404, "no run '0123'"),
    ("get", "/api/download?scenario=nope", None, 404, "unknown scenario 'nope'"),
    ("get", "/api/download?scenario=stamp_duty_waiver&levers=%7B", None, 400, "expected a JSON object"),
    ("get", f"/api/download?scenario=stamp_duty_waiver&levers=%7B%22{START}%22%3A9%7D", None, 400,
     "must be between 0 and 2"),
])
def test_bad_input_is_a_4xx_json_error_without_traceback(client, method, path, body, status, words):
    response = client.post(path, json=body) if method == "post" else client.get(path)
    assert response.status_code == status
    assert words in response.json()["error"]
    assert "Traceback" not in response.text


def test_malformed_json_is_a_422_json_error(client):
    response = client.post("/api/runs", content="{", headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"].startswith("bad request")


# The command line


def tokensim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_command_line_mistakes_are_one_line_and_exit_status_2(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        cases = [
            (["explore", str(tmp_path / "missing.yaml")], "missing.yaml: file not found"),
            (["explore", str(SCENARIOS / "retail_access.yaml")], "no baseline"),
            (["explore", "--reps", "0"], "--reps: 0: must be at least 1"),
            (["explore", "--port", port], f"cannot listen on 127.0.0.1:{port}"),
            (["explore", "--set", "horizon_days=-1"], "horizon_days"),
        ]
        for args, words in cases:
            done = tokensim(*args)
            assert done.returncode == 2, (args, done.stderr)
            assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
            assert words in done.stderr and "Traceback" not in done.stderr


def test_tokensim_works_without_the_explore_extra_and_explore_says_how_to_install_it():
    blocked = ("import sys; sys.modules['fastapi'] = None; sys.modules['uvicorn'] = None; "
               "from sim.cli import main; sys.exit(main(['explore']))")
    done = subprocess.run([sys.executable, "-c", blocked], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: explore: the explorer needs FastAPI and uvicorn (uvicorn is missing): "
                                   "pip install 'leap-tokensim[explore]'.")


def test_the_scenarios_are_checked_before_the_server_starts(tmp_path):
    write_waiver_scenarios(tmp_path)
    (tmp_path / "broken.yaml").write_text("name: broken\nextends: baseline.yaml\nhorizon_dayz: 3\n")
    with pytest.raises(ScenarioError, match="unknown key 'horizon_dayz'"):
        Catalogue([str(tmp_path)], None, TINY)


# The runner


def test_a_newer_setting_replaces_the_one_waiting_and_the_running_one_finishes(catalogue, tmp_path, monkeypatch):
    from sim.explore import jobs

    release, started = threading.Event(), []
    real = jobs.api.compare

    def held(*args, **kwargs):
        started.append(kwargs["overrides"])
        assert release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs.api, "compare", held)
    runner = Runner(tmp_path, workers=1)
    running = runner.submit(_setting(catalogue, {}))
    deadline = time.monotonic() + 30
    while running.status != "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    waiting = runner.submit(_setting(catalogue, {RATE: 0.0001}))
    newest = runner.submit(_setting(catalogue, {RATE: 0.0002}))
    assert (running.status, waiting.status, newest.status) == ("running", "superseded", "queued")
    assert runner.submit(_setting(catalogue, {RATE: 0.0002})) is newest  # asking again is the same job
    release.set()
    while newest.status in ("queued", "running") and time.monotonic() < deadline + 60:
        time.sleep(0.05)
    assert (running.status, newest.status, waiting.status) == ("done", "done", "superseded")
    assert len(started) == 2 and runner.job(waiting.setting.key) is waiting
    again = runner.submit(waiting.setting)  # asked for again, it runs
    assert again is not waiting and again.status in ("queued", "running")
    while again.status in ("queued", "running") and time.monotonic() < deadline + 120:
        time.sleep(0.05)
    assert again.status == "done"


def test_a_setting_runs_on_a_dask_scheduler(catalogue, tmp_path):
    distributed = pytest.importorskip("dask.distributed", reason="Dask is not installed (pip install -e '.[test]')")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        runner = Runner(tmp_path, dask=cluster.scheduler_address)
        job = runner.submit(_setting(catalogue, {RATE: 0.0003}))
        deadline = time.monotonic() + 120
        while job.status in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.05)
    assert job.status == "done", job.error
    assert (job.done, job.total, job.result["computed"]) == (4, 4, 4)
