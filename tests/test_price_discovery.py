"""Price discovery between two venues: the aligned grid, the information shares and the lead-lag ratio."""

from __future__ import annotations

import math
from dataclasses import astuple

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from conftest import quick
from sim.engine import build, simulate
from sim.price_discovery import AlignedLogMids, DiscoveryShares, aligned_log_mids, information_shares
from sim.runs import run
from sim.tables import RunTables, quoted_pairs

STEP = 1e-3  # sd of the efficient price's move per grid interval (log units)


def record(log_a: np.ndarray, log_b: np.ndarray, segment: np.ndarray | None = None) -> AlignedLogMids:
    """Prices on a one-minute grid, in one segment unless told."""
    n = len(log_a)
    segment = np.zeros(n, dtype=np.int64) if segment is None else segment
    return AlignedLogMids(np.asarray(log_a, float), np.asarray(log_b, float), segment, np.arange(n) / 1440.0)


def efficient_price(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random walk m_0 .. m_n in log price."""
    return np.log(100.0) + np.cumsum(rng.normal(0.0, STEP, n + 1))


def leader_follower(seed: int, n: int = 3000, noise: float = 0.3 * STEP) -> tuple[np.ndarray, np.ndarray]:
    """Venue a quotes m_t, venue b quotes m_{t-1}: b follows a one interval late; both with small noise."""
    rng = np.random.default_rng(seed)
    m = efficient_price(rng, n)
    return m[1:] + rng.normal(0.0, noise, n), m[:-1] + rng.normal(0.0, noise, n)


def is_nan_shares(shares: DiscoveryShares) -> bool:
    return all(math.isnan(v) for v in (shares.hasbrouck_low_a, shares.hasbrouck_high_a, shares.hasbrouck_mid_a,
                                       shares.component_share_a))


# --- Which venue leads ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1])
def test_the_leading_venue_has_the_information_and_its_mirror_has_none(seed):
    a, b = leader_follower(seed)
    leads = information_shares(record(a, b))
    assert leads.hasbrouck_low_a > 0.8
    assert leads.component_share_a > 0.8
    assert leads.lead_lag_ratio > 1.0

    follows = information_shares(record(b, a))
    assert follows.hasbrouck_high_a < 0.2
    assert follows.component_share_a < 0.2
    assert follows.lead_lag_ratio < 1.0


def test_symmetric_venues_share_discovery():
    rng = np.random.default_rng(7)
    n = 5000
    m = efficient_price(rng, n)[1:]
    shares = information_shares(record(m + rng.normal(0.0, 0.5 * STEP, n), m + rng.normal(0.0, 0.5 * STEP, n)))
    assert abs(shares.component_share_a - 0.5) < 0.15
    assert shares.hasbrouck_low_a <= 0.5 <= shares.hasbrouck_high_a
    # Venues that move together within the interval leave the ordering open: the bounds are wide.
    assert shares.hasbrouck_high_a - shares.hasbrouck_low_a > 0.5


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lag_weight=st.floats(0.0, 1.0), noise=st.floats(0.1, 1.0))
def test_bounds_are_ordered_within_unit_interval_and_mirror_when_venues_swap(seed, lag_weight, noise):
    """b follows a partly (lag_weight of its move one interval late); the swap gives b's shares as 1 minus a's."""
    rng = np.random.default_rng(seed)
    n = 800
    m = efficient_price(rng, n)
    a = m[1:] + rng.normal(0.0, noise * STEP, n)
    b = (1.0 - lag_weight) * m[1:] + lag_weight * m[:-1] + rng.normal(0.0, noise * STEP, n)
    ab = information_shares(record(a, b))
    ba = information_shares(record(b, a))
    assert 0.0 <= ab.hasbrouck_low_a <= ab.hasbrouck_mid_a <= ab.hasbrouck_high_a <= 1.0
    assert ab.hasbrouck_mid_a == pytest.approx((ab.hasbrouck_low_a + ab.hasbrouck_high_a) / 2.0)
    assert 0.0 <= ab.component_share_a <= 1.0
    assert ba.hasbrouck_low_a == pytest.approx(1.0 - ab.hasbrouck_high_a, abs=1e-9)
    assert ba.hasbrouck_high_a == pytest.approx(1.0 - ab.hasbrouck_low_a, abs=1e-9)
    assert ba.component_share_a == pytest.approx(1.0 - ab.component_share_a, abs=1e-9)
    assert ba.lead_lag_ratio == pytest.approx(1.0 / ab.lead_lag_ratio, rel=1e-9)
    assert ba.observations == ab.observations


# --- Segments ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lags", [1, 2, 3])
def test_a_jump_between_segments_never_enters_a_difference(lags):
    """Two sessions; both venues' prices jump between them (overnight). The jump's size must not matter."""
    first_a, first_b = leader_follower(3, n=600)
    second_a, second_b = leader_follower(4, n=700)
    segment = np.repeat([0, 1], [600, 700])

    def shares(jump: float) -> DiscoveryShares:
        return information_shares(record(np.concatenate([first_a, second_a + jump]),
                                         np.concatenate([first_b, second_b + jump]), segment), lags=lags)

    calm, jumpy = shares(0.0), shares(0.7)
    np.testing.assert_allclose(astuple(jumpy), astuple(calm), rtol=1e-7, atol=1e-9)
    # Each segment loses its first lags + 1 points, whose lags reach before the segment's start.
    assert calm.observations == (600 - lags - 1) + (700 - lags - 1)
    assert calm.hasbrouck_low_a > 0.8


def test_a_lone_grid_point_between_segments_adds_no_observation():
    a, b = leader_follower(5, n=400)
    segment = np.repeat([0, 1, 2], [200, 1, 199])
    assert information_shares(record(a, b, segment), lags=2).observations == (200 - 3) + (199 - 3)


# --- The common grid -----------------------------------------------------------------------------------------------

def quote(listing: int, day: int, hhmm: str, bid: int, ask: int) -> dict:
    hours, minutes = map(int, hhmm.split(":"))
    return {"time": day + (60 * hours + minutes) / 1440.0, "day": day, "listing": listing, "bid_cents": bid,
            "ask_cents": ask, "bid_depth": 100, "ask_depth": 100}


EXCHANGE, TOKEN, OTHER = 7, 9, 3
HAND_MADE = [
    # The exchange quotes every 5 minutes in its sessions (09:30-12:00, 13:00-16:00); mids 1001, 1021, ...
    quote(EXCHANGE, 0, "09:30", 1000, 1002),
    quote(EXCHANGE, 0, "09:35", -1, 1012),       # one-sided: dropped, and 09:30 is too old for 09:35
    quote(EXCHANGE, 0, "09:40", 1020, 1022),
    quote(EXCHANGE, 0, "11:55", 1030, 1032),
    quote(EXCHANGE, 0, "13:00", 1040, 1042),
    quote(EXCHANGE, 0, "13:05", 1050, 1052),
    quote(EXCHANGE, 0, "23:58", 1060, 1062),     # late on day 0: never used on day 1
    quote(EXCHANGE, 1, "09:30", 1070, 1072),
    # The token venue quotes around the clock (only some samples written out); mids 2001, 2011, ...
    quote(TOKEN, 0, "09:28", 2000, 2002),        # the last at or before 09:30
    quote(TOKEN, 0, "09:31", 2010, 2012),
    quote(TOKEN, 0, "09:34", 2020, 2022),
    quote(TOKEN, 0, "09:39", 2030, 2032),
    quote(TOKEN, 0, "09:40", 2040, 2042),        # at the grid point itself: used for 09:40
    quote(TOKEN, 0, "09:41", 2050, 2052),        # after 09:40: not used for it
    quote(TOKEN, 0, "11:52", 2060, 2062),
    quote(TOKEN, 0, "11:55", 2070, -1),          # one-sided at 11:55: 11:52 stands
    quote(TOKEN, 0, "12:00", 2080, 2082),        # exchange at lunch: no grid point
    quote(TOKEN, 0, "13:00", 2090, 2092),
    quote(TOKEN, 0, "13:04", 2100, 2102),
    quote(TOKEN, 1, "00:00", 2110, 2112),        # the exchange's 23:58 quote is from another day
    quote(TOKEN, 1, "09:27", 2120, 2122),
    quote(TOKEN, 1, "09:30", -1, 2132),          # one-sided: 09:27 stands
    quote(OTHER, 0, "09:35", 5000, 5002),
    quote(OTHER, 0, "09:45", 5010, 5012),
]


def test_hand_made_quotes_align_on_the_grid_exactly():
    frame = pd.DataFrame(HAND_MADE).sample(frac=1.0, random_state=1)  # the rule must not depend on row order
    aligned = aligned_log_mids(frame, EXCHANGE, TOKEN, 5)
    minutes = [(0, 570), (0, 580), (0, 715), (0, 780), (0, 785), (1, 570)]
    np.testing.assert_allclose(aligned.time, [day + minute / 1440.0 for day, minute in minutes], rtol=0, atol=1e-12)
    np.testing.assert_allclose(aligned.log_a, np.log([1001, 1021, 1031, 1041, 1051, 1071]), rtol=0, atol=1e-12)
    np.testing.assert_allclose(aligned.log_b, np.log([2001, 2041, 2061, 2091, 2101, 2121]), rtol=0, atol=1e-12)
    # 09:30 | 09:40 (09:35 missing) | 11:55 | lunch | 13:00 13:05 | next day
    assert aligned.segment.tolist() == [0, 1, 2, 3, 3, 4]


def test_listings_swap_on_the_grid():
    frame = pd.DataFrame(HAND_MADE)
    ab = aligned_log_mids(frame, EXCHANGE, TOKEN, 5)
    ba = aligned_log_mids(frame, TOKEN, EXCHANGE, 5)
    np.testing.assert_array_equal(ab.log_a, ba.log_b)
    np.testing.assert_array_equal(ab.segment, ba.segment)


def test_a_new_day_starts_a_new_segment_even_next_on_the_grid():
    """Around-the-clock venues: 23:55 and 00:00 are adjacent in time but on two days; 09:30 on day 2 and 09:35 on
    day 3 are next to each other in the day's grid numbering but a day apart."""
    rows = [quote(listing, day, hhmm, 1000 + 10 * i, 1002 + 10 * i)
            for listing in (EXCHANGE, TOKEN)
            for i, (day, hhmm) in enumerate([(0, "23:55"), (1, "00:00"), (1, "00:05"), (2, "09:30"), (3, "09:35")])]
    aligned = aligned_log_mids(pd.DataFrame(rows), EXCHANGE, TOKEN, 5)
    assert aligned.segment.tolist() == [0, 1, 1, 2, 3]


def simulated_quotes(days: int, rng: np.random.Generator) -> pd.DataFrame:
    """An exchange every 5 minutes in two sessions, a token venue every minute around the clock."""
    rows = []
    for day in range(days):
        for listing, step, sessions in ((EXCHANGE, 5, [(570, 720), (780, 960)]), (TOKEN, 1, [(0, 1440)])):
            for open_at, close_at in sessions:
                minute = np.arange(open_at, close_at, step)
                mid = rng.integers(10_000, 10_100, len(minute))
                rows.append(pd.DataFrame({"time": day + minute / 1440.0, "day": day, "listing": listing,
                                          "bid_cents": mid - 1, "ask_cents": mid + 1}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("interval, morning, afternoon, last_minute", [(5, 30, 36, 955), (10, 16, 19, 960)])
def test_sessions_and_nights_split_the_grid(interval, morning, afternoon, last_minute):
    """On a 10-minute grid the 12:00 and 16:00 points take the exchange's last quote (11:55, 15:55): it is less
    than 10 minutes old. On a 5-minute grid that quote is 5 minutes old at the close: too old."""
    aligned = aligned_log_mids(simulated_quotes(2, np.random.default_rng(0)), EXCHANGE, TOKEN, interval)
    assert aligned.segment.tolist() == np.repeat([0, 1, 2, 3], [morning, afternoon] * 2).tolist()
    minutes = np.round((aligned.time - np.floor(aligned.time)) * 1440).astype(int)
    day_one = minutes[: morning + afternoon]
    assert day_one.tolist() == [*range(570, 570 + interval * morning, interval),
                                *range(780, 780 + interval * afternoon, interval)]
    assert day_one[-1] == last_minute and minutes.tolist() == day_one.tolist() * 2
    assert np.floor(aligned.time).tolist() == [0.0] * (morning + afternoon) + [1.0] * (morning + afternoon)


def test_no_common_quotes_give_an_empty_record_and_nan_shares():
    aligned = aligned_log_mids(pd.DataFrame(HAND_MADE), EXCHANGE, 42, 5)
    assert len(aligned.log_a) == len(aligned.segment) == 0
    shares = information_shares(aligned)
    assert is_nan_shares(shares) and math.isnan(shares.lead_lag_ratio) and shares.observations == 0


# --- Degenerate input ----------------------------------------------------------------------------------------------

def test_constant_prices_give_nans():
    shares = information_shares(record(np.full(500, 4.6), np.full(500, 4.6)))
    assert is_nan_shares(shares) and math.isnan(shares.lead_lag_ratio)
    assert shares.observations == 497


def test_one_venue_that_never_moves_gives_nans():
    a, _ = leader_follower(2, n=500)
    assert is_nan_shares(information_shares(record(a, np.full(500, 4.6))))


def test_too_few_observations_give_nans():
    a, b = leader_follower(1, n=20)
    shares = information_shares(record(a, b))
    assert is_nan_shares(shares) and math.isnan(shares.lead_lag_ratio)
    assert shares.observations == 17


def test_short_segments_leave_too_few_observations():
    """Plenty of points, but in segments of 3: no observation has all its lags in its own segment."""
    a, b = leader_follower(1, n=600)
    shares = information_shares(record(a, b, np.repeat(np.arange(200), 3)))
    assert shares.observations == 0 and is_nan_shares(shares)


# In the model: the pairs a run measures, and the KPIs read from its discovery table.

def test_a_run_measures_each_instrument_quoted_on_two_venues_on_the_slower_clock():
    scenario = quick("baseline", "venues.platform.listings.hk_tracker.market_maker.requote_minutes=10")
    model = build(scenario, seed=3)
    simulate(model)
    pairs = quoted_pairs(model)
    # the bond is quoted by a maker only on the platform (a dealer answers requests on the OTC market): no pair
    assert [(p.instrument, p.venue_a, p.venue_b, p.interval_minutes) for p in pairs] == [
        ("hk_tracker", "exchange", "platform", 10.0)]
    table = RunTables.from_model(model).discovery
    assert table["observations"].iloc[0] > 100  # a 10-minute grid over the exchange's hours, six days
    row = table.iloc[0]
    assert 0.0 <= row["hasbrouck_low_a"] <= row["hasbrouck_high_a"] <= 1.0


def test_the_two_venues_kpis_mirror_each_other():
    kpis = run(quick("baseline"), seed=4).kpis
    name = "hk_tracker"
    low, high = (kpis[f"information_share_{b}_{name}_exchange"] for b in ("low", "high"))
    assert kpis[f"information_share_low_{name}_platform"] == pytest.approx(1.0 - high)
    assert kpis[f"information_share_high_{name}_platform"] == pytest.approx(1.0 - low)
    assert kpis[f"lead_lag_ratio_{name}_platform"] == pytest.approx(1.0 / kpis[f"lead_lag_ratio_{name}_exchange"])
    # both makers price off the same fair value the moment it moves, so at the sampling interval the data cannot
    # say which venue's quotes moved first: the bounds span most of [0, 1] (the KPI's meaning says so)
    assert low < 0.3 and high > 0.7
    assert not any(key.startswith("information_share_") and key.endswith("_otc") for key in kpis)
