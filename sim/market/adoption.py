"""Onboarding of an investor group to tokenized channels, as a Bass diffusion.

The onboarded share F grows by innovation (investors who join on their own, rate p per year)
and imitation (investors who follow those already onboarded, rate q per year):
dF/dt = (p + q F)(1 - F), from an initial share F0. Its closed form, shifted in time so that
F(0) = F0, is

    F(t) = (a - p (1 - F0) e^{-(p+q)t}) / (a + q (1 - F0) e^{-(p+q)t}),   a = p + q F0,

which reduces to the classic Bass curve for F0 = 0, to the logistic for p = 0, and stays at 1
for F0 = 1. Without innovation and with nobody to imitate (p = 0 and q F0 = 0) nothing moves,
and the share stays at F0. The simulator onboards a group's accounts in a fixed order and
reads the share from a precomputed per-day list.
"""

from __future__ import annotations

import math

import numpy as np

ROUNDING_SLACK = 1e-9  # so that a share of exactly k / accounts onboards k accounts


def bass_share(
    years: float | np.ndarray,
    initial_share: float,
    innovation_per_year: float,
    imitation_per_year: float,
) -> float | np.ndarray:
    """Onboarded share after `years` (>= 0, scalar or array); a float for a scalar input."""
    _check_parameters(initial_share, innovation_per_year, imitation_per_year)
    t = np.asarray(years, dtype=float)
    if not np.all(t >= 0.0):
        raise ValueError("years must be non-negative numbers")
    share = _closed_form(t, initial_share, innovation_per_year, imitation_per_year)
    return float(share) if share.ndim == 0 else share


def _closed_form(t: np.ndarray, f0: float, p: float, q: float) -> np.ndarray:
    if p == 0.0 and q * f0 == 0.0:
        return np.full_like(t, f0)
    decay = np.exp(-(p + q) * t)
    a = p + q * f0
    return (a - p * (1.0 - f0) * decay) / (a + q * (1.0 - f0) * decay)


def _check_parameters(initial_share: float, innovation: float, imitation: float) -> None:
    if not 0.0 <= initial_share <= 1.0:
        raise ValueError(f"initial_share must be in [0, 1], got {initial_share}")
    for name, rate in (("innovation_per_year", innovation), ("imitation_per_year", imitation)):
        if not (math.isfinite(rate) and rate >= 0.0):
            raise ValueError(f"{name} must be a finite rate >= 0, got {rate}")


def onboarded_accounts(share: float, accounts: int) -> int:
    """How many of a group's `accounts` are onboarded at `share`; account k (0-based) is
    onboarded once this exceeds k."""
    if accounts < 0:
        raise ValueError(f"accounts must be >= 0, got {accounts}")
    return min(accounts, max(0, math.floor(share * accounts + ROUNDING_SLACK)))


def daily_shares(
    n_days: int,
    years_per_day: float,
    initial_share: float,
    innovation_per_year: float,
    imitation_per_year: float,
) -> list[float]:
    """Share at the start of each business day 0 .. n_days - 1, for O(1) lookup by day."""
    if n_days < 0:
        raise ValueError(f"n_days must be >= 0, got {n_days}")
    if not (math.isfinite(years_per_day) and years_per_day >= 0.0):
        raise ValueError(f"years_per_day must be a finite number >= 0, got {years_per_day}")
    _check_parameters(initial_share, innovation_per_year, imitation_per_year)
    years = np.arange(n_days) * years_per_day
    return _closed_form(years, initial_share, innovation_per_year, imitation_per_year).tolist()


ADVANTAGE_HALF_LIFE_DAYS = 20.0  # business days over which a realised cost advantage fades by half


class ResponsiveAdoption:
    """Onboarding that responds to the tokenized channel's realised cost advantage (a network effect).

    Day by day, dF = (p + q m F)(1 - F) dt, with m = max(0, 1 + A / scale): imitation speeds up
    when the group's realised all-in cost on tokenized venues is below its cost on conventional
    ones (A > 0, bps) and stalls when it is above. A is a moving average of each day's
    difference, fading by half over `ADVANTAGE_HALF_LIFE_DAYS`, updated only on days the group
    traded in both forms; before any it is 0, and the share follows the Bass curve (stepped by
    day rather than in closed form). The share never falls: an onboarded account stays onboarded.
    """

    def __init__(self, initial_share: float, innovation_per_year: float, imitation_per_year: float,
                 scale_bps: float, years_per_day: float) -> None:
        _check_parameters(initial_share, innovation_per_year, imitation_per_year)
        if not scale_bps > 0.0:
            raise ValueError(f"scale_bps must be positive, got {scale_bps}")
        self.share = initial_share
        self.p, self.q, self.scale, self.dt = innovation_per_year, imitation_per_year, scale_bps, years_per_day
        self.advantage_bps = 0.0
        self._weight = 1.0 - 0.5 ** (1.0 / ADVANTAGE_HALF_LIFE_DAYS)
        self._day = {"conventional": [0.0, 0.0], "tokenized": [0.0, 0.0]}  # [cost x value, value] of the day

    def record(self, form: str, cost_bps: float, value_hkd: float) -> None:
        """A trade the group took: its all-in cost in bps of its value."""
        day = self._day[form]
        day[0] += cost_bps * value_hkd
        day[1] += value_hkd

    def next_day(self) -> float:
        """Close the day: update the advantage from its trades, step the share, and return the next day's share."""
        conventional, tokenized = self._day["conventional"], self._day["tokenized"]
        if conventional[1] > 0.0 and tokenized[1] > 0.0:
            today = conventional[0] / conventional[1] - tokenized[0] / tokenized[1]
            self.advantage_bps += self._weight * (today - self.advantage_bps)
        self._day = {"conventional": [0.0, 0.0], "tokenized": [0.0, 0.0]}
        speed = max(0.0, 1.0 + self.advantage_bps / self.scale)
        share = self.share
        self.share = min(1.0, share + (self.p + self.q * speed * share) * (1.0 - share) * self.dt)
        return self.share
