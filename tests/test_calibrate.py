"""Calibration: fitting the investors' gain means to a target volume elasticity, fitting a spec's keys to several
published figures at once, and the `calibrate` command in both forms."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.experiment.seeds import replication_seeds
from sim.runs import run
from sim.scenario import ScenarioError, load_scenario
from sim.validation.calibrate_command import add_parser
from sim.validation.calibration import fit_gain_scale
from sim.validation.calibration_spec import Target, load_spec
from sim.validation.elasticity import measure_elasticity
from sim.validation.fit_objective import MISSED_ERROR, objective as objective_of, relative_error
from sim.validation.fit_targets import OptimiserMissing, fit_targets
from sim.validation.fitted_scenario import default_fitted_path, extends_path
from sim.validation.runs import ModelRuns
from tests.conftest import ROOT, SCENARIOS

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


# --- several targets at once: `tokensim calibrate --spec` -----------------------------------------

SPEC_RUNS = ["investors.retail.accounts=500", "investors.institutional.accounts=40"]  # as conftest's QUICK
SPEC_HORIZON = 2
SPEC_SEED = 11


def write_spec(folder: Path, parameters: dict, targets: list, **settings) -> Path:
    """A spec in `folder/calibration/` fitting a copy of the baseline in `folder/scenarios/`."""
    (folder / "scenarios").mkdir(exist_ok=True)
    shutil.copy(BASELINE, folder / "scenarios" / "baseline.yaml")
    (folder / "calibration").mkdir(exist_ok=True)
    spec = {"scenario": "../scenarios/baseline.yaml", "horizon_days": SPEC_HORIZON, "seeds": 1, "seed": SPEC_SEED,
            "overrides": SPEC_RUNS, "parameters": parameters, "targets": targets, **settings}
    path = folder / "calibration" / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def kpis_at(*overrides: str) -> dict[str, float]:
    """The KPIs of one quick baseline run with these overrides, on the spec's seed."""
    scenario = load_scenario(BASELINE, [f"horizon_days={SPEC_HORIZON}", *SPEC_RUNS, *overrides])
    return run(scenario, replication_seeds(SPEC_SEED, 1)[0]).kpis


def test_the_optimiser_recovers_a_known_gain_mean_from_the_trade_count(tmp_path):
    truth = 70.0
    target = kpis_at(f"investors.retail.gain_mean_bps={truth}")["trades"]
    spec = load_spec(write_spec(
        tmp_path, {"investors.retail.gain_mean_bps": {"low": 10, "high": 200, "scale": "log", "start": 25}},
        [{"kpi": "trades", "value": target, "source": "a run at gain mean 70 bp"}], tolerance=0.005))
    fit = fit_targets(spec)
    assert fit.start.values == (25.0,)
    assert fit.best.values[0] == pytest.approx(truth, rel=0.05)
    assert abs(fit.best.errors[0]) < 0.005 < abs(fit.start.errors[0])
    assert len(fit.history) <= spec.max_evaluations


def test_two_parameters_are_fitted_to_two_targets_at_once(tmp_path):
    truth = {"investors.retail.gain_mean_bps": 25.0, "investors.retail.needs_per_day": 1200.0}
    kpis = kpis_at(*(f"{key}={value}" for key, value in truth.items()))
    path = write_spec(tmp_path, {
        "investors.retail.gain_mean_bps": {"low": 10, "high": 200, "scale": "log"},  # starts at the baseline's 40
        "investors.retail.needs_per_day": {"low": 500, "high": 3000, "scale": "log"},  # and 1500
    }, [
        {"kpi": "needs", "value": kpis["needs"], "source": "a run at the true values"},
        {"kpi": "needs_traded_share", "value": kpis["needs_traded_share"], "source": "a run at the true values"},
    ], tolerance=0.01, good_enough=1e-4)
    fit = fit_targets(load_spec(path))
    fitted = fit.fitted_values()
    for key, value in truth.items():
        assert fitted[key] == pytest.approx(value, rel=0.05), key
    assert fit.stopped_by == "good enough" and fit.best.objective <= 1e-4 < fit.start.objective


