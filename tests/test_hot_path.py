"""The hot path's shortcuts give exactly what the plain computation gives.

Each shortcut (charges worked out once per trade, needs screened a block at a time and handled
without an event when nothing comes before them, listing terms kept for the day, a maker's
unchanged ladder left as it is, rows packed into one buffer) is checked against the computation
it replaces, so a shortcut that drifts from the model fails here rather than in a KPI.
"""

from __future__ import annotations

import bisect
from array import array

import numpy as np
import pandas as pd
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SCENARIOS, quick
from sim.engine import build
from sim.market.costs import Charge, CostSchedule, Relief
from sim.market.investors import InvestorGroup
from sim.market import market_maker
from sim.market.market_maker import MarketMaker
from sim.recorder import TRADE_COLUMNS, Table
from sim.market.levers import Dated
from sim.market.payers import LIQUIDITY_PROVIDERS, Payer
from sim.runs import run

@settings(max_examples=300, deadline=None)
@given(
    value=st.integers(1, 10**12),
    day=st.integers(0, 30),
    buyer=st.sampled_from(list(Payer)),
    seller=st.sampled_from(list(Payer)),
    exempt=st.booleans(),
    duty=st.sampled_from([0.0, 0.0005, 0.001, 0.0013]),
    rebate=st.sampled_from([0.0, 0.5, 1.0]),
    retail_levy=st.sampled_from([0.0, 0.0001]),
    network=st.sampled_from([0, 50]),
)
def test_trade_charges_equal_the_two_sides_charged_separately(
    value, day, buyer, seller, exempt, duty, rebate, retail_levy, network
):
    """The one-call, both-sides charges equal each side charged on its own by the rules as written:
    duty and every fee its payer class owes, less the reliefs in force that day."""
    fees = [("trading_fee_bps", "operator", 0.565), ("sfc_levy_bps", "SFC", 0.27), ("afrc_levy_bps", "AFRC", 0.015),
            ("settlement_fee_bps", "settlement", 5.0)]
    charges = [Charge(name, collector, Dated.always(bps / 10_000.0)) for name, collector, bps in fees]
    charges.append(Charge("retail_levy", "levy", Dated.always(retail_levy), frozenset({Payer.RETAIL})))
    charges.append(Charge("stamp_duty", "government", Dated(duty, duty / 2, 5, 20), duty=True))
    reliefs = [Relief(frozenset(name for name, _, _ in fees), LIQUIDITY_PROVIDERS, Dated(rebate, 0.0, 10))]
    if exempt:
        reliefs.append(Relief(frozenset({"stamp_duty"}), LIQUIDITY_PROVIDERS, Dated.always(1.0)))
    collectors = {"operator": 1, "SFC": 2, "AFRC": 3, "settlement": 4, "government": 5, "network": 6, "levy": 7}
    costs = CostSchedule(charges, reliefs, collectors, network)

    def side(payer, selling):
        duty_rate = (duty if 5 <= day < 20 else duty / 2) * (0.0 if exempt and payer in LIQUIDITY_PROVIDERS else 1.0)
        kept = 1.0 - (rebate if day >= 10 and payer in LIQUIDITY_PROVIDERS else 0.0)
        owed = [(collectors[collector], bps / 10_000.0, kept) for _, collector, bps in fees]
        if payer == Payer.RETAIL and retail_levy:
            owed.append((7, retail_levy, 1.0))
        paid = [(collector, round(value * rate * share)) for collector, rate, share in owed]
        if selling and network:
            paid.append((6, network))
        return (round(value * duty_rate) if duty_rate else 0), paid

    buyer_duty, buyer_fees = side(buyer, False)
    seller_duty, seller_fees = side(seller, True)
    credited = {}
    for collector, cents in buyer_fees + seller_fees:
        credited[collector] = credited.get(collector, 0) + cents
    if buyer_duty or seller_duty:
        credited[5] = buyer_duty + seller_duty
    charged = costs.trade_charges(value, day, buyer, seller)
    assert (charged.buyer_duty, charged.seller_duty) == (buyer_duty, seller_duty)
    assert (charged.buyer_fees, charged.seller_fees) == (sum(c for _, c in buyer_fees), sum(c for _, c in seller_fees))
    got = {}
    for collector, cents in charged.credits:
        got[collector] = got.get(collector, 0) + cents
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in credited.items() if v}
    assert costs.rate_for(buyer, day) == pytest.approx(
        (buyer_duty + sum(c for _, c in buyer_fees)) / value, abs=len(buyer_fees) / value)  # each charge rounds to a cent


def handling_each_need_afresh(handle_need):
    """`handle_need` with the group's per-day listing terms, each line's open listings and an
    instrument's standing line forgotten before every need: each looked up afresh."""

    def afresh(self, need):
        self._terms_day = None
        for interest in self.interests:
            interest.always = None
            for line in interest.lines:
                line.open_listings.clear()
        return handle_need(self, need)

    return afresh


