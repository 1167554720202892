"""Reliability: model faults caught and located, outputs never overwritten silently nor written
outside the output folder, interrupted work cleaned up and resumed, resource guards, and
extreme but valid parameters that run (or fail clearly) without hanging."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pandas as pd
import pytest

from conftest import QUICK, ROOT, SCENARIOS, quick
from sim import experiment
from sim.cli import main
from sim.engine import build
from sim.invariant_replay import locate
from sim.invariants import CASH_CONSERVED, UNITS_CONSERVED, InvariantError
from sim.market.ledger import Ledger
from sim.outputs import run_status
from sim.run_progress import progress_every, run_with_progress
from sim.run_size import TooLarge, available_bytes, check_fits, estimate
from sim.runs import run
from sim.scenario import ScenarioError, load_scenario

TINY = ["horizon_days=4", "investors.retail.accounts=200", "investors.institutional.accounts=20"]
SETS = [arg for item in TINY for arg in ("--set", item)]
BASELINE = str(SCENARIOS / "baseline.yaml")


@contextmanager
def within(seconds: int):
    """Fail, rather than hang, if the block takes longer than `seconds`."""
    def expired(signum, frame):
        raise AssertionError(f"took longer than {seconds} s: a loop not bounded by the horizon?")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# Model faults: a settlement that drops cash (or units) is caught and named.

def drop_in_settlement(monkeypatch, at_call: int, what: str, ledgers_with: int | None = None) -> None:
    """Make the `at_call`-th trade each ledger settles lose a cent (or a unit): a model bug.
    With `ledgers_with`, only ledgers with that many accounts are faulty."""
    settle = Ledger.settle

    def faulty(self, trades):
        for trade in trades:
            settle(self, (trade,))
            self.calls = getattr(self, "calls", 0) + 1
            if self.calls == at_call and ledgers_with in (None, len(self.accounts)):
                if what == "cash":
                    self.cash[trade.seller] -= 1
                else:
                    self.units[trade.asset][trade.buyer] -= 1

    monkeypatch.setattr(Ledger, "settle", faulty)


@pytest.mark.parametrize("what, invariant", [("cash", CASH_CONSERVED), ("units", UNITS_CONSERVED)])
def test_a_settlement_that_drops_value_is_caught_and_located(monkeypatch, what, invariant):
    scenario = quick("baseline")
    drop_in_settlement(monkeypatch, 300, what)
    with pytest.raises(InvariantError) as caught:
        run(scenario, seed=4)
    assert caught.value.invariant == invariant
    located = locate(scenario, 4)
    assert located.invariant == invariant and located.operation == "settle"
    assert located.instrument in {f"{l.instrument} ({l.venue.form})" for l in build(scenario, 4).listings}
    assert 0 <= located.day < scenario.horizon_days and located.date is not None
    assert f"first broken on day {located.day} ({located.date})" in str(located)


def test_a_broken_invariant_ends_tokensim_run_with_status_1_and_names_it(monkeypatch, tmp_path, capsys):
    drop_in_settlement(monkeypatch, 300, "cash")
    status = main(["run", BASELINE, "--out", str(tmp_path), *(a for item in QUICK for a in ("--set", item))])
    error = capsys.readouterr().err
    assert status == 1 and "Traceback" not in error and error.count("\n") == 1
    assert re.search(r"cash conserved: .* \(instrument \S+ \(\w+\); first broken on day \d+ \(\d{4}-\d\d-\d\d\); "
                     r"in ledger\.settle\)", error), error
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_an_experiment_records_a_broken_invariant_in_failures_and_goes_on(monkeypatch, tmp_path):
    (tmp_path / "baseline.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())
    (tmp_path / "bigger.yaml").write_text("extends: baseline.yaml\nname: bigger\ninvestors: {retail: {accounts: 201}}\n")
    overrides = [TINY[0], TINY[2]]  # retail accounts as the files say: 5000 and 201
    faulty_accounts = len(build(load_scenario(tmp_path / "bigger.yaml", overrides), 1).ledger.accounts)
    drop_in_settlement(monkeypatch, 100, "cash", ledgers_with=faulty_accounts)
    result = experiment.run([tmp_path / "baseline.yaml", tmp_path / "bigger.yaml"], reps=2, overrides=overrides,
                            out=tmp_path / "out", workers=1, name="faulty")
    assert result.computed == 2 and result.failed == 2  # the healthy scenario's runs went on
    failures = pd.read_csv(result.folder / "failures.csv")
    assert set(failures["scenario"]) == {"bigger"}
    assert failures["error"].str.contains(r"InvariantError: .*cash conserved.*first broken on day \d+").all()


# Safe outputs: names cannot leave the output folder; folders are never replaced silently.

@pytest.mark.parametrize("args, message", [
    (["--set", "name=../escaped"], "name"),
    (["--set", "name=/tmp/escaped"], "name"),
    (["--set", "name=.hidden"], "name"),
    (["--reps", "1", "--name", "../escaped"], "--name"),
    (["--reps", "1", "--name", "/tmp/escaped"], "--name"),
    (["--reps", "1", "--name", ".."], "--name"),
])
def test_names_cannot_write_outside_the_output_folder(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main(["run", BASELINE, "--out", str(out), *SETS, *args]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and "Traceback" not in error
    assert not out.exists() and not (tmp_path / "escaped").exists()


def test_out_that_is_a_file_or_a_foreign_folder_is_refused(tmp_path, capsys):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("keep me")
    assert main(["run", BASELINE, "--out", str(not_a_folder), *SETS]) == 2
    foreign = tmp_path / "out" / "baseline"
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("keep me")
    assert main(["run", BASELINE, "--out", str(tmp_path / "out"), "--overwrite", *SETS]) == 2
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "baseline").symlink_to(outside)
    assert main(["run", BASELINE, "--out", str(tmp_path / "linked"), "--overwrite", *SETS]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert "is a file, not a folder" in errors[0]
    assert "not a tokensim run folder" in errors[1] and "not a tokensim run folder" in errors[2]
    assert not_a_folder.read_text() == "keep me" and (foreign / "notes.txt").read_text() == "keep me"
    assert list(outside.iterdir()) == []


def test_a_second_run_is_skipped_when_identical_and_needs_overwrite_when_not(tmp_path, capsys):
    out = str(tmp_path)
    assert main(["run", BASELINE, "--out", out, *SETS]) == 0
    folder = tmp_path / "baseline"
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert main(["run", BASELINE, "--out", out, *SETS]) == 0
    assert "up to date" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before

    assert main(["run", BASELINE, "--out", out, "--seed", "8", *SETS]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
    assert main(["run", BASELINE, "--out", out, "--seed", "8", "--overwrite", *SETS]) == 0
    assert "replacing" in capsys.readouterr().out and json.loads((folder / "manifest.json").read_text())["seed"] == 8


def test_the_main_job_run_twice_skips_what_is_up_to_date(tmp_path, capsys):
    """run_scenarios.py runs the scenarios folder with --overwrite: the second time, nothing is redone."""
    smallest = ["horizon_days=2", "investors.retail.accounts=50", "investors.institutional.accounts=5"]
    command = ["run", str(SCENARIOS), "--out", str(tmp_path), "--overwrite", *(a for item in smallest for a in ("--set", item))]
    assert main(command) == 0
    first = capsys.readouterr().out
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert main(command) == 0
    second = capsys.readouterr().out
    count = len(list(SCENARIOS.glob("*.yaml")))
    assert first.count(" trades over ") == count and second.count("up to date") == count
    assert second.split("\nKPI")[1] == first.split("\nKPI")[1]  # the KPI table, read back from kpis.csv
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == stamps


def test_manifest_records_what_reproduces_the_run(tmp_path):
    assert main(["run", BASELINE, "--out", str(tmp_path), "--seed", "6", *SETS]) == 0
    manifest = json.loads((tmp_path / "baseline" / "manifest.json").read_text())
    for key in ("seed", "package_version", "git_revision", "code_fingerprint", "scenario_hash", "scenario_files",
                "overrides", "command", "versions", "resolved_scenario"):
        assert key in manifest, key
    assert manifest["overrides"] == TINY and "--seed" in manifest["command"]
    assert {"python", "numpy", "pandas", "simpy"} <= set(manifest["versions"])


# Interrupted work: nothing that looks complete is left, and the next run finishes the job.

def _tokensim(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_leaves_no_folder(tmp_path, signum):
    """Stopped mid-run (after its first progress line): exit 130, no folder, no traceback."""
    busy = ["--set", "horizon_days=20", "--set", "investors.retail.needs_per_day=100000"]  # long enough to report
    process = _tokensim("run", BASELINE, "--out", str(tmp_path), *busy)
    first_line = process.stderr.readline()
    assert "day 2/20 simulated" in first_line, first_line + process.communicate()[1]
    os.killpg(process.pid, signum)  # as Ctrl-C does: the whole foreground group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr, stderr
    assert list(tmp_path.iterdir()) == []


def test_a_killed_writer_leaves_only_a_marked_folder_that_the_next_run_removes(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = tmp_path / f".baseline.partial-{int(dead.stdout)}"  # what SIGKILL during writing leaves
    (abandoned / "figures").mkdir(parents=True)
    (abandoned / "trades.csv").write_text("time,price\n")
    assert run_status(tmp_path / "baseline", quick("baseline"), 1) == "missing"  # never mistaken for a run
    assert main(["run", BASELINE, "--out", str(tmp_path), *SETS]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline"]


def test_an_experiment_stopped_with_ctrl_c_resumes(tmp_path):
    args = ["run", BASELINE, "--reps", "4", "--name", "stopped", "--out", str(tmp_path), "--workers", "1", *SETS]
    runs = tmp_path / "stopped" / "runs"
    first = _tokensim(*args)
    deadline = time.monotonic() + 120
    while len(list(runs.glob("*.json"))) < 2:
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGINT)
    _, stderr = first.communicate(timeout=60)
    assert first.returncode == 130 and "Traceback" not in stderr
    kept = len(list(runs.glob("*.json")))
    assert not (tmp_path / "stopped" / "runs.csv").exists() and not list(runs.glob(".*"))
    second = _tokensim(*args)
    stdout, stderr = second.communicate(timeout=120)
    assert second.returncode == 0, stderr
    assert f"{4 - kept} computed, {kept} reused" in stdout


# Resource guards.

def test_estimate_is_close_to_a_real_run_and_errs_high():
    scenario = quick("baseline", "horizon_days=10")
    guess = estimate(scenario)
    result = run(scenario, seed=2)
    needs = int(result.groups["needs"].sum())
    assert 0.8 * guess.needs <= needs <= 1.2 * guess.needs
    assert len(result.trades) <= guess.trades <= 3 * len(result.trades)


def test_a_run_too_large_for_the_memory_is_refused_with_the_override_named(tmp_path, capsys):
    huge = quick("baseline", "horizon_days=10000", "investors.retail.needs_per_day=10000000")
    with pytest.raises(TooLarge, match="--allow-large"):
        check_fits([estimate(huge)], available=8 * 10**9)
    check_fits([estimate(huge)], available=8 * 10**9, allow_large=True)
    small = estimate(quick("baseline"))
    check_fits([small], available=small.peak_bytes + 1)
    with pytest.raises(TooLarge, match=r"2 runs at once; fewer --workers"):
        check_fits([small, small], concurrent=2, available=small.peak_bytes + 1)
    status = main(["run", BASELINE, "--out", str(tmp_path), "--set", "horizon_days=10000",
                   "--set", "investors.retail.needs_per_day=10000000"])
    error = capsys.readouterr().err
    assert status == 2 and "investor needs" in error and "is available" in error and "--allow-large" in error
    assert list(tmp_path.iterdir()) == []


def test_available_memory_is_read_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    2000000 kB\n")
    assert available_bytes(meminfo) == 2_048_000_000
    assert available_bytes(tmp_path / "missing") is None or available_bytes(tmp_path / "missing") > 0


def test_progress_lines_do_not_change_the_results():
    scenario = quick("baseline", "horizon_days=5")
    lines: list[str] = []
    reported = run_with_progress(scenario, 3, every=2, say=lines.append)
    plain = run(scenario, seed=3)
    pd.testing.assert_frame_equal(reported.trades, plain.trades)
    pd.testing.assert_frame_equal(reported.daily, plain.daily)
    assert reported.kpis == plain.kpis
    assert [line.split(",")[0] for line in lines] == ["baseline: day 2/5 simulated", "baseline: day 4/5 simulated"]
    assert progress_every(estimate(scenario), 5) is None  # a short run stays silent
    assert progress_every(estimate(quick("baseline", "horizon_days=2500", "investors.retail.accounts=5000")), 2500) == 250


# Numerical robustness: extreme but valid parameters run (or fail clearly), never hang.

EXTREMES = {
    "one-day horizon": ["horizon_days=1"],
    "a rate just under 1": ["policy.stamp_duty.tokenized_etf.rate_per_side=0.999999"],
    "a venue whose market maker holds nothing": [
        "venues.platform.listings.hk_tracker.market_maker.initial_units=0",
        "venues.platform.listings.hk_tracker.market_maker.initial_cash_hkd=0"],
    "a one-account group": ["investors.institutional.accounts=1"],
    "the slowest settlement and most fails": ["venues.exchange.settlement_cycle_days=30",
                                              "venues.exchange.fail_probability_at_t2=0.5"],
    "a very rare need": ["investors.retail.needs_per_day=0.001", "investors.institutional.needs_per_day=0.001"],
    "a huge trade size": ["investors.institutional.trade_size_median_hkd=90000000000"],
}


@pytest.mark.parametrize("case", EXTREMES)
def test_extreme_but_valid_parameters_run_without_hanging(case):
    with within(60):
        result = run(quick("baseline", *EXTREMES[case]), seed=5)
    assert set(result.daily["day"]) == set(range(result.scenario.horizon_days))


def test_a_huge_issue_runs():
    with within(60):
        result = run(quick("regular_bond_issuance", "issuers.hksar_government.programmes.green_tokenized.size_hkd=9000000000000",
                           "horizon_days=12"), seed=5)
    issue = result.issuance[result.issuance["kind"] == "bond issue"].iloc[0]
    assert 0 < issue["allocated_units"] < issue["offered_units"]  # the market maker took only what it could pay


@pytest.mark.parametrize("override", ["investors.retail.accounts=0", "horizon_days=0",
                                      "policy.stamp_duty.tokenized_etf.rate_per_side=1"])
def test_out_of_range_parameters_are_clear_errors(override):
    with pytest.raises(ScenarioError, match=override.split("=")[0].split(".")[-1]):
        quick("baseline", override)
