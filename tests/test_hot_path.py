"""The hot path's shortcuts give exactly what the plain computation gives.

Each shortcut (charges worked out once per trade, needs refused without an event while every
venue is shut, a maker's unchanged ladder left as it is) is checked against the computation it
replaces, so a shortcut that drifts from the model fails here rather than in a KPI.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import quick
from sim.engine import build, run
from sim.market.costs import CostSchedule
from sim.market.investors import InvestorGroup
from sim.market.market_maker import MarketMaker
from sim.scenario.schema import DutyLever, Fees, RebateLever

COLLECTORS = {"trading_fee_bps": 1, "sfc_levy_bps": 2, "afrc_levy_bps": 3, "settlement_fee_bps": 4}


@settings(max_examples=200, deadline=None)
@given(
    value=st.integers(1, 10**10),
    day=st.integers(0, 30),
    buyer_provider=st.booleans(),
    seller_provider=st.booleans(),
    exempt=st.booleans(),
    duty=st.sampled_from([0.0, 0.0005, 0.001, 0.0013]),
    rebate=st.sampled_from([0.0, 0.5, 1.0]),
    network=st.sampled_from([0.0, 0.5]),
)
def test_trade_charges_equal_the_two_sides_charged_separately(
    value, day, buyer_provider, seller_provider, exempt, duty, rebate, network
):
    costs = CostSchedule(
        Fees(trading_fee_bps=0.565, sfc_levy_bps=0.27, afrc_levy_bps=0.015, settlement_fee_bps=5.0,
             network_fee_hkd_per_transfer=network),
        DutyLever(rate_per_side=duty, from_day=5, to_day=20, otherwise_rate_per_side=duty / 2),
        exempt, RebateLever(share=rebate, from_day=10), COLLECTORS, government=5, network=6,
    )
    buyer_duty, buyer_fees = costs.side_charges(value, day, buyer_provider, selling=False)
    seller_duty, seller_fees = costs.side_charges(value, day, seller_provider, selling=True)
    credits = buyer_fees + seller_fees + ([(5, buyer_duty + seller_duty)] if buyer_duty or seller_duty else [])
    expected = (buyer_duty, seller_duty, sum(c for _, c in buyer_fees), sum(c for _, c in seller_fees), credits)
    assert costs.trade_charges(value, day, buyer_provider, seller_provider) == expected


def frames(result) -> list[pd.DataFrame]:
    return [result.trades, result.daily, result.groups, result.settlement]


@pytest.mark.parametrize("name", ["baseline", "stablecoin_settlement"])
def test_needs_refused_without_an_event_leave_every_table_unchanged(name, monkeypatch):
    scenario = quick(name, "horizon_days=4")
    shortcut = run(scenario, seed=5)
    monkeypatch.setattr(InvestorGroup, "_any_venue_open", lambda self, t, day, row: True)
    plain = run(scenario, seed=5)
    assert shortcut.kpis == plain.kpis
    for fast, slow in zip(frames(shortcut), frames(plain)):
        pd.testing.assert_frame_equal(fast, slow)


def test_makers_that_keep_an_unchanged_ladder_record_the_same_run(monkeypatch):
    scenario = quick("baseline", "horizon_days=3")
    model = build(scenario, seed=2)
    model.env.run()
    kept = [model.recorder.trades.frame(), model.recorder.quotes.frame()]
    assert sum(book.limit_orders() for book in (l.book for l in model.listings if l.book)) > 0

    original = MarketMaker.requote

    def always_recompute(self, t, sample):
        self._inputs = None  # forget what the ladder was priced from: it is recomputed every time
        original(self, t, sample)

    monkeypatch.setattr(MarketMaker, "requote", always_recompute)
    model = build(scenario, seed=2)
    model.env.run()
    for fast, slow in zip(kept, [model.recorder.trades.frame(), model.recorder.quotes.frame()]):
        pd.testing.assert_frame_equal(fast, slow)


@pytest.mark.parametrize("name", ["baseline", "tokenized_gold"])
def test_makers_sharing_a_clock_record_the_same_run_as_one_process_each(name, monkeypatch):
    """Makers on one venue and interval requote in one SimPy process, in the order separate ones would."""
    from sim import engine

    scenario = quick(name, "horizon_days=3")
    model = build(scenario, seed=4)
    assert any(len(makers) > 1 for makers in engine.sharing_clocks(model.market_makers))
    model.env.run()
    shared = [model.recorder.trades.frame(), model.recorder.quotes.frame()]

    monkeypatch.setattr(engine, "sharing_clocks", lambda makers: [[maker] for maker in makers])
    model = build(scenario, seed=4)
    model.env.run()
    for fast, slow in zip(shared, [model.recorder.trades.frame(), model.recorder.quotes.frame()]):
        pd.testing.assert_frame_equal(fast, slow)
