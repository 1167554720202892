"""Experiment building blocks without the simulator: statistics, seeds, `--param` specs, designs
and the progress line."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sim.experiment import progress as progress_module
from sim.experiment.designs import grid, latin_hypercube
from sim.experiment.params import parse_param, parse_params, value_text
from sim.experiment.seeds import replication_seed, replication_seeds
from sim.experiment.stats import Estimate, paired_comparison, precise_enough, summarize, t_quantile, welch_half_width
from sim.scenario import ScenarioError

# Two-sided 95% critical values of Student's t from printed tables.
T_TABLE = {1: 12.706204736, 2: 4.302652730, 4: 2.776445105, 9: 2.262157163, 29: 2.045229642, 120: 1.979930405}


@pytest.mark.parametrize("df, expected", T_TABLE.items())
def test_t_quantile_matches_the_table(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, rel=1e-9)


def test_t_quantile_matches_scipy_for_fractional_degrees_of_freedom():
    stats = pytest.importorskip("scipy.stats")
    for p in (0.6, 0.9, 0.975, 0.999):
        for df in (0.7, 1.0, 2.5, 7.3, 41.9, 1000.0):
            assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9)


def test_summary_interval_by_hand():
    values = [2.0, 4.0, 4.0, 5.0, 10.0]
    mean = 5.0
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / 4)  # sqrt(36 / 4) = 3
    half_width = 2.776445105 * std / math.sqrt(5)
    runs = pd.DataFrame({"scenario": ["a"] * 5 + ["b"] * 2, "x": [*values, 1.0, np.nan]})
    summary = summarize(runs, ["scenario"], ["x"])
    a, b = summary.iloc[0], summary.iloc[1]
    assert (a["n"], a["mean"], a["std"]) == (5, 5.0, pytest.approx(3.0))
    assert a["half_width"] == pytest.approx(half_width, rel=1e-9)
    assert (a["ci_low"], a["ci_high"]) == (pytest.approx(mean - half_width), pytest.approx(mean + half_width))
    assert b["n"] == 1 and b["mean"] == 1.0 and math.isnan(b["half_width"])  # NaN runs are left out
    assert Estimate.of(np.array([3.0, 3.0, 3.0])).half_width == 0.0


def test_paired_interval_uses_differences_and_welch_uses_both_variances():
    base = np.array([10.0, 20.0, 30.0, 40.0])
    policy = base + np.array([1.0, 2.0, 1.0, 2.0])  # large spread between runs, steady effect
    runs = pd.DataFrame({
        "scenario": ["base"] * 4 + ["policy"] * 4, "replication": [0, 1, 2, 3] * 2, "k": [*base, *policy],
    })
    row = paired_comparison(runs, "base", ["k"]).iloc[0]
    diff_sd = np.std([1.0, 2.0, 1.0, 2.0], ddof=1)
    assert row["policy"] == "policy" and row["n"] == 4
    assert row["difference"] == pytest.approx(1.5)
    assert row["half_width"] == pytest.approx(t_quantile(0.975, 3) * diff_sd / 2)
    assert row["relative_change"] == pytest.approx(1.5 / 25.0)
    va, vb = np.var(base, ddof=1) / 4, np.var(policy, ddof=1) / 4
    df = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 3)
    assert row["welch_half_width"] == pytest.approx(t_quantile(0.975, df) * math.sqrt(va + vb))
    assert row["welch_half_width"] > 10 * row["half_width"]
    assert welch_half_width(np.array([1.0]), base) != welch_half_width(np.array([1.0]), base)  # NaN: too few


def test_paired_comparison_pairs_by_replication_not_by_row_order():
    runs = pd.DataFrame({
        "scenario": ["base", "base", "policy", "policy"], "replication": [0, 1, 1, 0], "k": [1.0, 5.0, 6.0, 2.0],
    })
    row = paired_comparison(runs, "base", ["k"]).iloc[0]
    assert row["difference"] == 1.0 and row["half_width"] == 0.0


def test_each_policy_is_paired_with_its_own_comparator():
    runs = pd.DataFrame({
        "scenario": ["law"] * 2 + ["duty"] * 2 + ["waiver"] * 2, "replication": [0, 1] * 3,
        "k": [10.0, 20.0, 7.0, 15.0, 10.0, 20.0],
    })
    table = paired_comparison(runs, {"duty": "law", "waiver": "duty"}, ["k"]).set_index("policy")
    assert list(table.index) == ["duty", "waiver"] and list(table["compared_with"]) == ["law", "duty"]
    assert table.loc["duty", "difference"] == -4.0 and table.loc["duty", "comparator_mean"] == 15.0
    assert table.loc["waiver", "difference"] == 4.0 and table.loc["waiver", "comparator_mean"] == 11.0  # not 0 (law)
    assert table.loc["waiver", "relative_change"] == pytest.approx(4.0 / 11.0)


def test_precision_target_needs_every_group_within_the_relative_half_width():
    summary = pd.DataFrame({"kpi": ["k", "k", "other"], "mean": [100.0, -50.0, 1.0], "half_width": [4.0, 2.5, 9.0]})
    assert precise_enough(summary, "k", 0.05)
    assert not precise_enough(summary, "k", 0.045)
    assert not precise_enough(summary, "missing", 0.5)


def test_replication_seeds_are_distinct_and_stable_when_extended():
    seeds = replication_seeds(7, 50)
    assert len(set(seeds)) == 50 and all(0 <= s < 2**63 for s in seeds)
    assert replication_seeds(7, 10) == seeds[:10]
    assert replication_seed(7, 3) == seeds[3] and replication_seeds(8, 3) != seeds[:3]
    expected = np.random.SeedSequence(7).spawn(4)[3].generate_state(1, np.uint64)[0] >> np.uint64(1)
    assert seeds[3] == int(expected)


def test_param_specs():
    listed = parse_param("policy.rate=0, 0.001,true,abc")
    assert listed.key == "policy.rate" and listed.values == (0, 0.001, True, "abc")
    ranged = parse_param("x=0:1:5")
    assert ranged.grid_values() == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert parse_param("x=0:0.3:4").grid_values() == (0.0, 0.1, 0.2, 0.3)  # tidied, not 0.30000000000000004
    assert parse_param("x=1e-3:2e-3").low == 0.001
    assert value_text(1e-05) == "1.0e-05" and value_text(0.001) == "0.001" and value_text(True) == "true"


@given(st.one_of(st.floats(allow_nan=False), st.integers(), st.booleans()))
def test_value_text_reads_back_as_the_same_value(value):
    back = yaml.safe_load(value_text(value))
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize("spec, why", [
    ("x", "expected KEY="), ("=1,2", "expected KEY="), ("x=", "expected KEY="),
    ("x=1:1:3", "empty range"), ("x=2:1", "empty range"), ("x=0:1:1", "integer >= 2"), ("x=0:1:2.5", "integer >= 2"),
    ("x=a:1", "finite numbers"), ("x=0:1:2:3", "LO:HI or LO:HI:N"), ("x=1,,2", "empty value"), ("x=1,2,1", "twice"),
])
def test_bad_param_specs_are_scenario_errors(spec, why):
    with pytest.raises(ScenarioError, match=why) as caught:
        parse_param(spec)
    assert caught.value.source == "--param"


def test_params_rules():
    with pytest.raises(ScenarioError, match="given twice"):
        parse_params(["x=1,2", "x=3"])
    with pytest.raises(ScenarioError, match="at least one"):
        parse_params([])
    with pytest.raises(ScenarioError, match="give KEY=LO:HI"):
        parse_params(["x=1,2"], ranges_only=True)
    with pytest.raises(ScenarioError, match="LO:HI:N"):
        grid(parse_params(["x=0:1"]))


def test_grid_is_the_full_factorial_first_key_slowest():
    points = grid(parse_params(["a=1,2", "b=0:1:3"]))
    assert points == [{"a": 1, "b": 0.0}, {"a": 1, "b": 0.5}, {"a": 1, "b": 1.0},
                      {"a": 2, "b": 0.0}, {"a": 2, "b": 0.5}, {"a": 2, "b": 1.0}]


def test_latin_hypercube_has_one_point_per_stratum_and_depends_only_on_the_seed():
    params = parse_params(["a=0:10", "b=-1:1"], ranges_only=True)
    design = latin_hypercube(params, 8, seed=3)
    assert design == latin_hypercube(params, 8, seed=3) != latin_hypercube(params, 8, seed=4)
    for key, low, high in (("a", 0, 10), ("b", -1, 1)):
        strata = sorted(int((point[key] - low) / (high - low) * 8) for point in design)
        assert strata == list(range(8))
    with pytest.raises(ScenarioError, match="at least 2"):
        latin_hypercube(params, 1, seed=3)


def test_plain_progress_line_without_tqdm(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(progress_module, "_tqdm", lambda total, description: None)
    monkeypatch.setattr(progress_module.sys, "stderr", stream)
    bar = progress_module.Progress(3, "exp", enabled=True)
    for failed in (False, True, False):
        bar.update(failed)
    bar.close()
    assert "exp: 3/3 done, 1 failed, 0 remaining, ETA 0s" in stream.getvalue()
    assert not progress_module.wanted(quiet=False, stream=io.StringIO())  # not a terminal: silent


def test_a_kpi_the_comparator_lacks_still_shows_the_policys_mean():
    """Nothing is issued in the comparator, so an issue's cost has no pairs: the policy's own mean
    is reported, the difference is not made up."""
    runs = pd.DataFrame({"scenario": ["base", "base", "issue", "issue"], "replication": [0, 1, 0, 1],
                         "issue_cost_bps": [math.nan, math.nan, 20.0, 24.0]})
    row = paired_comparison(runs, "base", ["issue_cost_bps"]).iloc[0]
    assert row["policy_mean"] == 22.0 and row["n"] == 0
    assert math.isnan(row["comparator_mean"]) and math.isnan(row["difference"])
