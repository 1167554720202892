"""An OTC dealer: answers each request for quote with a firm price for that size.

The quoted half-spread grows with the request's size (a larger ticket costs the dealer more to
lay off), covers the dealer's own per-side costs, and its mid leans against the dealer's
inventory. The dealer declines a request that would take it past its inventory limit or beyond
its free units or cash.
"""

from __future__ import annotations

import math

from sim.market.inventory import inventory_lean
from sim.market.ledger import Ledger
from sim.market.orderbook import BUY, Fill
from sim.market.payers import Payer
from sim.market.providers import LiquidityProvider
from sim.market.specs import DealerSpec


class Dealer(LiquidityProvider):
    """The dealer of one listing, trading for one account."""

    payer = Payer.DEALER
    spec_key = "dealer"

    def __init__(self, account: int, listing, params: DealerSpec, ledger: Ledger, recorder=None) -> None:
        """Built with the arguments every provider class takes (a dealer records no quotes: `recorder` is unused)."""
        self.account = account
        self.listing = listing
        self.params = params
        self.ledger = ledger
        self.target_units = params.initial_units

    def fills(self, taker_side: int, limit_ticks: int, quantity: int, taker: int, fair: float, day: int) -> list[Fill]:
        """The dealer takes the whole request at its quote, if the quote is within the taker's limit."""
        price = self.touch(taker_side, quantity, fair, day)
        if price is None or taker_side * (price - limit_ticks) > 0:
            return []
        return [Fill(0, self.account, price, quantity)]

    def quote(self, taker_side: int, quantity: int, fair: float, day: int) -> int | None:
        """Price in ticks at which the dealer takes the other side of `quantity`, or None."""
        params, listing = self.params, self.listing
        position, free_units, free_cash = self.ledger.standing(listing.asset, self.account)
        excess = position - self.target_units
        if taker_side == BUY:  # the dealer sells
            if quantity > min(params.inventory_limit_units + excess, free_units):
                return None
        elif quantity > params.inventory_limit_units - excess:
            return None
        lean = inventory_lean(excess, params.inventory_limit_units)
        value_millions = quantity * fair / 1e6
        cost_rate = listing.costs.rate_for(Payer.DEALER, day)
        half = (
            params.base_half_spread_bps / 10_000.0
            + params.size_impact_bps_per_million_hkd * value_millions / 10_000.0
            + cost_rate
        )
        mid = listing.ticks(fair) * (1.0 - lean * params.skew_bps_at_limit / 10_000.0)
        if taker_side == BUY:
            return math.ceil(mid * (1.0 + half))
        price = math.floor(mid * (1.0 - half))
        cost = price * listing.tick_cents * quantity * (1.0 + cost_rate) + 1.0
        return price if price >= 1 and cost <= free_cash else None

    touch = quote  # the interface's name for it: a dealer's touch is its quote for the size
