"""Elasticity of trading volume to total transaction cost, measured in the model by a duty sweep.

Why: the investors' cost decision is the model's core, and its sensitivity is set by the groups'
mean private gain. The empirical literature measures the same thing as the elasticity of volume
to total transaction cost (TTC): mostly -0.5 to -1.5 (Matheson 2011 survey; Baltagi, Li & Li
2006 find -1.0 for China's 1997 stamp-tax rise). Here the conventional ETF's stamp duty is swept
around the Hong Kong stock rate on the same seeds; volume is the ETF's conventional turnover,
and TTC per side is duty + the exchange's per-side fees + the investors' brokerage (weighted by
the value each group took; 0 unless a scenario sets `brokerage_bps`) + the mean half quoted
spread on the exchange listing. The elasticity is the slope of ln V on ln TTC (and the arc
elasticities between neighbouring points). With exponential gains of mean mu the model predicts
-TTC/mu per investor group, which the result reports alongside. The same slope fitted on each
seed alone gives the spread behind the slope's 95% interval.

A scenario whose shares also trade on the exchange (`type: stock`) sweeps the duty on every
conventional exchange-traded equity at once, shares and ETFs at the same rate, and measures
their combined conventional turnover, with the turnover-weighted half spread and fees. That is
what the published elasticities measure, a tax on the whole market: swept on the ETFs alone,
the ETFs' volume would also answer by moving between wrappers (investors' exposure needs switch
to the shares as the ETFs' duty rises), a substitution a market-wide tax does not offer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.compile import PER_SIDE_FEES
from sim.runs import RunResult
from sim.scenario import Scenario
from sim.validation.runs import (
    DUTY_LEVER, STOCK_DUTY_LEVER, ExchangeListing, ModelRuns, brokerage_bps, exchange_listing, half_spread_bps,
    listing_days,
)

SWEEP_RATES = (0.0005, 0.001, 0.0015)  # per side, around the Hong Kong stock rate of 0.1%
PUBLISHED_RANGE = (-1.5, -0.5)  # against TTC: Matheson (2011); Baltagi, Li & Li (2006) -1.0


@dataclass(frozen=True)
class SweepPoint:
    """One duty rate: turnover and half spread per seed, and the cost components per side, bps."""

    rate_per_side: float
    seed_volumes_hkd: tuple[float, ...]
    fees_bps: float  # the exchange's per-side fees and the investors' brokerage
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
    """Run every seed with the conventional ETF's duty at `rate` per side (and the conventional
    shares', when shares trade on the exchange: `swept_listings`)."""
    listings = swept_listings(runs.scenario(), str(runs.path))
    levers = [DUTY_LEVER] + ([STOCK_DUTY_LEVER] if len(listings) > 1 else [])
    results = runs.results(*(f"{lever}.rate_per_side={rate}" for lever in levers))
    brokerage = float(np.mean([brokerage_bps(r, listings) for r in results]))  # 0.0 where no group pays any
    if len(listings) == 1:  # the ETF alone: its own turnover and spread
        listing = listings[0]
        volumes = tuple(r.kpis[f"turnover_hkd_{listing.instrument}_conventional"] for r in results)
        spreads = tuple(half_spread_bps(listing_days(r, listing.venue, listing.instrument)) for r in results)
        return SweepPoint(rate, volumes, listing.fees_bps + brokerage, spreads)
    per_listing = [[r.kpis[f"turnover_hkd_{listing.instrument}_conventional"] for listing in listings] for r in results]
    volumes = tuple(float(sum(values)) for values in per_listing)
    weights = np.array(per_listing, dtype=float).sum(axis=0)  # each listing's turnover over the seeds
    fees = float(np.average([listing.fees_bps for listing in listings], weights=weights))
    spreads = tuple(_weighted_half_spread(r, listings, values) for r, values in zip(results, per_listing))
    return SweepPoint(rate, volumes, fees + brokerage, spreads)


def swept_listings(scenario: Scenario, source: str) -> list[ExchangeListing]:
    """The listings whose conventional volume the sweep measures: the first exchange-listed ETF
    alone, or, when shares trade on a conventional exchange, every ETF and share listed there."""
    first = exchange_listing(scenario, source)
    everything = [ExchangeListing(name, venue_name, sum(getattr(venue.fees, key) for key in PER_SIDE_FEES))
                  for venue_name, venue in scenario.venues.items()
                  if venue.kind == "exchange" and venue.form == "conventional"
                  for name in venue.listings if scenario.instruments[name].type in ("etf", "stock")]
    if not any(scenario.instruments[listing.instrument].type == "stock" for listing in everything):
        return [first]
    return everything


def _weighted_half_spread(result: RunResult, listings: list[ExchangeListing], volumes: list[float]) -> float:
    """The listings' mean half spreads weighted by their turnover in this run (nan if none quoted)."""
    spreads = np.array([half_spread_bps(listing_days(result, listing.venue, listing.instrument))
                        for listing in listings])
    weights = np.array(volumes, dtype=float)
    known = np.isfinite(spreads) & (weights > 0)
    return float(np.average(spreads[known], weights=weights[known])) if known.any() else math.nan


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
