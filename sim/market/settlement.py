"""Settlement: delivery versus payment after each venue's cycle, or atomically at T+0.

A trade agreed on business day d on a venue with cycle L settles at the end of day d + L
(T+L); with L = 0 it settles the moment it is agreed (atomic delivery versus payment, as with
tokenized cash on a ledger). Until then its value is outstanding: the daily exposure record is
that value per venue at each day's end, which Little's law puts near daily value times L.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from sim.market.ledger import Ledger
from sim.recorder import Recorder


class PendingTrade(NamedTuple):
    trade: int
    venue: int
    asset: int
    seller: int
    buyer: int
    quantity: int
    value_cents: int
    buyer_pays_cents: int
    seller_receives_cents: int
    credits: list[tuple[int, int]]


class Settlement:
    """The settlement queue of all venues, run as one SimPy process at each day's end."""

    def __init__(self, ledger: Ledger, recorder: Recorder, n_venues: int, horizon_days: int) -> None:
        self.ledger = ledger
        self.recorder = recorder
        self.horizon_days = horizon_days
        self._due: dict[int, list[PendingTrade]] = defaultdict(list)
        self.outstanding_cents = [0] * n_venues
        self.outstanding_trades = [0] * n_venues

    def submit(self, pending: PendingTrade, trade_day: int, cycle_days: int) -> None:
        """Queue a committed trade for settlement on day trade_day + cycle_days."""
        if cycle_days == 0:
            self._deliver(pending, trade_day)
            return
        self._due[trade_day + cycle_days].append(pending)
        self.outstanding_cents[pending.venue] += pending.value_cents
        self.outstanding_trades[pending.venue] += 1

    def process(self, env):
        """At the end of each business day settle what is due, then record what is outstanding."""
        day = 0
        while day < self.horizon_days or self._due:
            yield env.timeout(day + 1 - env.now)
            for pending in self._due.pop(day, ()):
                self.outstanding_cents[pending.venue] -= pending.value_cents
                self.outstanding_trades[pending.venue] -= 1
                self._deliver(pending, day)
            if day < self.horizon_days:
                for venue, cents in enumerate(self.outstanding_cents):
                    self.recorder.exposure.add(day, venue, cents, self.outstanding_trades[venue])
            day += 1

    def _deliver(self, p: PendingTrade, day: int) -> None:
        self.ledger.settle(
            p.asset, p.seller, p.buyer, p.quantity, p.buyer_pays_cents, p.seller_receives_cents, p.credits
        )
        self.recorder.mark_settled(p.trade, day)
