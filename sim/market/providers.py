"""Liquidity providers behind one interface, chosen once per venue kind when the model is built.

A listing's liquidity comes from one provider: a market maker quoting a ladder on the listing's
order book (exchange and platform venues) or a dealer answering each request for quote (OTC).
Everything else in the market asks the provider, never which kind it is: what a taker of a
quantity would pay at the touch (`touch`), the fills a taker's immediate-or-cancel order gets
(`fills`), what to do before a taker trades when its prices may be stale (`watch`), what to do
after a trade (`after_trade`), and the requote processes it needs (`clocks`). A new venue kind is one subclass of `LiquidityProvider` plus its entry in
`sim.market.venue_kinds.PROVIDERS` and in the scenario schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from sim.market.payers import Payer

if TYPE_CHECKING:
    from sim.market.orderbook import Fill, OrderBook
    from sim.market.venue import Listing


class LiquidityProvider:
    """One listing's provider of liquidity, trading for one ledger account.

    Subclasses set `payer` (the class its charges and reliefs are declared for) and `spec_key`
    (the key of its terms in a listing's spec), and implement `touch` and `fills`.
    """

    payer: ClassVar[Payer]
    spec_key: ClassVar[str]
    order_book: ClassVar[bool] = False  # does it quote on the listing's order book (`book`)?
    book: OrderBook | None = None  # the order book it quotes on, if it has one
    account: int
    listing: Listing
    target_units: int  # the inventory it leans back towards

    def touch(self, taker_side: int, quantity: int, fair: float, day: int) -> int | None:
        """The price in ticks a taker of `quantity` on `taker_side` would meet first, or None."""
        raise NotImplementedError

    def fills(self, taker_side: int, limit_ticks: int, quantity: int, taker: int, fair: float, day: int) -> list[Fill]:
        """The fills an immediate-or-cancel order of `taker` gets at `limit_ticks` or better."""
        raise NotImplementedError

    def watch(self, t: float, fair: float) -> None:
        """Called before a taker's order meets this provider at time `t`, when the fair value is
        `fair`: a provider that watches the underlying reprices here if its quotes are stale."""

    def after_trade(self, t: float) -> None:
        """Called once after a taker's order traded in the listing."""

    @classmethod
    def clocks(cls, env, providers: list[LiquidityProvider], horizon_days: int) -> list[Iterator]:
        """The SimPy processes that the providers of this class need (none by default)."""
        return []

