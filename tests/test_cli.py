"""The command line through a subprocess: outputs, determinism, and how user mistakes are reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import QUICK, ROOT
from sim.cli import parser
from sim.scenario import render_reference

SETS = [arg for item in QUICK for arg in ("--set", item)]


def tokensim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_run_writes_a_complete_folder_and_is_byte_identical_whatever_the_workers(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for out, workers in ((first, "1"), (second, "2")):
        done = tokensim("run", "scenarios/stamp_duty_waiver.yaml", "scenarios/retail_access.yaml", "--seed", "3",
                        "--workers", workers, "--out", str(out), *SETS)
        assert done.returncode == 0, done.stderr
    folder = first / "stamp_duty_waiver"
    assert str(folder) in done.stdout.replace(str(second), str(first))
    for scenario in ("stamp_duty_waiver", "retail_access"):
        for name in ("trades.csv", "daily.csv", "settlement.csv", "payments.csv", "kpis.csv"):
            assert (first / scenario / name).read_bytes() == (second / scenario / name).read_bytes(), name
    for figure in ("turnover.png", "spread.png"):
        assert (folder / "figures" / figure).stat().st_size > 10_000
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["scenario"] == "stamp_duty_waiver"
    assert manifest["resolved_scenario"]["policy"]["stamp_duty"]["tokenized_etf"]["rate_per_side"] == 0.0
    assert manifest["scenario_files"] == ["scenarios/stamp_duty_waiver.yaml", "scenarios/baseline.yaml"]
    assert manifest["overrides"] == QUICK
    assert len(manifest["scenario_hash"]) == 64
    assert not [p for p in first.iterdir() if p.name.startswith(".")], "temporary folder left behind"


def test_run_scenarios_script_runs_a_folder(tmp_path):
    done = subprocess.run(
        [sys.executable, "run_scenarios.py", "run", "scenarios", "--out", str(tmp_path), *SETS],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert {p.name for p in tmp_path.iterdir()} == {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
    assert "tokenized_share" in done.stdout  # the side-by-side KPI table


def test_validate_show_and_help(capsys):
    done = tokensim("validate", "scenarios")
    assert done.returncode == 0 and "stamp_duty_waiver.yaml: ok" in done.stdout
    shown = tokensim("show", "scenarios/stamp_duty_waiver.yaml", "--set", "horizon_days=9")
    assert shown.returncode == 0 and "horizon_days: 9" in shown.stdout and "extends" not in shown.stdout
    assert "usage:" in tokensim("--help").stdout
    for command in ("run", "validate", "show", "reference", "compare", "sweep", "report", "validate-model"):
        with pytest.raises(SystemExit) as done:  # in-process: a subprocess per command costs seconds of imports
            parser().parse_args([command, "--help"])
        assert done.value.code == 0
        assert "usage:" in capsys.readouterr().out


def test_what_show_prints_loads_back_to_the_same_scenario_for_every_shipped_file(tmp_path):
    """`show` resolves inheritance and defaults; its output, put where the file was (its relative
    paths such as `measured_against` stay relative), must load to the very scenario it shows."""
    import shutil

    import yaml

    from sim.scenario import load_scenario

    copy = tmp_path / "scenarios"
    shutil.copytree(ROOT / "scenarios", copy)
    files = sorted(copy.glob("*.yaml")) + sorted((copy / "scale").glob("*.yaml"))
    for path in files:
        scenario = load_scenario(path)
        shown = path.with_name(f"shown_{path.name}")
        shown.write_text(yaml.safe_dump(scenario.document(), sort_keys=False), encoding="utf-8")
        assert load_scenario(shown).model_dump(mode="json") == scenario.model_dump(mode="json"), path.name
    done = tokensim("show", str(copy / "baseline.yaml"))
    assert done.returncode == 0 and yaml.safe_load(done.stdout) == load_scenario(copy / "baseline.yaml").document()


def test_reference_doc_is_up_to_date():
    committed = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    assert committed == render_reference(), "regenerate: tokensim reference > docs/scenario-reference.md"


BAD_SCENARIOS = {
    "misspelt key": ("name: bad\nextends: baseline.yaml\npolcy: {}\n", "polcy", "did you mean 'policy'"),
    "negative rate": (
        "name: bad\nextends: baseline.yaml\npolicy: {stamp_duty: {tokenized_etf: {rate_per_side: -0.1}}}\n",
        "policy.stamp_duty.tokenized_etf.rate_per_side = -0.1", "must be >= 0",
    ),
    "wrong type": ("name: bad\nextends: baseline.yaml\nhorizon_days: ten\n", 'horizon_days = "ten"', "integer"),
    "missing extends": ("name: bad\nextends: nowhere.yaml\n", "extends", "nowhere.yaml"),
    "extends cycle": ("name: bad\nextends: bad.yaml\n", "cycle", "scenarios/bad.yaml -> scenarios/bad.yaml"),
    "malformed yaml": ("name: bad\nvenues: [unclosed\n", "line", "bad.yaml"),
}


@pytest.mark.parametrize("text, where, why", BAD_SCENARIOS.values(), ids=BAD_SCENARIOS.keys())
def test_user_mistakes_give_a_short_error_and_write_nothing(tmp_path, text, where, why):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "baseline.yaml").write_bytes((ROOT / "scenarios" / "baseline.yaml").read_bytes())
    (folder / "bad.yaml").write_text(text)
    out = tmp_path / "outputs"
    done = tokensim("run", "scenarios/baseline.yaml", "scenarios/bad.yaml", "--out", "outputs", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "bad.yaml" in done.stderr and where in done.stderr and why in done.stderr
    assert not out.exists(), "a failed command must not write outputs (not even the valid scenario)"


def test_bad_override_is_a_user_error(tmp_path):
    done = tokensim("run", "scenarios/baseline.yaml", "--set", "venues.platform.fess.trading_fee_bps=1", "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "did you mean 'fees'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()


def test_missing_file_and_empty_folder_are_user_errors(tmp_path):
    assert tokensim("validate", str(tmp_path / "nope.yaml")).returncode == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    done = tokensim("run", str(empty))
    assert done.returncode == 2 and "no .yaml scenario files" in done.stderr


def test_leap_package_runs_and_writes_its_issuance_table(tmp_path):
    done = tokensim("run", "scenarios/leap_package.yaml", "--out", str(tmp_path), *SETS, "--set", "horizon_days=30")
    assert done.returncode == 0, done.stderr
    issuance = (tmp_path / "leap_package" / "issuance.csv").read_text().splitlines()
    assert issuance[0].startswith("kind,name,programme,issuer,issuer_kind,form") and any(row.startswith("bond issue,") for row in issuance)


def test_sweep_uses_the_plan_in_the_scenario_file(tmp_path):
    done = tokensim("sweep", "scenarios/settlement_cycles.yaml", "--reps", "1", "--workers", "1", "--quiet",
                    "--out", str(tmp_path), *SETS, "--set", "horizon_days=3")
    assert done.returncode == 0, done.stderr
    runs = (tmp_path / "sweep-settlement_cycles" / "runs.csv").read_text().splitlines()
    assert runs[0].split(",")[:4] == ["scenario", "replication", "seed", "venues.exchange.settlement_cycle_days"]
    assert sorted(line.split(",")[3] for line in runs[1:]) == ["0", "1", "2"]
    no_plan = tokensim("sweep", "scenarios/baseline.yaml", "--out", str(tmp_path / "x"))
    assert no_plan.returncode == 2 and "nothing to sweep" in no_plan.stderr
