"""Validation: zero-intelligence markets, the duty sweep, the 2021 replay,
the ETF arbitrage band, Little's law, the kind of every check (identity, out of sample,
calibration target) and the `validate-model` command, on quick runs."""

from __future__ import annotations

import argparse
import math
from fnmatch import fnmatch

import pandas as pd
import pytest

from conftest import SCENARIOS
from sim.market.random_streams import stream
from sim.scenario import ScenarioError, load_scenario
from sim.validation import checks as checks_module
from sim.validation.arbitrage_band import premium_in_band
from sim.validation.checks import COLUMNS, Check, checks_table, interval
from sim.validation.commands import add_parser, exit_status
from sim.validation.elasticity import measure_elasticity, swept_listings, sweep_point
from sim.validation.figures import FIGURES
from sim.validation.kinds import (
    CALIBRATION_TARGET, CAN_SHOW, IDENTITY, KINDS, NOT_EVIDENCE, OUT_OF_SAMPLE, TITLES, Driver, check_fits,
)
from sim.validation.littles_law import littles_law, without_fails
from sim.validation.replay import replay_duty_rise
from sim.validation.runs import ModelRuns, exchange_listing
from sim.validation.suite import QUICK, validate
from sim.validation.zero_intelligence import InducedMarket, efficiencies, trade_period

BASELINE = SCENARIOS / "baseline.yaml"


@pytest.fixture(scope="module")
def runs() -> ModelRuns:
    return ModelRuns.of(BASELINE, ["horizon_days=6"], 1, 11)


@pytest.fixture(scope="module")
def own_results(runs):
    return runs.results()


@pytest.fixture(scope="module")
def quick_checks() -> list[Check]:
    return validate(BASELINE, [], QUICK, 11).checks()


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def command(*argv: str) -> int:
    args = parser().parse_args(argv)
    return args.handler(args)


def row(name: str, kind: str, measured: float = 1.0, low: float | None = 0.0, high: float | None = 2.0,
        drivers: tuple[Driver, ...] = ()) -> Check:
    """A check built directly, inside [0, 2] unless `measured` says otherwise."""
    if kind == OUT_OF_SAMPLE and not drivers:
        drivers = (Driver.sourced("venues.exchange.fees.trading_fee_bps", "HKEX fee schedule (docs/calibration.md)"),)
    return Check(name, measured, "0 to 2", low, high, "note", kind=kind, reason=f"{kind} for the test", drivers=drivers)


# The kind each shipped check must have, by name pattern (each check matches exactly one).
EXPECTED_KINDS = {
    "zi_efficiency_*": OUT_OF_SAMPLE,
    "volume_elasticity_ttc": CALIBRATION_TARGET,
    "replay_*": CALIBRATION_TARGET,
    "etf_premium_in_band_*": IDENTITY,
    "etf_typical_abs_premium_bps_*": IDENTITY,
    "littles_law_*": IDENTITY,
    "statutory round trip*": IDENTITY,
    "usdc_2023_redeemed_usd": CALIBRATION_TARGET,
    "usdc_2023_low": OUT_OF_SAMPLE,
    "usdc_2023_hours_to_par_after_guarantee": OUT_OF_SAMPLE,
    "venue_shift_tokenized_share_change": OUT_OF_SAMPLE,
    "bis_2025_*_bond_spread_bps": CALIBRATION_TARGET,
}


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


def test_where_shares_trade_the_sweep_taxes_them_with_the_etfs_and_measures_both():
    """A market-wide tax, as the published elasticities measure: the shares' duty moves with the
    ETFs', and the volume is the two channels' together (not the ETF's alone, which would also
    count exposure needs moving to the share)."""
    equity = ModelRuns.of(SCENARIOS / "equity_channels.yaml", ["horizon_days=3"], 1, 5)
    listings = swept_listings(equity.scenario(), "equity_channels.yaml")
    assert [(listing.instrument, listing.venue) for listing in listings] == [("hk_tracker", "exchange"),
                                                                             ("hk_stocks", "exchange")]
    point = sweep_point(equity, 0.002)
    taxed = equity.results("policy.stamp_duty.conventional_etf.rate_per_side=0.002",
                           "policy.stamp_duty.conventional_stock.rate_per_side=0.002")[0].kpis
    assert point.seed_volumes_hkd == (taxed["turnover_hkd_hk_tracker_conventional"]
                                      + taxed["turnover_hkd_hk_stocks_conventional"],)
    assert point.duty_bps == 20.0 and point.fees_bps == pytest.approx(1.27)
    assert swept_listings(load_scenario(BASELINE), "baseline.yaml") == [exchange_listing(load_scenario(BASELINE), "")]


