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

Where the basket is a share of the run (`BasketShare`), those stock trades are simulated: the
fund holds the share, the participant delivers a creation's basket in kind from its own stock of
it and buys it back on the share's exchange listing, and takes a redemption's basket into that
stock and sells it there; the purchases and sales pay the share's duty and fees as any trade
does, so their duty lands in the stock channel. Otherwise the stock trades are not simulated:
the participant pays their duty on a duty line of its own, recorded with each creation and
redemption (as it records any transfer duty).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    """Stamp duty per HK$ of basket on one creation or redemption on `day` whose basket is not traded
    in the model: the basket's purchase or sale (one side of a stock trade) and its transfer duty."""
    return params.basket_duty.value_on(day) + transfer_duty_rate(params, day)


def transfer_duty_rate(params: ParticipantSpec, day: int) -> float:
    """Stamp duty per HK$ of basket on its transfer into or out of the fund on `day`: both sides of
    that transfer, unless relieved."""
    return 0.0 if params.transfer_relief.value_on(day) else 2.0 * params.basket_duty.value_on(day)


@dataclass(frozen=True)
class BasketShare:
    """The share that is an ETF's basket: where the participant trades it, and its holdings."""

    listing: Listing  # the share's exchange listing (conventional form, an order book)
    value: FairValue  # the share's price
    asset: int  # the share's conventional holding


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
        basket: BasketShare | None = None,
    ) -> None:
        """`target_units` is the inventory per asset the participant keeps; it redeems any surplus.
        `basket`: the share that is the basket, traded in the model (None: a duty line)."""
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
        self.basket = basket
        self.basket_due = 0  # shares of the basket still to buy (+) or sell (-) to restore its stock of them

    def process(self, env, horizon_days: int):
        """Check every listing that is open every `check_minutes`, and restore the stock of the
        basket share while its exchange trades."""
        step = self.params.check_minutes / MINUTES_PER_DAY
        for k in range(math.ceil(horizon_days / step)):
            yield env.timeout(k * step - env.now)
            for listing in self.listings:
                if listing.venue.is_open(env.now):
                    self.arbitrage(listing, env.now)
            if self.basket_due and self.basket.listing.venue.is_open(env.now):
                self._restore_basket(env.now)

    def band(self, listing: Listing, day: int, nav: float, t: float | None = None) -> float:
        """Premium or discount (fraction of NAV) beyond which arbitrage pays; at time `t` (None: in
        session) it includes the off-hours margin for a move of the underlying not yet seen."""
        fee = self.params.creation_fee_hkd / (self.creation_unit * nav)
        return (self.params.basket_cost_bps / 10_000.0 + self.basket_rate(day) + fee
                + listing.costs.rate_for(Payer.AUTHORISED_PARTICIPANT, day) + (0.0 if t is None else self.value.margin(t)))

    def basket_rate(self, day: int) -> float:
        """Charges per HK$ of basket on one creation or redemption: its duty line, and the share
        listing's charges on the participant's purchase or sale where the basket trades in the model."""
        if self.basket is None:
            return self.duty_rate(day)
        return self.duty_rate(day) + self.basket.listing.costs.rate_for(Payer.AUTHORISED_PARTICIPANT, day)

    def duty_rate(self, day: int) -> float:
        """The participant's own duty line per HK$ of basket: the basket's purchase or sale and its
        transfer duty, or only the transfer duty where the purchase or sale is a trade of the model."""
        return basket_duty_rate(self.params, day) if self.basket is None else transfer_duty_rate(self.params, day)

    def arbitrage(self, listing: Listing, t: float) -> None:
        day = int(t)
        nav = self.value.at(t)
        listing.provider.watch(t, nav)  # quotes priced off the value just seen, not a stale one it would pick off
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
        ledger = self.ledger
        if self.basket is None:  # the fund takes the basket's value in cash
            if ledger.free_cash(self.account) < value + basket + fee + duty:
                return
            ledger.pay(self.account, self.fund, value)
        else:  # the participant delivers the basket share from its stock, and buys it back
            shares = self._basket_shares(nav, t)
            if ledger.free_units(self.basket.asset, self.account) < shares or ledger.free_cash(self.account) < basket + fee + duty:
                return
            ledger.transfer_units(self.basket.asset, self.account, self.fund, shares)
            self.basket_due += shares
        ledger.pay(self.account, self.fund, fee)
        ledger.pay(self.account, self.basket_collector, basket)
        ledger.pay(self.account, self.government, duty)
        ledger.create_units(listing.asset, self.account, self.creation_unit)
        self.recorder.creations.add(t, int(t), listing.index, self.creation_unit, nav, duty)
        if self.basket is not None and self.basket.listing.venue.is_open(t):
            self._restore_basket(t)

    def _redeem(self, listing: Listing, nav: float, t: float) -> None:
        value, basket, fee, duty = self._basket_and_fee(nav, int(t))
        ledger = self.ledger
        if self.basket is None:  # the fund pays the basket's value in cash
            if ledger.free_cash(self.fund) < value:
                return
            ledger.redeem_units(listing.asset, self.account, self.creation_unit)
            ledger.pay(self.fund, self.account, value)
        else:  # the fund delivers the basket share, which the participant sells
            shares = self._basket_shares(nav, t)
            if ledger.free_units(self.basket.asset, self.fund) < shares:
                return
            ledger.redeem_units(listing.asset, self.account, self.creation_unit)
            ledger.transfer_units(self.basket.asset, self.fund, self.account, shares)
            self.basket_due -= shares
        ledger.pay(self.account, self.fund, fee)
        ledger.pay(self.account, self.basket_collector, basket)
        ledger.pay(self.account, self.government, duty)
        self.recorder.creations.add(t, int(t), listing.index, -self.creation_unit, nav, duty)
        if self.basket is not None and self.basket.listing.venue.is_open(t):
            self._restore_basket(t)

    def _basket_shares(self, nav: float, t: float) -> int:
        """Shares of the basket share worth a creation unit at NAV."""
        return round(nav * self.creation_unit / self.basket.value.at(t))

    def _restore_basket(self, t: float) -> None:
        """Buy back the basket shares delivered into creations, or sell those taken out of
        redemptions, on the share's exchange listing, paying up to the basket cost and one tick
        beyond fair value; what does not fill waits for the next check."""
        listing, ledger = self.basket.listing, self.ledger
        fair = self.basket.value.at(t)
        ticks = listing.ticks(fair)
        slack = self.params.basket_cost_bps / 10_000.0
        if self.basket_due > 0:
            limit = math.ceil(ticks * (1.0 + slack)) + 1
            affordable = int(ledger.free_cash(self.account) // (limit * listing.tick_cents * 1.01 + 1))
            quantity = min(self.basket_due, affordable)
            if quantity > 0:
                self.basket_due -= self.market.take(listing, self.account, BUY, quantity, limit, t, fair)
        else:
            quantity = min(-self.basket_due, ledger.free_units(self.basket.asset, self.account))
            if quantity > 0:
                self.basket_due += self.market.take(listing, self.account, SELL, quantity,
                                                    math.floor(ticks * (1.0 - slack)) - 1, t, fair)
