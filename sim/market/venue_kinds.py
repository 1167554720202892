"""Which liquidity provider each kind of venue has: the one place that decides it."""

from __future__ import annotations

from sim.market.dealer import Dealer
from sim.market.market_maker import MarketMaker
from sim.market.providers import LiquidityProvider

PROVIDERS: dict[str, type[LiquidityProvider]] = {"exchange": MarketMaker, "platform": MarketMaker, "dealer": Dealer}