def test_the_sweeps_total_cost_includes_the_brokerage_investors_pay_weighted_by_what_they_took():
    brokered = ModelRuns.of(SCENARIOS / "equity_channels.yaml", ["horizon_days=3", "investors.retail.brokerage_bps=8",
                                                                 "investors.institutional.brokerage_bps=2"], 1, 5)
    point = sweep_point(brokered, 0.001)
    result = brokered.results("policy.stamp_duty.conventional_etf.rate_per_side=0.001",
                              "policy.stamp_duty.conventional_stock.rate_per_side=0.001")[0]
    trades = result.trades
    swept = trades[(trades["venue_name"] == "exchange") & trades["instrument"].isin(["hk_tracker", "hk_stocks"])]
    taken = swept.groupby("taker_group")["value_hkd"].sum()
    expected = (8 * taken["retail"] + 2 * taken["institutional"]) / (taken["retail"] + taken["institutional"])
    assert 2 < expected < 8 and point.fees_bps == pytest.approx(1.27 + expected)
    plain = sweep_point(ModelRuns.of(SCENARIOS / "equity_channels.yaml", ["horizon_days=3"], 1, 5), 0.001)
    assert plain.fees_bps == pytest.approx(1.27)  # no brokerage set: the exchange's fees alone


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
    assert list(table.columns) == ["name", "kind", "measured", "ci_low", "ci_high", "target", "low", "high", "status",
                                   "note", "reason", "drivers"]
    assert {"zi_efficiency_zi_c", "volume_elasticity_ttc", "replay_elasticity_ttc",
            "etf_premium_in_band_hk_tracker_exchange", "etf_typical_abs_premium_bps_hk_tracker_exchange",
            "littles_law_exchange"} <= set(table["name"])
    assert set(table["kind"]) == set(KINDS) and table["reason"].str.len().gt(0).all()
    zero_intelligence = table["name"].str.startswith("zi_efficiency")
    assert table.loc[zero_intelligence, "drivers"].str.contains("sim.market.orderbook.OrderBook").all()
    usdc = table[table["name"].str.startswith("usdc_2023")].set_index("name")
    assert usdc.loc["usdc_2023_low", "drivers"].count("fitted to usdc_2023_redeemed_usd") == 1
    identities = table[table["kind"] == IDENTITY]
    outside = identities[identities["status"] != "pass"]
    assert outside.empty, f"identity checks outside their range (a bug):\n{outside.to_string()}"
    for figure in FIGURES:
        assert (out / "figures" / figure).stat().st_size > 10_000
        assert f"figures/{figure}" in (out / "validation.md").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["validation"], "temporary folder left behind"
    assert "report ->" in capsys.readouterr().out


def test_the_report_has_one_section_per_kind_in_order_and_marks_fitted_figures(tmp_path):
    out = tmp_path / "validation"
    assert command("validate-model", str(BASELINE), "--quick", "--set", "horizon_days=4", "--out", str(out)) == 0
    text = (out / "validation.md").read_text()
    starts = [text.index(f"\n## {TITLES[kind]}\n\n{CAN_SHOW[kind]}\n") for kind in (IDENTITY, OUT_OF_SAMPLE,
                                                                                      CALIBRATION_TARGET)]
    assert starts == sorted(starts), "sections must run identity, out of sample, calibration target"
    calibration = text[starts[2]:]
    table = pd.read_csv(out / "validation.csv")
    for name in table.loc[table["kind"] == CALIBRATION_TARGET, "name"]:
        line = next(line for line in calibration.splitlines() if line.startswith(f"| {name} |"))
        assert f"({NOT_EVIDENCE})" in line
    identity_part = text[starts[0]:starts[1]]
    assert "figures/premium.png" in identity_part and "figures/littles_law.png" in identity_part
    assert NOT_EVIDENCE not in identity_part
    assert "figures/elasticity.png" in calibration and "figures/replay.png" in calibration


