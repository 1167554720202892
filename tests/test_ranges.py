"""Structural ranges: assumption files are checked before anything runs, every set is refitted to the same
published figures and run on the same seeds, the combined table's ranges and verdicts are right, and the
report shows each headline's range beside its seed interval."""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.ranges.assumption_sets import CENTRAL, load_assumption_sets
from sim.ranges.runner import SetOutcome, run_ranges, set_spec
from sim.ranges.tables import DEPENDS, NO_EFFECT, NOT_CLEAR, ROBUST, ranges_table, verdict
from sim.report.document import build_report
from sim.report.inputs import load_inputs
from sim.scenario import ScenarioError
from sim.validation.fit_targets import fit_targets
from tests.conftest import ROOT, SCENARIOS

QUICK = ["investors.retail.accounts=500", "investors.institutional.accounts=40"]
HORIZON = ["horizon_days=3"]


def project(folder: Path, sets: dict, calibration: dict | None = None) -> tuple[Path, Path, Path]:
    """A baseline and the waiver (with its comparator) in `folder/scenarios/`, an assumption file in
    `folder/assumptions/`, and, if given, a calibration spec of the baseline in `folder/calibration/`."""
    (folder / "scenarios").mkdir()
    for name in ("baseline", "stamp_duty_waiver", "tokenized_etf_duty"):
        shutil.copy(SCENARIOS / f"{name}.yaml", folder / "scenarios" / f"{name}.yaml")
    data: dict = {"sets": sets}
    if calibration is not None:
        (folder / "calibration").mkdir()
        spec = {"scenario": "../scenarios/baseline.yaml", "horizon_days": 2, "seeds": 1, "seed": 11,
                "overrides": QUICK, **calibration}
        (folder / "calibration" / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        data = {"calibration": "../calibration/spec.yaml", **data}
    (folder / "assumptions").mkdir()
    path = folder / "assumptions" / "sets.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return folder / "scenarios" / "baseline.yaml", folder / "scenarios" / "stamp_duty_waiver.yaml", path


FEE_HIGH = {"platform_fee_high": {"description": "a dear platform", "set": {"venues.platform.fees.trading_fee_bps": 20.0}}}
SPREAD_SPEC = {
    "max_evaluations": 12, "good_enough": 1.0e-4,
    "parameters": {"venues.platform.listings.green_bond.market_maker.base_half_spread_bps": {"low": 1, "high": 15}},
    "targets": [{"kpi": "spread_bps_green_bond_platform", "value": 19.0, "source": "BIS Bulletin 107"}],
}


# --- the assumption file -----------------------------------------------------------------------

@pytest.mark.parametrize("sets, calibration, key, words", [
    ({"central": {"description": "x", "set": {"horizon_days": 4}}}, None, "sets.central", "always run"),
    ({"Fast": {"description": "x", "set": {"horizon_days": 4}}}, None, "sets.Fast", "lower case"),
    ({"empty": {"description": "x"}}, None, "sets.empty", "at least one key"),
    ({"typo": {"description": "x", "set": {"venues.platform.fees.trading_fee_bsp": 3.0}}}, None,
     "sets.typo.set.venues.platform.fees.trading_fee_bsp", "not accepted"),
    ({"neg": {"description": "x", "set": {"venues.platform.fees.trading_fee_bps": -3.0}}}, None,
     "sets.neg.set.venues.platform.fees.trading_fee_bps", "not accepted"),
    ({"moved": {"description": "x", "targets": {"volume_elasticity": -1.65}}}, None, "sets.moved.targets",
     "names no `calibration`"),
    ({"fixes": {"description": "x", "set": {
        "venues.platform.listings.green_bond.market_maker.base_half_spread_bps": 2.0}}}, SPREAD_SPEC,
     "sets.fixes.set.venues.platform.listings.green_bond.market_maker.base_half_spread_bps", "calibration fits"),
    ({"moved": {"description": "x", "targets": {"trades": 5.0}}}, SPREAD_SPEC, "sets.moved.targets.trades",
     "not a target"),
    ({"wordless": {"set": {"horizon_days": 4}}}, None, "sets.wordless.description", ""),
])
def test_a_bad_assumption_file_is_a_scenario_error_naming_the_file_and_key(tmp_path, sets, calibration, key, words):
    baseline, waiver, path = project(tmp_path, sets, calibration)
    with pytest.raises(ScenarioError) as caught:
        load_assumption_sets(path, [baseline, waiver], tuple(QUICK))
    issue = caught.value.issues[0]
    assert issue.source == str(path) and issue.key_path == key and words in issue.message


def test_a_valid_file_puts_the_central_set_first_and_gives_each_set_its_overrides(tmp_path):
    baseline, waiver, path = project(tmp_path, {"x": {"description": "x", "set": {
        "horizon_days": 4, "investors.retail.active_hours": [9.0, 17.0]}}})
    sets = load_assumption_sets(path, [baseline, waiver], tuple(QUICK))
    assert [s.name for s in sets.sets] == [CENTRAL, "x"] and sets.sets[0].overrides == ()
    assert sets.named("x").overrides == ("horizon_days=4", "investors.retail.active_hours=[9.0, 17.0]")


def test_a_set_key_must_load_in_every_scenario_that_runs(tmp_path):
    baseline, waiver, path = project(tmp_path, {"x": {"description": "x", "set": {
        "policy.stamp_duty.tokenized_etf.rate_per_side": 0.002}}})
    load_assumption_sets(path, [baseline, waiver], tuple(QUICK))  # fine where the key is valid
    with pytest.raises(ScenarioError) as caught:
        load_assumption_sets(path, [baseline, tmp_path / "scenarios" / "missing.yaml"], tuple(QUICK))
    assert "missing.yaml" in caught.value.issues[0].message


def test_the_command_refuses_a_bad_file_before_anything_runs(tmp_path, capsys):
    baseline, waiver, path = project(tmp_path, {"typo": {"description": "x", "set": {"venues.nowhere.fees": 1}}})
    status = main(["ranges", str(baseline), str(waiver), "--assumptions", str(path), "--out", str(tmp_path / "out")])
    assert status == 2 and "sets.typo.set.venues.nowhere.fees" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- the combined table --------------------------------------------------------------------------

@pytest.mark.parametrize("central, directions, expected", [
    (1, [1, 1, 1], ROBUST), (-1, [-1, -1], ROBUST), (1, [1, -1, 0], DEPENDS), (1, [1, 0, 1], NOT_CLEAR),
    (0, [0, 1, 1], NOT_CLEAR), (0, [0, 0], NO_EFFECT),
])
def test_the_verdict_on_direction(central, directions, expected):
    assert verdict(central, directions) == expected


def _comparison(difference: float, half_width: float, kpi: str = "stamp_duty_hkd") -> pd.DataFrame:
    return pd.DataFrame([{"policy": "waiver", "compared_with": "duty", "kpi": kpi, "comparator_mean": 100.0,
                          "difference": difference, "ci_low": difference - half_width,
                          "ci_high": difference + half_width}])


def _outcome(name: str, comparison: pd.DataFrame) -> SetOutcome:
    from sim.ranges.assumption_sets import AssumptionSet

    return SetOutcome(AssumptionSet(name, name, (), ()), None, (), comparison, Path(name), 0)


def test_the_range_spans_every_set_and_names_the_sets_at_its_ends():
    table = ranges_table([_outcome("central", _comparison(-10, 2)), _outcome("elastic", _comparison(-25, 3)),
                          _outcome("fee_high", _comparison(-1, 4))])
    row = table.iloc[0]
    assert (row["difference"], row["ci_low"], row["ci_high"]) == (-10, -12, -8)
    assert (row["range_low"], row["set_at_low"], row["range_high"], row["set_at_high"]) == (-25, "elastic", -1, "fee_high")
    assert row["verdict"] == NOT_CLEAR and row["sets"] == 3 and row["difference[elastic]"] == -25
    flipped = ranges_table([_outcome("central", _comparison(-10, 2)), _outcome("other", _comparison(6, 1))])
    assert flipped.iloc[0]["verdict"] == DEPENDS


def test_a_kpi_a_set_lacks_is_left_out_of_its_range():
    table = ranges_table([_outcome("central", _comparison(-10, 2)),
                          _outcome("other", _comparison(5, 1, kpi="trades"))])
    row = table.iloc[0]
    assert row["sets"] == 1 and math.isnan(row["difference[other]"]) and row["verdict"] == ROBUST


# --- end to end ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def refitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ranges")
    baseline, waiver, path = project(folder, {**FEE_HIGH, "tight": {
        "description": "a tighter published spread", "targets": {"spread_bps_green_bond_platform": 12.0}}}, SPREAD_SPEC)
    sets = load_assumption_sets(path, [baseline, waiver], tuple(QUICK))
    result = run_ranges(sets, baseline, [waiver], reps=2, folder=folder / "out", overrides=QUICK,
                        run_overrides=HORIZON, workers=1, quiet=True)
    return folder, result


def test_every_set_is_refitted_from_the_central_fit_and_run_on_the_same_seeds(refitted):
    folder, result = refitted
    assert [o.assumptions.name for o in result.outcomes] == ["central", "platform_fee_high", "tight"]
    central, fee, tight = result.outcomes
    key = "venues.platform.listings.green_bond.market_maker.base_half_spread_bps"
    assert fee.fit.start.values == central.fit.best.values  # warm start from the central fit
    # each set stops once it fits as well as the central fit did: no set is fitted closer than the central
    assert fee.fit.spec.good_enough == tight.fit.spec.good_enough == max(central.fit.spec.good_enough,
                                                                         central.fit.best.objective)
    assert tight.fit.spec.targets[0].value == 12.0 and central.fit.spec.targets[0].value == 19.0
    assert tight.fit.fitted_values()[key] < central.fit.fitted_values()[key]  # a tighter target, a tighter quote
    for outcome in result.outcomes:
        assert f"{key}={outcome.fit.best.values[0]!r}" in outcome.overrides and "horizon_days=3" in outcome.overrides
        runs = pd.read_csv(outcome.folder / "runs.csv")
        assert sorted(set(runs["seed"])) == sorted(result.seeds)
    assert "venues.platform.fees.trading_fee_bps=20.0" in fee.overrides
    targets = pd.read_csv(folder / "out" / "fit_targets.csv")
    assert list(targets["assumption_set"]) == ["central", "platform_fee_high", "tight"]
    assert list(targets["published"]) == [19.0, 19.0, 12.0]


def test_a_set_that_starts_as_close_as_the_central_fit_is_not_refitted_further(tmp_path):
    baseline, waiver, path = project(tmp_path, FEE_HIGH, SPREAD_SPEC)
    sets = load_assumption_sets(path, [baseline, waiver], tuple(QUICK))
    fee = sets.sets[1]
    loose = set_spec(sets, fee, QUICK, {}, central_objective=0.5)
    assert loose.good_enough == 0.5 and set_spec(sets, fee, QUICK, {}).good_enough == SPREAD_SPEC["good_enough"]
    fit = fit_targets(dataclasses.replace(loose, good_enough=math.inf))  # any start is as close as the central
    assert len(fit.history) == 1 and fit.stopped_by == "good enough"


def test_the_ranges_table_agrees_with_each_sets_comparison(refitted):
    folder, result = refitted
    ranges = pd.read_csv(folder / "out" / "ranges.csv").set_index(["policy", "kpi"])
    for outcome in result.outcomes:
        comparison = pd.read_csv(outcome.folder / "comparison.csv").set_index(["policy", "kpi"])
        column = ranges[f"difference[{outcome.assumptions.name}]"]
        pd.testing.assert_series_equal(column.rename("difference"), comparison["difference"].reindex(column.index),
                                       check_names=False)
    central = pd.read_csv(result.outcomes[0].folder / "comparison.csv").set_index(["policy", "kpi"])
    assert ranges["ci_low"].equals(central["ci_low"].reindex(ranges.index))
    spread = ranges.loc[("stamp_duty_waiver", "turnover_hkd_tokenized")]
    differences = [spread[f"difference[{o.assumptions.name}]"] for o in result.outcomes]
    assert spread["range_low"] == min(differences) and spread["range_high"] == max(differences)


def test_the_report_of_the_central_folder_shows_the_ranges(refitted, tmp_path):
    folder, result = refitted
    inputs = load_inputs(result.outcomes[0].folder)
    assert inputs.ranges is not None and list(inputs.assumption_sets["assumption_set"]) == [
        "central", "platform_fee_high", "tight"]
    html_path, _ = build_report(inputs, tmp_path / "report")
    text = html_path.read_text(encoding="utf-8")
    assert "What would change this answer" in text and 'id="ranges"' in text
    assert "platform_fee_high: a dear platform" in text and "assumption sets, each refitted" in text


def test_a_report_without_ranges_says_its_intervals_are_seed_noise_only(refitted, tmp_path):
    folder, result = refitted
    inputs = load_inputs(result.outcomes[0].folder)
    plain = inputs.__class__(**{**inputs.__dict__, "ranges": None, "assumption_sets": None})
    html_path, _ = build_report(plain, tmp_path / "plain")
    text = html_path.read_text(encoding="utf-8")
    assert "seed noise only" in text and 'id="ranges"' not in text


@pytest.mark.parametrize("path", sorted((ROOT / "assumptions").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_assumption_file_loads_against_its_scenarios(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec = yaml.safe_load((path.parent / data["calibration"]).read_text(encoding="utf-8"))
    scenario = (path.parent / data["calibration"]).parent / spec["scenario"]
    sets = load_assumption_sets(path, [scenario.resolve()])
    assert sets.sets[0].name == CENTRAL and len(sets.sets) >= 9
    assert all(s.description for s in sets.sets)


def test_report_with_assumptions_runs_the_ranges_and_reports_the_central_set(tmp_path):
    baseline, waiver, path = project(tmp_path, FEE_HIGH)
    out = tmp_path / "out"
    quick = [arg for override in QUICK for arg in ("--set", override)]
    status = main(["report", str(baseline), str(waiver), "--baseline", str(baseline), "--assumptions", str(path),
                   "--horizon-days", "2", "--reps", "2", "--workers", "1", "--out", str(out), "--quiet", *quick])
    assert status == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="ranges"' in page and "platform_fee_high: a dear platform" in page
    assert (out / "ranges-baseline" / "central" / "ranges.csv").is_file()
    assert main(["report", str(out / "ranges-baseline" / "central"), "--assumptions", str(path)]) == 2
