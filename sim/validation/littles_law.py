"""Settlement exposure against Little's law.

Why: the settlement model queues each trade until the end of day T+L and retries fails the next
day. With value V traded per day, the value outstanding at a day's end should then be about
V x L (Little's law), a little more with fails: a trade that fails with probability p per attempt
and is bought in after N fails waits p + p^2 + ... + p^N = p (1 - p^N) / (1 - p) extra days on
average (p / (1 - p) without buy-ins), so the expected ratio of unsettled value to V x L is one
plus that over L. Under atomic delivery versus payment (L = 0) nothing should be outstanding.
The ratio is measured per venue from the daily table along the run's own path: the denominator
at a day's end is the value traded on the L days up to it (each day's trades counted for that
day's cycle, as the venue applies it: tokenized cash can make a tokenized venue atomic for part
of a run), which is V x L without the noise of daily volume; the first days, before the queue
fills, are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.compile import venue_spec
from sim.market.venue import Venue
from sim.runs import RunResult
from sim.market.settlement import fail_probability_for_cycle

TOLERANCE = 0.05  # around the expected ratio


@dataclass(frozen=True)
class LittleRatio:
    """One venue: mean end-of-day unsettled value against V x L, and what fails should add to it."""

    venue: str
    cycle_days: float  # value-weighted mean cycle
    fail_probability: float
    unsettled_hkd: float  # mean over the steady days
    volume_times_cycle_hkd: float  # mean over the same days of what would be outstanding without fails
    mean_volume_hkd: float  # mean daily value traded, all days
    seed_ratios: tuple[float, ...] = ()  # the ratio on each seed's run alone
    buy_in_after_fails: int | None = None

    @property
    def ratio(self) -> float:
        return self.unsettled_hkd / self.volume_times_cycle_hkd if self.volume_times_cycle_hkd > 0 else float("nan")

    @property
    def plain_ratio(self) -> float:
        """Unsettled value over mean daily value x mean cycle: the textbook form, noisier on short runs."""
        denominator = self.mean_volume_hkd * self.cycle_days
        return self.unsettled_hkd / denominator if denominator > 0 else float("nan")

    @property
    def expected_ratio(self) -> float:
        if self.cycle_days <= 0:
            return float("nan")
        p, n = self.fail_probability, self.buy_in_after_fails
        extra_days = p / (1.0 - p) if n is None else p * (1.0 - p**n) / (1.0 - p)
        return 1.0 + extra_days / self.cycle_days


def without_fails(volume: np.ndarray, cycles: np.ndarray) -> np.ndarray:
    """Value outstanding at each day's end if nothing failed: day d's trades wait until the end of d + L_d."""
    outstanding = np.zeros(len(volume))
    for day, (value, cycle) in enumerate(zip(volume, cycles)):
        outstanding[day:day + cycle] += value
    return outstanding


def _venue_days(result: RunResult, venue_name: str) -> pd.DataFrame:
    """Per business day: the venue's traded value, cycle, end-of-day unsettled value and V x L."""
    scenario = result.scenario
    venue = Venue(venue_spec(scenario, venue_name, 0))
    daily = result.daily[result.daily["venue_name"] == venue_name]
    days = daily.groupby("day")[["volume_hkd", "unsettled_hkd"]].sum()
    days["cycle_days"] = [venue.cycle_on(int(day)) for day in days.index]
    days["without_fails_hkd"] = without_fails(days["volume_hkd"].to_numpy(), days["cycle_days"].to_numpy())
    return days


def _steady_ratio(days: pd.DataFrame, first_day: int) -> float:
    steady = days[days.index >= first_day]
    expected = steady["without_fails_hkd"].mean()
    return float(steady["unsettled_hkd"].mean() / expected) if expected > 0 else float("nan")


def littles_law(results: list[RunResult]) -> list[LittleRatio]:
    """The ratio per venue, pooled over seeds; the first `settlement_cycle_days` days are left out."""
    scenario = results[0].scenario
    ratios = []
    for name, params in scenario.venues.items():
        runs = [_venue_days(r, name) for r in results]
        days = pd.concat(runs)
        steady = days[days.index >= params.settlement_cycle_days]
        traded = days["volume_hkd"].sum()
        cycle = (days["volume_hkd"] * days["cycle_days"]).sum() / traded if traded > 0 else 0.0
        p = fail_probability_for_cycle(params.fail_probability_at_t2, 2, params.settlement_cycle_days,
                                       scenario.settlement.fail_cycle_elasticity)
        ratios.append(LittleRatio(name, float(cycle), p, float(steady["unsettled_hkd"].mean()),
                                  float(steady["without_fails_hkd"].mean()), float(days["volume_hkd"].mean()),
                                  tuple(_steady_ratio(run, params.settlement_cycle_days) for run in runs),
                                  scenario.settlement.buy_in_after_fails))
    return ratios
