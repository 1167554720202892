"""Liquidity that moves: market makers that learn from order flow, informed traders, and venue shares.

Unit tests build the order flow directly; engine tests run the baseline, shortened, with a
second platform identical to the first (or dearer), or with an informed group of investors and
market makers that learn from flow.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import pytest

from conftest import SCENARIOS, quick
from sim.engine import build, simulate
from sim.invariants import check_invariants
from sim.kpis import compute_kpis
from sim.experiment.stats import paired_comparison
from sim.market.calendar import MINUTES_PER_DAY
from sim.market.orderbook import BUY, SELL
from sim.market.order_flow import OrderFlow
from sim.runs import run
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.schema import Scenario
from sim.tables import RunTables

SEEDS = (1, 2, 3, 4, 5)
LEARNS = ("venues.platform.listings.hk_tracker.market_maker.flow_half_life_minutes=30.0",
          "venues.platform.listings.hk_tracker.market_maker.adverse_selection_bps=20.0",
          "venues.platform.listings.hk_tracker.market_maker.flow_lean_bps=10.0",
          "venues.platform.listings.hk_tracker.market_maker.flow_size_cut=0.5")
INFORMED = ("investors.institutional.informed_lead_minutes=60.0",)


def test_order_flow_is_one_sided_after_buys_and_fades_by_half_each_half_life():
    flow = OrderFlow(half_life_days=1.0)
    assert flow.imbalance(0.0) == 0.0  # no flow yet
    flow.add(0.0, 100)
    assert flow.imbalance(0.5) == 1.0  # every recent taker bought
    flow.add(1.0, -100)  # one half-life later the buys weigh 50 against these sells' 100
    assert flow.imbalance(1.0) == pytest.approx((50 - 100) / 150, abs=0.01)
    believer = OrderFlow(half_life_days=1.0, prior_units=100)  # needs a quote size of flow to believe it
    believer.add(0.0, 10)
    assert believer.imbalance(0.0) == pytest.approx(10 / 110, abs=0.01)
    with pytest.raises(ValueError):
        OrderFlow(0.0)


def test_a_maker_that_learns_from_flow_widens_and_leans_towards_one_sided_buying():
    model = build(quick("baseline", *LEARNS), seed=1)
    maker = next(m for m in model.market_makers if m.listing.venue.name == "platform")
    key = maker.ladder_key(0.5)
    assert len(key) == 8 and key[-1] == 0.0  # the imbalance is part of what the ladder is priced from
    calm, bought = maker._ladder(*key[:-1], 0.0), maker._ladder(*key[:-1], 1.0)
    best = lambda ladder, side: [price for s, price, _ in ladder if s == side][0]  # noqa: E731
    mid = lambda ladder: (best(ladder, SELL) + best(ladder, BUY)) / 2  # noqa: E731
    assert mid(bought) > mid(calm)  # the mid leans towards the buyers
    assert best(bought, SELL) - best(bought, BUY) > best(calm, SELL) - best(calm, BUY)  # and the spread widens
    size = maker.params.quote_size_units
    assert [q for _, _, q in calm] == [size] * len(calm)  # the maker has room: every level at the quote size
    assert [q for _, _, q in bought] == [size // 2] * len(bought)  # all one way: half of it (`flow_size_cut` 0.5)
    assert [q for _, _, q in maker._ladder(*key[:-1], -0.5)] == [round(size * 0.75)] * len(calm)  # in proportion
    exchange = next(m for m in model.market_makers if m.listing.venue.name == "exchange")
    assert exchange.flow is None and len(exchange.ladder_key(0.5)) == 7  # the default: quotes ignore flow


def test_a_trades_price_impact_and_realized_spread_add_up_to_its_effective_spread():
    model = build(quick("baseline", *INFORMED), seed=3)
    simulate(model)
    tables = RunTables.from_model(model)
    trades, markouts = tables.trades, tables.markouts
    assert len(markouts) == len(trades) > 100
    effective = 2.0 * trades["taker_side"] * trades["premium_bps"]
    assert np.allclose(markouts["price_impact_bps"] + markouts["realized_spread_bps"], effective)
    # the impact is the value's move over the next hour, signed by the taker: informed takers buy before rises
    lead = 60.0 / MINUTES_PER_DAY
    first = trades.iloc[0]
    value = model.listings[int(first["listing"])].value
    move = value.at(first["time"] + lead) / first["fair_value_hkd"] - 1.0
    assert markouts["price_impact_bps"].iloc[0] == pytest.approx(2.0 * first["taker_side"] * move * 10_000.0)
    informed = (trades["taker_group"] == "institutional") & (trades["instrument"] == "hk_tracker")
    assert (markouts.loc[informed, "price_impact_bps"] >= 0.0).all()
    # the KPI is the value-weighted mean over what investors took on the listing
    kpis = compute_kpis(tables)
    mine = (trades["instrument"] == "hk_tracker") & (trades["venue_name"] == "platform") & trades["taker_group"].isin(
        ["retail", "institutional"])
    expected = np.average(markouts.loc[mine, "price_impact_bps"], weights=trades.loc[mine, "value_hkd"])
    assert kpis["price_impact_bps_hk_tracker_platform"] == pytest.approx(expected)


def test_informed_needs_trade_on_the_side_the_value_is_going():
    result = run(quick("baseline", *INFORMED), seed=2)
    trades = result.trades
    informed = trades[(trades["taker_group"] == "institutional") & (trades["instrument"] == "hk_tracker")]
    assert len(informed) > 20
    lead = 60.0 / MINUTES_PER_DAY
    value = next(l.value for l in build(quick("baseline", *INFORMED), seed=2).listings if l.instrument == "hk_tracker")
    moves = np.array([value.at(t + lead) - value.at(t) for t in informed["time"]])
    sides = informed["taker_side"].to_numpy()
    moving = moves != 0
    assert (np.sign(moves[moving]) == sides[moving]).all()  # every informed need took the side of the coming move


def test_a_noisy_signal_points_the_right_way_as_often_as_its_accuracy_says():
    noisy = quick("baseline", *INFORMED, "investors.institutional.informed_accuracy=0.75")
    result = run(noisy, seed=2)
    trades = result.trades
    informed = trades[(trades["taker_group"] == "institutional") & (trades["instrument"] == "hk_tracker")]
    lead = 60.0 / MINUTES_PER_DAY
    value = next(l.value for l in build(noisy, seed=2).listings if l.instrument == "hk_tracker")
    moves = np.array([value.at(t + lead) - value.at(t) for t in informed["time"]])
    moving = moves != 0
    right = np.sign(moves[moving]) == informed["taker_side"].to_numpy()[moving]
    assert moving.sum() > 200
    # right about 3 times in 4 (a binomial's 99.9% band around 0.75); traded needs are selected on the gain,
    # and a wrong-way need has the same expected edge as a right one, so the selection does not tilt it
    half_width = 3.3 * math.sqrt(0.75 * 0.25 / moving.sum())
    assert abs(right.mean() - 0.75) < half_width
    # the edge is smaller, so the value moves less the takers' way after their trades than with a perfect signal
    perfect = run(quick("baseline", *INFORMED), seed=2).kpis["price_impact_bps_hk_tracker_platform"]
    assert result.kpis["price_impact_bps_hk_tracker_platform"] < 0.75 * perfect


def _runs(scenario: Scenario, name: str) -> list[dict]:
    return [{"scenario": name, "replication": seed, **run(scenario, seed=seed).kpis} for seed in SEEDS]


def test_informed_flow_widens_the_spreads_of_a_maker_that_learns_from_it():
    """Spreads and depth become outcomes: against informed takers a maker that learns from flow quotes wider
    and thinner than against the same flow uninformed; a maker that ignores flow quotes the same either way."""
    rows = (_runs(quick("baseline", *LEARNS, *INFORMED), "learning_informed")
            + _runs(quick("baseline", *LEARNS), "learning_uninformed")
            + _runs(quick("baseline", *INFORMED), "fixed_informed") + _runs(quick("baseline"), "fixed_uninformed"))
    table = paired_comparison(pd.DataFrame(rows), {"learning_informed": "learning_uninformed",
                                                   "fixed_informed": "fixed_uninformed"},
                              ["spread_bps_hk_tracker_platform", "discovery_bps_hk_tracker_platform",
                               "depth_hkd_hk_tracker_platform", "price_impact_bps_hk_tracker_platform",
                               "realized_spread_bps_hk_tracker_platform"])
    spread = table[table["kpi"] == "spread_bps_hk_tracker_platform"].set_index("policy")
    learning, fixed = spread.loc["learning_informed"], spread.loc["fixed_informed"]
    assert learning["ci_low"] > 0.0  # wider, beyond seed noise
    assert learning["difference"] > abs(fixed["difference"]) + 1.0
    # informed takers leave the value moving their way: a price impact, and less kept by the maker that served them
    for policy in ("learning_informed", "fixed_informed"):
        impact = table[table["kpi"] == "price_impact_bps_hk_tracker_platform"].set_index("policy").loc[policy]
        realized = table[table["kpi"] == "realized_spread_bps_hk_tracker_platform"].set_index("policy").loc[policy]
        assert impact["ci_low"] > 10.0 and realized["ci_high"] < 0.0
    depth = table[table["kpi"] == "depth_hkd_hk_tracker_platform"].set_index("policy")
    assert depth.loc["learning_informed", "ci_high"] < 0.0  # thinner at the touch after one-sided flow
    assert abs(depth.loc["fixed_informed", "difference"]) < abs(depth.loc["learning_informed", "difference"]) / 2
    # and its quotes now lean towards where the value is going: they discover it from the flow
    discovery = table[table["kpi"] == "discovery_bps_hk_tracker_platform"].set_index("policy")
    assert discovery.loc["learning_informed", "ci_low"] > 0.0
    assert discovery.loc["learning_informed", "difference"] > 2 * abs(discovery.loc["fixed_informed", "difference"])


def _two_platforms(fee_bps_b: float | None = None) -> Scenario:
    """The baseline with a second platform, `platform_b`, identical to the first (its trading fee `fee_bps_b` if given)."""
    data = quick("baseline").document()
    twin = copy.deepcopy(data["venues"]["platform"])
    if fee_bps_b is not None:
        twin["fees"]["trading_fee_bps"] = fee_bps_b
    data["venues"]["platform_b"] = twin
    data["measured_against"] = None
    return Scenario.model_validate(data)


def _share_difference(scenario: Scenario) -> pd.Series:
    rows = []
    for seed in SEEDS:
        kpis = run(scenario, seed=seed).kpis
        rows.append({"scenario": "a", "replication": seed, "share": kpis["venue_share_platform"]})
        rows.append({"scenario": "b", "replication": seed, "share": kpis["venue_share_platform_b"]})
    return paired_comparison(pd.DataFrame(rows), {"a": "b"}, ["share"]).iloc[0]


def test_symmetric_venues_share_the_volume_equally_within_the_interval():
    row = _share_difference(_two_platforms())
    assert row["n"] == len(SEEDS)
    assert row["ci_low"] <= 0.0 <= row["ci_high"]
    assert row["comparator_mean"] > 0.005  # the platforms do trade


def test_a_cost_advantage_moves_volume_to_the_cheaper_venue():
    row = _share_difference(_two_platforms(fee_bps_b=10.0))
    assert row["ci_low"] > 0.0  # the cheaper platform takes more, beyond seed noise
    assert row["policy_mean"] > 1.5 * row["comparator_mean"]


def test_venue_shares_add_up_over_the_horizon_and_its_quarters():
    kpis = run(quick("baseline", "horizon_days=8"), seed=1).kpis
    for part in ("", "_first_quarter", "_last_quarter"):
        total = sum(kpis[f"venue_share_{venue}{part}"] for venue in ("exchange", "otc", "platform"))
        assert total == pytest.approx(1.0) or math.isclose(total, 0.0)


GAPS = ("conversions.hk_tracker={}",  # an arbitrageur across forms, and a platform whose mid runs after the flow
        "venues.platform.listings.hk_tracker.market_maker.flow_half_life_minutes=60.0",
        "venues.platform.listings.hk_tracker.market_maker.base_half_spread_bps=1.0",
        "venues.platform.listings.hk_tracker.market_maker.flow_lean_bps=100.0",
        "venues.platform.fees.trading_fee_bps=1.0", *INFORMED)


def test_conversion_conserves_units_across_the_forms():
    """Units the arbitrageur sends out of one form all arrive in the other: across both forms the units
    held at the end are those at the start plus the authorised participant's net creations."""
    model = build(quick("baseline", "horizon_days=12", *GAPS), seed=1)
    simulate(model)
    check_invariants(model)
    ledger = model.ledger
    assets = sorted({l.asset for l in model.listings if l.instrument == "hk_tracker"})
    held = sum(sum(ledger.units[a]) for a in assets)
    created = model.recorder.creations.frame()
    tracker = [l.index for l in model.listings if l.instrument == "hk_tracker"]
    net_created = int(created.loc[created["listing"].isin(tracker), "created_units"].sum())
    assert held == sum(ledger.issued_units[a] for a in assets) + net_created
    conversions = model.recorder.conversions.frame()
    assert len(conversions) > 0 and {tuple(p) for p in conversions[["from_asset", "to_asset"]].to_numpy()} == {
        (assets[0], assets[1]), (assets[1], assets[0])}  # both ways
    converter = model.converters[0]
    assert converter.in_transit == {"conventional": 0, "tokenized": 0}  # everything sent has arrived


