"""Each market component built by hand from plain specs and objects, and checked on its own.

No scenario file, no `sim.engine.build`, no `sim.scenario`: a test opens a ledger, declares a few
charges, makes a venue, a listing on a constant fair value and its liquidity provider, exactly as
the engine would, and then drives the one component it is about (as SimPy and Ciw test theirs).
So a failure here names the component that is wrong, not the run that went wrong.

Numbers are chosen so that results can be worked out by hand: the fair value is HK$100 and the
tick one cent, so fair value is 10,000 ticks and one basis point of it is one tick.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.market.costs import EVERYWHERE, Charge, CostSchedule, Relief, Scope
from sim.market.dealer import Dealer
from sim.market.investors import Interest, InvestorGroup, Line, Need
from sim.market.ledger import Ledger
from sim.market.levers import Dated
from sim.market.market_maker import MarketMaker
from sim.market.orderbook import BUY, SELL, Fill
from sim.market.payers import LIQUIDITY_PROVIDERS, Payer
from sim.market.settlement import PendingTrade, Settlement, fail_probability_for_cycle
from sim.market.specs import (
    AdoptionSpec, DealerSpec, InvestorSpec, ListingSpec, MarketMakerSpec, SubscriptionSpec, VenueFees, VenueSpec,
)
from sim.market.trading import Market
from sim.market.values import FairValue
from sim.market.venue import Listing, Venue
from sim.recorder import Recorder, TradeRow

FAIR_HKD = 100.0
TICK_CENTS = 1
FAIR_TICKS = 10_000  # FAIR_HKD in ticks: one bp of fair value is one tick
ASSET = 0
HORIZON = 10
BPS = 1e-4


# -- specs ------------------------------------------------------------------------------------

def maker_spec(**changes) -> MarketMakerSpec:
    spec = MarketMakerSpec(
        base_half_spread_bps=10.0, levels=3, level_step_bps=5.0, quote_size_units=500,
        inventory_limit_units=5_000, skew_bps_at_limit=20.0, inventory_spread_bps_at_limit=0.0,
        requote_minutes=15.0, initial_units=2_000, initial_cash_hkd=10_000_000.0, prices_own_charges=True,
    )
    return dataclasses.replace(spec, **changes)


def dealer_spec(**changes) -> DealerSpec:
    spec = DealerSpec(
        base_half_spread_bps=10.0, size_impact_bps_per_million_hkd=5.0, skew_bps_at_limit=20.0,
        inventory_limit_units=50_000, initial_units=20_000, initial_cash_hkd=100_000_000.0,
    )
    return dataclasses.replace(spec, **changes)


def venue_spec(kind: str = "exchange", form: str = "conventional", index: int = 0, cycle_days: int = 2,
               fail_probability: float = 0.0, tokenized_cash: Dated[bool] = Dated.always(False)) -> VenueSpec:
    return VenueSpec(
        name=f"{kind}-{form}", index=index, kind=kind, form=form, sessions_hours=((0.0, 24.0),),
        settlement_cycle_days=cycle_days, fail_probability=fail_probability, tokenized_cash=tokenized_cash,
        fees=VenueFees(0.0, 0.0, 0.0, 0.0, 0.0),
        listings={"etf": ListingSpec(market_maker=maker_spec(), dealer=dealer_spec())},
    )


def investor_spec(**changes) -> InvestorSpec:
    spec = InvestorSpec(
        accounts=2, needs_per_day=100.0, active_hours=(0.0, 24.0), interest={"etf": 1.0},
        trade_size_median_hkd=10_000.0, trade_size_sigma=1.0, trade_size_median_hkd_by_interest={}, gain_mean_bps=30.0,
        channel_logit_scale_bps=5.0, wrapper_logit_scale_bps=5.0, brokerage_bps=0.0, settlement_delay_cost_bps_per_day=1.0,
        tokenized_access=True, conventional_access=True, venues=None, short_selling=False, retail=False,
        adoption=AdoptionSpec(initial_share=1.0, innovation_per_year=0.0, imitation_per_year=0.0),
        subscription=SubscriptionSpec(orders_per_issue=0.0, order_size_median_hkd=1.0, order_size_sigma=0.0,
                                      reservation_spread_bps_mean=0.0, reservation_spread_bps_sd=0.0),
        holdings={}, initial_cash_hkd=1_000_000.0,
    )
    return dataclasses.replace(spec, **changes)


def duty(bps: float, payers=frozenset(Payer), rate: Dated[float] | None = None) -> Charge:
    return Charge("stamp_duty", "government", rate or Dated.always(bps * BPS), frozenset(payers), duty=True)


def fee(name: str, bps: float, payers=frozenset(Payer), collector: str = "operator") -> Charge:
    return Charge(name, collector, Dated.always(bps * BPS), frozenset(payers))


def exempt(charge: str, payers, share: float = 1.0) -> Relief:
    return Relief(frozenset({charge}), frozenset(payers), Dated.always(share))


# -- a small market, wired by hand ----------------------------------------------------------------

class World:
    """A ledger with three collectors, one venue, one listing on a constant fair value and its provider."""

    def __init__(self, charges=(), reliefs=(), provider: str = "maker", units: int | None = None,
                 cash_hkd: float | None = None, target: int | None = None, venue: VenueSpec | None = None,
                 network_fee_cents: int = 0, **provider_changes) -> None:
        self.ledger = Ledger(n_assets=1)
        self.recorder = Recorder()
        self.collectors = {name: self.ledger.open_account(name, "collector", Payer.COLLECTOR)
                           for name in ("government", "operator", "network")}
        self.venue = Venue(venue or venue_spec(kind="exchange" if provider == "maker" else "dealer"))
        costs = CostSchedule(list(charges), list(reliefs), self.collectors, network_fee_cents)
        self.listing = Listing(0, self.venue, "etf", "etf", ASSET, TICK_CENTS, costs,
                               FairValue(np.full(HORIZON + 1, FAIR_HKD), steps_per_day=1))
        spec = maker_spec(**provider_changes) if provider == "maker" else dealer_spec(**provider_changes)
        units = spec.initial_units if units is None else units
        cash_hkd = spec.initial_cash_hkd if cash_hkd is None else cash_hkd
        cls = MarketMaker if provider == "maker" else Dealer
        self.provider_account = self.ledger.open_account("provider", cls.spec_key, cls.payer,
                                                         round(cash_hkd * 100), (units,))
        self.provider = cls(self.provider_account, self.listing, spec, self.ledger, self.recorder)
        self.provider.target_units = units if target is None else target  # as the engine sets it
        self.listing.provider = self.provider

    def settlement(self, fail_probability: float = 0.0, buy_in_after_fails: int | None = None) -> Settlement:
        return Settlement(self.ledger, self.recorder, [fail_probability], [np.random.default_rng(0)], HORIZON,
                          buy_in_after_fails)

    def investors(self, holdings: tuple[int, ...] = (0, 0), settlement: Settlement | None = None,
                  **spec_changes) -> InvestorGroup:
        """An investor group whose accounts hold `holdings` units each, trading the listing through a Market."""
        spec = investor_spec(accounts=len(holdings), **spec_changes)
        payer = Payer.RETAIL if spec.retail else Payer.INVESTOR
        first = len(self.ledger.accounts)
        for k, units in enumerate(holdings):
            self.ledger.open_account(f"investor:{k}", "investors", payer, round(spec.initial_cash_hkd * 100), (units,))
        self.market = Market(self.ledger, self.recorder, settlement or self.settlement())
        interest = Interest([Line(self.listing.value, 1, [self.listing])], instrument=True)
        return InvestorGroup(0, spec, first, [interest], [1.0] * HORIZON, self.market, self.ledger, self.recorder,
                             np.random.default_rng(0))

    def need(self, side: int = BUY, gain_bps: float = 100.0, account: int = 0, open_bits: int | None = None,
             t: float = 1.25) -> Need:
        """A need for 100 units (the size median, HK$10,000, at HK$100) of the listing."""
        bits = 1 << self.venue.index if open_bits is None else open_bits
        return Need(t, int(t), 0, 0.0, account, bits, side, 0.0, gain_bps, 0.5)

    def cash(self) -> int:
        return sum(self.ledger.cash)


def agree(world: World, seller: int, buyer: int, quantity: int, value_cents: int, day: int,
          credits: list[tuple[int, int]] = ()) -> PendingTrade:
    """A trade as the market books it: a row in the trade table, committed in the ledger, ready to submit.
    The buyer pays the value plus the credits; the seller receives the value."""
    charged = sum(cents for _, cents in credits)
    trade = world.recorder.trades.add_record(TradeRow(
        day + 0.5, day, 0, value_cents // quantity, quantity, buyer, seller, BUY, FAIR_HKD, 0, 0, charged, 0, -1, 0))
    world.ledger.commit(ASSET, seller, buyer, quantity, value_cents + charged)
    return PendingTrade(trade, 0, ASSET, seller, buyer, quantity, value_cents, value_cents + charged, value_cents,
                        list(credits))


def ready(world: World) -> None:
    """A market maker's ladder on the book (a dealer quotes on request)."""
    if isinstance(world.provider, MarketMaker):
        world.provider.requote(1.0, sample=False)


