"""The experiment commands on the command line: outputs, and how mistakes in their options are
reported (one line on stderr, exit status 2, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT
from waiver_scenarios import COUNTERFACTUAL, write_waiver_scenarios
from sim.cli import main

TINY = ["horizon_days=3", "investors.retail.accounts=100", "investors.institutional.accounts=20"]
SETS = [arg for item in TINY for arg in ("--set", item)]
BASELINE, WAIVER = "scenarios/baseline.yaml", "scenarios/stamp_duty_waiver.yaml"
RATE = "policy.stamp_duty.tokenized_etf.rate_per_side"
GAIN = "investors.institutional.gain_mean_bps"


def tokensim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_compare_writes_paired_differences_against_each_comparator(tmp_path):
    baseline, duty, waiver = (str(p) for p in write_waiver_scenarios(tmp_path))
    done = tokensim("compare", baseline, waiver, "--reps", "2", "--workers", "1", "--out", str(tmp_path), *SETS)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "compare-baseline-vs-stamp_duty_waiver"
    # the waiver's comparator runs too, though not named
    assert f"2 replications; runs: 6 computed, 0 reused from disk, 0 failed (of 6) -> {folder}" in done.stdout
    assert "paired ±" in done.stdout and "Welch ±" in done.stdout and "compared with" in done.stdout
    assert f"tokenized_etf_duty is a counterfactual: {COUNTERFACTUAL}\n" in done.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["comparison.csv", "manifest.json", "runs", "runs.csv", "summary.csv"]
    comparison = pd.read_csv(folder / "comparison.csv")
    assert list(comparison.columns) == ["policy", "compared_with", "kpi", "n", "comparator_mean", "policy_mean",
                                        "difference", "ci_low", "ci_high", "half_width", "welch_half_width",
                                        "relative_change"]
    duty_rows = comparison[comparison["kpi"] == "stamp_duty_hkd"].set_index("policy")
    assert list(duty_rows.index) == ["tokenized_etf_duty", "stamp_duty_waiver"]
    assert list(duty_rows["compared_with"]) == ["baseline", "tokenized_etf_duty"]
    assert duty_rows.loc["stamp_duty_waiver", "n"] == 2 and duty_rows.loc["stamp_duty_waiver", "relative_change"] == -1
    assert duty_rows.loc["tokenized_etf_duty", "comparator_mean"] == 0 < duty_rows.loc["tokenized_etf_duty", "difference"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["command"] == "compare" and manifest["baseline"] == "baseline" and manifest["reps"] == 2
    entries = manifest["scenarios"]
    assert [s["file"] for s in entries] == [baseline, duty, waiver] and entries[0]["overrides"] == TINY
    assert [(s["compared_with"], s["counterfactual"], s["named"]) for s in entries] == [
        (None, None, True), ("baseline", COUNTERFACTUAL, False), ("tokenized_etf_duty", None, True)]
    assert len(manifest["seeds"]) == 2 and manifest["base_seed"] == 20250626 and manifest["until_ci"] is None


def test_sweep_latin_hypercube_records_the_values_as_columns(tmp_path):
    done = tokensim("sweep", BASELINE, "--param", f"{RATE}=0:0.004", "--param", f"{GAIN}=10:20", "--design", "lhs",
                    "--samples", "3", "--reps", "1", "--workers", "1", "--name", "lhs", "--out", str(tmp_path), *SETS)
    assert done.returncode == 0, done.stderr
    runs = pd.read_csv(tmp_path / "lhs" / "runs.csv")
    assert list(runs.columns[:5]) == ["scenario", "replication", "seed", RATE, GAIN] and len(runs) == 3
    assert sorted((runs[RATE] // (0.004 / 3)).astype(int)) == [0, 1, 2]  # one point per stratum
    assert runs["scenario"][0] == f"baseline@{RATE}={float(runs[RATE][0])!r},{GAIN}={float(runs[GAIN][0])!r}"
    assert runs["seed"].nunique() == 1  # every point sees the same seed
    manifest = json.loads((tmp_path / "lhs" / "manifest.json").read_text())
    assert manifest["design"] == "lhs" and manifest["samples"] == 3 and manifest["params"] == [f"{RATE}=0:0.004", f"{GAIN}=10:20"]


def test_sensitivity_of_a_scenario(tmp_path):
    pytest.importorskip("SALib")
    done = tokensim("sensitivity", BASELINE, "--param", f"{RATE}=0:0.004", "--param", "investors.retail.accounts=200:400",
                    "--method", "morris", "--samples", "2", "--workers", "1", "--out", str(tmp_path), *SETS)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "sensitivity-baseline-morris"
    indices = pd.read_csv(folder / "sensitivity.csv")
    assert list(indices.columns) == ["kpi", "parameter", "mu", "mu_star", "mu_star_conf", "sigma"]
    duty = indices[indices["kpi"] == "stamp_duty_hkd"].set_index("parameter")["mu_star"]
    assert duty[RATE] > 0
    accounts = pd.read_csv(folder / "runs.csv")["investors.retail.accounts"]
    assert accounts.dtype == "int64" and set(accounts) <= {200, 267, 333, 400}  # whole numbers for a count


def test_a_user_error_through_a_subprocess(tmp_path):
    done = tokensim("sweep", BASELINE, "--param", f"{RATE}x=0,0.1", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and done.stdout == "" and not (tmp_path / "out").exists()
    assert done.stderr == f"error: --param: {RATE}x: unknown key 'rate_per_sidex' (did you mean 'rate_per_side'?).\n"


USER_ERRORS = {
    "unknown key": (["sweep", BASELINE, "--param", f"{RATE}x=0,0.1"], f"--param: {RATE}x: unknown key 'rate_per_sidex'"),
    "bad value": (["sweep", BASELINE, "--param", f"{RATE}=-0.1,0"], f"--param: {RATE} = -0.1: must be >= 0"),
    "empty range": (["sweep", BASELINE, "--param", f"{RATE}=1:1:3"], "empty range"),
    "no param": (["sweep", BASELINE], "nothing to sweep: give --param"),
    "samples on a grid": (["sweep", BASELINE, "--param", f"{RATE}=0:1:3", "--samples", "4"], "--samples goes with --design lhs"),
    "lhs of a list": (["sweep", BASELINE, "--param", f"{RATE}=0,1", "--design", "lhs", "--samples", "4"], "give KEY=LO:HI"),
    "same scenario twice": (["compare", BASELINE, BASELINE], "two scenarios share this name"),
    "no replications": (["compare", BASELINE, WAIVER, "--reps", "0"], "--reps: 0: must be at least 1"),
    "unknown KPI": (["compare", BASELINE, WAIVER, "--until-ci", "tokenized_shar=0.1"], "did you mean 'tokenized_share'"),
    "bad precision": (["compare", BASELINE, WAIVER, "--until-ci", "tokenized_share=-1"], "REL > 0"),
    "max below reps": (["compare", BASELINE, WAIVER, "--until-ci", "trades=0.1", "--reps", "9", "--max-reps", "5"],
                       "--max-reps: 5: must be at least --reps"),
    "zero batch": (["compare", BASELINE, WAIVER, "--until-ci", "trades=0.1", "--batch", "0"], "--batch: 0: must be at least 1"),
    "run with zero replications": (["run", BASELINE, "--reps", "0"], "--reps: 0: must be at least 1"),
    "batch without until-ci": (["compare", BASELINE, WAIVER, "--batch", "5"], "--batch: applies only with --until-ci"),
    "workers and dask": (["compare", BASELINE, WAIVER, "--workers", "2", "--dask", "tcp://127.0.0.1:1"], "not both"),
    "zero workers": (["compare", BASELINE, WAIVER, "--workers", "0"], "--workers: 0: must be at least 1"),
    "bad name": (["compare", BASELINE, WAIVER, "--name", "../elsewhere"], "--name: \"../elsewhere\": must be a plain folder"),
    "run options need reps": (["run", BASELINE, "--name", "x"], "--name: applies to replications"),
    "sobol samples": (["sensitivity", BASELINE, "--param", f"{RATE}=0:0.01", "--samples", "6"], "power of two"),
    "sensitivity of a list": (["sensitivity", BASELINE, "--param", f"{RATE}=0,0.01"], "give KEY=LO:HI"),
}


@pytest.mark.parametrize("args, message", USER_ERRORS.values(), ids=USER_ERRORS.keys())
def test_user_errors_are_one_line_and_write_nothing(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    status = main([*args, "--out", str(tmp_path / "out"), *SETS])
    output = capsys.readouterr()
    assert status == 2 and output.out == ""
    assert output.err.startswith("error: ") and output.err.count("\n") == 1 and message in output.err, output.err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["compare", "sweep", "sensitivity"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0 and "--reps" in capsys.readouterr().out
