"""Business-day calendar and Bass-diffusion onboarding."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.market.adoption import bass_share, daily_shares, onboarded_accounts
from sim.market.calendar import MARGIN_BUSINESS_DAYS, BusinessCalendar

MONDAY = dt.date(2025, 1, 6)


# --- calendar -------------------------------------------------------------------------------


def test_weekends_are_skipped():
    cal = BusinessCalendar(MONDAY, n_days=20)
    assert cal.date_of(4) == dt.date(2025, 1, 10)  # Friday
    assert cal.date_of(5) == dt.date(2025, 1, 13)  # five business days on: next Monday
    assert all(d.weekday() < 5 for d in cal.dates)


def test_a_wednesday_holiday_shifts_later_days_by_one():
    wednesday = dt.date(2025, 1, 8)
    cal = BusinessCalendar(MONDAY, holidays=[wednesday], n_days=20)
    assert cal.date_of(1) == dt.date(2025, 1, 7)
    assert cal.date_of(2) == dt.date(2025, 1, 9)
    assert cal.date_of(4) == dt.date(2025, 1, 13)
    assert not cal.is_business_day(wednesday)
    assert cal.day_on_or_after(wednesday) == 2
    assert wednesday not in cal.dates


def test_date_and_day_round_trip_and_day_on_or_after_is_the_first_business_day():
    holidays = BusinessCalendar.hong_kong_holidays(2026)
    cal = BusinessCalendar(dt.date(2026, 1, 1), holidays=holidays, n_days=250)
    dates = cal.dates
    assert [cal.day_on_or_after(d) for d in dates] == list(range(len(dates)))
    when = cal.start
    while when <= dates[-1]:
        day = cal.day_on_or_after(when)
        assert cal.date_of(day) >= when
        assert day == 0 or cal.date_of(day - 1) < when
        when += dt.timedelta(days=1)


def test_saturday_start_maps_day_zero_to_monday():
    cal = BusinessCalendar(dt.date(2025, 1, 4), n_days=5)
    assert cal.date_of(0) == dt.date(2025, 1, 6)
    assert cal.day_on_or_after(dt.date(2025, 1, 4)) == 0
    assert cal.day_on_or_after(dt.date(2025, 1, 5)) == 0
    assert cal.calendar_days_before(0) == 0


def test_calendar_days_count_the_weekend():
    cal = BusinessCalendar(MONDAY, n_days=20)
    assert cal.calendar_days_before(4) == 4  # Friday
    assert cal.calendar_days_before(5) == 7  # Monday: the weekend counts


def test_margin_beyond_horizon_exists_and_ends_there():
    cal = BusinessCalendar(MONDAY, n_days=10)
    last = 10 + MARGIN_BUSINESS_DAYS - 1
    assert MARGIN_BUSINESS_DAYS >= 60
    assert len(cal.dates) == last + 1
    assert cal.date_of(last) > cal.date_of(9)
    for bad in (last + 1, -1):
        with pytest.raises(IndexError):
            cal.date_of(bad)
        with pytest.raises(IndexError):
            cal.calendar_days_before(bad)
    with pytest.raises(IndexError):
        cal.day_on_or_after(cal.date_of(last) + dt.timedelta(days=1))


def test_invalid_inputs_raise():
    for n_days in (0, -1):
        with pytest.raises(ValueError, match="n_days"):
            BusinessCalendar(MONDAY, n_days=n_days)
    cal = BusinessCalendar(MONDAY, n_days=5)
    with pytest.raises(ValueError, match="before the calendar start"):
        cal.day_on_or_after(MONDAY - dt.timedelta(days=1))
    with pytest.raises(ValueError, match="2025, 2026, 2027"):
        BusinessCalendar.hong_kong_holidays(2028)


def test_hong_kong_holidays_known_dates():
    for year in (2025, 2026, 2027):
        days = BusinessCalendar.hong_kong_holidays(year)
        assert len(days) == len(set(days)) == 17
        assert all(d.year == year and d.weekday() != 6 for d in days)  # Sundays are not listed
        for month, day in ((1, 1), (7, 1), (10, 1), (12, 25)):
            assert dt.date(year, month, day) in days
    lunar_new_year_2026 = [dt.date(2026, 2, day) for day in (17, 18, 19)]
    assert set(lunar_new_year_2026) <= set(BusinessCalendar.hong_kong_holidays(2026))


def test_hong_kong_easter_2026_closes_five_days_in_a_row():
    holidays = BusinessCalendar.hong_kong_holidays(2026)
    cal = BusinessCalendar(dt.date(2026, 3, 30), holidays=holidays, n_days=10)
    thursday = cal.day_on_or_after(dt.date(2026, 4, 2))
    assert cal.date_of(thursday + 1) == dt.date(2026, 4, 8)  # Fri 3 - Tue 7 April are closed


# --- adoption -------------------------------------------------------------------------------

CASES = [  # (p, q, F0)
    (0.03, 0.38, 0.0),
    (0.0, 0.8, 0.05),
    (0.1, 0.0, 0.2),
    (0.05, 0.5, 0.3),
    (0.2, 1.5, 0.0),
]
TIMES = np.linspace(0.0, 10.0, 101)


def euler(p: float, q: float, f0: float, until: float, step: float = 1e-4) -> list[float]:
    """F at t = 0.5, 1.0, ... until, by explicit Euler with a fine step."""
    f, out = f0, []
    per_half_year = round(0.5 / step)
    for i in range(1, round(until / step) + 1):
        f += step * (p + q * f) * (1.0 - f)
        if i % per_half_year == 0:
            out.append(f)
    return out


@pytest.mark.parametrize(("p", "q", "f0"), CASES)
def test_starts_at_initial_share_and_never_falls(p, q, f0):
    shares = bass_share(TIMES, f0, p, q)
    assert shares[0] == pytest.approx(f0, abs=1e-15)
    assert bass_share(0.0, f0, p, q) == pytest.approx(f0, abs=1e-15)
    assert np.all(np.diff(shares) >= 0.0)
    assert np.all((shares >= 0.0) & (shares <= 1.0))


@pytest.mark.parametrize(("p", "q", "f0"), CASES)
def test_tends_to_one(p, q, f0):
    assert bass_share(1000.0, f0, p, q) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("p", "q", "f0"), CASES)
def test_matches_euler_integration_of_the_ode(p, q, f0):
    times = np.arange(1, 7) * 0.5
    expected = euler(p, q, f0, until=3.0)
    np.testing.assert_allclose(bass_share(times, f0, p, q), expected, rtol=0, atol=1e-4)


def test_higher_innovation_or_imitation_gives_a_higher_share_at_every_time():
    t = TIMES[1:]
    base = bass_share(t, 0.1, 0.03, 0.4)
    assert np.all(bass_share(t, 0.1, 0.06, 0.4) > base)
    assert np.all(bass_share(t, 0.1, 0.03, 0.8) > base)


def test_no_growth_cases_stay_put():
    assert np.all(bass_share(TIMES, 0.25, 0.0, 0.0) == 0.25)
    assert np.all(bass_share(TIMES, 0.0, 0.0, 0.9) == 0.0)  # nobody to imitate
    assert bass_share(1e6, 0.0, 0.0, 0.9) == 0.0
    assert np.all(bass_share(TIMES, 1.0, 0.3, 0.9) == 1.0)


def test_logistic_when_there_is_no_innovation():
    f0, q, t = 0.1, 0.7, 2.5
    logistic = f0 * np.exp(q * t) / (1.0 - f0 + f0 * np.exp(q * t))
    assert bass_share(t, f0, 0.0, q) == pytest.approx(logistic, rel=1e-12)


def test_scalar_in_scalar_out_and_daily_list():
    assert isinstance(bass_share(1.0, 0.0, 0.03, 0.38), float)
    shares = daily_shares(5, 1 / 250, 0.0, 0.03, 0.38)
    assert isinstance(shares, list) and len(shares) == 5
    assert shares == pytest.approx(bass_share(np.arange(5) / 250, 0.0, 0.03, 0.38).tolist())
    assert daily_shares(0, 1 / 250, 0.0, 0.03, 0.38) == []


def test_onboarded_accounts_bounds_and_exact_fractions():
    assert onboarded_accounts(0.0, 10) == 0
    assert onboarded_accounts(1.0, 10) == 10
    assert onboarded_accounts(0.3, 10) == 3  # 0.3 * 10 is 2.9999999999999996 in floats
    assert onboarded_accounts(0.29, 10) == 2
    assert onboarded_accounts(1.0 + 1e-12, 10) == 10
    assert onboarded_accounts(-1e-12, 10) == 0
    assert onboarded_accounts(0.5, 0) == 0


@pytest.mark.parametrize(
    ("f0", "p", "q", "match"),
    [
        (-0.1, 0.03, 0.38, "initial_share"),
        (1.1, 0.03, 0.38, "initial_share"),
        (float("nan"), 0.03, 0.38, "initial_share"),
        (0.0, -0.01, 0.38, "innovation_per_year"),
        (0.0, 0.03, -0.1, "imitation_per_year"),
        (0.0, float("inf"), 0.38, "innovation_per_year"),
    ],
)
def test_invalid_parameters_raise(f0, p, q, match):
    with pytest.raises(ValueError, match=match):
        bass_share(1.0, f0, p, q)


def test_invalid_times_and_counts_raise():
    with pytest.raises(ValueError, match="years"):
        bass_share(np.array([0.0, -1.0]), 0.0, 0.03, 0.38)
    with pytest.raises(ValueError, match="accounts"):
        onboarded_accounts(0.5, -1)
    with pytest.raises(ValueError, match="n_days"):
        daily_shares(-1, 1 / 250, 0.0, 0.03, 0.38)
    with pytest.raises(ValueError, match="years_per_day"):
        daily_shares(5, -1.0, 0.0, 0.03, 0.38)
    with pytest.raises(ValueError, match="initial_share"):
        daily_shares(5, 1 / 250, 1.5, 0.03, 0.38)
