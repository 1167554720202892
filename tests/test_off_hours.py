"""Off-hours value: an ETF's basket moves only while its home exchange (HKEX) trades.

Off hours everyone sees the NAV of the last close; what accrues while the exchange is closed
(a share of the day's variance, more over a weekend) shows as a gap at the next open, and market
makers and the authorised participant widen by a multiple of the standard deviation of that
unseen move, which grows with the calendar hours since the close.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

import sim
from sim.compile import compile_market
from sim.engine import build
from sim.market.calendar import BusinessCalendar
from sim.market.costs import CostSchedule
from sim.market.ledger import Ledger
from sim.market.levers import Dated
from sim.market.market_maker import MarketMaker
from sim.market.orderbook import BUY, SELL
from sim.market.payers import Payer
from sim.market.random_streams import stream
from sim.market.specs import (
    EtfValueSpec, InstrumentSpec, MarketMakerSpec, VenueFees, VenueSpec,
)
from sim.market.value_processes import gbm_on_clock, gbm_path, session_clock
from sim.market.values import TRADING_DAYS_PER_YEAR, FairValue, fair_values
from sim.market.venue import Listing, Venue
from sim.recorder import Recorder
from sim.scenario import ScenarioError

from conftest import quick

HKEX = ((9.5, 12.0), (13.0, 16.0))
STEPS = 96  # 15-minute grid: 9:30 is point 38, 16:00 point 64
SIGMA = 0.20
MONDAY = datetime.date(2026, 1, 5)


def point(day: int, hour: float) -> int:
    return day * STEPS + round(hour * STEPS / 24)


def etf(share: float, margin_per_sd: float = 0.5, sessions=HKEX, fee_bps: float = 0.0) -> EtfValueSpec:
    return EtfValueSpec(initial_value_hkd=25.0, drift_per_year=0.0, volatility_per_year=SIGMA,
                        management_fee_bps_per_year=fee_bps, sessions_hours=sessions,
                        overnight_variance_share=share, off_hours_margin_per_sd=margin_per_sd)


def nav(spec: EtfValueSpec, days: int = 20, seed: int = 3) -> FairValue:
    calendar = BusinessCalendar(MONDAY, (), days)
    instrument = InstrumentSpec("etf", "etf", 0.01, 1, 100_000, None, spec)
    return fair_values({"etf": instrument}, None, days, STEPS, calendar, seed)["etf"]


def series(value: FairValue, days: int) -> np.ndarray:
    return np.array([value.at(j / STEPS) for j in range(days * STEPS)])


# -- the basket's clock ---------------------------------------------------------------------------

def test_without_an_overnight_share_the_basket_does_not_move_between_sessions_and_opens_where_it_closed():
    days = 10
    values = series(nav(etf(share=0.0)), days)
    for day in range(days - 1):
        assert np.all(values[point(day, 12.0):point(day, 13.0) + 1] == values[point(day, 12.0)])
        assert np.all(values[point(day, 16.0):point(day + 1, 9.5) + 1] == values[point(day, 16.0)])
    # it does move within the sessions
    assert np.count_nonzero(np.diff(values[point(1, 9.5):point(1, 12.0) + 1])) == 10


def test_with_an_overnight_share_the_basket_still_stands_still_off_hours_but_gaps_at_the_open():
    days = 10
    values = series(nav(etf(share=0.5)), days)
    for day in range(days - 1):
        assert np.all(values[point(day, 16.0):point(day + 1, 9.5)] == values[point(day, 16.0)])
    gaps = [values[point(day + 1, 9.5)] / values[point(day, 16.0)] - 1.0 for day in range(days - 1)]
    assert all(gap != 0.0 for gap in gaps)


def test_the_management_fee_does_not_move_the_stale_nav_off_hours():
    values = series(nav(etf(share=0.0, fee_bps=50.0)), 5)
    assert np.all(values[point(1, 16.0):point(2, 9.5)] == values[point(1, 16.0)])


def _log_gaps(share: float, n_weeks: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log moves of many simulated weeks: weeknight gaps (Tue-Fri opens), Monday gaps, weekday close-to-close."""
    gap_days = np.tile([1.0, 1.0, 1.0, 1.0, 3.0], n_weeks)[:-1]  # days 1..: Tue, Wed, Thu, Fri, Mon, ...
    variance, last_seen, _ = session_clock(HKEX, share, STEPS, gap_days)
    shocks = np.random.default_rng(seed).standard_normal(len(variance))
    latent = np.log(gbm_on_clock(1.0, 0.0, SIGMA, variance / TRADING_DAYS_PER_YEAR, shocks))
    seen = latent[last_seen]
    days = np.arange(1, len(gap_days))  # each with the day before it, both within the grid
    opens, closes, previous_closes = days * STEPS + 38, days * STEPS + 64, (days - 1) * STEPS + 64
    gaps = seen[opens] - seen[previous_closes]
    monday = days % 5 == 0
    close_to_close = seen[closes[~monday]] - seen[previous_closes[~monday]]
    return gaps[~monday], gaps[monday], close_to_close


