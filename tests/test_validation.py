"""Validation: zero-intelligence markets, the duty sweep, the 2021 replay,
the ETF arbitrage band, Little's law, and the `validate-model` command, on quick runs."""

from __future__ import annotations

import argparse
import math

import pandas as pd
import pytest

from conftest import SCENARIOS
from sim.market.random_streams import stream
from sim.scenario import ScenarioError
from sim.validation.arbitrage_band import premium_in_band
from sim.validation.commands import add_parser
from sim.validation.elasticity import measure_elasticity
from sim.validation.figures import FIGURES
from sim.validation.littles_law import littles_law, without_fails
from sim.validation.replay import replay_duty_rise
from sim.validation.runs import ModelRuns
from sim.validation.zero_intelligence import InducedMarket, efficiencies, trade_period

BASELINE = SCENARIOS / "baseline.yaml"


@pytest.fixture(scope="module")
def runs() -> ModelRuns:
    return ModelRuns.of(BASELINE, ["horizon_days=6"], 1, 11)


@pytest.fixture(scope="module")
def own_results(runs):
    return runs.results()


def command(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_zero_intelligence_constrained_traders_are_efficient_and_unconstrained_are_not():
    table = efficiencies(seed=3, periods=3)
    means = table.groupby("kind")["efficiency"].mean()
    assert means["ZI-C"] > 0.95
    assert means["ZI-U"] < means["ZI-C"] - 0.2
    assert (table.loc[table["kind"] == "ZI-C", "efficiency"] <= 1.0).all()
    assert table.equals(efficiencies(seed=3, periods=3))


def test_zero_intelligence_surplus_on_a_hand_made_market():
    market = InducedMarket("tiny", values=((150, 60),), costs=((50, 120),))
    assert market.max_surplus() == 100  # only 150 vs 50 is worth trading
    assert trade_period(market, constrained=True, rng=stream(1, "tiny")) == 100


def test_duty_sweep_gives_a_negative_finite_elasticity(runs):
    result = measure_elasticity(runs)
    assert math.isfinite(result.slope) and result.slope < 0
    volumes = [p.volume_hkd for p in result.points]
    assert volumes == sorted(volumes, reverse=True)
    assert result.seed_slopes == (pytest.approx(result.slope),)  # one seed: its own fit is the pooled one
    assert all(p.total_cost_bps > p.duty_bps + p.fees_bps for p in result.points)


def test_replay_lowers_volume_against_the_counterfactual(runs):
    replay = replay_duty_rise(runs)
    before = replay.rise_volume_hkd.index < replay.switch_day
    pd.testing.assert_series_equal(replay.rise_volume_hkd[before], replay.counterfactual_volume_hkd[before])
    assert replay.rise_volume_hkd[~before].sum() < replay.counterfactual_volume_hkd[~before].sum()
    assert replay.change_vs_counterfactual < 0 and replay.elasticity_ttc < 0
    assert replay.cost_rise_bps > replay.cost_counterfactual_bps
    assert replay.seed_changes_vs_counterfactual.tolist() == [pytest.approx(replay.change_vs_counterfactual)]


def test_etf_premium_stays_inside_the_participants_band(own_results):
    shares = {share.venue: share for share in premium_in_band(own_results)}
    assert set(shares) == {"exchange", "platform"}
    # basket 3 bp + 10 bp stamp duty on buying or selling the basket stocks + HK$1,000 on a creation
    # unit of about HK$2.5m (4 bp) + the exchange's 1.27 bp
    assert shares["exchange"].band_bps.mean() == pytest.approx(18.27, abs=0.3)
    assert shares["platform"].band_bps.mean() > shares["exchange"].band_bps.mean()
    assert all(0.0 <= share.share_inside <= 1.0 for share in shares.values())
    assert shares["exchange"].share_inside > 0.8


def test_settlement_exposure_follows_littles_law(own_results):
    assert without_fails([10.0, 20.0, 30.0], [2, 2, 2]).tolist() == [10.0, 30.0, 50.0]
    for ratio in littles_law(own_results):
        if ratio.cycle_days == 0:  # the baseline platform settles by book entry: nothing outstanding
            assert ratio.unsettled_hkd == 0
            continue
        assert ratio.cycle_days in (1, 2)
        assert 0.9 < ratio.ratio < 1.2
        assert ratio.expected_ratio >= 1.0  # above 1 only where trades fail


def test_atomic_settlement_leaves_nothing_outstanding():
    results = ModelRuns.of(SCENARIOS / "stablecoin_settlement.yaml", ["horizon_days=4"], 1, 11).results()
    platform = {r.venue: r for r in littles_law(results)}["platform"]
    assert platform.cycle_days == 0 and platform.unsettled_hkd == 0 and math.isnan(platform.ratio)


def test_validate_model_quick_writes_the_report(tmp_path, capsys):
    out = tmp_path / "validation"
    assert command("validate-model", str(BASELINE), "--quick", "--seed", "11", "--out", str(out)) == 0
    table = pd.read_csv(out / "validation.csv")
    assert list(table.columns) == ["name", "measured", "ci_low", "ci_high", "target", "low", "high", "status", "note"]
    assert {"zi_efficiency_zi_c", "volume_elasticity_ttc", "replay_elasticity_ttc",
            "etf_premium_in_band_hk_tracker_exchange", "etf_typical_abs_premium_bps_hk_tracker_exchange",
            "littles_law_exchange"} <= set(table["name"])
    outside = table[~table["status"].isin(["pass", "info"])]
    assert outside.empty, f"validation checks outside their published range:\n{outside.to_string()}"
    for figure in FIGURES:
        assert (out / "figures" / figure).stat().st_size > 10_000
        assert f"figures/{figure}" in (out / "validation.md").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["validation"], "temporary folder left behind"
    assert "report ->" in capsys.readouterr().out


def test_validate_model_exits_1_when_a_check_is_outside(tmp_path, capsys):
    out = tmp_path / "validation"
    wrong_fee = "venues.exchange.fees.sfc_levy_bps=0.28"
    assert command("validate-model", str(BASELINE), "--quick", "--set", "horizon_days=4", "--set", wrong_fee,
                   "--out", str(out)) == 1
    table = pd.read_csv(out / "validation.csv").set_index("name")
    assert table.loc["statutory round trip, HK$100,000 stock trade (HKD)", "status"] == "OUTSIDE"
    assert "checks outside their range: statutory round trip" in capsys.readouterr().err


def test_check_intervals_come_from_the_per_seed_figures():
    from sim.validation.checks import Check, interval

    low, high = interval(-0.8, [-0.7, -0.9, -0.8])
    assert low == pytest.approx(-0.8 - 4.302653 * 0.1 / math.sqrt(3), rel=1e-5) and high == pytest.approx(-1.6 - low)
    assert all(math.isnan(bound) for bound in interval(-0.8, [-0.7]))
    check = Check("x", -0.8, "t", -1.5, -0.5, "n", low, high)
    assert check.status == "pass" and check.interval_text.startswith("-1.048 to")


@pytest.mark.parametrize("argv", [
    ("validate-model", str(BASELINE), "--quick", "--seeds", "0"),
    ("validate-model", str(SCENARIOS / "no_such_scenario.yaml"), "--quick"),
])
def test_user_mistakes_are_scenario_errors(argv, tmp_path):
    with pytest.raises(ScenarioError):
        command(*argv, "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_statutory_round_trip_matches_the_published_arithmetic_to_the_cent():
    from sim.scenario import load_scenario
    from sim.validation.checks import statutory_cost_check
    from sim.validation.statutory_cost import model_round_trip_hkd, published_round_trip_hkd

    from conftest import ROOT

    baseline = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    assert published_round_trip_hkd() == 225.40
    assert model_round_trip_hkd(baseline) == 225.40
    assert statutory_cost_check(baseline).status == "pass"
    wrong_fee = load_scenario(ROOT / "scenarios" / "baseline.yaml", ["venues.exchange.fees.sfc_levy_bps=0.28"])
    assert statutory_cost_check(wrong_fee).status == "OUTSIDE"