def test_the_fitted_scenario_extends_the_input_and_reproduces_the_fitted_kpis(tmp_path, capsys):
    path = write_spec(tmp_path, {"investors.retail.gain_mean_bps": {"low": 10, "high": 200, "scale": "log"}},
                      [{"kpi": "turnover_hkd_hk_tracker_conventional", "value": 3.0e8, "source": "illustrative"},
                       {"kpi": "turnover_hkd_hk_tracker_conventional", "per": "trades", "value": 1.2e5,
                        "source": "illustrative: a trade size", "weight": 0.5}], max_evaluations=6)
    out = tmp_path / "out"
    assert command("calibrate", "--spec", str(path), "--out", str(out)) == 0
    fitted_file = tmp_path / "calibration" / "spec.fitted.yaml"
    written = yaml.safe_load(fitted_file.read_text())
    assert written["extends"] == "../scenarios/baseline.yaml"
    table = pd.read_csv(out / "targets.csv")
    fitted_gain = float(pd.read_csv(out / "parameters.csv")["fitted"][0])
    assert written["investors"]["retail"]["gain_mean_bps"] == fitted_gain != 40.0
    assert f"--set investors.retail.gain_mean_bps={fitted_gain!r}" in capsys.readouterr().out
    assert len(pd.read_csv(out / "history.csv")) == 6
    scenario = load_scenario(fitted_file, [f"horizon_days={SPEC_HORIZON}", *SPEC_RUNS])
    kpis = run(scenario, replication_seeds(SPEC_SEED, 1)[0]).kpis
    assert kpis["turnover_hkd_hk_tracker_conventional"] == table["model_fitted"][0]
    assert kpis["turnover_hkd_hk_tracker_conventional"] / kpis["trades"] == table["model_fitted"][1]


def test_the_search_stops_at_the_evaluation_cap_and_keeps_the_best(tmp_path):
    path = write_spec(tmp_path, {"investors.retail.gain_mean_bps": {"low": 10, "high": 200, "scale": "log"}},
                      [{"kpi": "trades", "value": 2500, "source": "illustrative"}], max_evaluations=3)
    fit = fit_targets(load_spec(path))
    assert fit.stopped_by == "evaluation cap" and len(fit.history) == 3
    assert fit.best == min(fit.history, key=lambda e: e.objective)


def test_a_wildcard_fits_each_investor_group_and_the_elasticity_is_a_target(tmp_path):
    path = write_spec(tmp_path, {"investors.*.gain_mean_bps": {"low": 5, "high": 200, "scale": "log"}},
                      [{"kpi": "volume_elasticity", "value": -1.0, "source": "Baltagi, Li & Li 2006"}],
                      max_evaluations=1)
    spec = load_spec(path)
    assert [p.key for p in spec.parameters] == ["investors.retail.gain_mean_bps", "investors.institutional.gain_mean_bps"]
    assert [p.start for p in spec.parameters] == [40.0, 24.0]
    fit = fit_targets(spec)
    elasticity = measure_elasticity(ModelRuns.of(spec.scenario_path, spec.overrides, 1, SPEC_SEED)).slope
    assert fit.start.model == (elasticity,)
    assert fit.start.objective == pytest.approx((elasticity + 1.0) ** 2)


def test_a_factor_moves_every_match_together_and_keeps_their_ratio(tmp_path):
    path = write_spec(tmp_path, {"investors.*.gain_mean_bps": {"low": 0.2, "high": 5, "scale": "log", "together": True}},
                      [{"kpi": "trades", "value": 2500, "source": "illustrative"}], max_evaluations=4)
    spec = load_spec(path)
    (factor,) = spec.parameters
    assert factor.fitted_keys == ("investors.retail.gain_mean_bps", "investors.institutional.gain_mean_bps")
    assert factor.bases == (40.0, 24.0) and factor.start == 1.0 and factor.label == "investors.*.gain_mean_bps (factor)"
    fit = fit_targets(spec)
    best = fit.best.values[0]
    fitted = fit.fitted_values()
    assert fitted == {"investors.retail.gain_mean_bps": float(f"{40 * best:.6g}"),
                      "investors.institutional.gain_mean_bps": float(f"{24 * best:.6g}")}
    assert fit.parameter_values() == {"investors.*.gain_mean_bps": best}
    # every evaluation ran both groups at the factor's products: the best one reproduces at the fitted keys
    kpis = run(load_scenario(spec.scenario_path, [*spec.overrides, *fit.overrides()]), replication_seeds(SPEC_SEED, 1)[0]).kpis
    assert kpis["trades"] == fit.best.model[0]


def test_errors_are_relative_and_a_zero_target_needs_its_own_scale(tmp_path):
    target = Target("trades", 2000.0, "s", 2.0, None, 2000.0)
    assert relative_error(target, 2200.0) == pytest.approx(0.1)
    assert objective_of((target,), (0.1,)) == pytest.approx(0.02)
    assert relative_error(target, float("nan")) == MISSED_ERROR
    path = write_spec(tmp_path, {"investors.retail.gain_mean_bps": {"low": 10, "high": 200}},
                      [{"kpi": "settlement_fails", "value": 0, "source": "none published", "error_scale": 5}])
    assert load_spec(path).targets[0].error_scale == 5