def test_a_conversion_takes_its_days_and_its_fee():
    model = build(quick("baseline", "horizon_days=12", "conversions.hk_tracker={days: 2, fee_bps: 5.0}"), seed=1)
    converter, ledger = model.converters[0], model.ledger
    account, conventional, tokenized = converter.account, converter.assets["conventional"], converter.assets["tokenized"]
    ledger.units[tokenized][account] -= 1_000  # as if it had sold 1,000 tokens on the platform
    ledger.issued_units[tokenized] -= 1_000
    ledger.units[conventional][account] += 1_000  # and bought as many units on the exchange
    ledger.issued_units[conventional] += 1_000
    cash, custodian_cash = ledger.cash[account], ledger.cash[converter.custodian]
    converter._convert(model.env, "conventional", "tokenized", 0.0)
    assert converter.in_transit["tokenized"] == 1_000 and ledger.units[tokenized][account] == 99_000
    fee = ledger.cash[converter.custodian] - custodian_cash
    value = 1_000 * next(l for l in model.listings if l.asset == conventional).value.at(0.0)
    assert fee == round(value * 100 * 5.0 / 10_000.0) and ledger.cash[account] == cash - fee
    model.env.run(until=1.99)
    assert ledger.units[tokenized][account] == 99_000  # not yet: two business days
    model.env.run(until=2.01)
    assert ledger.units[tokenized][account] == 100_000 and converter.in_transit["tokenized"] == 0