def ladder(book, side: int) -> list[tuple[int, int]]:
    """(price, size) of every resting level on one side, best first."""
    return book.depth(side, 100)


# -- ledger -----------------------------------------------------------------------------------

def test_commit_blocks_units_and_cash_and_settle_moves_them_exactly():
    ledger = Ledger(n_assets=2)
    seller = ledger.open_account("seller", "g", Payer.INVESTOR, 1_000, (0, 50))
    buyer = ledger.open_account("buyer", "g", Payer.INVESTOR, 100_000, (7,))
    collector = ledger.open_account("duty", "collector", Payer.COLLECTOR)

    ledger.commit(1, seller, buyer, 30, 60_300)
    assert ledger.free_units(1, seller) == 20 and ledger.units[1][seller] == 50  # committed, not moved
    assert ledger.free_cash(buyer) == 39_700 and ledger.cash[buyer] == 100_000
    assert ledger.standing(1, buyer) == (30, 0, 39_700)  # position counts what is coming in
    assert ledger.standing(1, seller) == (20, 20, 1_000)

    trade = PendingTrade(0, 0, 1, seller, buyer, 30, 60_000, 60_300, 59_900, [(collector, 400)])
    ledger.settle([trade])
    assert (ledger.units[1][seller], ledger.units[1][buyer]) == (20, 30)
    assert (ledger.cash[seller], ledger.cash[buyer], ledger.cash[collector]) == (60_900, 39_700, 400)
    assert ledger.standing(1, buyer) == (30, 30, 39_700)  # nothing pending left
    assert ledger.units[0] == [0, 7, 0]  # the other asset is untouched
    assert sum(ledger.cash) == ledger.issued_cash and sum(ledger.units[1]) == ledger.issued_units[1]