def test_every_check_has_its_kind_and_a_reason(quick_checks):
    for check in quick_checks:
        kinds = [kind for pattern, kind in EXPECTED_KINDS.items() if fnmatch(check.name, pattern)]
        assert len(kinds) == 1, f"{check.name} matches {len(kinds)} patterns"
        assert check.kind == kinds[0], f"{check.name}: {check.kind}, expected {kinds[0]}"
        assert check.reason.strip()
    assert {check.kind for check in quick_checks} == set(KINDS)
    for check in quick_checks:
        if check.kind == OUT_OF_SAMPLE:
            assert check.drivers and check.status in ("pass", "OUTSIDE")
            assert all(driver.fitted_to != check.name for driver in check.drivers)
    elasticity = next(c for c in quick_checks if c.name == "volume_elasticity_ttc")
    assert [d.key for d in elasticity.drivers] == ["investors.*.gain_mean_bps"]
    assert elasticity.drivers[0].fitted_to == "volume_elasticity_ttc"  # which is why it is a calibration target


def test_only_an_outside_identity_check_sets_the_exit_status(capsys):
    reported = [row("identity ok", IDENTITY), row("oos out", OUT_OF_SAMPLE, 3.0), row("fit out", CALIBRATION_TARGET, -1.0),
                row("fit info", CALIBRATION_TARGET, 5.0, None, None)]
    assert [c.status for c in reported] == ["pass", "OUTSIDE", "OUTSIDE", "info"]
    assert exit_status(reported) == 0
    printed = capsys.readouterr()
    assert "oos out (out_of_sample), fit out (calibration_target)" in printed.out and not printed.err
    assert exit_status([*reported, row("identity out", IDENTITY, math.nan)]) == 1
    printed = capsys.readouterr()
    assert "1 identity checks outside their range: identity out" in printed.err
    assert exit_status([row("identity at the edge", IDENTITY, 2.0)]) == 0