def test_conversion_needs_an_order_book_in_each_form():
    with pytest.raises(ScenarioError, match="order-book listing"):
        quick("baseline", "conversions.green_bond={}")


def test_responsive_adoption_follows_bass_without_news_speeds_up_with_an_advantage_and_stalls_without_one():
    from sim.market.adoption import ResponsiveAdoption, bass_share
    days, dt = 250, 1.0 / 250

    def path(conventional_bps: float | None, tokenized_bps: float | None) -> list[float]:
        adoption = ResponsiveAdoption(0.05, 0.1, 1.0, 20.0, dt)
        shares = [adoption.share]
        for _ in range(days):
            if conventional_bps is not None:
                adoption.record("conventional", conventional_bps, 1e6)
                adoption.record("tokenized", tokenized_bps, 1e6)
            shares.append(adoption.next_day())
        return shares

    plain, cheaper, dearer = path(None, None), path(30.0, 10.0), path(10.0, 40.0)
    assert plain[-1] == pytest.approx(bass_share(1.0, 0.05, 0.1, 1.0), abs=2e-3)  # the Bass curve, stepped by day
    assert cheaper[-1] > plain[-1] > dearer[-1]
    assert all(b >= a for a, b in zip(dearer, dearer[1:]))  # never falls
    # 30 bp dearer at a scale of 20 stops imitation: only innovation onboards
    innovation_only = bass_share(1.0, 0.05, 0.1, 0.0)
    assert dearer[-1] == pytest.approx(innovation_only, abs=0.01)


