"""Calibration: fitting the investors' gain means to a target volume elasticity, and the `calibrate` command."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest
import yaml

from sim.scenario import ScenarioError, load_scenario
from sim.validation.calibrate_command import add_parser
from sim.validation.calibration import fit_gain_scale
from sim.validation.runs import ModelRuns
from tests.conftest import SCENARIOS

BASELINE = SCENARIOS / "baseline.yaml"


@pytest.fixture(scope="module")
def runs() -> ModelRuns:
    return ModelRuns.of(BASELINE, ["horizon_days=6"], 1, 11)


def command(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_calibration_moves_the_elasticity_towards_the_target(runs):
    fit = fit_gain_scale(runs, target=-1.0, max_evaluations=3)
    before, after = fit.evaluations[0].elasticity, fit.best.elasticity
    assert abs(after + 1.0) < abs(before + 1.0)
    fitted = load_scenario(BASELINE, fit.overrides())
    before_fit = load_scenario(BASELINE).investors["retail"].gain_mean_bps
    assert fitted.investors["retail"].gain_mean_bps == pytest.approx(before_fit * fit.best.scale, rel=1e-3)


def test_calibrate_prints_overrides_and_writes_a_yaml_snippet(tmp_path, capsys):
    out = tmp_path / "calibration"
    assert command("calibrate", str(BASELINE), "--quick", "--seed", "11", "--max-evaluations", "1", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    snippet = yaml.safe_load((out / "calibration.yaml").read_text())
    gains = snippet["investors"]
    assert f"--set investors.retail.gain_mean_bps={gains['retail']['gain_mean_bps']:g}" in printed
    assert len(pd.read_csv(out / "calibration.csv")) == 1


@pytest.mark.parametrize("argv", [
    ("calibrate", str(BASELINE), "--quick", "--target", "0.5"),
    ("calibrate", str(BASELINE), "--quick", "--max-evaluations", "0"),
])
def test_calibration_mistakes_are_scenario_errors(argv, tmp_path):
    with pytest.raises(ScenarioError):
        command(*argv, "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
