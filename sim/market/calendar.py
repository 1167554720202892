"""Business-day calendar: maps the simulation clock's business-day index to real dates.

The simulator counts time in business days (day 0 is the first business day on or after the
start date), so settlement lags and trading sessions skip weekends and holidays. Interest,
however, accrues over calendar days (the weekend before a Monday counts), so the calendar also
gives the calendar days and years elapsed since day 0. Every lookup is a list or dict access
into tables built once at construction, covering the horizon plus a margin of business days
after it, so that settlement and coupon dates just beyond the horizon still resolve.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

MARGIN_BUSINESS_DAYS = 60  # business days precomputed after the horizon
# Dates the calendar serves: a start date (and any holiday) must lie between these, which keeps
# every date a run can reach (the horizon and margin, at most 10,000 + 60 business days, and a
# bond's maturity, at most 50 years on) far from the last date Python can hold, 9999-12-31.
FIRST_DATE = datetime.date(1900, 1, 1)
LAST_DATE = datetime.date(2199, 12, 31)
DAYS_PER_YEAR = 365.0
MINUTES_PER_DAY = 24 * 60
SATURDAY = 5  # datetime.date.weekday(): Monday is 0, so Saturday and Sunday are >= 5

# General holidays gazetted by the HKSAR Government other than Sundays, as (month, day),
# including substitute days and those that fall on a Saturday, exactly as published at
# https://www.gov.hk/en/about/abouthk/holiday/{year}.htm (2026 list: Government press
# release of 16 May 2025). Years not listed are not supported rather than guessed, because
# the lunar-calendar holidays and their substitutions cannot be derived by a simple rule.
_HONG_KONG_HOLIDAYS: dict[int, tuple[tuple[int, int], ...]] = {
    2025: (
        (1, 1), (1, 29), (1, 30), (1, 31), (4, 4), (4, 18), (4, 19), (4, 21), (5, 1),
        (5, 5), (5, 31), (7, 1), (10, 1), (10, 7), (10, 29), (12, 25), (12, 26),
    ),
    2026: (
        (1, 1), (2, 17), (2, 18), (2, 19), (4, 3), (4, 4), (4, 6), (4, 7), (5, 1),
        (5, 25), (6, 19), (7, 1), (9, 26), (10, 1), (10, 19), (12, 25), (12, 26),
    ),
    2027: (
        (1, 1), (2, 6), (2, 8), (2, 9), (3, 26), (3, 27), (3, 29), (4, 5), (5, 1),
        (5, 13), (6, 9), (7, 1), (9, 16), (10, 1), (10, 8), (12, 25), (12, 27),
    ),
}


class BusinessCalendar:
    """Dates of business days 0 .. n_days - 1 plus MARGIN_BUSINESS_DAYS more after them."""

    def __init__(
        self,
        start: datetime.date,
        holidays: Iterable[datetime.date] = (),
        n_days: int = 250,
    ) -> None:
        if n_days <= 0:
            raise ValueError(f"n_days must be positive, got {n_days}")
        if not FIRST_DATE <= start <= LAST_DATE:
            raise ValueError(f"start date {start} is outside the calendar's range, {FIRST_DATE} to {LAST_DATE}")
        self.start = start
        self.n_days = n_days
        self._holidays = frozenset(holidays)
        self._dates = self._business_dates(n_days + MARGIN_BUSINESS_DAYS)
        first = self._dates[0]
        self._calendar_days = [(d - first).days for d in self._dates]
        self._first_on_or_after = self._on_or_after_table()

    def _business_dates(self, count: int) -> list[datetime.date]:
        """The first `count` business dates on or after the start date."""
        dates: list[datetime.date] = []
        when = self.start
        while len(dates) < count:
            if self.is_business_day(when):
                dates.append(when)
            if when == datetime.date.max and len(dates) < count:
                raise ValueError(f"{count} business days from {self.start} run past the last date, {when}")
            when += datetime.timedelta(days=1)
        return dates

    def _on_or_after_table(self) -> list[int]:
        """For each calendar date from the start to the last business date (by offset from
        the start), the index of the first business day on or after it."""
        table: list[int] = []
        for day, when in enumerate(self._dates):
            table.extend([day] * ((when - self.start).days + 1 - len(table)))
        return table

    def is_business_day(self, when: datetime.date) -> bool:
        """A weekday that is not a holiday (any date, not only those precomputed)."""
        return when.weekday() < SATURDAY and when not in self._holidays

    def date_of(self, day: int) -> datetime.date:
        """The date of business day `day`; IndexError outside the precomputed range."""
        self._check_day(day)
        return self._dates[day]

    def day_on_or_after(self, when: datetime.date) -> int:
        """Index of the first business day on or after `when`.

        ValueError before the start date; IndexError after the last precomputed date.
        """
        offset = (when - self.start).days
        if offset < 0:
            raise ValueError(f"{when} is before the calendar start {self.start}")
        if offset >= len(self._first_on_or_after):
            raise IndexError(
                f"{when} is after the last precomputed business day {self._dates[-1]}"
            )
        return self._first_on_or_after[offset]

    def calendar_days_before(self, day: int) -> int:
        """Calendar days from business day 0 to business day `day` (weekends and holidays
        count, as they do for accrued interest)."""
        self._check_day(day)
        return self._calendar_days[day]

    @property
    def dates(self) -> list[datetime.date]:
        """A copy of the precomputed business dates (take it once, outside hot loops)."""
        return list(self._dates)

    @staticmethod
    def hong_kong_holidays(year: int) -> list[datetime.date]:
        """Hong Kong general holidays other than Sundays for 2025, 2026 or 2027, as gazetted."""
        if year not in _HONG_KONG_HOLIDAYS:
            supported = ", ".join(str(y) for y in sorted(_HONG_KONG_HOLIDAYS))
            raise ValueError(f"Hong Kong holidays are only tabulated for {supported}, not {year}")
        return [datetime.date(year, month, day) for month, day in _HONG_KONG_HOLIDAYS[year]]

    def _check_day(self, day: int) -> None:
        if not 0 <= day < len(self._dates):
            raise IndexError(
                f"business day {day} is outside the precomputed range 0..{len(self._dates) - 1}"
            )
