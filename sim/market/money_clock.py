"""Calendar hours for the settlement assets, which live on the calendar rather than on business days.

The trading clock counts business days: a weekend does not exist for it. A settlement asset's
stress does not stop at a weekend: in March 2023 a stablecoin's issuer could not pay redemptions
from Friday evening to Monday, and its coin traded all weekend. Its path is therefore worked out
hour by hour over the calendar, and read back at the trading clock's times: business day d
starts at calendar hour 24 x (calendar days from business day 0 to d).
"""

from __future__ import annotations

import numpy as np

from sim.market.calendar import BusinessCalendar
from sim.market.money_specs import Moment

HOURS_PER_DAY = 24


class MoneyClock:
    """The calendar hours from the start of business day 0 to the end of the last day the run trades
    (`business_days` of them), and which business day each hour belongs to."""

    def __init__(self, calendar: BusinessCalendar, business_days: int) -> None:
        self.business_days = business_days
        self.day_starts = [calendar.calendar_days_before(day) * HOURS_PER_DAY for day in range(business_days + 1)]
        self.hours = self.day_starts[business_days - 1] + HOURS_PER_DAY
        self.day_of_hour = np.full(self.hours, -1, dtype=np.int64)  # -1: a weekend or holiday hour
        for day in range(business_days):
            start = self.day_starts[day]
            self.day_of_hour[start:start + HOURS_PER_DAY] = day

    def hour_of(self, moment: Moment) -> float:
        """The calendar hour of a moment (clipped to the clock's hours)."""
        day = min(moment.day, self.business_days)
        return min(float(self.day_starts[day]) + moment.hour, float(self.hours))

    def hour_of_trading_time(self, t: float) -> int:
        """The calendar hour that business time `t` (days) falls in."""
        day = min(int(t), self.business_days - 1)
        return min(self.day_starts[day] + int((t - day) * HOURS_PER_DAY), self.hours - 1)

    def later_by_business_days(self, hour: int, days: int) -> int:
        """The same hour of the day `days` business days after the business day of `hour` (an hour
        outside business days counts from the next business day's start); past the clock's end, an
        hour after its last."""
        day = int(self.day_of_hour[hour])
        if day < 0:  # a weekend hour: from the next business day's start
            day = int(np.searchsorted(self.day_starts, hour))
            offset = 0
        else:
            offset = hour - self.day_starts[day]
        target = day + days
        if target >= self.business_days:  # after the clock's end: an hour no step of the path reaches
            return self.hours + (target - self.business_days + 1) * HOURS_PER_DAY + offset
        return self.day_starts[target] + offset