def test_pending_sale_stops_the_same_units_being_sold_twice():
    ledger = Ledger(n_assets=1)
    seller = ledger.open_account("seller", "g", Payer.INVESTOR, 0, (10,))
    buyer = ledger.open_account("buyer", "g", Payer.INVESTOR, 1_000)
    ledger.commit(0, seller, buyer, 10, 500)
    assert ledger.free_units(0, seller) == 0
    assert ledger.standing(0, seller) == (0, 0, 0)
    assert ledger.free_cash(buyer) == 500  # and half the buyer's cash is spoken for


# -- settlement -------------------------------------------------------------------------------

def test_trade_on_day_d_at_t_plus_2_settles_at_the_end_of_day_d_plus_2_and_is_outstanding_until_then():
    world = World(provider="dealer")
    seller = world.ledger.open_account("seller", "g", Payer.INVESTOR, 0, (100,))
    buyer = world.ledger.open_account("buyer", "g", Payer.INVESTOR, 1_000_000)
    settlement = world.settlement()
    env = simpy.Environment()
    env.process(settlement.process(env))
    env.run(until=1.5)
    pending = agree(world, seller, buyer, 100, 500_000, day=1, credits=[(world.collectors["government"], 650)])
    settlement.submit(pending, trade_day=1, cycle_days=2)

    env.run(until=3.99)  # the end of day 2 has passed, that of day 3 not yet
    assert settlement.outstanding_cents == [500_000] and settlement.outstanding_trades == [1]
    assert world.ledger.units[ASSET][buyer] == 0 and world.recorder.trades.columns["settled_day"][0] == -1
    env.run(until=4.01)
    assert settlement.outstanding_cents == [0] and settlement.outstanding_trades == [0]
    assert world.recorder.trades.columns["settled_day"][0] == 3
    assert (world.ledger.units[ASSET][buyer], world.ledger.cash[buyer]) == (100, 1_000_000 - 500_650)
    assert world.ledger.cash[world.collectors["government"]] == 650
    table = world.recorder.settlement.frame().set_index("day")
    assert table.loc[[1, 2, 3], "unsettled_cents"].tolist() == [500_000, 500_000, 0]
    assert table["fails"].sum() == 0


def test_atomic_trade_settles_the_moment_it_is_submitted():
    world = World(provider="dealer")
    seller = world.ledger.open_account("seller", "g", Payer.INVESTOR, 0, (10,))
    buyer = world.ledger.open_account("buyer", "g", Payer.INVESTOR, 100_000)
    settlement = world.settlement(fail_probability=1.0)  # atomic delivery versus payment cannot fail
    settlement.submit(agree(world, seller, buyer, 10, 50_000, day=4), trade_day=4, cycle_days=0)
    assert world.recorder.trades.columns["settled_day"][0] == 4
    assert settlement.outstanding_cents == [0]
    assert world.ledger.units[ASSET][buyer] == 10 and world.ledger.free_units(ASSET, seller) == 0
    assert world.ledger.cash[seller] == 50_000 and world.ledger.free_cash(buyer) == 50_000


def test_tokenized_cash_makes_a_tokenized_venue_settle_atomically_from_its_start_day():
    venue = Venue(venue_spec(form="tokenized", cycle_days=1, tokenized_cash=Dated(True, False, from_day=3)))
    assert [venue.cycle_on(day) for day in range(5)] == [1, 1, 1, 0, 0]
    conventional = Venue(venue_spec(form="conventional", cycle_days=2, tokenized_cash=Dated.always(True)))
    assert conventional.cycle_on(0) == 2  # tokenized cash settles tokenized units only


def certain_fail(buy_in_after_fails: int | None):
    """A dealer's world with one trade of 10 units for HK$500, due at T+2, whose every settlement
    attempt fails: (the world, the buyer's account, the settlement holding the trade)."""
    world = World(provider="dealer")
    seller = world.ledger.open_account("seller", "g", Payer.INVESTOR, 0, (10,))
    buyer = world.ledger.open_account("buyer", "g", Payer.INVESTOR, 100_000)
    settlement = world.settlement(fail_probability=1.0, buy_in_after_fails=buy_in_after_fails)
    settlement.submit(agree(world, seller, buyer, 10, 50_000, day=0), trade_day=0, cycle_days=2)
    return world, buyer, settlement


@pytest.mark.parametrize("buy_in_after_fails", [1, 2])
def test_a_certain_fail_is_retried_daily_until_the_buy_in_delivers(buy_in_after_fails):
    world, buyer, settlement = certain_fail(buy_in_after_fails)
    env = simpy.Environment()
    env.process(settlement.process(env))
    env.run()

    trades = world.recorder.trades.frame()
    assert trades.loc[0, "fails"] == buy_in_after_fails
    assert trades.loc[0, "settled_day"] == 2 + buy_in_after_fails  # due on day 2, delivered at the next attempt
    table = world.recorder.settlement.frame().set_index("day")
    failed_days = list(range(2, 2 + buy_in_after_fails))
    assert table["fails"].sum() == buy_in_after_fails and (table.loc[failed_days, "fails"] == 1).all()
    assert (table.loc[failed_days, "failed_cents"] == 50_000).all()
    assert world.ledger.units[ASSET][buyer] == 10 and settlement.outstanding_trades == [0]


