"""A trading venue: an order book with opening hours, a settlement cycle and its charges.

Exchange and digital-asset platform differ only in their parameters (hours, fees, cycle, which
unit class they list), so one class serves both. Prices on the book are integer ticks.
"""

from __future__ import annotations

from sim.market.costs import CostSchedule
from sim.market.orderbook import BUY, OrderBook
from sim.scenario.schema import Venue as VenueParams


class Venue:
    """One venue's book and rules; knows nothing of SimPy."""

    def __init__(
        self, name: str, index: int, params: VenueParams, asset: int, tick_cents: int, costs: CostSchedule
    ) -> None:
        self.name = name
        self.index = index
        self.form = params.form
        self.asset = asset
        self.tick_cents = tick_cents
        self.costs = costs
        self.settlement_cycle_days = params.settlement_cycle_days
        self.sessions = [(open_hour / 24.0, close_hour / 24.0) for open_hour, close_hour in params.sessions_hours]
        self.book = OrderBook()

    def is_open(self, t: float) -> bool:
        """Is the venue in a trading session at time t (business days)?"""
        fraction = t - int(t)
        for open_at, close_at in self.sessions:
            if open_at <= fraction < close_at:
                return True
        return False

    def crossing_cost_bps(self, side: int, nav: float) -> float | None:
        """Premium over NAV a taker pays at the touch on `side`, bps; None if nothing is quoted."""
        if side == BUY:
            ask = self.book.best_ask()
            return None if ask is None else (ask * self.tick_cents / 100.0 / nav - 1.0) * 10_000.0
        bid = self.book.best_bid()
        return None if bid is None else (1.0 - bid * self.tick_cents / 100.0 / nav) * 10_000.0

    def ticks(self, price_hkd: float) -> float:
        """A price in (fractional) ticks."""
        return price_hkd * 100.0 / self.tick_cents
