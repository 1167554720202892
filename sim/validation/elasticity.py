"""Elasticity of trading volume to total transaction cost, measured in the model by a duty sweep.

Why: the investors' cost decision is the model's core, and its sensitivity is set by the groups'
mean private gain. The empirical literature measures the same thing as the elasticity of volume
to total transaction cost (TTC): mostly -0.5 to -1.5 (Matheson 2011 survey; Baltagi, Li & Li
2006 find -1.0 for China's 1997 stamp-tax rise). Here the conventional ETF's stamp duty is swept
around the Hong Kong stock rate on the same seeds; volume is the ETF's conventional turnover,
and TTC per side is duty + the exchange's per-side fees + the mean half quoted spread on the
exchange listing. The elasticity is the slope of ln V on ln TTC (and the arc elasticities
between neighbouring points). With exponential gains of mean mu the model predicts -TTC/mu per
investor group, which the result reports alongside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.engine import RunResult
from sim.validation.runs import DUTY_LEVER, ModelRuns, exchange_listing, listing_days

SWEEP_RATES = (0.0005, 0.001, 0.0015)  # per side, around the Hong Kong stock rate of 0.1%
PUBLISHED_RANGE = (-1.5, -0.5)  # against TTC: Matheson (2011); Baltagi, Li & Li (2006) -1.0


@dataclass(frozen=True)
class SweepPoint:
    """One duty rate: mean turnover over the seeds and the cost components per side, bps."""

    rate_per_side: float
    volume_hkd: float
    fees_bps: float
    half_spread_bps: float

    @property
    def duty_bps(self) -> float:
        return self.rate_per_side * 10_000.0

    @property
    def total_cost_bps(self) -> float:
        return self.duty_bps + self.fees_bps + self.half_spread_bps


@dataclass(frozen=True)
class Elasticity:
    """The sweep, its log-log slope, the arc elasticities, and -TTC/mu per group at the middle point."""

    points: tuple[SweepPoint, ...]
    slope: float
    arcs: tuple[float, ...]
    theory: dict[str, float]


def half_spread_bps(results: list[RunResult], venue: str, instrument: str) -> float:
    """Mean half quoted spread of one listing over all days and seeds."""
    spreads = np.concatenate([listing_days(r, venue, instrument)["quoted_spread_bps"].to_numpy() for r in results])
    return float(np.nanmean(spreads)) / 2.0


def sweep_point(runs: ModelRuns, rate: float) -> SweepPoint:
    """Run every seed with the conventional ETF's duty at `rate` per side."""
    results = runs.results(f"{DUTY_LEVER}.rate_per_side={rate}")
    listing = exchange_listing(results[0].scenario, str(runs.path))
    volume = float(np.mean([r.kpis[f"turnover_hkd_{listing.instrument}_conventional"] for r in results]))
    return SweepPoint(rate, volume, listing.fees_bps, half_spread_bps(results, listing.venue, listing.instrument))


def log_log_slope(points: tuple[SweepPoint, ...]) -> float:
    """Least-squares slope of ln volume on ln total cost (nan if volume vanished)."""
    volumes = np.array([p.volume_hkd for p in points])
    if (volumes <= 0).any():
        return math.nan
    costs = np.log([p.total_cost_bps for p in points])
    return float(np.polyfit(costs, np.log(volumes), 1)[0])


def arc_elasticity(low: SweepPoint, high: SweepPoint) -> float:
    """d ln V / d ln TTC between two points (nan if volume vanished)."""
    if low.volume_hkd <= 0 or high.volume_hkd <= 0:
        return math.nan
    return math.log(high.volume_hkd / low.volume_hkd) / math.log(high.total_cost_bps / low.total_cost_bps)


def theoretical(runs: ModelRuns, cost_bps: float) -> dict[str, float]:
    """-TTC/mu for each investor group: the exponential-gain model's elasticity at this cost."""
    return {name: -cost_bps / group.gain_mean_bps for name, group in runs.scenario().investors.items()}


def measure_elasticity(runs: ModelRuns, rates: tuple[float, ...] = SWEEP_RATES) -> Elasticity:
    """Sweep the duty over `rates` on the same seeds and fit the elasticity."""
    points = tuple(sweep_point(runs, rate) for rate in rates)
    arcs = tuple(arc_elasticity(a, b) for a, b in zip(points, points[1:]))
    middle = points[len(points) // 2]
    return Elasticity(points, log_log_slope(points), arcs, theoretical(runs, middle.total_cost_bps))
