"""Venues and listings: where an instrument trades, when, at what charges and how it settles.

A venue (exchange, digital-asset platform or OTC dealer market) owns the hours, the fees and
how its trades settle: its settlement model, cycle and residual fail rate. A listing is one instrument on one venue: it owns the
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
    from sim.market.money_path import MoneyPath
    from sim.market.providers import LiquidityProvider


class Venue:
    """A venue's rules; knows nothing of SimPy."""

    def __init__(self, spec: VenueSpec, money: MoneyPath | None = None) -> None:
        self.spec = spec
        self.money = money  # the settlement asset its trades settle in, atomically (None: its settlement model)
        self.freezes = money is not None and money.freezes  # can that money be frozen at all (spares the lookup)
        self.name = spec.name
        self.index = spec.index
        self.kind = spec.kind
        self.form = spec.form
        self.settlement_cycle_days = spec.settlement_cycle_days
        self.sessions = [(open_hour / 24.0, close_hour / 24.0) for open_hour, close_hour in spec.sessions_hours]
        self._tokenized_cash = spec.tokenized_cash if spec.form == "tokenized" else None
        self.settlement_model = spec.settlement_model
        self.always_open = self.sessions == [(0.0, 1.0)]  # spares the session lookup on the hot path
        self._terms_day: int | None = None  # the key of `_cycle` and `_lead`: the day (levers change by day only)
        self._cycle, self._lead = self.settlement_cycle_days, None

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
        """Does a trade agreed on `day` settle by atomic delivery versus payment against tokenized cash
        (the venue's `atomic` model, or tokenized cash in force on a tokenized venue)?"""
        return self.settlement_model == "atomic" or self.money is not None or (
            self._tokenized_cash is not None and self._tokenized_cash.value_on(day)
        )

    def money_frozen(self, t: float) -> bool:
        """Is the money this venue settles in frozen at time t (a failed bank's deposit tokens), so that no
        trade can settle?"""
        return self.freezes and self.money.frozen_at(t)

    def cycle_on(self, day: int) -> int:
        """Business days to settlement for a trade agreed on `day`: 0 (final at the trade) for a book
        entry, atomic settlement or DvP at T+0 (looked up once per day)."""
        if day != self._terms_day:
            self._terms_on(day)
        return self._cycle

    def prefunding_lead_on(self, day: int) -> float | None:
        """For a trade agreed on `day` that settles at the trade, how long before the start of that day
        the buyer's cash must be in place, days: the venue's book-entry lead for a book entry, the
        tokenized cash's (`settlement.prefunding_lead_days`) for atomic settlement and DvP at T+0.
        None for deferred settlement, which is not prefunded. The cash then waits until the trade's
        time of day, so a purchase at time t on day d is prefunded for lead + (t - d) days."""
        if day != self._terms_day:
            self._terms_on(day)
        return self._lead

    def _terms_on(self, day: int) -> None:
        spec = self.spec
        if self.atomic(day):
            cycle, lead = 0, spec.atomic_lead_days
        elif self.settlement_model == "book_entry":
            cycle, lead = 0, spec.book_entry_lead_days
        else:
            cycle = self.settlement_cycle_days
            lead = spec.atomic_lead_days if cycle == 0 else None
        self._terms_day, self._cycle, self._lead = day, cycle, lead


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