def test_a_trade_that_can_never_be_delivered_stays_outstanding_without_a_buy_in():
    """Fail probability 1 and no buy-in: the component retries for ever and keeps the trade
    outstanding (validation refuses such settings, and the engine's budget stops such a run
    naming the cause: tests/test_run_budget.py)."""
    world, buyer, settlement = certain_fail(None)
    env = simpy.Environment()
    process = env.process(settlement.process(env))
    env.run(until=HORIZON + 250)
    assert not process.triggered and settlement.outstanding_trades == [1]
    assert world.ledger.units[ASSET][buyer] == 0


def test_fail_probability_is_zero_for_atomic_settlement_and_falls_with_a_shorter_cycle():
    assert fail_probability_for_cycle(0.02, 2, 0) == 0.0
    assert fail_probability_for_cycle(0.02, 2, 0, elasticity=0.0) == 0.0  # by rule, not by 0 ** elasticity
    assert fail_probability_for_cycle(0.02, 2, 2) == pytest.approx(0.02)
    assert 0.0 < fail_probability_for_cycle(0.02, 2, 1) < 0.02 < fail_probability_for_cycle(0.02, 2, 3)
    assert fail_probability_for_cycle(0.9, 1, 10, elasticity=1.0) == 1.0  # capped


# -- market maker -----------------------------------------------------------------------------

def quoted(world: World, t: float = 1.0) -> tuple[int, int]:
    world.provider.requote(t, sample=True)
    return world.listing.book.best_bid(), world.listing.book.best_ask()


def test_market_maker_ladder_brackets_fair_value_and_is_sampled():
    world = World()
    bid, ask = quoted(world)
    assert bid < FAIR_TICKS < ask
    bids, asks = ladder(world.listing.book, BUY), ladder(world.listing.book, SELL)
    assert len(bids) == len(asks) == 3
    assert [p for p, _ in bids] == sorted({p for p, _ in bids}, reverse=True)  # each level further out
    assert [p for p, _ in asks] == sorted({p for p, _ in asks})
    assert bids[0][0] == pytest.approx(FAIR_TICKS * (1 - 10 * BPS), abs=1)  # base half-spread, no costs
    quotes = world.recorder.quotes.frame()
    assert len(quotes) == 1
    assert (quotes.loc[0, "bid_cents"], quotes.loc[0, "ask_cents"]) == (bid * TICK_CENTS, ask * TICK_CENTS)
    assert quotes.loc[0, "fair_value_hkd"] == FAIR_HKD


def test_market_maker_half_spread_widens_by_exactly_its_duty_rate_unless_exempt():
    charged = World([duty(13.0)])
    relieved = World([duty(13.0)], [exempt("stamp_duty", {Payer.MARKET_MAKER})])
    untaxed = World()
    bid_c, ask_c = quoted(charged)
    bid_r, ask_r = quoted(relieved)
    assert quoted(untaxed) == (bid_r, ask_r)  # exempt quotes as if there were no duty
    widened = ((ask_c - bid_c) - (ask_r - bid_r)) / 2
    assert widened == pytest.approx(13.0 * BPS * FAIR_TICKS, abs=1)  # 13 ticks, give or take rounding
    assert bid_c < bid_r and ask_c > ask_r


def test_quotes_standing_for_investors_limit_orders_do_not_price_the_duty_their_fills_pay():
    book = World([duty(13.0)], prices_own_charges=False)
    assert quoted(book) == quoted(World())  # the duty does not widen the quotes
    assert quoted(World([duty(13.0)]))[1] > quoted(book)[1]  # a dealer-like maker's does
    investors = book.investors()
    assert investors.handle_need(book.need(gain_bps=60.0))
    row = book.recorder.trades.frame().iloc[0]
    value = row["price_cents"] * row["quantity"]
    assert row["seller_duty_cents"] == round(value * 13.0 * BPS)  # yet the book's side pays its duty in full


def test_market_maker_relief_for_another_class_does_not_narrow_its_quotes():
    charged = World([duty(13.0)])
    dealer_relief = World([duty(13.0)], [exempt("stamp_duty", {Payer.DEALER})])
    assert quoted(dealer_relief) == quoted(charged)


@pytest.mark.parametrize(
    "units, cash_hkd, committed_out, limit, duty_bps, bid_total, ask_total",
    [
        (2_000, 10_000_000.0, 0, 700, 0.0, 700, 700),  # the inventory limit binds both sides
        (300, 10_000_000.0, 0, 5_000, 0.0, 1_500, 300),  # the units held bind the asks
        (2_000, 10_000_000.0, 1_800, 5_000, 0.0, 1_500, 200),  # units committed to a pending sale are not free
        (2_000, 25_000.0, 0, 5_000, 0.0, 250, 1_500),  # cash for 250 units at HK$99.90 binds the bids
        (2_000, 24_950.0, 0, 5_000, 13.0, 249, 1_500),  # 250 at HK$99.77 would leave no cash for the duty
    ],
)
def test_market_maker_never_quotes_beyond_its_limit_free_units_or_free_cash(
    units, cash_hkd, committed_out, limit, duty_bps, bid_total, ask_total
):
    world = World([duty(duty_bps)], units=units, cash_hkd=cash_hkd, inventory_limit_units=limit)
    if committed_out:
        buyer = world.ledger.open_account("buyer", "g", Payer.INVESTOR, 10**9)
        world.ledger.commit(ASSET, world.provider_account, buyer, committed_out, 0)
        world.provider.target_units = units - committed_out  # so the lean stays zero
    quoted(world)
    book = world.listing.book
    assert (book.resting_qty(BUY), book.resting_qty(SELL)) == (bid_total, ask_total)
    paid = sum(price * TICK_CENTS * size * (1 + duty_bps * BPS) for price, size in ladder(book, BUY))
    assert paid <= world.ledger.free_cash(world.provider_account)


