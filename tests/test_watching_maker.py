"""A market maker watches the underlying: nobody trades against its quotes once the fair value has moved."""

from __future__ import annotations

from sim import engine
from sim.market.orderbook import BUY
from tests.conftest import quick


def test_a_taker_meets_quotes_priced_off_the_fair_value_in_force():
    model = engine.build(quick("baseline", "instruments.hk_tracker.underlying.sessions_hours=[[0, 24]]"), seed=4)
    maker = next(m for m in model.market_makers if m.listing.venue.name == "platform" and m.listing.instrument == "hk_tracker")
    listing, value = maker.listing, maker.listing.value
    step = 1.0 / value.steps_per_day
    t0 = 0.5
    t1 = next(t0 + k * step for k in range(1, 50) if abs(value.at(t0 + k * step) - value.at(t0)) > 0.05)
    maker.requote(t0, sample=False)  # quotes priced off the value at t0; by t1 the value has moved
    stale_ask = listing.book.best_ask()
    fresh_ask = min(price for side, price, _ in maker._ladder(*maker.ladder_key(t1)) if side == -BUY)
    assert stale_ask != fresh_ask
    buyer = next(i for i, a in enumerate(model.ledger.accounts) if a.group == "institutional")
    assert model.market.take(listing, buyer, BUY, 1, 10**9, t1) == 1
    trade = model.recorder.trades.frame().iloc[-1]
    assert trade["price_cents"] == fresh_ask * listing.tick_cents  # repriced before the order met it


def test_no_taker_trades_against_quotes_of_an_earlier_value_in_a_run():
    model = engine.build(quick("baseline", "horizon_days=10"), seed=7)
    engine.simulate(model)
    quotes = model.recorder.quotes.frame()
    trades = model.recorder.trades.frame()
    participant = [i for i, a in enumerate(model.ledger.accounts) if a.group == "authorised_participant"]
    # with nothing stale to pick off and no real premium beyond its band, the participant never trades
    assert len(quotes) > 0 and not trades["buyer"].isin(participant).any() and not trades["seller"].isin(participant).any()