def frames(result) -> list[pd.DataFrame]:
    return [result.trades, result.daily, result.groups, result.settlement]


@pytest.mark.parametrize("name", ["baseline", "stablecoin_settlement"])
def test_needs_refused_without_an_event_leave_every_table_unchanged(name, monkeypatch):
    scenario = quick(name, "horizon_days=4")
    shortcut = run(scenario, seed=5)

    def every_need(self, interests, open_bits):  # every need reaches handle_need
        return np.ones(len(interests), dtype=bool)

    monkeypatch.setattr(InvestorGroup, "_usable", every_need)
    plain = run(scenario, seed=5)
    assert shortcut.kpis == plain.kpis
    for fast, slow in zip(frames(shortcut), frames(plain)):
        pd.testing.assert_frame_equal(fast, slow)


@pytest.mark.parametrize("name, lever", [
    ("stamp_duty_2021_hike", "policy.stamp_duty.conventional_etf.from_day=2"),
    ("stablecoin_settlement", "policy.tokenized_cash.from_day=3"),
    ("regular_bond_issuance", "horizon_days=15"),  # a new issue opens and trades
])
def test_lookups_kept_per_day_and_per_line_give_the_run_of_fresh_lookups(name, lever, monkeypatch):
    """A group's listing terms kept for the day, a line's listings kept per pattern of open venues
    and an instrument's line taken without asking whether it is tradable, against looking each
    up afresh for every need, in runs whose duty, settlement or set of open issues changes."""
    scenario = quick(name, lever)
    kept = run(scenario, seed=8)
    monkeypatch.setattr(InvestorGroup, "handle_need", handling_each_need_afresh(InvestorGroup.handle_need))
    fresh = run(scenario, seed=8)
    pd.testing.assert_series_equal(pd.Series(kept.kpis), pd.Series(fresh.kpis))
    for fast, slow in zip(frames(kept), frames(fresh)):
        pd.testing.assert_frame_equal(fast, slow)


@pytest.mark.parametrize("name", ["baseline", "regular_bond_issuance"])
def test_needs_handled_before_the_next_event_without_one_leave_every_table_unchanged(name, monkeypatch):
    scenario = quick(name, "horizon_days=4")
    shortcut = run(scenario, seed=5)
    monkeypatch.setattr(simpy.Environment, "peek", lambda self: 0.0)  # every need waits for its own event
    plain = run(scenario, seed=5)
    pd.testing.assert_series_equal(pd.Series(shortcut.kpis), pd.Series(plain.kpis))
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


@pytest.mark.parametrize("name", ["baseline", "retail_access"])
def test_screened_needs_are_the_needs_a_need_by_need_loop_computes(name):
    """The block screen (numpy) gives every need the time, day, draws and verdict of the scalar loop."""
    model = build(quick(name), seed=3)
    for group in model.groups:
        columns = group._draw_block(500)
        active = np.cumsum(columns[0] / group.params.needs_per_day)
        screened = group._screen(active, columns, day=0)
        start_hour, end_hour = group.params.active_hours
        weights = list(group.params.interest.values())
        cumulative = [sum(weights[: k + 1]) / sum(weights) for k in range(len(weights))]
        needs, previous_day = screened.needs, 0
        venues = {listing.venue for interest in group.interests for line in interest.lines for listing in line.listings}
        visits = zip(screened.visits, screened.visit_days, screened.visit_usable)
        draws = zip(active.tolist(), *[column.tolist() for column in columns[1:]])
        for i, (clock, gain, side, size, account, choice, pick) in enumerate(draws):
            day = int(clock)
            t = day + start_hour / 24.0 + (clock - day) * ((end_hour - start_hour) / 24.0)
            k = bisect.bisect_right(cumulative, pick)
            local = int(account * group.params.accounts)
            onboarded = local < group.onboarded_accounts[min(day, len(group.onboarded_accounts) - 1)]
            open_to_account = {
                venue.index for venue in venues if (onboarded or venue.form != "tokenized") and venue.is_open(t)
            }
            usable = any(listing.venue.index in open_to_account for line in group.interests[k].lines
                         for listing in line.listings)
            assert (screened.times[i], screened.usable[i]) == (t, usable)
            if usable or day != previous_day:
                assert next(visits) == (i, day, usable)
            previous_day = day
            if usable:
                low = cumulative[k - 1] if k else 0.0
                assert next(needs) == (
                    t, day, k, (pick - low) / (cumulative[k] - low), local, sum(1 << v for v in open_to_account),
                    1 if side < 0.5 else -1, size, gain * group.params.gain_mean_bps, choice,
                )
        assert next(needs, None) is None and next(visits, None) is None


