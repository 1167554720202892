"""Conversion between forms: an arbitrageur that trades one instrument across its conventional and
tokenized order books and moves units between the forms through the custodian (or the CMU).

Why: without conversion the two forms of an instrument are separate pools of units, linked only
through fair value (and, for a backed instrument, its authorised participant). A trading firm
with an account in both forms links their prices: when one form's best bid stands above the
other's best ask by more than its charges on both venues and the cost of converting, it buys the
cheap form and sells the dear one from its own inventory; then it tokenizes or de-tokenizes what
its trades have left in excess, through the custodian, for a fee per HK$ converted, the units
arriving `days` business days later. Units a conversion takes out of one form are counted as
redeemed from it and, when they arrive, as created in the other, so each form's units are
conserved, and across the forms units are conserved with those in transit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.market.calendar import MINUTES_PER_DAY
from sim.market.ledger import Ledger
from sim.market.orderbook import BUY, SELL
from sim.market.payers import Payer
from sim.market.trading import Market
from sim.market.venue import Listing
from sim.recorder import Recorder

CASH_MARGIN = 1.01  # the arbitrageur's purchase sized at 1% more than its price, for charges


@dataclass(frozen=True, slots=True)
class ConversionSpec:
    """The custodian's terms for converting one instrument, and its arbitrageur's (scenario: `conversions`)."""

    instrument: str
    fee_bps: float  # of the value converted, paid to the custodian
    days: int  # business days from a conversion's request until the units arrive in the other form
    check_minutes: float
    max_units_per_check: int
    initial_units: dict[str, int]  # by form: also the inventory the arbitrageur converts back towards
    initial_cash_hkd: float


class FormArbitrageur:
    """Trades one instrument across its forms' order books and converts units between the forms."""

    payer = Payer.INVESTOR  # a trading firm: it pays duty and fees as an investor does

    def __init__(self, account: int, custodian: int, spec: ConversionSpec, listings: list[Listing],
                 assets: dict[str, int], market: Market, ledger: Ledger, recorder: Recorder) -> None:
        """`listings`: the instrument's order-book listings; `assets`: its ledger asset in each form."""
        self.account = account
        self.custodian = custodian
        self.spec = spec
        self.listings = listings
        self.assets = assets
        self.market = market
        self.ledger = ledger
        self.recorder = recorder
        self.in_transit = {form: 0 for form in assets}  # units on their way into each form

    def process(self, env, horizon_days: int):
        """Every `check_minutes`: arbitrage between open listings of different forms, then convert
        the excess of one form into the other."""
        step = self.spec.check_minutes / MINUTES_PER_DAY
        for k in range(math.ceil(horizon_days / step)):
            yield env.timeout(k * step - env.now)
            t = env.now
            open_listings = [listing for listing in self.listings if listing.venue.is_open(t)]
            for buy in open_listings:
                for sell in open_listings:
                    if buy.venue.form != sell.venue.form:
                        self._arbitrage(buy, sell, t)
            for source, target in (("conventional", "tokenized"), ("tokenized", "conventional")):
                self._convert(env, source, target, t)

    def _arbitrage(self, buy: Listing, sell: Listing, t: float) -> None:
        """Buy on `buy` and sell on `sell` (from inventory) while the gap pays for both venues' charges and a conversion."""
        ask, bid = buy.book.best_ask(), sell.book.best_bid()
        if ask is None or bid is None:
            return
        day = int(t)
        ask_hkd, bid_hkd = ask * buy.tick_cents / 100.0, bid * sell.tick_cents / 100.0
        costs = (buy.costs.rate_for(self.payer, day) + sell.costs.rate_for(self.payer, day)
                 + self.spec.fee_bps / 10_000.0)
        if bid_hkd <= ask_hkd * (1.0 + costs):
            return
        ledger = self.ledger
        units = min(self.spec.max_units_per_check, ledger.free_units(sell.asset, self.account),
                    int(ledger.free_cash(self.account) // (ask * buy.tick_cents * CASH_MARGIN + 1)))
        if units <= 0:
            return
        bought = self.market.take(buy, self.account, BUY, units, ask, t)
        if bought > 0:
            self.market.take(sell, self.account, SELL, bought, bid, t)

    def _convert(self, env, source: str, target: str, t: float) -> None:
        """Send the free units of `source` beyond its starting inventory to `target`, as far as `target`
        is short of its own (counting what is already on its way), paying the custodian's fee."""
        ledger, spec = self.ledger, self.spec
        excess = ledger.free_units(self.assets[source], self.account) - spec.initial_units.get(source, 0)
        short = spec.initial_units.get(target, 0) - (ledger.free_units(self.assets[target], self.account)
                                                     + self.in_transit[target])
        units = min(excess, short, spec.max_units_per_check)
        if units <= 0:
            return
        listing = next(listing for listing in self.listings if listing.venue.form == source)
        fee = round(units * listing.value.at(t) * 100.0 * spec.fee_bps / 10_000.0)
        if ledger.free_cash(self.account) < fee:
            return
        ledger.pay(self.account, self.custodian, fee)
        ledger.redeem_units(self.assets[source], self.account, units)
        self.in_transit[target] += units
        self.recorder.conversions.add(t, int(t), self.assets[source], self.assets[target], units, fee)
        env.process(self._arrive(env, target, units))

    def _arrive(self, env, target: str, units: int):
        """The units arrive in `target` form `days` business days after the request, at the same time of day."""
        yield env.timeout(self.spec.days)
        self.ledger.create_units(self.assets[target], self.account, units)
        self.in_transit[target] -= units
