"""Where a taker's order meets a venue's book and each fill becomes a committed, recorded trade.

A fill is charged at once (duty and fees per side, from the venue's cost schedule, with the
market maker's exemption where policy grants it), committed in the ledger, queued for
settlement and appended to the trade table.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.market.ledger import Ledger
from sim.market.nav import NavPath
from sim.market.orderbook import BUY, Fill
from sim.market.settlement import PendingTrade, Settlement
from sim.market.venue import Venue
from sim.recorder import Recorder


class Market:
    """Executes immediate-or-cancel orders and books the trades."""

    def __init__(
        self, ledger: Ledger, recorder: Recorder, settlement: Settlement, nav: NavPath, duty_exempt: set[int]
    ) -> None:
        self.ledger = ledger
        self.recorder = recorder
        self.settlement = settlement
        self.nav = nav
        self.duty_exempt = duty_exempt
        self.after_trade: dict[int, Callable[[float], None]] = {}

    def take(self, venue: Venue, taker: int, side: int, quantity: int, limit_ticks: int, t: float) -> int:
        """Send an immediate-or-cancel order; return the quantity filled."""
        fills = venue.book.submit_ioc(side, limit_ticks, quantity, taker)
        if not fills:
            return 0
        day = int(t)
        nav = self.nav.at(t)
        for fill in fills:
            self._book(venue, taker, side, fill, t, day, nav)
        hook = self.after_trade.get(venue.index)
        if hook is not None:
            hook(t)
        return sum(fill.qty for fill in fills)

    def _book(self, venue: Venue, taker: int, side: int, fill: Fill, t: float, day: int, nav: float) -> None:
        buyer, seller = (taker, fill.maker_owner) if side == BUY else (fill.maker_owner, taker)
        price_cents = fill.price * venue.tick_cents
        value = price_cents * fill.qty
        costs = venue.costs
        buyer_duty, buyer_fees = costs.side_charges(value, day, buyer in self.duty_exempt, selling=False)
        seller_duty, seller_fees = costs.side_charges(value, day, seller in self.duty_exempt, selling=True)
        buyer_pays = value + buyer_duty + buyer_fees
        trade = self.recorder.trades.add(
            t, day, venue.index, price_cents, fill.qty, buyer, seller, side, nav,
            buyer_duty, seller_duty, buyer_fees, seller_fees, -1,
        )
        self.ledger.commit(venue.asset, seller, buyer, fill.qty, buyer_pays)
        pending = PendingTrade(
            trade, venue.index, venue.asset, seller, buyer, fill.qty, value,
            buyer_pays, value - seller_duty - seller_fees, costs.credits(value, buyer_duty, seller_duty),
        )
        self.settlement.submit(pending, day, venue.settlement_cycle_days)