ADAPTS = ("investors.retail.adoption.advantage_scale_bps=20.0", "measured_against=null", "horizon_days=30")


def test_a_dearer_tokenized_channel_slows_responsive_adoption_and_only_onboarded_accounts_use_it():
    shares = {}
    for duty in (0.0, 0.002):
        model = build(quick("retail_access", *ADAPTS, f"policy.stamp_duty.tokenized_etf.rate_per_side={duty}"), seed=3)
        simulate(model)
        check_invariants(model)
        retail = next(group for group in model.groups if group.params.retail)
        shares[duty] = retail.onboarded_shares[-1]
        trades = model.recorder.trades.frame()
        platform = [l.index for l in model.listings if l.venue.form == "tokenized"]
        taker = np.where(trades["taker_side"] == BUY, trades["buyer"], trades["seller"])
        local = taker - retail.first_account
        mine = (local >= 0) & (local < retail.params.accounts) & trades["listing"].isin(platform).to_numpy()
        onboarded = np.array(retail.onboarded_accounts)[trades["day"].to_numpy()[mine]]
        assert mine.any() and (local[mine] < onboarded).all()  # each one onboarded on the day it traded there
    assert shares[0.002] < shares[0.0]


def test_with_informed_flow_the_exchange_etf_stays_one_tick_wide_as_hkex_reports():
    """The sweep's exchange maker is held to what HKEX reports for liquid ETFs: the quote one tick wide at
    least 90% of the time (calibration.md), with the informed group trading against it."""
    model = build(load_scenario(SCENARIOS / "liquidity_migration.yaml", ["horizon_days=10"]), seed=1)
    simulate(model)
    quotes = RunTables.from_model(model).quotes
    listing = next(l for l in model.listings if l.instrument == "hk_tracker" and l.venue.name == "exchange")
    mine = quotes[quotes["listing"] == listing.index]
    assert len(mine) > 500
    assert ((mine["ask_cents"] - mine["bid_cents"]) <= listing.tick_cents).mean() >= 0.9