@settings(max_examples=150, deadline=None)
@given(
    units=st.integers(0, 3_000),
    excess=st.integers(-3_000, 3_000),
    cash_hkd=st.floats(0.0, 500_000.0),
    limit=st.integers(1, 2_000),
    quote_size=st.integers(1, 800),
    levels=st.integers(1, 4),
    duty_bps=st.sampled_from([0.0, 13.0]),
)
def test_market_maker_ladder_respects_every_cap_and_stays_ordered(
    units, excess, cash_hkd, limit, quote_size, levels, duty_bps
):
    """Whatever its holdings, a maker's bids never buy past its limit or its free cash (duty
    included), its asks never sell past its limit or the units it holds, and its levels are ordered."""
    world = World([duty(duty_bps)], units=units, cash_hkd=cash_hkd, target=units - excess,
                  inventory_limit_units=limit, quote_size_units=quote_size, levels=levels)
    quoted(world)
    book = world.listing.book
    bids, asks = ladder(book, BUY), ladder(book, SELL)
    assert sum(size for _, size in asks) <= min(max(limit + excess, 0), units)
    assert sum(size for _, size in bids) <= max(limit - excess, 0)
    cost = sum(price * TICK_CENTS * size * (1 + duty_bps * BPS) for price, size in bids)
    assert cost <= world.ledger.free_cash(world.provider_account)
    assert all(size <= quote_size for _, size in bids + asks)
    assert len(bids) <= levels and len(asks) <= levels
    if bids and asks:
        assert bids[0][0] < asks[0][0]
    # what lets the maker skip the book's checks (`OrderBook.replace_valid`): its ladder meets the contract
    assert all(side in (BUY, SELL) and type(price) is int and type(size) is int and price >= 1 and size >= 1
               for side, price, size in world.provider._quoted)


def test_market_maker_leans_its_quotes_against_its_inventory():
    def mid(target: int) -> float:
        bid, ask = quoted(World(units=2_000, target=target, inventory_spread_bps_at_limit=4.0))
        return (bid + ask) / 2

    long, flat, short = mid(target=0), mid(target=2_000), mid(target=4_000)  # holds 2,000 more, none more, 2,000 fewer
    assert long < flat < short
    assert flat == pytest.approx(FAIR_TICKS, abs=1)
    lean_ticks = 2_000 / 5_000 * 20.0 * BPS * FAIR_TICKS  # share of the limit times the skew at the limit: 8 ticks
    assert flat - long == pytest.approx(lean_ticks, abs=1) and short - flat == pytest.approx(lean_ticks, abs=1)


def test_market_maker_withdraws_when_its_listing_is_inactive():
    world = World()
    quoted(world)
    world.listing.active = False
    world.provider.requote(1.5, sample=False)
    assert world.listing.book.resting_orders() == 0


# -- dealer -----------------------------------------------------------------------------------

def test_dealer_quote_widens_with_size_on_both_sides_and_touch_is_the_quote():
    dealer = World(provider="dealer").provider
    asks = [dealer.quote(BUY, q, FAIR_HKD, 1) for q in (10, 5_000, 10_000)]
    bids = [dealer.quote(SELL, q, FAIR_HKD, 1) for q in (10, 5_000, 10_000)]
    assert bids[2] < bids[1] < bids[0] < FAIR_TICKS < asks[0] < asks[1] < asks[2]
    # HK$1m more costs 5 bps more on each side
    assert asks[2] - asks[0] == pytest.approx(5.0 * BPS * FAIR_TICKS * (9_990 * FAIR_HKD / 1e6), abs=1)
    assert dealer.touch(BUY, 5_000, FAIR_HKD, 1) == asks[1]


def test_dealer_quote_covers_its_own_charges_unless_relieved():
    charged = World([duty(13.0)], provider="dealer").provider
    relieved = World([duty(13.0)], [exempt("stamp_duty", {Payer.DEALER})], provider="dealer").provider
    widened = charged.quote(BUY, 10, FAIR_HKD, 1) - relieved.quote(BUY, 10, FAIR_HKD, 1)
    assert widened == pytest.approx(13.0 * BPS * FAIR_TICKS, abs=1)


def test_dealer_declines_requests_beyond_its_inventory_limit_or_free_units():
    world = World(provider="dealer", units=2_000, target=1_000, inventory_limit_units=3_000)  # 1,000 long
    dealer = world.provider
    assert dealer.quote(SELL, 2_000, FAIR_HKD, 1) is not None  # it may buy up to limit - excess = 2,000
    assert dealer.quote(SELL, 2_001, FAIR_HKD, 1) is None
    assert dealer.quote(BUY, 2_000, FAIR_HKD, 1) is not None  # it may sell what it holds
    assert dealer.quote(BUY, 2_001, FAIR_HKD, 1) is None  # limit + excess = 4,000, but only 2,000 held
    poor = World(provider="dealer", cash_hkd=1_000.0).provider
    assert poor.quote(SELL, 9, FAIR_HKD, 1) is not None and poor.quote(SELL, 11, FAIR_HKD, 1) is None  # no credit


