"""Elasticity of trading volume to total transaction cost, measured in the model by a duty sweep.

Why: the investors' cost decision is the model's core, and its sensitivity is set by the groups'
mean private gain. The empirical literature measures the same thing as the elasticity of volume
to total transaction cost (TTC): mostly -0.5 to -1.5 (Matheson 2011 survey; Baltagi, Li & Li
2006 find -1.0 for China's 1997 stamp-tax rise). Here the conventional ETF's stamp duty is swept
around the Hong Kong stock rate on the same seeds; volume is the ETF's conventional turnover,
and TTC per side is duty + the exchange's per-side fees + the mean half quoted spread on the
exchange listing. The elasticity is the slope of ln V on ln TTC (and the arc elasticities
between neighbouring points). With exponential gains of mean mu the model predicts -TTC/mu per
investor group, which the result reports alongside. The same slope fitted on each seed alone
gives the spread behind the slope's 95% interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.validation.runs import DUTY_LEVER, ModelRuns, exchange_listing, half_spread_bps, listing_days

SWEEP_RATES = (0.0005, 0.001, 0.0015)  # per side, around the Hong Kong stock rate of 0.1%
PUBLISHED_RANGE = (-1.5, -0.5)  # against TTC: Matheson (2011); Baltagi, Li & Li (2006) -1.0


@dataclass(frozen=True)
class SweepPoint:
    """One duty rate: turnover and half spread per seed, and the cost components per side, bps."""

    rate_per_side: float
    seed_volumes_hkd: tuple[float, ...]
    fees_bps: float
    seed_half_spreads_bps: tuple[float, ...]

    @property
    def volume_hkd(self) -> float:
        return float(np.mean(self.seed_volumes_hkd))

    @property
    def half_spread_bps(self) -> float:
        return float(np.nanmean(self.seed_half_spreads_bps))

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
    seed_slopes: tuple[float, ...]


def sweep_point(runs: ModelRuns, rate: float) -> SweepPoint:
    """Run every seed with the conventional ETF's duty at `rate` per side."""
    results = runs.results(f"{DUTY_LEVER}.rate_per_side={rate}")
    listing = exchange_listing(results[0].scenario, str(runs.path))
    volumes = tuple(r.kpis[f"turnover_hkd_{listing.instrument}_conventional"] for r in results)
    spreads = tuple(half_spread_bps(listing_days(r, listing.venue, listing.instrument)) for r in results)
    return SweepPoint(rate, volumes, listing.fees_bps, spreads)


def log_log_slope(costs_bps: list[float], volumes_hkd: list[float]) -> float:
    """Least-squares slope of ln volume on ln total cost (nan if volume vanished or a cost is unknown)."""
    volumes, costs = np.array(volumes_hkd), np.array(costs_bps)
    if (volumes <= 0).any() or not np.isfinite(costs).all():
        return math.nan
    return float(np.polyfit(np.log(costs), np.log(volumes), 1)[0])


def seed_slopes(points: tuple[SweepPoint, ...]) -> tuple[float, ...]:
    """The slope fitted on each seed's own volumes and spreads."""
    n_seeds = len(points[0].seed_volumes_hkd)
    return tuple(
        log_log_slope([p.duty_bps + p.fees_bps + p.seed_half_spreads_bps[k] for p in points],
                      [p.seed_volumes_hkd[k] for p in points])
        for k in range(n_seeds)
    )


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
    slope = log_log_slope([p.total_cost_bps for p in points], [p.volume_hkd for p in points])
    return Elasticity(points, slope, arcs, theoretical(runs, middle.total_cost_bps), seed_slopes(points))