def test_the_gap_at_the_open_has_the_share_of_variance_accrued_over_the_calendar_hours_closed():
    share, daily = 0.5, SIGMA**2 / TRADING_DAYS_PER_YEAR
    weeknights, mondays, close_to_close = _log_gaps(share, n_weeks=1_500)
    # closed hours of an ordinary day: 17.5 overnight + 1 at lunch; a weekend adds 48
    assert np.var(weeknights) == pytest.approx(share * daily * 17.5 / 18.5, rel=0.06)
    assert np.var(mondays) == pytest.approx(share * daily * 65.5 / 18.5, rel=0.12)
    # close to close over an ordinary business day: one day's variance, as calibrated
    assert np.var(close_to_close) == pytest.approx(daily, rel=0.06)


def test_without_an_overnight_share_a_business_day_keeps_its_calibrated_variance_and_no_gap():
    weeknights, mondays, close_to_close = _log_gaps(0.0, n_weeks=1_500)
    assert np.all(weeknights == 0.0) and np.all(mondays == 0.0)
    assert np.var(close_to_close) == pytest.approx(SIGMA**2 / TRADING_DAYS_PER_YEAR, rel=0.06)


def test_a_basket_that_never_closes_follows_the_old_round_the_clock_walk():
    days = 5
    around_the_clock = series(nav(etf(share=0.5, sessions=((0.0, 24.0),))), days)
    shocks = stream(3, "value:etf").standard_normal(days * STEPS)  # the instrument's stream, as fair_values draws it
    old = gbm_path(25.0, 0.0, SIGMA, 1.0 / (TRADING_DAYS_PER_YEAR * STEPS), shocks)[: days * STEPS]
    np.testing.assert_allclose(around_the_clock, old, rtol=1e-12)
    assert nav(etf(share=0.5, sessions=((0.0, 24.0),))).margin(3.1) == 0.0


# -- the off-hours margin -------------------------------------------------------------------------

def test_the_margin_is_zero_in_session_and_grows_with_calendar_hours_since_the_close():
    value = nav(etf(share=0.5, margin_per_sd=0.5))
    unit = 0.5 * SIGMA * np.sqrt(0.5 / 18.5 / TRADING_DAYS_PER_YEAR)  # margin per square-root hour closed
    tuesday, monday = 1, 5  # day 0 is Monday 5 Jan 2026; day 5 Monday 12 Jan
    assert value.margin(tuesday + 10 / 24) == 0.0
    assert value.margin(tuesday + 15.75 / 24) == 0.0
    assert value.margin(tuesday + 3 / 24) == pytest.approx(unit * np.sqrt(11.0))  # 16:00 Monday to 03:00
    assert value.margin(monday + 3 / 24) == pytest.approx(unit * np.sqrt(59.0))  # 16:00 Friday to 03:00
    assert value.margin(monday + 3 / 24) > value.margin(monday + 1 + 3 / 24)  # Monday 03:00 staler than Tuesday's
    assert value.margin(tuesday + 12.5 / 24) == pytest.approx(unit * np.sqrt(0.5))  # lunch


def test_an_easter_holiday_closure_is_staler_still():
    # Good Friday 3 Apr 2026 and Easter Monday 6 Apr (with 4 and 7 Apr) are holidays: Thursday 2 Apr
    # to Wednesday 8 Apr is six calendar days
    calendar = BusinessCalendar(datetime.date(2026, 3, 30), [datetime.date(2026, 4, d) for d in (3, 4, 6, 7)], 10)
    instrument = InstrumentSpec("etf", "etf", 0.01, 1, 100_000, None, etf(share=0.5))
    value = fair_values({"etf": instrument}, None, 10, STEPS, calendar, 1)["etf"]
    wednesday = calendar.day_on_or_after(datetime.date(2026, 4, 8))
    unit = 0.5 * SIGMA * np.sqrt(0.5 / 18.5 / TRADING_DAYS_PER_YEAR)
    assert value.margin(wednesday + 3 / 24) == pytest.approx(unit * np.sqrt(8 + 24 * 5 + 3))


