"""A market maker whose costs and margin need less than half a tick quotes one tick wide."""

from __future__ import annotations

from sim import engine
from sim.market.orderbook import BUY, SELL
from tests.conftest import quick


def _exchange_maker(*overrides: str):
    model = engine.build(quick("baseline", *overrides), seed=2)
    return next(m for m in model.market_makers if m.listing.venue.name == "exchange")


def _quote(maker, fair: float):
    """The maker's ladder at `fair` with its target inventory and ample cash."""
    return maker._ladder(day=0, fair=fair, margin=0.0, target=maker.target_units, position=maker.target_units,
                         free_units=10**9, cash_room=10**12)


def _touch(ladder):
    bid = max(price for side, price, _ in ladder if side == BUY)
    ask = min(price for side, price, _ in ladder if side == SELL)
    return bid, ask


def test_a_maker_needing_less_than_half_a_tick_quotes_one_tick_around_fair_value():
    maker = _exchange_maker()
    for fair in (25.001, 25.009, 25.0101, 25.019):  # anywhere between two HK$0.02 ticks
        bid, ask = _touch(_quote(maker, fair))
        assert ask - bid == 1
        assert bid * 2 <= fair * 100 < ask * 2


def test_a_maker_needing_more_than_half_a_tick_quotes_wider():
    maker = _exchange_maker("venues.exchange.listings.hk_tracker.market_maker.base_half_spread_bps=6")
    bid, ask = _touch(_quote(maker, 25.01))
    assert ask - bid >= 2


def test_the_exchange_quote_is_one_tick_wide_nearly_always():
    """HKEX: liquid ETFs sit at the minimum spread over 90% of the time."""
    model = engine.build(quick("baseline", "horizon_days=10"), seed=5)
    engine.simulate(model)
    quotes = model.recorder.quotes.frame()
    exchange = next(l for l in model.listings if l.venue.name == "exchange" and l.instrument == "hk_tracker")
    mine = quotes[(quotes["listing"] == exchange.index) & (quotes["bid_cents"] > 0) & (quotes["ask_cents"] > 0)]
    ticks = (mine["ask_cents"] - mine["bid_cents"]) / exchange.tick_cents
    assert len(mine) > 100 and (ticks == 1).mean() > 0.9