LIMITS = {"b": 2**7, "i": 2**31, "q": 2**63}
VALUE = {"d": st.floats(allow_nan=False), **{code: st.integers(-bound, bound - 1) for code, bound in LIMITS.items()}}


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(st.tuples(*(VALUE[code] for code in TRADE_COLUMNS.values())), max_size=20),
    settled=st.integers(-(2**31), 2**31 - 1),
)
def test_packed_rows_give_the_frame_and_columns_of_typed_arrays(rows, settled):
    table = Table(TRADE_COLUMNS)
    assert [table.add(*row) for row in rows] == list(range(len(rows)))
    plain = {name: array(code, [row[i] for row in rows]) for i, (name, code) in enumerate(TRADE_COLUMNS.items())}
    if rows:
        table.columns["settled_day"][-1] = plain["settled_day"][-1] = settled
        assert table.columns["fails"][0] == plain["fails"][0]
    assert {name: list(column) for name, column in table.columns.items()} == {n: list(c) for n, c in plain.items()}
    expected = pd.DataFrame({name: np.array(column) for name, column in plain.items()})
    pd.testing.assert_frame_equal(table.frame(), expected, check_exact=True)
    assert len(table) == len(rows) and table.row_bytes * len(rows) <= table.nbytes()


@pytest.mark.parametrize("name", ["baseline", "tokenized_gold"])
def test_makers_sharing_a_clock_record_the_same_run_as_one_process_each(name, monkeypatch):
    """Makers on one venue and interval requote in one SimPy process, in the order separate ones would."""
    scenario = quick(name, "horizon_days=3")
    model = build(scenario, seed=4)
    assert any(len(makers) > 1 for makers in market_maker.sharing_clocks(model.market_makers))
    model.env.run()
    shared = [model.recorder.trades.frame(), model.recorder.quotes.frame()]

    monkeypatch.setattr(market_maker, "sharing_clocks", lambda makers: [[maker] for maker in makers])
    model = build(scenario, seed=4)
    model.env.run()
    for fast, slow in zip(shared, [model.recorder.trades.frame(), model.recorder.quotes.frame()]):
        pd.testing.assert_frame_equal(fast, slow)


@pytest.mark.parametrize("name", ["baseline", "tokenized_gold"])
def test_makers_that_trust_an_untouched_book_record_the_same_run(name, monkeypatch):
    """A maker takes its ladder as intact, without looking its orders up, while its book has had no
    cancel and no fill since the maker last saw it intact."""

    def outcome():
        model = build(quick(name, "horizon_days=3"), seed=6)
        model.env.run()
        books = [listing.book for listing in model.listings if listing.book]
        counts = [(book.limit_orders(), book.cancels, book.taken) for book in books]
        return [model.recorder.trades.frame(), model.recorder.quotes.frame()], counts

    trusted, trusted_counts = outcome()
    original = MarketMaker.requote

    def always_look_up(self, t, sample):
        self._untouched = None  # forget the book's marks: every requote looks its orders up
        original(self, t, sample)

    monkeypatch.setattr(MarketMaker, "requote", always_look_up)
    looked_up, looked_up_counts = outcome()
    assert trusted_counts == looked_up_counts and sum(taken for *_, taken in trusted_counts) > 0
    for fast, slow in zip(trusted, looked_up):
        pd.testing.assert_frame_equal(fast, slow)


def without_shortcuts(monkeypatch) -> None:
    """Every shortcut of the hot path off at once: each need visited and given its own event, its
    listing terms and open listings looked up afresh, every ladder priced and looked up anew,
    and each maker on a clock process of its own."""
    requote = MarketMaker.requote

    def anew(self, t, sample):
        self._inputs = self._untouched = None
        requote(self, t, sample)

    monkeypatch.setattr(InvestorGroup, "_usable", lambda self, interests, bits: np.ones(len(interests), dtype=bool))
    monkeypatch.setattr(InvestorGroup, "handle_need", handling_each_need_afresh(InvestorGroup.handle_need))
    monkeypatch.setattr(simpy.Environment, "peek", lambda self: 0.0)
    monkeypatch.setattr(MarketMaker, "requote", anew)
    monkeypatch.setattr(market_maker, "sharing_clocks", lambda makers: [[maker] for maker in makers])


@pytest.mark.parametrize("name", sorted(path.stem for path in SCENARIOS.glob("*.yaml")))
def test_every_shipped_scenario_records_the_same_run_without_its_shortcuts(name, monkeypatch):
    scenario = quick(name, "horizon_days=5")
    kept = run(scenario, seed=9)
    without_shortcuts(monkeypatch)
    plain = run(scenario, seed=9)
    pd.testing.assert_series_equal(pd.Series(kept.kpis), pd.Series(plain.kpis))
    for fast, slow in zip(frames(kept) + [kept.issuance, kept.payments], frames(plain) + [plain.issuance, plain.payments]):
        pd.testing.assert_frame_equal(fast, slow)