def test_dealer_fills_the_whole_request_at_its_quote_only_within_the_takers_limit():
    world = World(provider="dealer")
    dealer, me = world.provider, world.provider_account
    ask, bid = dealer.quote(BUY, 300, FAIR_HKD, 1), dealer.quote(SELL, 300, FAIR_HKD, 1)
    assert dealer.fills(BUY, ask, 300, 99, FAIR_HKD, 1) == [Fill(0, me, ask, 300)]
    assert dealer.fills(BUY, ask + 50, 300, 99, FAIR_HKD, 1) == [Fill(0, me, ask, 300)]  # at its quote, not the limit
    assert dealer.fills(BUY, ask - 1, 300, 99, FAIR_HKD, 1) == []
    assert dealer.fills(SELL, bid, 300, 99, FAIR_HKD, 1) == [Fill(0, me, bid, 300)]
    assert dealer.fills(SELL, bid + 1, 300, 99, FAIR_HKD, 1) == []
    assert dealer.fills(BUY, 10**9, 10**6, 99, FAIR_HKD, 1) == []  # declined: beyond its limit


# -- investors: a need in, an order or a refusal out ---------------------------------------------

@pytest.mark.parametrize("provider", ["maker", "dealer"])
def test_need_whose_gain_beats_the_all_in_cost_trades_with_the_listings_provider(provider):
    world = World([duty(10.0, payers={Payer.INVESTOR})], provider=provider)
    group = world.investors()
    ready(world)
    cash_before = world.cash()
    # all-in for 100 units: 10 bps duty + about 10 bps crossing + 2 days x 1 bp waiting: about 22 bps
    assert group.handle_need(world.need(BUY, gain_bps=40.0, account=1)) is True
    trades = world.recorder.trades.frame()
    assert len(trades) == 1
    row = trades.to_dict("records")[0]
    assert row["buyer"] == group.first_account + 1 and row["seller"] == world.provider_account
    assert row["quantity"] == 100 and row["day"] == 1 and row["taker_side"] == BUY
    assert FAIR_TICKS < row["price_cents"] <= FAIR_TICKS * (1 + (40 - 10 - 2) * BPS)  # within what its gain leaves
    assert row["buyer_duty_cents"] == round(row["price_cents"] * 100 * 10 * BPS) and row["seller_duty_cents"] == 0
    provider = world.provider_account
    assert world.ledger.free_units(ASSET, provider) == world.ledger.units[ASSET][provider] - 100  # committed
    assert world.cash() == cash_before and world.ledger.units[ASSET][row["buyer"]] == 0  # moved only at settlement


def test_a_size_set_for_an_interest_replaces_the_groups_median_for_its_needs():
    def bought(**spec_changes) -> int:
        world = World(quote_size_units=10_000)
        group = world.investors(**spec_changes)
        ready(world)
        assert group.handle_need(world.need(BUY, gain_bps=40.0, account=1)) is True
        return int(world.recorder.trades.frame()["quantity"].sum())

    assert bought() == 100  # the group's median, HK$10,000 at HK$100
    assert bought(trade_size_median_hkd_by_interest={"etf": 150_000.0}) == 1_500  # the interest's own median


@pytest.mark.parametrize("provider", ["maker", "dealer"])
def test_same_need_with_a_gain_below_the_all_in_cost_is_refused(provider):
    world = World([duty(10.0, payers={Payer.INVESTOR})], provider=provider)
    group = world.investors()
    ready(world)
    assert group.handle_need(world.need(BUY, gain_bps=18.0)) is False  # beats the crossing cost, not the duty too
    assert len(world.recorder.trades) == 0 and world.market.taker_orders == 0
    assert group.handle_need(world.need(BUY, gain_bps=24.0)) is True  # the threshold is about 22 bps


def test_brokerage_is_weighed_like_duty_on_an_exchange_and_not_on_a_platform():
    def trades(kind: str, brokerage: float) -> bool:
        world = World([duty(10.0, payers={Payer.INVESTOR})], venue=venue_spec(kind=kind))
        group = world.investors(brokerage_bps=brokerage)
        ready(world)
        done = group.handle_need(world.need(BUY, gain_bps=24.0))  # the all-in cost without brokerage: about 22 bps
        if done:  # paid to the broker outside the ledger: the trade's own charges are the duty alone
            row = world.recorder.trades.frame().to_dict("records")[0]
            assert row["buyer_fees_cents"] == 0 and row["buyer_duty_cents"] == round(row["price_cents"] * 100 * 10 * BPS)
        return done

    assert trades("exchange", 0.0) and not trades("exchange", 5.0)
    assert trades("platform", 5.0)  # a platform's own fee stands for its intermediation


def test_a_needs_order_stops_at_the_price_where_its_gain_is_used_up():
    world = World(quote_size_units=60, level_step_bps=5.0)  # asks of 60 units at 10, 15 and 20 bps over fair
    group = world.investors()
    ready(world)
    # gain 14 bps less 2 bps waiting: worth paying up to 12 bps over fair, so only the first level fills
    assert group.handle_need(world.need(BUY, gain_bps=14.0)) is True
    trades = world.recorder.trades.frame()
    assert trades["quantity"].tolist() == [60] and trades["price_cents"].tolist() == [10_010]