def test_outside_out_of_sample_and_calibration_rows_are_reported_but_exit_0(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(checks_module.PUBLISHED, "ZI-C", (0.9995, 0.9999))  # a published range the book cannot reach
    gains = ["--set", "investors.retail.gain_mean_bps=400", "--set", "investors.institutional.gain_mean_bps=240"]
    out = tmp_path / "validation"
    assert command("validate-model", str(BASELINE), "--quick", "--seed", "11", *gains, "--out", str(out)) == 0
    table = pd.read_csv(out / "validation.csv").set_index("name")
    assert table.loc["zi_efficiency_zi_c", ["kind", "status"]].tolist() == [OUT_OF_SAMPLE, "OUTSIDE"]
    assert table.loc["volume_elasticity_ttc", ["kind", "status"]].tolist() == [CALIBRATION_TARGET, "OUTSIDE"]
    assert (table.loc[table["kind"] == IDENTITY, "status"] == "pass").all()
    printed = capsys.readouterr()
    assert "zi_efficiency_zi_c (out_of_sample)" in printed.out and "volume_elasticity_ttc (calibration_target)" in printed.out
    assert "error" not in printed.err
    assert "Out of sample: 2 of 5 outside (zi_efficiency_zi_c, usdc_2023_low)" in (out / "validation.md").read_text()


def test_validate_model_exits_1_when_an_identity_check_is_outside(tmp_path, capsys):
    out = tmp_path / "validation"
    wrong_fee = "venues.exchange.fees.sfc_levy_bps=0.28"
    assert command("validate-model", str(BASELINE), "--quick", "--set", "horizon_days=4", "--set", wrong_fee,
                   "--out", str(out)) == 1
    table = pd.read_csv(out / "validation.csv").set_index("name")
    name = "statutory round trip, HK$100,000 stock trade (HKD)"
    assert table.loc[name, ["kind", "status"]].tolist() == [IDENTITY, "OUTSIDE"]
    assert "identity checks outside their range: statutory round trip" in capsys.readouterr().err
    assert "**Identity checks: 1 of" in (out / "validation.md").read_text()


def test_the_help_says_only_identity_checks_set_the_exit_status():
    subparsers = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    text = " ".join(subparsers.choices["validate-model"].format_help().split())
    assert "exits 1 only when an identity check is OUTSIDE its range" in text


def test_an_out_of_sample_check_with_a_driver_fitted_to_itself_is_refused():
    with pytest.raises(ValueError, match="hk_turnover_2021.*out of sample.*gain_mean_bps were fitted to it"):
        row("hk_turnover_2021", OUT_OF_SAMPLE, drivers=(Driver.fitted("investors.*.gain_mean_bps", "hk_turnover_2021"),))
    # the same driver fitted to another row is what a later out-of-sample check will list
    later = row("hk_turnover_2021", OUT_OF_SAMPLE, drivers=(
        Driver.fitted("investors.*.gain_mean_bps", "volume_elasticity_ttc"),
        Driver.sourced("policy.stamp_duty.conventional_stock", "IRD budget 2021 notice (docs/calibration.md)")))
    check_fits([later, row("volume_elasticity_ttc", CALIBRATION_TARGET)])
    with pytest.raises(ValueError, match="fitted to 'volume_elasticity_ttc', which is not a calibration_target"):
        check_fits([later, row("volume_elasticity_ttc", IDENTITY)])
    with pytest.raises(ValueError, match="not a calibration_target"):
        check_fits([later])


@pytest.mark.parametrize("build, message", [
    (lambda: row("x", "evidence"), "kind 'evidence' is not one of"),
    (lambda: Check("x", 1.0, "t", 0.0, 1.0, "n", kind=IDENTITY, reason=" "), "needs a one-line reason"),
    (lambda: Check("x", 1.0, "t", 0.0, 1.0, "n", kind=OUT_OF_SAMPLE, reason="r"), "must name the parameters"),
    (lambda: row("x", OUT_OF_SAMPLE, low=None, high=None), "needs a published range"),
    (lambda: Driver.sourced("a.b", "one; two"), "free of ';'"),
])
def test_an_unsound_classification_is_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_the_table_carries_kind_reason_and_drivers():
    drivers = (Driver.fitted("investors.*.gain_mean_bps", "fit"), Driver.sourced("venues.exchange.fees.sfc_levy_bps", "HKEX"))
    table = checks_table([row("oos", OUT_OF_SAMPLE, drivers=drivers), row("fit", CALIBRATION_TARGET, 9.0)])
    assert list(table.columns) == COLUMNS
    assert table["kind"].tolist() == [OUT_OF_SAMPLE, CALIBRATION_TARGET]
    assert table["status"].tolist() == ["pass", "OUTSIDE"]
    assert table.loc[0, "drivers"] == ("investors.*.gain_mean_bps: fitted to fit (tokensim calibrate, docs/calibration.md)"
                                       "; venues.exchange.fees.sfc_levy_bps: HKEX")
    assert table.loc[0, "reason"] == "out_of_sample for the test" and table.loc[1, "drivers"] == ""


def test_check_intervals_come_from_the_per_seed_figures():
    low, high = interval(-0.8, [-0.7, -0.9, -0.8])
    assert low == pytest.approx(-0.8 - 4.302653 * 0.1 / math.sqrt(3), rel=1e-5) and high == pytest.approx(-1.6 - low)
    assert all(math.isnan(bound) for bound in interval(-0.8, [-0.7]))
    check = Check("x", -0.8, "t", -1.5, -0.5, "n", low, high, kind=CALIBRATION_TARGET, reason="fitted")
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