BAD_SPECS = {
    "unknown key": ({"investors.retail.gain_mean_bp": {"low": 10, "high": 200}}, None, "parameters.investors.retail.gain_mean_bp"),
    "integer key": ({"investors.retail.accounts": {"low": 10, "high": 200}}, None, "parameters.investors.retail.accounts"),
    "low above high": ({"investors.retail.gain_mean_bps": {"low": 200, "high": 10}}, None, "parameters.investors.retail.gain_mean_bps"),
    "bound the scenario refuses": ({"investors.retail.gain_mean_bps": {"low": -5, "high": 100}}, None,
                                   "parameters.investors.retail.gain_mean_bps.low"),
    "start outside": ({"investors.retail.gain_mean_bps": {"low": 50, "high": 100}}, None, "parameters.investors.retail.gain_mean_bps"),
    "unknown KPI": (None, [{"kpi": "turnover_hkd_hk_trackr_conventional", "value": 1, "source": "s"}], "targets[0].kpi"),
    "zero weight": (None, [{"kpi": "trades", "value": 1, "source": "s", "weight": 0}], "targets[0].weight"),
    "zero target": (None, [{"kpi": "trades", "value": 0, "source": "s"}], "targets[0].error_scale"),
    "no source": (None, [{"kpi": "trades", "value": 1}], "targets[0].source"),
    "number as text": (None, [{"kpi": "trades", "value": "1.5e10", "source": "s"}], "targets[0].value"),
    "factor without a wildcard": ({"investors.retail.gain_mean_bps": {"low": 0.5, "high": 2, "together": True}}, None,
                                  "parameters.investors.retail.gain_mean_bps.together"),
    "factor at zero": ({"investors.*.gain_mean_bps": {"low": 0, "high": 2, "together": True}}, None,
                       "parameters.investors.*.gain_mean_bps.low"),
    "key in a factor fitted again": ({"investors.*.gain_mean_bps": {"low": 0.5, "high": 2, "together": True},
                                      "investors.retail.gain_mean_bps": {"low": 10, "high": 200}}, None,
                                     "parameters.investors.retail.gain_mean_bps"),
}


@pytest.mark.parametrize("case", list(BAD_SPECS))
def test_a_bad_spec_is_a_scenario_error_naming_the_spec_and_key_and_writes_nothing(case, tmp_path):
    parameters, targets, key = BAD_SPECS[case]
    path = write_spec(tmp_path, parameters or {"investors.retail.gain_mean_bps": {"low": 10, "high": 200}},
                      targets or [{"kpi": "trades", "value": 2500, "source": "s"}])
    with pytest.raises(ScenarioError) as raised:
        command("calibrate", "--spec", str(path), "--out", str(tmp_path / "out"))
    assert raised.value.source == str(path) and raised.value.key_path == key
    assert not (tmp_path / "out").exists() and not (tmp_path / "calibration" / "spec.fitted.yaml").exists()


def test_a_missing_scenario_or_spec_file_and_an_unreachable_fitted_place_are_scenario_errors(tmp_path):
    path = write_spec(tmp_path, {"investors.retail.gain_mean_bps": {"low": 10, "high": 200}},
                      [{"kpi": "trades", "value": 2500, "source": "s"}])
    (tmp_path / "scenarios" / "baseline.yaml").unlink()
    with pytest.raises(ScenarioError, match="file not found") as raised:
        command("calibrate", "--spec", str(path), "--out", str(tmp_path / "out"))
    assert raised.value.key_path == "scenario"
    with pytest.raises(ScenarioError, match="not found"):
        command("calibrate", "--spec", str(tmp_path / "nowhere.yaml"), "--out", str(tmp_path / "out"))
    path = write_spec(tmp_path, {"investors.retail.gain_mean_bps": {"low": 10, "high": 200}},
                      [{"kpi": "trades", "value": 2500, "source": "s"}])
    far = tmp_path / "a" / "b" / "fitted.yaml"
    with pytest.raises(ScenarioError, match="at most one folder up"):
        command("calibrate", "--spec", str(path), "--fitted", str(far), "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists() and not far.parent.exists()


def test_without_scipy_the_fit_says_how_to_install_it(tmp_path, monkeypatch):
    path = write_spec(tmp_path, {"investors.retail.gain_mean_bps": {"low": 10, "high": 200}},
                      [{"kpi": "trades", "value": 2500, "source": "s"}])
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(OptimiserMissing, match=r'pip install -e "\.\[calibration\]"'):
        command("calibrate", "--spec", str(path), "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_single_target_options_are_refused_with_a_spec(tmp_path):
    path = write_spec(tmp_path, {"investors.retail.gain_mean_bps": {"low": 10, "high": 200}},
                      [{"kpi": "trades", "value": 2500, "source": "s"}])
    with pytest.raises(ScenarioError, match="--target"):
        command("calibrate", "--spec", str(path), "--target", "-1", "--out", str(tmp_path / "out"))


@pytest.mark.parametrize("spec_file", sorted(p for p in (ROOT / "calibration").glob("*.yaml")
                                             if not p.name.endswith(".fitted.yaml")), ids=lambda p: p.name)
def test_every_shipped_spec_validates_and_its_fitted_scenario_can_extend_its_scenario(spec_file):
    spec = load_spec(spec_file)
    assert spec.parameters and spec.targets and all(t.source for t in spec.targets)
    assert extends_path(default_fitted_path(spec.path), spec.scenario_path) == spec.scenario_text
