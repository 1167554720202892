"""The ETF's net asset value: a geometric random walk on a fixed intraday grid.

The whole path is drawn once at the start of a run (one numpy call), so the hot path only
looks a value up. The NAV moves around the clock because the run's time is business days and
the underlying basket's value is what investors and market makers price against.
"""

from __future__ import annotations

import math

import numpy as np

from sim.scenario.schema import NavProcess

TRADING_DAYS_PER_YEAR = 250  # assumption: business days in a Hong Kong year, used to scale annual rates


class NavPath:
    """NAV per unit, in HKD, at any time of the run (piecewise constant between grid steps)."""

    def __init__(self, process: NavProcess, days: int, rng: np.random.Generator) -> None:
        self.steps_per_day = process.steps_per_day
        n_steps = days * process.steps_per_day
        dt = 1.0 / (TRADING_DAYS_PER_YEAR * process.steps_per_day)
        sigma = process.volatility_per_year
        drift = (process.drift_per_year - 0.5 * sigma * sigma) * dt
        log_steps = drift + sigma * math.sqrt(dt) * rng.standard_normal(n_steps)
        log_path = np.concatenate(([0.0], np.cumsum(log_steps)))
        self._values: list[float] = (process.initial_nav_hkd * np.exp(log_path)).tolist()
        self._last = len(self._values) - 1

    def at(self, t: float) -> float:
        """NAV at time t (business days); after the drawn horizon it stays at its last value."""
        step = int(t * self.steps_per_day)
        return self._values[step if step < self._last else self._last]
