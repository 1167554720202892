"""Settlement models: prefunded book entry, delivery versus payment with caused fails, atomic DvP.

Component tests build a ledger, a settlement queue and (where a decision is tested) venues,
listings, dealers and an investor group by hand, with the helpers of `test_components`: a fair
value of HK$100 and a one-cent tick, so one basis point of fair value is one tick. Engine tests
run shortened shipped scenarios.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import quick
from sim.engine import build, simulate
from sim.invariants import check_invariants
from sim.market.costs import CostSchedule
from sim.market.dealer import Dealer
from sim.market.investors import Interest, InvestorGroup, Line, Need
from sim.market.ledger import CASH_SHORT, UNITS_SHORT, Ledger
from sim.market.levers import Dated
from sim.market.orderbook import BUY, SELL
from sim.market.payers import Payer
from sim.market.settlement import OPERATIONAL, PendingTrade, Settlement, prefunding_cost_bps_per_day
from sim.market.trading import Market
from sim.market.values import FairValue
from sim.market.venue import Listing, Venue
from sim.recorder import Recorder, TradeRow
from sim.runs import run
from sim.scenario.schema import Scenario
from sim.settlement_economics import FundingTerms, VenueSettlementTerms, settlement_economics
from test_components import dealer_spec, investor_spec, venue_spec

HORIZON = 12
ASSET = 0
FAIR_HKD = 100.0


class Books:
    """A ledger with one asset, a settlement queue for one listing and a buy-in agent holding 1,000 units."""

    def __init__(self, buy_in_after_fails: int | None = None, fail_probability: float = 0.0,
                 short_sellers: frozenset[str] = frozenset()) -> None:
        self.ledger = Ledger(n_assets=1)
        self.recorder = Recorder()
        self.agent = self.ledger.open_account("agent", "dealer", Payer.DEALER, 10_000_000, (1_000,))
        self.settlement = Settlement(self.ledger, self.recorder, [fail_probability], [np.random.default_rng(3)],
                                     HORIZON, buy_in_after_fails, [self.agent], short_sellers)

    def account(self, name: str, cash_cents: int = 0, units: int = 0, group: str = "investors") -> int:
        return self.ledger.open_account(name, group, Payer.INVESTOR, cash_cents, (units,))

    def trade(self, seller: int, buyer: int, quantity: int, value_cents: int, day: int, cycle_days: int) -> int:
        """Agree a trade as the market does (a row, a commitment) and submit it; return its number."""
        number = self.recorder.trades.add_record(TradeRow(
            day + 0.5, day, 0, value_cents // quantity, quantity, buyer, seller, BUY, FAIR_HKD, 0, 0, 0, 0, -1, 0))
        self.ledger.commit(ASSET, seller, buyer, quantity, value_cents, value_cents)
        self.settlement.submit(PendingTrade(number, 0, ASSET, seller, buyer, quantity, value_cents, value_cents,
                                            value_cents, []), day, cycle_days)
        return number

    def run(self, until: float | None = None) -> pd.DataFrame:
        env = simpy.Environment()
        env.process(self.settlement.process(env))
        env.run(until=until)
        return self.recorder.trades.frame()

    def conserved(self) -> bool:
        ledger = self.ledger
        outstanding = ledger.issued_units[ASSET] + ledger.created_units[ASSET] - ledger.redeemed_units[ASSET]
        return sum(ledger.units[ASSET]) == outstanding and sum(ledger.cash) == ledger.issued_cash


# -- delivery versus payment: a fail has a cause ---------------------------------------------------

def test_dvp_trades_whose_units_and_cash_are_there_never_fail_even_in_a_chain():
    books = Books()
    seller = books.account("seller", units=10)
    middle = books.account("middle", cash_cents=50_000)
    last = books.account("last", cash_cents=60_000)
    books.trade(seller, middle, 10, 50_000, day=0, cycle_days=2)
    assert books.ledger.sellable_units(ASSET, middle) == 10 and books.ledger.free_units(ASSET, middle) == 0
    books.trade(middle, last, 10, 60_000, day=1, cycle_days=1)  # due the same day: settled in the second pass
    trades = books.run()
    assert trades["fails"].tolist() == [0, 0] and trades["settled_day"].tolist() == [2, 2]
    assert books.ledger.units[ASSET][last] == 10 and books.ledger.cash[middle] == 60_000
    assert books.settlement.fails_by_cause == [[0, 0, 0, 0]]


def test_a_sale_of_units_from_a_failed_purchase_fails_in_turn_and_both_settle_once_the_units_arrive():
    books = Books()  # no buy-ins: failed trades wait for their cause to clear
    seller = books.account("seller")  # holds nothing: its sale fails (its own purchase elsewhere has not come)
    middle = books.account("middle", cash_cents=50_000)
    last = books.account("last", cash_cents=60_000)
    first = books.trade(seller, middle, 10, 50_000, day=0, cycle_days=2)
    onward = books.trade(middle, last, 10, 60_000, day=1, cycle_days=2)
    books.run(until=4.5)  # the ends of days 2 and 3 have passed
    trades = books.recorder.trades.frame()
    assert trades.loc[first, "fails"] == 2 and trades.loc[onward, "fails"] == 1  # day 3: the chain
    assert books.settlement.fails_by_cause[0][UNITS_SHORT] == 3 and books.settlement.fails_by_cause[0][OPERATIONAL] == 0
    books.ledger.create_units(ASSET, seller, 10)  # the seller's units arrive during day 4
    trades = books.run()  # a fresh clock: days 0-3 have nothing left due
    assert trades["settled_day"].tolist() == [4, 4]  # recycled: the onward sale settles once the first has
    assert books.ledger.units[ASSET][last] == 10 and books.conserved()
    assert books.settlement.outstanding_trades == [0]


def test_late_funding_a_purchase_paid_from_a_later_sale_fails_until_the_proceeds_arrive():
    books = Books()
    buyer = books.account("buyer", units=10)  # no cash: it pays from the proceeds of its sale
    seller = books.account("seller", units=10)
    taker = books.account("taker", cash_cents=50_000)
    sale = books.trade(buyer, taker, 10, 50_000, day=0, cycle_days=3)  # proceeds at the end of day 3
    assert books.ledger.spendable_cash(buyer) == 50_000 and books.ledger.free_cash(buyer) == 0
    purchase = books.trade(seller, buyer, 10, 50_000, day=0, cycle_days=2)  # payment due at the end of day 2
    trades = books.run()
    assert trades.loc[purchase, "fails"] == 1 and trades.loc[purchase, "settled_day"] == 3
    assert trades.loc[sale, "fails"] == 0 and trades.loc[sale, "settled_day"] == 3
    assert books.settlement.fails_by_cause[0][CASH_SHORT] == 1
    assert (books.ledger.units[ASSET][buyer], books.ledger.cash[buyer]) == (10, 0) and books.conserved()


def test_cash_locked_for_an_allocation_never_settles_a_trade():
    books = Books()
    seller = books.account("seller", units=10)
    buyer = books.account("buyer", cash_cents=50_000)
    books.ledger.lock_cash(buyer, 50_000)  # an issue's allocation awaits payment
    books.trade(seller, buyer, 10, 50_000, day=0, cycle_days=1)  # committed over the locked cash
    books.run(until=3.5)
    assert books.settlement.fails_by_cause[0][CASH_SHORT] == 2 and books.ledger.cash[buyer] == 50_000


@pytest.mark.parametrize("buy_in_after_fails", [1, 3])
def test_after_n_caused_fails_the_liquidity_provider_stands_in_for_the_seller(buy_in_after_fails):
    books = Books(buy_in_after_fails)
    seller = books.account("seller")  # never receives the units it sold
    buyer = books.account("buyer", cash_cents=50_000)
    books.trade(seller, buyer, 10, 50_000, day=0, cycle_days=2)
    trades = books.run()
    assert trades.loc[0, "fails"] == buy_in_after_fails
    assert trades.loc[0, "settled_day"] == 2 + buy_in_after_fails
    assert books.settlement.stood_in == [1]
    ledger = books.ledger
    assert (ledger.units[ASSET][buyer], ledger.cash[buyer]) == (10, 0)
    assert (ledger.units[ASSET][books.agent], ledger.cash[books.agent]) == (990, 10_050_000)
    assert (ledger.units[ASSET][seller], ledger.cash[seller]) == (0, 0)  # its sale lapsed
    assert ledger.units_pending_out[ASSET][seller] == 0 and ledger.cash_pending_in[seller] == 0
    assert books.conserved()


def test_after_a_late_funding_fail_the_liquidity_provider_stands_in_for_the_buyer():
    books = Books(buy_in_after_fails=1)
    seller = books.account("seller", units=10)
    buyer = books.account("buyer")  # has no cash and none coming
    books.trade(seller, buyer, 10, 50_000, day=0, cycle_days=2)
    trades = books.run()
    assert (trades.loc[0, "fails"], trades.loc[0, "settled_day"]) == (1, 3)
    assert books.ledger.units[ASSET][books.agent] == 1_010 and books.ledger.cash[seller] == 50_000
    assert books.ledger.units_pending_in[ASSET][buyer] == 0 and books.ledger.cash_pending_out[buyer] == 0


def test_a_short_seller_delivers_units_it_does_not_hold():
    books = Books(short_sellers=frozenset({"hedge_funds"}))
    short = books.account("short", group="hedge_funds")
    buyer = books.account("buyer", cash_cents=50_000)
    books.trade(short, buyer, 10, 50_000, day=0, cycle_days=2)
    trades = books.run()
    assert trades.loc[0, "fails"] == 0 and books.ledger.units[ASSET][short] == -10


def test_the_residual_operational_rate_fails_trades_whose_units_and_cash_are_there():
    books = Books(fail_probability=1.0, buy_in_after_fails=2)
    seller = books.account("seller", units=10)
    buyer = books.account("buyer", cash_cents=50_000)
    books.trade(seller, buyer, 10, 50_000, day=0, cycle_days=2)
    trades = books.run()
    assert (trades.loc[0, "fails"], trades.loc[0, "settled_day"]) == (2, 4)
    assert books.settlement.fails_by_cause[0][OPERATIONAL] == 2 and books.settlement.stood_in == [0]


# -- at the trade: book entry and atomic -------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_prefunded_book_entry_trades_never_fail(seed):
    """Random trades among random holders on a book-entry venue whose residual fail rate is 1:
    every trade is final at the trade, and nothing is ever outstanding."""
    rng = np.random.default_rng(seed)
    venue = Venue(dataclasses.replace(venue_spec(form="tokenized", cycle_days=2, fail_probability=1.0),
                                      settlement_model="book_entry"))
    books = Books(fail_probability=1.0, buy_in_after_fails=None)
    accounts = [books.account(f"a{k}", int(rng.integers(0, 10**6)), int(rng.integers(0, 50))) for k in range(5)]
    for _ in range(40):
        day = int(rng.integers(0, HORIZON))
        seller, buyer = rng.choice(accounts, 2, replace=False)
        quantity = min(int(rng.integers(1, 20)), books.ledger.free_units(ASSET, seller))
        value = quantity * int(rng.integers(100, 10_000))
        if quantity <= 0 or value > books.ledger.free_cash(buyer):
            continue  # what the investors' feasibility check refuses at the trade
        books.trade(int(seller), int(buyer), quantity, value, day, venue.cycle_on(day))
    trades = books.run()
    assert (trades["settled_day"] == trades["day"]).all() and (trades["fails"] == 0).all()
    assert books.settlement.outstanding_trades == [0] and books.conserved()
    assert min(books.ledger.units[ASSET]) >= 0 and min(books.ledger.cash) >= 0


def test_book_entry_atomic_and_dvp_venues_settle_and_prefund_as_their_models_say():
    book_entry = Venue(dataclasses.replace(venue_spec(form="tokenized", cycle_days=1), settlement_model="book_entry",
                                           book_entry_lead_days=2.0, atomic_lead_days=0.25,
                                           tokenized_cash=Dated(True, False, from_day=3)))
    assert [book_entry.cycle_on(day) for day in range(5)] == [0] * 5
    assert [book_entry.prefunding_lead_on(day) for day in range(5)] == [2.0, 2.0, 2.0, 0.25, 0.25]  # tokenized cash
    atomic = Venue(dataclasses.replace(venue_spec(form="tokenized", cycle_days=1), settlement_model="atomic"))
    assert (atomic.cycle_on(0), atomic.prefunding_lead_on(0), atomic.atomic(0)) == (0, 0.0, True)
    dvp = Venue(venue_spec(cycle_days=2))
    assert (dvp.cycle_on(0), dvp.prefunding_lead_on(0)) == (2, None)  # deferred: not prefunded
    same_day = Venue(venue_spec(cycle_days=0))
    assert (same_day.cycle_on(0), same_day.prefunding_lead_on(0)) == (0, 0.0)


def test_an_atomic_trade_settles_at_the_trade_through_the_market():
    market = Channels(("atomic", 0.0))
    market.group.handle_need(market.need(BUY))
    trades = market.recorder.trades.frame()
    assert len(trades) == 1 and trades.loc[0, "settled_day"] == trades.loc[0, "day"] == 1
    assert market.ledger.units[ASSET][market.investor] == 1_100


# -- prefunding in the investors' decision ------------------------------------------------------------

class Channels:
    """An investor with HK$1m and 1,000 units choosing between dealers on venues with the given
    (settlement model, book-entry lead days); the same quotes everywhere."""

    def __init__(self, *models: tuple[str, float], delay_cost_bps_per_day: float = 1.0) -> None:
        self.ledger = Ledger(n_assets=1)
        self.recorder = Recorder()
        collectors = {"operator": self.ledger.open_account("operator", "collector", Payer.COLLECTOR)}
        self.settlement = Settlement(self.ledger, self.recorder, [0.0] * len(models),
                                     [np.random.default_rng(0)] * len(models), HORIZON)
        self.market = Market(self.ledger, self.recorder, self.settlement)
        value = FairValue(np.full(HORIZON + 1, FAIR_HKD), steps_per_day=1)
        listings = []
        for index, (model, lead) in enumerate(models):
            spec = dataclasses.replace(venue_spec(kind="platform", form="tokenized", index=index, cycle_days=2),
                                       name=f"venue{index}", settlement_model=model, book_entry_lead_days=lead)
            listing = Listing(index, Venue(spec), "etf", "etf", ASSET, 1, CostSchedule([], [], collectors, 0), value)
            account = self.ledger.open_account(f"dealer{index}", "dealer", Payer.DEALER, 10**10, (10**6,))
            listing.provider = Dealer(account, listing, dealer_spec(inventory_limit_units=10**6), self.ledger)
            listing.provider.target_units = 10**6  # no inventory lean: the quote is fair value +- 11 ticks
            listings.append(listing)
        spec = investor_spec(accounts=1, settlement_delay_cost_bps_per_day=delay_cost_bps_per_day,
                             channel_logit_scale_bps=2.0)
        self.investor = self.ledger.open_account("investor", "investors", Payer.INVESTOR, 100_000_000, (1_000,))
        self.listings = listings
        self.group = InvestorGroup(0, spec, self.investor, [Interest([Line(value, 1, listings)], instrument=True)],
                                   [1.0] * HORIZON, self.market, self.ledger, self.recorder, np.random.default_rng(0))
        self.bits = sum(1 << listing.venue.index for listing in listings)

    def need(self, side: int, gain_bps: float = 100.0, choice_draw: float = 0.5, t: float = 1.25) -> Need:
        return Need(t, int(t), 0, 0.0, 0, self.bits, side, 0.0, gain_bps, choice_draw)

    def venues_chosen(self, side: int) -> list[int]:
        """The venue each of 50 needs (spread over the choice draw) trades on."""
        for k in range(50):
            self.group.handle_need(self.need(side, choice_draw=(k + 0.5) / 50))
        return self.recorder.trades.frame()["listing"].tolist()


def test_prefunding_a_purchase_costs_the_funding_rate_over_the_lead_and_the_time_of_day():
    """A need whose gain just covers the dealer's 11 bp crossing (10 bp of half-spread and a tick of
    rounding) buys on a book entry only while the prefunding cost, 4% a year over (lead + time of
    day) days, does not use up the rest."""
    per_day = prefunding_cost_bps_per_day(0.04)
    assert per_day == pytest.approx(400 / 365)
    for lead, gain, trades in [(0.0, 11.5, 1), (1.0, 11.5, 0), (1.0, 12.5, 1), (2.0, 12.5, 0)]:
        market = Channels(("book_entry", lead))
        # at t = 1.25 the cash has waited lead + 0.25 days: 0.27, 1.37, 1.37 and 2.47 bp
        assert market.group.handle_need(market.need(BUY, gain_bps=gain)) == bool(trades), (lead, gain)
    market = Channels(("book_entry", 2.0))
    assert market.group.handle_need(market.need(SELL, gain_bps=11.5))  # a sale needs no cash prefunded


def test_a_longer_prefunding_lead_moves_purchases_from_the_book_entry_venue_to_dvp():
    """Two channels with equal quotes: DvP at T+2 (4 bp of waiting at 2 bp a day) and a book entry.
    With a short lead the book entry is cheaper and takes most purchases; with a long one DvP does.
    Sales carry no prefunding cost: their split does not move."""
    short = Channels(("dvp", 0.0), ("book_entry", 0.0), delay_cost_bps_per_day=2.0).venues_chosen(BUY)
    long = Channels(("dvp", 0.0), ("book_entry", 8.0), delay_cost_bps_per_day=2.0).venues_chosen(BUY)
    assert sum(short) > 35 and sum(long) < 10  # listing 1 is the book entry
    sales_short = Channels(("dvp", 0.0), ("book_entry", 0.0), delay_cost_bps_per_day=2.0).venues_chosen(SELL)
    sales_long = Channels(("dvp", 0.0), ("book_entry", 8.0), delay_cost_bps_per_day=2.0).venues_chosen(SELL)
    assert sales_short == sales_long


def test_the_investors_prefunding_cost_is_the_one_settlement_economics_measures():
    """One purchase of HK$10,000 at 06:00 on day 1 on a book entry with a lead of 2 days: the
    decision's cost in bps and the measured funding cost agree."""
    market = Channels(("book_entry", 2.0))
    assert market.group.handle_need(market.need(BUY, t=1.25))
    trades = market.recorder.trades.frame()
    value_hkd = float(trades.loc[0, "price_cents"] * trades.loc[0, "quantity"] / 100)
    decided = value_hkd * prefunding_cost_bps_per_day(0.04) * (2.0 + 0.25) / 10_000
    table = pd.DataFrame({
        "venue_name": ["venue0"], "instrument": ["etf"], "form": ["tokenized"], "buyer": [1], "seller": [0],
        "day": [1], "settled_day": [1], "fails": [0], "time": [1.25], "quantity": [trades.loc[0, "quantity"]],
        "price_cents": [trades.loc[0, "price_cents"]], "value_hkd": [value_hkd],
    })
    venue = market.listings[0].venue
    terms = {"venue0": VenueSettlementTerms("tokenized", False, 0,
                                            tuple(venue.prefunding_lead_on(day) for day in range(3)))}
    measured = settlement_economics(table, pd.DataFrame({"etf": [FAIR_HKD] * 3}), terms, funding=FundingTerms(0.04))
    assert measured["funding_cost_hkd"].sum() == pytest.approx(decided)


