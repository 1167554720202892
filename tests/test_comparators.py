"""What a policy is measured against: `measured_against` checked when a scenario loads (exists,
loads, not itself, no cycle), `measured_against` and `counterfactual` not inherited through
`extends`, and an experiment that runs each policy's comparator and pairs the policy with it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.experiment import api
from sim.scenario import ScenarioError, load_scenario
from waiver_scenarios import COUNTERFACTUAL, write_waiver_scenarios

TINY = ["horizon_days=3", "investors.retail.accounts=100", "investors.institutional.accounts=20"]


def write(folder: Path, name: str, **keys) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "extends": "baseline.yaml", **keys}), encoding="utf-8")
    return path


@pytest.fixture
def trio(tmp_path) -> tuple[Path, Path, Path]:
    return write_waiver_scenarios(tmp_path)


def test_neither_key_is_inherited_through_extends(trio, tmp_path):
    baseline, duty, waiver = trio
    assert load_scenario(duty).counterfactual == COUNTERFACTUAL
    assert load_scenario(waiver).counterfactual is None  # extends the counterfactual, says nothing: not one
    assert load_scenario(waiver).measured_against == "tokenized_etf_duty.yaml"
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: stamp_duty_waiver.yaml\n", encoding="utf-8")
    scenario = load_scenario(child)
    assert scenario.measured_against is None and scenario.counterfactual is None
    assert scenario.policy.stamp_duty.tokenized_etf.rate_per_side == 0.0  # every other key is inherited


BAD = {
    "missing file": ({"measured_against": "nowhere.yaml"}, 'measured_against = "nowhere.yaml": file not found'),
    "itself": ({"measured_against": "./bad.yaml"}, "names this scenario itself"),
    "not YAML": ({"measured_against": "notes.txt"}, "must name a .yaml or .yml file"),
    "absolute": ({"measured_against": "/etc/x.yaml"}, "must be a path relative to this file's folder"),
    "too far up": ({"measured_against": "../../x.yaml"}, "leaves the scenario folders"),
    "empty counterfactual": ({"counterfactual": "  "}, "counterfactual = \"  \": say how the scenario departs"),
}


@pytest.mark.parametrize("keys, message", BAD.values(), ids=BAD.keys())
def test_a_bad_comparator_is_one_clear_line_and_exit_status_2(keys, message, trio, tmp_path, capsys):
    bad = write(tmp_path, "bad", **keys)
    status = main(["compare", str(trio[0]), str(bad), "--out", str(tmp_path / "out"), *sum((["--set", t] for t in TINY), [])])
    error = capsys.readouterr().err
    assert status == 2 and error.startswith(f"error: {bad}: ") and error.count("\n") == 1 and message in error, error
    assert not (tmp_path / "out").exists()


def test_a_comparator_that_does_not_load_is_named_with_its_own_error(trio, tmp_path):
    write(tmp_path, "broken", horizon_days=-1)
    bad = write(tmp_path, "bad", measured_against="broken.yaml")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(bad)
    assert str(raised.value).startswith(f'{bad}: measured_against = "broken.yaml": the scenario it names does not load '
                                        f"({tmp_path / 'broken.yaml'}: horizon_days = -1: ")


def test_cycles_are_refused(trio, tmp_path):
    first = write(tmp_path, "first", measured_against="second.yaml")
    write(tmp_path, "second", measured_against="third.yaml")
    write(tmp_path, "third", measured_against="first.yaml")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(first)
    assert raised.value.source == str(first) and raised.value.key_path == "measured_against"
    assert "measured against each other in a cycle: " in str(raised.value)
    assert str(raised.value).count(" -> ") == 3 and "third.yaml -> " in str(raised.value)


def test_an_override_of_the_comparator_is_blamed_on_set(trio, tmp_path):
    with pytest.raises(ScenarioError, match=r"^--set: measured_against = \"gone.yaml\": file not found"):
        load_scenario(trio[2], ["measured_against=gone.yaml"])


def test_a_policy_identical_to_its_comparator_has_zero_differences(trio, tmp_path):
    """The comparator runs though not named, with the same seeds; the policy is paired with it,
    not with the baseline (from which it differs: it pays duty on tokenized ETF units)."""
    baseline, _, _ = trio
    same = tmp_path / "same.yaml"
    same.write_text("name: same\nextends: tokenized_etf_duty.yaml\nmeasured_against: tokenized_etf_duty.yaml\n",
                    encoding="utf-8")
    result = api.compare(baseline, [same], reps=2, overrides=TINY, out=tmp_path / "out", workers=1)
    runs = result.runs
    assert list(runs["scenario"]) == ["baseline"] * 2 + ["tokenized_etf_duty"] * 2 + ["same"] * 2
    assert runs.groupby("replication")["seed"].nunique().eq(1).all() and result.computed == 6
    table = result.comparison
    own = table[table["policy"] == "same"]
    assert set(own["compared_with"]) == {"tokenized_etf_duty"}
    assert (own["difference"].fillna(0) == 0).all() and (own["half_width"].fillna(0) == 0).all()
    duty = table[(table["policy"] == "tokenized_etf_duty") & (table["kpi"] == "stamp_duty_hkd")].iloc[0]
    assert duty["compared_with"] == "baseline" and duty["difference"] > 0
    same_duty = result.summary.set_index(["scenario", "kpi"]).loc[("same", "stamp_duty_hkd"), "mean"]
    baseline_duty = result.summary.set_index(["scenario", "kpi"]).loc[("baseline", "stamp_duty_hkd"), "mean"]
    assert same_duty > baseline_duty  # it differs from the baseline, yet shows no difference against its comparator


def test_resuming_a_comparison_reuses_the_comparators_runs(trio, tmp_path):
    baseline, duty, waiver = trio
    first = api.compare(baseline, [waiver], reps=2, overrides=TINY, name="x", out=tmp_path, workers=1)
    again = api.compare(baseline, [duty, waiver], reps=2, overrides=TINY, name="x", out=tmp_path, workers=1)
    assert (first.computed, again.computed, again.reused) == (6, 0, 6)  # the comparator named now is the same runs
    assert again.comparison.equals(first.comparison)


def test_two_comparators_with_one_name_are_refused(trio, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "baseline.yaml").write_text("extends: ../baseline.yaml\n", encoding="utf-8")
    (other / "tokenized_etf_duty.yaml").write_text("name: tokenized_etf_duty\nextends: baseline.yaml\n", encoding="utf-8")
    (other / "policy.yaml").write_text("name: policy\nextends: baseline.yaml\nmeasured_against: tokenized_etf_duty.yaml\n",
                                       encoding="utf-8")
    with pytest.raises(ScenarioError, match="two scenarios share this name"):
        api.compare(trio[0], [trio[1], other / "policy.yaml"], reps=2, overrides=TINY, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_single_run_of_a_counterfactual_says_so(trio, tmp_path, capsys):
    sets = sum((["--set", t] for t in ["horizon_days=2", *TINY[1:]]), [])
    assert main(["run", str(trio[1]), str(trio[0]), "--out", str(tmp_path / "out"), "--quiet", *sets]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"tokenized_etf_duty (counterfactual: {COUNTERFACTUAL}): ")
    assert lines[1].startswith("baseline: ")  # the law is not labelled