def test_the_cost_of_waiting_for_settlement_can_turn_a_need_away():
    def trades(venue: VenueSpec) -> bool:
        world = World(venue=venue)
        group = world.investors(settlement_delay_cost_bps_per_day=5.0)
        ready(world)
        return group.handle_need(world.need(BUY, gain_bps=18.0))  # crossing about 10 bps, waiting 5 bps a day

    assert trades(venue_spec(form="tokenized", cycle_days=2, tokenized_cash=Dated.always(True))) is True  # atomic
    assert trades(venue_spec(form="tokenized", cycle_days=1)) is True  # 15 bps
    assert trades(venue_spec(form="tokenized", cycle_days=2)) is False  # 20 bps


def test_sell_need_is_refused_without_units_and_trades_with_them():
    world = World()
    group = world.investors(holdings=(0, 150))
    quoted(world)
    assert group.handle_need(world.need(SELL, gain_bps=100.0, account=0)) is False
    assert len(world.recorder.trades) == 0
    assert group.handle_need(world.need(SELL, gain_bps=100.0, account=1)) is True
    row = world.recorder.trades.frame().to_dict("records")[0]
    assert row["seller"] == group.first_account + 1 and row["buyer"] == world.provider_account
    assert row["quantity"] == 100
    assert world.ledger.free_units(ASSET, group.first_account + 1) == 50


def test_sell_need_larger_than_the_holding_sells_only_what_is_held():
    world = World()
    group = world.investors(holdings=(40,))
    quoted(world)
    assert group.handle_need(world.need(SELL, gain_bps=100.0)) is True
    assert world.recorder.trades.frame()["quantity"].tolist() == [40]


@pytest.mark.parametrize("wrapper_scale, three_listing_wrapper", [
    (5.0, 3 / 4),  # equal scales: one flat logit over the four listings
    (50.0, 3 ** 0.1 / (3 ** 0.1 + 1)),  # nested: a wrapper counts for the best its listings offer, not their number
])
def test_an_exposure_need_picks_its_wrapper_by_a_nested_logit(wrapper_scale, three_listing_wrapper):
    group = World().investors(wrapper_logit_scale_bps=wrapper_scale)
    options = [(10.0, 0.0, f"listing {k}", 100, FAIR_HKD, 0) for k in range(3)] + [(10.0, 0.0, "other", 100, FAIR_HKD, 1)]
    draws = (np.arange(20_000) + 0.5) / 20_000
    picked = [group._choose(options, draw, nested=True)[5] for draw in draws]
    assert picked.count(0) / len(draws) == pytest.approx(three_listing_wrapper, abs=1e-4)
    flat = [group._choose(options, draw)[5] for draw in draws]  # a need for one instrument: the flat logit
    assert flat.count(0) / len(draws) == pytest.approx(3 / 4, abs=1e-4)


def test_need_is_refused_when_its_open_venue_bits_exclude_the_venue():
    world = World(venue=venue_spec(kind="exchange", index=1))
    group = world.investors()
    quoted(world)
    assert group.handle_need(world.need(BUY, open_bits=0b01)) is False  # venue 0 open, the listing is on venue 1
    assert group.handle_need(world.need(BUY, open_bits=0)) is False
    assert len(world.recorder.trades) == 0
    assert group.handle_need(world.need(BUY, open_bits=0b11)) is True


@pytest.mark.parametrize("retail", [False, True])
def test_a_charge_declared_for_retail_is_paid_by_a_retail_group_only(retail):
    world = World([fee("retail_levy", 5.0, payers={Payer.RETAIL})])
    group = world.investors(holdings=(0, 500), retail=retail)
    quoted(world)
    assert group.handle_need(world.need(BUY, gain_bps=100.0, account=0))
    assert group.handle_need(world.need(SELL, gain_bps=100.0, account=1, t=1.5))
    trades = world.recorder.trades.frame()
    value = trades["price_cents"] * trades["quantity"]
    investor_fees = [trades.loc[0, "buyer_fees_cents"], trades.loc[1, "seller_fees_cents"]]
    expected = [round(v * 5.0 * BPS) if retail else 0 for v in value]
    assert investor_fees == expected and (not retail or min(expected) > 0)
    assert trades.loc[0, "seller_fees_cents"] == 0 and trades.loc[1, "buyer_fees_cents"] == 0  # the maker pays none


def test_retail_group_refuses_a_need_that_only_its_own_charge_makes_too_costly():
    def trades(retail: bool) -> bool:
        world = World([fee("retail_levy", 30.0, payers={Payer.RETAIL})])
        group = world.investors(retail=retail)
        quoted(world)
        return group.handle_need(world.need(BUY, gain_bps=30.0))

    assert trades(retail=False) is True and trades(retail=True) is False


def test_a_need_traded_and_settled_leaves_cash_and_units_conserved_and_charges_with_collectors():
    world = World([duty(13.0), fee("trading_fee", 1.0)], [exempt("stamp_duty", LIQUIDITY_PROVIDERS)])
    settlement = world.settlement()
    group = world.investors(settlement=settlement)
    quoted(world)
    env = simpy.Environment()
    env.process(settlement.process(env))
    assert group.handle_need(world.need(BUY, gain_bps=100.0, t=0.5))
    env.run()
    row = world.recorder.trades.frame().to_dict("records")[0]
    value = row["price_cents"] * row["quantity"]
    assert row["settled_day"] == 2 and row["seller_duty_cents"] == 0  # the maker is exempt
    assert world.ledger.cash[world.collectors["government"]] == row["buyer_duty_cents"] == round(value * 13 * BPS)
    assert world.ledger.cash[world.collectors["operator"]] == row["buyer_fees_cents"] + row["seller_fees_cents"]
    assert sum(world.ledger.cash) == world.ledger.issued_cash
    assert sum(world.ledger.units[ASSET]) == world.ledger.issued_units[ASSET]
    assert world.ledger.units[ASSET][group.first_account] == 100


