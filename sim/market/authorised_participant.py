"""An authorised participant: creation and redemption keep a backed instrument near its NAV.

Backed instruments are ETFs (a basket held by the fund) and asset-backed tokens (a commodity
held in custody); both are handled alike, the backing held by the fund account as cash at value.

When units trade at a premium to NAV wider than the participant's costs (basket trading cost,
the stamp duty on the basket, the creation fee, and its own per-side charges on the venue), it
creates units against cash at NAV and sells them into the bid; at a discount beyond its costs it buys units from the ask and
redeems them for NAV. That bounds the premium and discount to an arbitrage band. Creation and
redemption are primary-market operations with the fund, settled at once, and every unit created
or redeemed is counted by the ledger, so conservation still holds.

Stamp duty follows Hong Kong law: a basket of Hong Kong stock is bought before a creation and sold
after a redemption in ordinary taxed stock trades (the stock rate, per side, paid by the
participant to the government); the transfer of the basket into or out of the fund is relieved
(since 1 Aug 2020) unless that relief is switched off, when the transfer pays the stock rate on
both sides, all borne by the participant (an assumption: it recovers them through the creation).
The stock trades themselves are not simulated: the participant pays their duty on a duty line
of its own, recorded with each creation and redemption.
"""

from __future__ import annotations

import math

from sim.market.calendar import MINUTES_PER_DAY
from sim.market.ledger import Ledger
from sim.market.orderbook import BUY, SELL
from sim.market.payers import Payer
from sim.market.specs import ParticipantSpec
from sim.market.trading import Market
from sim.market.values import FairValue
from sim.market.venue import Listing
from sim.recorder import Recorder


def basket_duty_rate(params: ParticipantSpec, day: int) -> float:
    """Stamp duty per HK$ of basket on one creation or redemption on `day`: the basket's purchase or
    sale (one side of a stock trade) and, unless relieved, its transfer into or out of the fund
    (both sides of that transfer)."""
    rate = params.basket_duty.value_on(day)
    return rate if params.transfer_relief.value_on(day) else 3.0 * rate


class AuthorisedParticipant:
    """Arbitrages one backed instrument (ETF, asset-backed token) across its order-book listings."""

    def __init__(
        self,
        account: int,
        fund: int,
        basket_collector: int,
        government: int,
        params: ParticipantSpec,
        creation_unit: int,
        listings: list[Listing],
        value: FairValue,
        market: Market,
        ledger: Ledger,
        recorder: Recorder,
        target_units: dict[int, int],
    ) -> None:
        """`target_units` is the inventory per asset the participant keeps; it redeems any surplus."""
        self.account = account
        self.fund = fund
        self.basket_collector = basket_collector
        self.government = government
        self.params = params
        self.creation_unit = creation_unit
        self.listings = listings
        self.value = value
        self.market = market
        self.ledger = ledger
        self.recorder = recorder
        self.target_units = target_units

    def process(self, env, horizon_days: int):
        """Check every listing that is open every `check_minutes`."""
        step = self.params.check_minutes / MINUTES_PER_DAY
        for k in range(math.ceil(horizon_days / step)):
            yield env.timeout(k * step - env.now)
            for listing in self.listings:
                if listing.venue.is_open(env.now):
                    self.arbitrage(listing, env.now)

    def band(self, listing: Listing, day: int, nav: float, t: float | None = None) -> float:
        """Premium or discount (fraction of NAV) beyond which arbitrage pays; at time `t` (None: in
        session) it includes the off-hours margin for a move of the underlying not yet seen."""
        fee = self.params.creation_fee_hkd / (self.creation_unit * nav)
        return (self.params.basket_cost_bps / 10_000.0 + self.duty_rate(day) + fee
                + listing.costs.rate_for(Payer.AUTHORISED_PARTICIPANT, day) + (0.0 if t is None else self.value.margin(t)))

    def duty_rate(self, day: int) -> float:
        return basket_duty_rate(self.params, day)

    def arbitrage(self, listing: Listing, t: float) -> None:
        day = int(t)
        nav = self.value.at(t)
        band = self.band(listing, day, nav, t)
        book, asset, unit = listing.book, listing.asset, self.creation_unit
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and bid >= listing.ticks(nav) * (1.0 + band):
            if self.ledger.free_units(asset, self.account) < unit:
                self._create(listing, nav, t)
            quantity = min(unit, self.ledger.free_units(asset, self.account))
            if quantity > 0:
                self.market.take(listing, self.account, SELL, quantity, math.ceil(listing.ticks(nav) * (1.0 + band)), t)
        elif ask is not None and ask <= listing.ticks(nav) * (1.0 - band):
            limit = math.floor(listing.ticks(nav) * (1.0 - band))
            affordable = int(self.ledger.free_cash(self.account) // (limit * listing.tick_cents * 1.01 + 1))
            if min(unit, affordable) > 0:
                self.market.take(listing, self.account, BUY, min(unit, affordable), limit, t)
        if self.ledger.free_units(asset, self.account) >= self.target_units[asset] + unit:
            self._redeem(listing, nav, t)

    def _basket_and_fee(self, nav: float, day: int) -> tuple[int, int, int, int]:
        """A creation unit's value at NAV, the basket's trading cost, the creation fee and the duty, in cents."""
        value = round(nav * 100.0 * self.creation_unit)
        basket = round(value * self.params.basket_cost_bps / 10_000.0)
        return value, basket, round(self.params.creation_fee_hkd * 100.0), round(value * self.duty_rate(day))

    def _create(self, listing: Listing, nav: float, t: float) -> None:
        value, basket, fee, duty = self._basket_and_fee(nav, int(t))
        if self.ledger.free_cash(self.account) < value + basket + fee + duty:
            return
        self.ledger.pay(self.account, self.fund, value + fee)
        self.ledger.pay(self.account, self.basket_collector, basket)
        self.ledger.pay(self.account, self.government, duty)
        self.ledger.create_units(listing.asset, self.account, self.creation_unit)
        self.recorder.creations.add(t, int(t), listing.index, self.creation_unit, nav, duty)

    def _redeem(self, listing: Listing, nav: float, t: float) -> None:
        value, basket, fee, duty = self._basket_and_fee(nav, int(t))
        if self.ledger.free_cash(self.fund) < value:
            return
        self.ledger.redeem_units(listing.asset, self.account, self.creation_unit)
        self.ledger.pay(self.fund, self.account, value)
        self.ledger.pay(self.account, self.fund, fee)
        self.ledger.pay(self.account, self.basket_collector, basket)
        self.ledger.pay(self.account, self.government, duty)
        self.recorder.creations.add(t, int(t), listing.index, -self.creation_unit, nav, duty)