# -- the engine: the baseline's models, chains, invariants, determinism ---------------------------------

def test_the_baseline_platform_is_a_prefunded_book_entry_and_the_exchange_and_otc_settle_dvp():
    scenario = quick("baseline")
    assert {name: venue.settlement() for name, venue in scenario.venues.items()} == {
        "exchange": "dvp", "otc": "dvp", "platform": "book_entry"}
    assert all(venue.fail_probability_at_t2 == 0.0 for venue in scenario.venues.values())
    trades = run(scenario, seed=3).trades
    platform = trades[trades["venue_name"] == "platform"]
    assert len(platform) > 0 and (platform["settled_day"] == platform["day"]).all()
    assert trades["fails"].sum() == 0  # nothing in the baseline causes a fail


def test_a_conventional_venue_cannot_be_atomic_and_the_error_says_why():
    data = Scenario.model_json_schema()  # the key is documented with its default by kind
    assert "Default by kind" in str(data)
    with pytest.raises(Exception, match="form must be tokenized"):
        quick("baseline", "venues.exchange.settlement_model=atomic")


def chained(seed: int):
    """A month of the baseline with the exchange at T+1 (its purchases paid from OTC sales at T+2
    fund late) and a residual operational fail rate on the OTC market (onward sales then fail)."""
    scenario = quick("baseline", "horizon_days=25", "venues.exchange.settlement_cycle_days=1",
                     "venues.otc.fail_probability_at_t2=0.05", "investors.institutional.interest.green_bond=0.6",
                     "investors.institutional.interest.hk_tracker=0.4")
    model = build(scenario, seed)
    simulate(model)
    check_invariants(model)
    return model


def test_caused_fails_chain_and_are_bought_in_with_the_invariants_holding_and_runs_repeat_exactly():
    model = chained(11)
    causes = np.array(model.settlement.fails_by_cause).sum(axis=0)
    assert causes[OPERATIONAL] > 0
    assert causes[UNITS_SHORT] + causes[CASH_SHORT] + causes[UNITS_SHORT | CASH_SHORT] > 0  # caused, not drawn
    assert sum(model.settlement.outstanding_trades) == 0
    again = chained(11)
    assert again.settlement.fails_by_cause == model.settlement.fails_by_cause
    pd.testing.assert_frame_equal(model.recorder.trades.frame(), again.recorder.trades.frame())
