"""Gode & Sunder (1993) zero-intelligence traders, trading through the project's own order book.

Why: the simulator's every trade goes through `sim.market.orderbook.OrderBook`. Gode and Sunder
showed that a continuous double auction extracts almost all the surplus of an induced
supply-and-demand schedule even when traders bid at random, provided they cannot trade at a loss
(ZI-C: 97.1-99.9% allocative efficiency in their five markets), and much less when they can
(ZI-U: 48.8-90%). Reproducing that result through our book checks its matching rules.

The protocol follows theirs: six buyers and six sellers, each with a few units that must be
traded in order (a buyer's most valuable unit first, a seller's cheapest first); a random trader
with units left submits a one-unit limit order at a uniformly drawn integer price (ZI-C buyers in
[1, value], sellers in [cost, 200]; ZI-U anywhere in [1, 200]) that replaces its previous order;
a crossing order trades at the resting order's price, and every transaction cancels all
unaccepted orders. A period ends when no further trade is possible or after `max_orders`
orders. Efficiency is realised surplus (buyer value less seller cost over the trades) over the
schedule's maximum surplus.

The paper's exact schedules are printed only as figures, so the five markets here are stepped
schedules of our own with values and costs in 1..200, varied the way theirs were: equilibrium
price low to high, thin and thick, steep and flat. ZI-C's efficiency is a property of the
mechanism; ZI-U's is mostly a property of the schedule (when every unit trades it equals the
schedule's net surplus over its maximum), so only the first is a sharp test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.market.orderbook import BUY, SELL, OrderBook
from sim.market.random_streams import stream

PRICE_MIN, PRICE_MAX = 1, 200
KINDS = ("ZI-C", "ZI-U")
PUBLISHED = {"ZI-C": (0.971, 0.999), "ZI-U": (0.488, 0.90)}  # Gode & Sunder (1993), Table 2, range over markets
PUBLISHED_ZI_C_MEAN = 0.987


@dataclass(frozen=True)
class InducedMarket:
    """A schedule: per buyer its units' values, per seller its units' costs, in trading order."""

    name: str
    values: tuple[tuple[int, ...], ...]
    costs: tuple[tuple[int, ...], ...]

    def max_surplus(self) -> int:
        """Competitive surplus: the best values matched with the lowest costs while value exceeds cost."""
        values = sorted((v for units in self.values for v in units), reverse=True)
        costs = sorted(c for units in self.costs for c in units)
        return sum(v - c for v, c in zip(values, costs) if v > c)


def stepped_market(
    name: str, values: tuple[int, int], costs: tuple[int, int], traders: int = 6, units: int = 4
) -> InducedMarket:
    """Linear demand from values[0] down to values[1] and supply from costs[0] up to costs[1], dealt
    round-robin so that each trader holds every `traders`-th step (most valuable or cheapest first)."""
    n = traders * units
    demand = np.rint(np.linspace(values[0], values[1], n)).astype(int).tolist()
    supply = np.rint(np.linspace(costs[0], costs[1], n)).astype(int).tolist()
    return InducedMarket(
        name,
        tuple(tuple(demand[i::traders]) for i in range(traders)),
        tuple(tuple(supply[i::traders]) for i in range(traders)),
    )


MARKETS = (
    stepped_market("1: mid price, medium volume", values=(190, 50), costs=(20, 140)),
    stepped_market("2: flat demand, steep supply", values=(150, 80), costs=(10, 190)),
    stepped_market("3: high price, thin", values=(200, 120), costs=(90, 200), units=2),
    stepped_market("4: low price, thick", values=(180, 20), costs=(5, 70), units=5),
    stepped_market("5: many marginal units", values=(170, 100), costs=(80, 150)),
)


class _Traders:
    """Each trader's next unit; buyers are 0..b-1, sellers b..b+s-1 (their order-book owner ids)."""

    def __init__(self, market: InducedMarket) -> None:
        self.units = [*market.values, *market.costs]
        self.buyers = len(market.values)
        self.next = [0] * len(self.units)

    def active(self) -> list[int]:
        return [t for t, units in enumerate(self.units) if self.next[t] < len(units)]

    def current(self, trader: int) -> int:
        return self.units[trader][self.next[trader]]

    def can_trade(self, constrained: bool) -> bool:
        """Whether any further trade is possible: units on both sides (and, for ZI-C, a value at least a cost)."""
        active = self.active()
        values = [self.current(t) for t in active if t < self.buyers]
        costs = [self.current(t) for t in active if t >= self.buyers]
        return bool(values and costs) and (not constrained or max(values) >= min(costs))


def _price(rng: np.random.Generator, buyer: bool, unit: int, constrained: bool) -> int:
    if not constrained:
        return int(rng.integers(PRICE_MIN, PRICE_MAX + 1))
    low, high = (PRICE_MIN, unit) if buyer else (unit, PRICE_MAX)
    return int(rng.integers(low, high + 1))


def trade_period(market: InducedMarket, constrained: bool, rng: np.random.Generator, max_orders: int = 5_000) -> int:
    """One trading period; returns the realised surplus."""
    traders = _Traders(market)
    book = OrderBook()
    resting: dict[int, int] = {}  # trader -> its live order id
    surplus = 0
    for _ in range(max_orders):
        if not traders.can_trade(constrained):
            break
        active = traders.active()
        trader = active[int(rng.integers(len(active)))]
        buyer = trader < traders.buyers
        unit = traders.current(trader)
        if trader in resting:
            book.cancel(resting.pop(trader))
        order_id, fills = book.submit_limit(BUY if buyer else SELL, _price(rng, buyer, unit, constrained), 1, trader)
        if not fills:
            resting[trader] = order_id
            continue
        other = fills[0].maker_owner
        surplus += unit - traders.current(other) if buyer else traders.current(other) - unit
        traders.next[trader] += 1
        traders.next[other] += 1
        for live in resting.values():  # a transaction cancels every unaccepted order
            book.cancel(live)
        resting.clear()
    return surplus


def efficiencies(seed: int, periods: int, markets: tuple[InducedMarket, ...] = MARKETS) -> pd.DataFrame:
    """Allocative efficiency of every market, trader kind and period: columns market, kind, period, efficiency."""
    rows = []
    for market in markets:
        best = market.max_surplus()
        for kind in KINDS:
            rng = stream(seed, f"zero_intelligence:{market.name}:{kind}")
            for period in range(periods):
                surplus = trade_period(market, kind == "ZI-C", rng)
                rows.append({"market": market.name, "kind": kind, "period": period, "efficiency": surplus / best})
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean efficiency per market (rows) and trader kind (columns)."""
    return table.pivot_table(index="market", columns="kind", values="efficiency", aggfunc="mean")[list(KINDS)]