def test_the_migration_sweep_plans_measured_kpis_and_its_figures_show_them(tmp_path):
    from sim.cli import main
    from sim.kpis import declared_kpis
    path = "scenarios/liquidity_migration.yaml"
    scenario = load_scenario(path)
    declared = {kpi.name for kpi in declared_kpis(scenario)}
    assert scenario.experiment.kpis and set(scenario.experiment.kpis) <= declared
    assert scenario.counterfactual  # the swept duty is one the law does not charge
    status = main(["sweep", path, "--set", "horizon_days=2", "--set", "investors.retail.accounts=500",
                   "--set", "investors.institutional.accounts=40", "--reps", "1", "--workers", "1",
                   "--param", "policy.stamp_duty.tokenized_etf.rate_per_side=0,0.002", "--out", str(tmp_path), "--quiet"])
    assert status == 0
    figures = sorted(p.name for p in tmp_path.glob("*/figures/*.png"))
    assert figures == sorted(f"response_{kpi}.png" for kpi in scenario.experiment.kpis)


def test_the_report_shows_a_sweep_run_beside_the_comparison(tmp_path):
    from sim.cli import main
    from sim.report.document import build_report
    small = ["--set", "horizon_days=2", "--set", "investors.retail.accounts=500", "--set",
             "investors.institutional.accounts=40"]
    status = main(["report", "scenarios/baseline.yaml", "scenarios/stamp_duty_waiver.yaml", "--sweep",
                   "scenarios/liquidity_migration.yaml", *small, "--reps", "1", "--workers", "1", "--quiet",
                   "--out", str(tmp_path)])
    assert status == 0
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Liquidity migration (liquidity_migration)" in html and "<h2>Liquidity migration</h2>" in html
    # its numbers come from a duty the law does not charge: the section says so, and what the sweep is
    assert "A counterfactual (it departs on purpose from Hong Kong law or practice): charges stamp duty on " \
           "tokenized ETF units at the swept rates" in html
    assert "where the volume goes, and what happens to spreads on both venues" in html
    folder = next(tmp_path.glob("compare-*"))
    sweep = folder / "sweeps" / "liquidity_migration"
    assert len(list((sweep / "runs").glob("*.json"))) == 4 * 3  # every swept value, the plan's replications
    shown = json.loads((sweep / "figure_kpis.json").read_text(encoding="utf-8"))
    assert shown["labels"]["spread_bps_hk_tracker_exchange"] == "Quoted spread, hk_tracker on exchange"
    rebuilt = tmp_path / "again"
    build_report(folder, rebuilt)  # from the folder alone: the sweep is found there
    assert "Liquidity migration (liquidity_migration)" in (rebuilt / "report.html").read_text(encoding="utf-8")


def test_a_sweep_for_the_report_needs_a_plan():
    from sim.cli import main
    assert main(["report", "scenarios/baseline.yaml", "scenarios/stamp_duty_waiver.yaml", "--sweep",
                 "scenarios/baseline.yaml", "--set", "horizon_days=2", "--quiet"]) == 2