# -- market maker and authorised participant ------------------------------------------------------

def _maker(value: FairValue) -> MarketMaker:
    ledger = Ledger(n_assets=1)
    spec = MarketMakerSpec(base_half_spread_bps=5.0, levels=1, level_step_bps=5.0, quote_size_units=1_000,
                           inventory_limit_units=100_000, skew_bps_at_limit=10.0, inventory_spread_bps_at_limit=0.0,
                           requote_minutes=5.0, initial_units=50_000, initial_cash_hkd=10_000_000.0,
                           prices_own_charges=True)
    venue = Venue(VenueSpec(name="platform", index=0, kind="platform", form="tokenized", sessions_hours=((0.0, 24.0),),
                            settlement_cycle_days=1, fail_probability=0.0, tokenized_cash=Dated.always(False),
                            fees=VenueFees(0.0, 0.0, 0.0, 0.0, 0.0),
                            listings={}))
    listing = Listing(0, venue, "etf", "etf", 0, 1, CostSchedule([], [], {}, 0), value)
    account = ledger.open_account("maker", "market_maker", Payer.MARKET_MAKER, 1_000_000_000, (50_000,))
    maker = MarketMaker(account, listing, spec, ledger, Recorder())
    maker.target_units = 50_000
    return maker


def _spread_ticks(maker: MarketMaker, t: float) -> int:
    ladder = maker._ladder(*maker.ladder_key(t))
    bid = max(price for side, price, _ in ladder if side == BUY)
    ask = min(price for side, price, _ in ladder if side == SELL)
    return ask - bid


def test_the_quoted_spread_at_three_in_the_morning_is_wider_than_at_ten_all_else_equal():
    days = 3
    flat = np.full(days * STEPS + 1, 100.0)  # the same value at both times: only the margin differs
    _, _, unseen = session_clock(HKEX, 0.5, STEPS, np.ones(days))
    margins = 0.5 * SIGMA * np.sqrt(unseen / TRADING_DAYS_PER_YEAR)
    maker = _maker(FairValue(flat, STEPS, margins))
    at_three, at_ten = _spread_ticks(maker, 1 + 3 / 24), _spread_ticks(maker, 1 + 10 / 24)
    assert at_ten == 10  # 5 bp a side at HK$100 in 1-cent ticks
    assert at_three == pytest.approx(10 + 2 * margins[point(1, 3.0)] * 10_000, abs=2)
    # the ladder's cache key carries the margin, so a stale ladder is never reused as the night goes on
    assert maker.ladder_key(1 + 3 / 24) != maker.ladder_key(1 + 4 / 24)


def test_the_authorised_participants_band_widens_by_the_margin_off_hours(baseline):
    model = build(baseline, 1)
    participant = model.participants[0]
    listing = next(l for l in participant.listings if l.venue.name == "platform")
    in_session = participant.band(listing, 1, 25.0, 1 + 10 / 24)
    assert participant.band(listing, 1, 25.0) == in_session
    at_three = participant.band(listing, 1, 25.0, 1 + 3 / 24)
    assert at_three - in_session == pytest.approx(participant.value.margin(1 + 3 / 24))
    assert at_three - in_session > 20e-4  # tens of basis points at the baseline's defaults


# -- scenario keys and whole runs -----------------------------------------------------------------

def test_the_home_exchange_sessions_default_to_hkex_and_reach_the_market(baseline):
    value = compile_market(baseline).instruments["hk_tracker"].value
    assert value.sessions_hours == HKEX
    assert value.overnight_variance_share == 0.5 and value.off_hours_margin_per_sd == 0.5


@pytest.mark.parametrize("sessions, message", [
    ("[[16, 9.5]]", "must start before it ends"),
    ("[[9.5, 12], [11, 16]]", "must be in order and must not overlap"),
    ("[[9.5, 25]]", "must be <= 24"),
])
def test_bad_home_exchange_sessions_are_refused_with_the_key(sessions, message):
    with pytest.raises(ScenarioError) as error:
        quick("baseline", f"instruments.hk_tracker.underlying.sessions_hours={sessions}")
    assert "instruments.hk_tracker.underlying" in str(error.value) and message in str(error.value)


def test_same_seed_same_off_hours_run():
    scenario = quick("baseline", "horizon_days=3")
    first, second = sim.run(scenario, seed=5), sim.run(scenario, seed=5)
    pd.testing.assert_frame_equal(first.trades, second.trades)
    assert first.kpis == second.kpis
