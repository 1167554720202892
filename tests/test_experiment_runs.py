"""Experiments on the real simulator: common random numbers, identical results on every executor,
resuming after a kill, failed runs, sweeps and precision targets."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.runs
from conftest import ROOT
from waiver_scenarios import write_waiver_scenarios
from sim import experiment
from sim.cli import main
from sim.experiment import UntilCi, replication_seeds

TINY = ["horizon_days=3", "investors.retail.accounts=100", "investors.institutional.accounts=20"]
SWEEP = ["horizon_days=5", "investors.retail.accounts=300", "investors.institutional.accounts=30"]
BASELINE = "scenarios/baseline.yaml"
KPI = "turnover_hkd_hk_tracker_tokenized"
RATE = "policy.stamp_duty.tokenized_etf.rate_per_side"
TABLES = ("runs.csv", "summary.csv", "comparison.csv", "manifest.json")


@pytest.fixture(scope="module")
def trio(tmp_path_factory) -> tuple[Path, Path, Path]:
    """The law, the counterfactual duty on tokenized ETF units, and the waiver measured against it."""
    return write_waiver_scenarios(tmp_path_factory.mktemp("scenarios"))


@pytest.fixture(scope="module")
def compared(trio, tmp_path_factory) -> experiment.ExperimentResult:
    """Baseline against the waiver (and so its comparator), 3 replications, in process."""
    baseline, _, waiver = trio
    return experiment.compare(baseline, [waiver], reps=3, overrides=TINY, name="cmp",
                              out=tmp_path_factory.mktemp("in_process"), workers=1)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    files = [*TABLES, *(f"runs/{p.name}" for p in (folder / "runs").iterdir())]
    return {name: (folder / name).read_bytes() for name in files}


def test_replications_share_seeds_across_scenarios(compared):
    runs = compared.runs
    seeds = replication_seeds(20250626, 3)  # the baseline's own seed is the default base
    assert list(runs["scenario"]) == ["baseline"] * 3 + ["tokenized_etf_duty"] * 3 + ["stamp_duty_waiver"] * 3
    assert list(runs["seed"]) == seeds * 3 and list(runs["replication"]) == [0, 1, 2] * 3
    assert compared.seeds == seeds and compared.computed == 9 and compared.reused == 0
    assert runs.groupby("replication")["needs"].nunique().eq(1).all()  # same needs: common random numbers
    waiver = waiver_rows(compared).loc["stamp_duty_hkd"]
    assert waiver["compared_with"] == "tokenized_etf_duty"
    assert waiver["policy_mean"] == 0 and waiver["relative_change"] == -1
    summary = compared.summary.set_index(["scenario", "kpi"]).loc[("baseline", KPI)]
    assert summary["n"] == 3 and summary["mean"] == pytest.approx(runs[KPI][:3].mean())


def waiver_rows(result: experiment.ExperimentResult) -> pd.DataFrame:
    table = result.comparison
    return table[table["policy"] == "stamp_duty_waiver"].set_index("kpi")


def test_pairing_narrows_the_interval_on_a_real_kpi(compared):
    row = waiver_rows(compared).loc[KPI]
    assert row["difference"] > 0  # no duty on tokenized ETF units: more of them trade
    assert 0 < row["half_width"] < row["welch_half_width"]


def test_results_are_identical_whatever_the_executor(compared, trio, tmp_path):
    distributed = pytest.importorskip("distributed")
    baseline, _, waiver = trio
    expected = folder_bytes(compared.folder)
    pool = experiment.compare(baseline, [waiver], reps=3, overrides=TINY, name="cmp", out=tmp_path / "pool", workers=2)
    assert folder_bytes(pool.folder) == expected
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster:
        dask = experiment.compare(baseline, [waiver], reps=3, overrides=TINY, name="cmp", out=tmp_path / "dask",
                                  dask=cluster.scheduler_address)
    assert dask.computed == 9 and folder_bytes(dask.folder) == expected


def _start(out: Path, workers: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "sim.cli", "run", BASELINE, "--reps", "8", "--name", "resume", "--out", str(out),
               "--workers", workers, *(arg for item in TINY for arg in ("--set", item))]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _wait_for_runs(folder: Path, count: int, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = len(list(folder.glob("*.json")))
        if done >= count:
            return done
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("no progress")


def test_interrupted_experiment_resumes_without_recomputing(tmp_path, monkeypatch):
    runs = tmp_path / "resume" / "runs"
    first = _start(tmp_path, "2")
    _wait_for_runs(runs, 2, first)
    os.killpg(first.pid, signal.SIGKILL)  # the command and its workers, at once
    first.wait()
    after_kill = len(list(runs.glob("*.json")))
    assert not (tmp_path / "resume" / "runs.csv").exists()

    second = _start(tmp_path, "1")
    _wait_for_runs(runs, after_kill + 2, second)
    second.send_signal(signal.SIGTERM)  # the command alone: it stops cleanly
    _, stderr = second.communicate(timeout=60)
    assert second.returncode == 130 and "run the same command again to resume" in stderr
    on_disk = len(list(runs.glob("*.json")))
    assert on_disk >= after_kill + 2 and not list(runs.glob(".*"))

    third = _start(tmp_path, "1")
    stdout, stderr = third.communicate(timeout=120)
    assert third.returncode == 0, stderr
    computed, reused = map(int, re.search(r"(\d+) computed, (\d+) reused", stdout).groups())
    assert (computed, reused) == (8 - on_disk, on_disk) and computed > 0

    monkeypatch.chdir(ROOT)
    fresh = experiment.run([BASELINE], reps=8, overrides=TINY, name="resume",
                           out=tmp_path / "fresh", workers=1)
    resumed = tmp_path / "resume"
    for name in ("runs.csv", "summary.csv", "manifest.json"):
        assert (resumed / name).read_bytes() == (fresh.folder / name).read_bytes(), name


def test_a_failing_run_is_recorded_and_the_rest_go_on(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    real_run = sim.runs.run
    bad_seed = replication_seeds(20250626, 3)[1]

    def flaky(scenario, seed=None):
        if seed == bad_seed:
            raise RuntimeError("boom\nsecond line")
        return real_run(scenario, seed)

    monkeypatch.setattr(sim.runs, "run", flaky)
    result = experiment.run([BASELINE], reps=3, overrides=TINY, out=tmp_path, workers=1)
    failures = pd.read_csv(result.folder / "failures.csv")
    assert failures.to_dict("records") == [
        {"scenario": "baseline", "replication": 1, "seed": bad_seed, "error": "RuntimeError: boom second line"}
    ]
    assert list(result.runs["replication"]) == [0, 2] and result.summary.set_index("kpi").loc[KPI, "n"] == 2

    status = main(["run", BASELINE, "--reps", "3", "--out", str(tmp_path), "--workers", "1", "--quiet",
                   *(arg for item in TINY for arg in ("--set", item))])
    output = capsys.readouterr()
    assert status == 1 and "0 computed, 2 reused from disk, 1 failed" in output.out
    assert "1 runs failed; see" in output.err

    monkeypatch.setattr(sim.runs, "run", real_run)
    retried = experiment.run([BASELINE], reps=3, overrides=TINY, out=tmp_path, workers=1)
    assert (retried.computed, retried.reused, retried.failed) == (1, 2, 0)
    assert not (retried.folder / "failures.csv").exists()


def test_sweep_of_stamp_duty_lowers_tokenized_etf_turnover(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    rates = [0, 0.001, 0.002, 0.004, 0.008]
    result = experiment.sweep(BASELINE, [f"{RATE}={','.join(map(str, rates))}"], reps=2, overrides=SWEEP,
                              out=tmp_path, workers=2)
    assert result.folder.name == "sweep-baseline"
    runs = pd.read_csv(result.folder / "runs.csv")
    assert list(runs[RATE]) == [r for r in rates for _ in range(2)]
    assert runs["scenario"].iloc[2] == f"baseline@{RATE}=0.001"
    means = result.summary[result.summary["kpi"] == KPI].set_index(RATE)["mean"]
    assert list(means.index) == rates
    assert (np.diff(means.to_numpy()) <= 0).all() and means.iloc[-1] < means.iloc[0]


def noisy(params: dict, seed: int) -> dict[str, float]:
    """A model whose KPI is its level plus standard normal noise."""
    return {"y": params["level"] + float(np.random.default_rng(seed).normal())}


def test_until_ci_adds_batches_until_precise_enough(tmp_path):
    target = UntilCi("y", 0.05, max_reps=60, batch=3)
    result = experiment.sweep(noisy, ["level=10"], reps=2, until_ci=target, out=tmp_path, workers=1)
    reps = len(result.seeds)
    assert result.precise and 2 < reps < 60 and (reps - 2) % 3 == 0
    row = result.summary.iloc[0]
    assert row["n"] == reps and row["half_width"] <= 0.05 * row["mean"]
    earlier = experiment.sweep(noisy, ["level=10"], reps=reps - 3, out=tmp_path, workers=1)
    assert earlier.summary.iloc[0]["half_width"] > 0.05 * earlier.summary.iloc[0]["mean"]  # it needed that batch
    assert earlier.computed == 0  # every run was already on disk

    capped = experiment.sweep(noisy, ["level=10"], reps=2, until_ci="y=0.0001", out=tmp_path, workers=1)
    assert capped.precise is False and len(capped.seeds) == 100  # the default --max-reps
