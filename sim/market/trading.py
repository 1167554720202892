"""Where a taker's order meets a listing's liquidity provider, and each fill becomes a trade.

A fill is charged at once (duty and fees per side from the listing's cost schedule, for each
side's payer class, after the reliefs in force), committed in the ledger, queued for
settlement on the venue's cycle (or settled at once: a book entry, atomic or T+0) and appended
to the trade table.
"""

from __future__ import annotations

from sim.market.ledger import Ledger
from sim.market.orderbook import BUY, Fill
from sim.market.payers import Payer
from sim.market.settlement import PendingTrade, Settlement
from sim.market.venue import Listing
from sim.recorder import Recorder, TradeRow

_tuple_new = tuple.__new__


class Market:
    """Executes immediate-or-cancel orders and requests for quote, and books the trades."""

    def __init__(self, ledger: Ledger, recorder: Recorder, settlement: Settlement) -> None:
        self.ledger = ledger
        self.recorder = recorder
        self._add_trade = recorder.trades.add_record  # the one place trade rows are written
        self.settlement = settlement
        self.payers: list[Payer] = ledger.payers  # each account's payer class, by account
        self.taker_orders = 0  # immediate-or-cancel orders and requests for quote received
        self.blocked: dict[int, int] = {}  # per listing: orders refused because the venue's settlement money was frozen

    def take(
        self, listing: Listing, taker: int, side: int, quantity: int, limit_ticks: int, t: float, fair: float | None = None
    ) -> int:
        """Buy (side +1) or sell (-1) up to `quantity` at `limit_ticks` or better; return the quantity filled.

        `fair` is the listing's fair value at `t`, when the caller has already looked it up.
        """
        self.taker_orders += 1
        day = int(t)
        venue = listing.venue
        if venue.freezes and venue.money_frozen(t):
            self.blocked[listing.index] = self.blocked.get(listing.index, 0) + 1
            return 0
        if fair is None:
            fair = listing.value.at(t)
        provider = listing.provider
        provider.watch(t, fair)
        fills = provider.fills(side, limit_ticks, quantity, taker, fair, day)
        if not fills:
            return 0
        filled = 0
        for fill in fills:
            self._book(listing, taker, side, fill, t, day, fair)
            filled += fill.qty
        provider.after_trade(t)
        return filled

    def _book(self, listing: Listing, taker: int, side: int, fill: Fill, t: float, day: int, fair: float) -> None:
        buyer, seller = (taker, fill.maker_owner) if side == BUY else (fill.maker_owner, taker)
        price_cents, quantity = fill.price * listing.tick_cents, fill.qty
        value = price_cents * quantity
        payers = self.payers
        buyer_duty, seller_duty, buyer_fee_total, seller_fee_total, credits = listing.costs.trade_charges(
            value, day, payers[buyer], payers[seller]
        )
        buyer_pays = value + buyer_duty + buyer_fee_total
        trade = self._add_trade(_tuple_new(TradeRow, (
            t, day, listing.index, price_cents, quantity, buyer, seller, side, fair,
            buyer_duty, seller_duty, buyer_fee_total, seller_fee_total, -1, 0,
        )))
        seller_receives = value - seller_duty - seller_fee_total
        self.ledger.commit(listing.asset, seller, buyer, quantity, buyer_pays, seller_receives)
        pending = _tuple_new(PendingTrade, (  # without NamedTuple.__new__'s Python frame: once per trade
            trade, listing.index, listing.asset, seller, buyer, quantity, value, buyer_pays, seller_receives, credits,
        ))
        self.settlement.submit(pending, day, listing.venue.cycle_on(day))