# -- costs ------------------------------------------------------------------------------------

def test_rate_for_each_payer_class_is_what_its_charges_and_reliefs_declare():
    costs = CostSchedule(
        [duty(13.0), fee("trading_fee", 0.565), fee("retail_levy", 2.0, payers={Payer.RETAIL})],
        [Relief(frozenset({"trading_fee"}), LIQUIDITY_PROVIDERS, Dated.always(0.5)),
         exempt("stamp_duty", {Payer.MARKET_MAKER})],
        {"government": 1, "operator": 2},
    )
    assert costs.rate_for(Payer.INVESTOR, 0) == pytest.approx((13.0 + 0.565) * BPS)
    assert costs.rate_for(Payer.RETAIL, 0) == pytest.approx((13.0 + 0.565 + 2.0) * BPS)
    assert costs.rate_for(Payer.DEALER, 0) == pytest.approx((13.0 + 0.565 / 2) * BPS)
    assert costs.rate_for(Payer.MARKET_MAKER, 0) == pytest.approx(0.565 / 2 * BPS)
    assert costs.duty_rate_for(Payer.MARKET_MAKER, 0) == 0.0
    assert costs.duty_rate_for(Payer.RETAIL, 0) == pytest.approx(13 * BPS)


def test_reliefs_for_the_same_charge_add_up_but_never_beyond_the_whole_charge():
    reliefs = [exempt("stamp_duty", {Payer.DEALER}, 0.6), exempt("stamp_duty", {Payer.DEALER}, 0.7),
               exempt("stamp_duty", {Payer.INVESTOR}, 0.25), exempt("stamp_duty", {Payer.INVESTOR}, 0.25)]
    costs = CostSchedule([duty(10.0)], reliefs, {"government": 1})
    assert costs.rate_for(Payer.DEALER, 0) == 0.0
    assert costs.rate_for(Payer.INVESTOR, 0) == pytest.approx(5.0 * BPS)


def test_scope_covers_only_where_every_named_field_matches():
    scope = Scope(venues=frozenset({"HKEX"}), forms=frozenset({"tokenized"}))
    assert scope.covers("HKEX", "exchange", "etf", "tokenized")
    assert scope.covers("HKEX", "platform", "bond", "tokenized")  # fields left None cover everything
    assert not scope.covers("HKEX", "exchange", "etf", "conventional")
    assert not scope.covers("OSL", "exchange", "etf", "tokenized")
    assert EVERYWHERE.covers("anything", "any", "kind", "at all")
    assert not Scope(instrument_types=frozenset()).covers("HKEX", "exchange", "etf", "tokenized")


def test_dated_charge_and_relief_change_on_their_from_day_and_end_before_their_to_day():
    costs = CostSchedule(
        [duty(0.0, rate=Dated(13 * BPS, 10 * BPS, from_day=5, to_day=8))],
        [Relief(frozenset({"stamp_duty"}), frozenset({Payer.MARKET_MAKER}), Dated(1.0, 0.0, from_day=6))],
        {"government": 1},
    )
    investor = [costs.rate_for(Payer.INVESTOR, day) for day in range(10)]
    assert investor == pytest.approx([10 * BPS] * 5 + [13 * BPS] * 3 + [10 * BPS] * 2)
    maker = [costs.rate_for(Payer.MARKET_MAKER, day) for day in (4, 5, 6, 9)]
    assert maker == pytest.approx([10 * BPS, 13 * BPS, 0.0, 0.0])
    assert costs.rate_for(Payer.INVESTOR, 4) == pytest.approx(10 * BPS)  # going back a day is not stuck on the cache


def test_trade_charges_credit_each_collector_and_the_network_fee_falls_on_the_seller():
    charges = [duty(10.0), fee("trading_fee", 2.0), fee("retail_levy", 1.0, {Payer.RETAIL}, "levy")]
    collectors = {"government": 1, "operator": 2, "levy": 3, "network": 4}
    costs = CostSchedule(charges, [exempt("stamp_duty", {Payer.MARKET_MAKER})], collectors, network_fee_cents=50)
    charged = costs.trade_charges(1_000_000, 0, Payer.RETAIL, Payer.MARKET_MAKER)
    assert (charged.buyer_duty, charged.seller_duty) == (1_000, 0)
    assert (charged.buyer_fees, charged.seller_fees) == (200 + 100, 200 + 50)
    credits = {}
    for collector, cents in charged.credits:
        credits[collector] = credits.get(collector, 0) + cents
    assert credits == {1: 1_000, 2: 400, 3: 100, 4: 50}
    assert sum(credits.values()) == charged.buyer_duty + charged.seller_duty + charged.buyer_fees + charged.seller_fees


def test_dated_lever_rejects_a_window_that_ends_before_it_starts():
    with pytest.raises(ValueError, match="window"):
        Dated(1.0, 0.0, from_day=5, to_day=5)
    assert math.isclose(Dated(1.0, 0.0, 2, 4).value_on(3), 1.0) and Dated(1.0, 0.0, 2, 4).value_on(4) == 0.0
