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
