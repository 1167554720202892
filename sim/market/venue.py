"""Venues and listings: where an instrument trades, when, at what charges and how it settles.

A venue (exchange, digital-asset platform or OTC dealer market) owns the hours, the fees, the
settlement cycle and the fail rate. A listing is one instrument on one venue: it owns the
order book (or the dealer), the tick, the cost schedule and the fair value its liquidity
provider prices against. Investors choose among listings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.market.costs import CostSchedule
from sim.market.orderbook import OrderBook
from sim.market.specs import VenueSpec
from sim.market.values import FairValue

if TYPE_CHECKING:
    from sim.market.providers import LiquidityProvider


class Venue:
    """A venue's rules; knows nothing of SimPy."""

    def __init__(self, spec: VenueSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.index = spec.index
        self.kind = spec.kind
        self.form = spec.form
        self.settlement_cycle_days = spec.settlement_cycle_days
        self.sessions = [(open_hour / 24.0, close_hour / 24.0) for open_hour, close_hour in spec.sessions_hours]
        self._tokenized_cash = spec.tokenized_cash if spec.form == "tokenized" else None
        self.always_open = self.sessions == [(0.0, 1.0)]  # spares the session lookup on the hot path
        self._cycle_day, self._cycle = None, self.settlement_cycle_days

    def is_open(self, t: float) -> bool:
        """Is the venue in a trading session at time t (business days)?"""
        if self.always_open:
            return True
        fraction = t - int(t)
        for open_at, close_at in self.sessions:
            if open_at <= fraction < close_at:
                return True
        return False

    def open_at(self, fractions: np.ndarray) -> np.ndarray | bool:
        """`is_open` for many times at once, given each time's fraction of its day (numpy)."""
        if self.always_open:
            return True
        inside = np.zeros(len(fractions), dtype=bool)
        for open_at, close_at in self.sessions:
            inside |= (open_at <= fractions) & (fractions < close_at)
        return inside

    def atomic(self, day: int) -> bool:
        """Does a trade agreed on `day` settle atomically (tokenized cash in force on a tokenized venue)?"""
        return self._tokenized_cash is not None and self._tokenized_cash.value_on(day)

    def cycle_on(self, day: int) -> int:
        """Business days to settlement for a trade agreed on `day` (looked up once per day)."""
        if day != self._cycle_day:
            self._cycle_day, self._cycle = day, 0 if self.atomic(day) else self.settlement_cycle_days
        return self._cycle


class Listing:
    """One instrument on one venue, with its liquidity provider."""

    def __init__(
        self,
        index: int,
        venue: Venue,
        instrument: str,
        instrument_type: str,
        asset: int,
        tick_cents: int,
        costs: CostSchedule,
        value: FairValue,
    ) -> None:
        self.index = index
        self.venue = venue
        self.instrument = instrument
        self.instrument_type = instrument_type
        self.asset = asset
        self.tick_cents = tick_cents
        self.costs = costs
        self.value = value
        self.book: OrderBook | None = None  # set by a provider that quotes on an order book
        self.provider: LiquidityProvider | None = None  # the listing's market maker or dealer, set when built
        self.active = True  # a new issue's listing opens when it settles and closes at maturity

    def ticks(self, price_hkd: float) -> float:
        """A price in (fractional) ticks."""
        return price_hkd * 100.0 / self.tick_cents
