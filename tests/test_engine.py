"""End-to-end runs: determinism, invariants, policy direction, settlement and shipped scenarios."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import SCENARIOS, quick
from sim.engine import build
from sim.invariants import check_invariants
from sim.kpis import declared_kpis
from sim.market.ledger import AccountingError
from sim.runs import run

REQUIRED_KPIS = {
    "turnover_hkd_tokenized", "turnover_hkd_conventional", "tokenized_share", "stamp_duty_hkd",
    "investor_cost_hkd", "avg_spread_bps_tokenized", "avg_spread_bps_conventional",
}


def test_same_seed_gives_identical_tables(baseline):
    first, second = run(baseline, seed=11), run(baseline, seed=11)
    pd.testing.assert_frame_equal(first.trades, second.trades)
    pd.testing.assert_frame_equal(first.daily, second.daily)
    assert first.kpis == second.kpis


def test_different_seeds_differ(baseline):
    assert run(baseline, seed=1).kpis != run(baseline, seed=2).kpis


def test_kpis_are_declared_and_finite(baseline):
    kpis = run(baseline, seed=3).kpis
    assert REQUIRED_KPIS <= set(kpis)
    declared = [kpi.name for kpi in declared_kpis(baseline)]
    assert list(kpis)[: len(declared)] == declared
    assert "margin_mean_hkd_exchange" in kpis and "exposure_mean_hkd_platform" in kpis
    assert kpis["turnover_hkd_tokenized"] > 0 and kpis["turnover_hkd_conventional"] > 0
    assert 0 < kpis["tokenized_share"] < 1
    assert kpis["avg_spread_bps_tokenized"] > kpis["avg_spread_bps_conventional"] > 0


def test_waiver_raises_tokenized_turnover_and_collects_no_duty_on_it():
    """Same seed, so the same NAV path and needs: only the duty differs."""
    days = "horizon_days=30"
    base = run(quick("tokenized_etf_duty", days), seed=5)  # the counterfactual the waiver is measured against
    waiver = run(quick("stamp_duty_waiver", days), seed=5)
    assert waiver.kpis["turnover_hkd_tokenized"] > base.kpis["turnover_hkd_tokenized"]
    tokenized = waiver.trades[waiver.trades["form"] == "tokenized"]
    assert len(tokenized) > 0
    assert (tokenized["buyer_duty_cents"] == 0).all() and (tokenized["seller_duty_cents"] == 0).all()
    assert base.kpis["stamp_duty_hkd"] > 0


def test_duty_is_charged_exactly_in_its_window():
    scenario = quick(
        "baseline",
        "horizon_days=10",
        "investors.institutional.accounts=200",  # enough tokenized ETF trading to meet both kinds of day
        "policy.stamp_duty.tokenized_etf={rate_per_side: 0.0, from_day: 3, to_day: 6, otherwise_rate_per_side: 0.001}",
    )
    trades = run(scenario, seed=6).trades  # every buyer pays: no relief is in force
    tokenized = trades[(trades["form"] == "tokenized") & (trades["instrument_type"] == "etf")]
    duty_days = set(tokenized.loc[tokenized["buyer_duty_cents"] > 0, "day"])
    free_days = set(tokenized.loc[tokenized["buyer_duty_cents"] == 0, "day"])
    assert duty_days and free_days
    assert duty_days.isdisjoint({3, 4, 5})
    assert free_days <= {3, 4, 5}


def test_market_makers_pay_duty_unless_the_counterfactual_exemption_is_on():
    charged = run(quick("tokenized_etf_duty"), seed=6).trades
    etf = (charged["form"] == "tokenized") & (charged["instrument_type"] == "etf")
    maker_buys = charged[etf & (charged["buyer_group"] == "market_maker")]
    assert len(maker_buys) > 0 and (maker_buys["buyer_duty_cents"] > 0).all()
    exempt = run(quick("tokenized_etf_duty", "policy.stamp_duty.market_maker_exempt=true"), seed=6).trades
    etf = (exempt["form"] == "tokenized") & (exempt["instrument_type"] == "etf")
    maker_buys = exempt[etf & (exempt["buyer_group"] == "market_maker")]
    assert len(maker_buys) > 0 and (maker_buys["buyer_duty_cents"] == 0).all()


def test_every_trade_settles_on_its_cycle_plus_its_fails():
    scenario = quick("baseline", "venues.exchange.fail_probability_at_t2=0.0201")  # residual fails, so some occur
    trades = run(scenario, seed=7).trades
    cycles = {name: 0 if venue.settlement() == "book_entry" else venue.settlement_cycle_days
              for name, venue in scenario.venues.items()}
    expected = trades["day"] + trades["venue_name"].map(cycles) + trades["fails"]
    assert (trades["settled_day"] == expected).all()
    assert trades["fails"].sum() > 0


def test_unsettled_value_follows_littles_law():
    """With daily traded value V and a cycle of L days, about V * L is outstanding each night."""
    scenario = quick(
        "baseline", "horizon_days=20", "venues.exchange.settlement_cycle_days=3", "venues.exchange.fail_probability_at_t2=0"
    )
    daily = run(scenario, seed=8).daily
    exchange = daily[(daily["venue_name"] == "exchange") & (daily["day"] >= 3)]
    ratio = exchange["unsettled_hkd"].mean() / (3 * daily.loc[daily["venue_name"] == "exchange", "volume_hkd"].mean())
    assert 0.85 < ratio < 1.15
    dvp = run(quick("baseline", "horizon_days=20", "venues.platform.settlement_model=dvp"), seed=8).daily
    assert (dvp.loc[dvp["venue_name"] == "platform", "unsettled_hkd"] > 0).any()
    atomic = run(quick("baseline", "venues.platform.settlement_model=dvp", "venues.platform.settlement_cycle_days=0"),
                 seed=8).daily
    assert (atomic.loc[atomic["venue_name"] == "platform", "unsettled_hkd"] == 0).all()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda ledger: ledger.units[1].__setitem__(5, ledger.units[1][5] + 1),
        lambda ledger: ledger.cash.__setitem__(0, ledger.cash[0] - 1),
        lambda ledger: ledger.units[0].__setitem__(-1, -ledger.units[0][-1] - 10),
        lambda ledger: ledger.cash_pending_out.__setitem__(3, 1),
        lambda ledger: ledger.created_units.__setitem__(0, ledger.created_units[0] + 100),
    ],
    ids=["units created", "cash lost", "negative holding", "cash left pending", "creation miscounted"],
)
def test_corrupted_ledger_is_caught(baseline, tamper):
    model = build(baseline, seed=9)
    model.env.run()
    check_invariants(model)
    tamper(model.ledger)
    with pytest.raises(AccountingError):
        check_invariants(model)


def test_unsettled_trade_is_caught(baseline):
    model = build(baseline, seed=9)
    model.env.run()
    model.recorder.trades.columns["settled_day"][0] = -1
    with pytest.raises(AccountingError, match="neither settled nor failed"):
        check_invariants(model)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_runs(path):
    result = run(quick(path.stem), seed=1)
    assert len(result.trades) > 0
    assert set(result.daily["day"]) == set(range(result.scenario.horizon_days))
