"""The model runs the validation checks share: one scenario file, fixed overrides, common seeds.

Why: every model-based check compares runs of the same scenario that differ in one policy key,
so they must see the same fair values and the same trading needs. `ModelRuns` loads the scenario
with the validation's overrides plus the check's own, and runs it once per seed (replication
seeds derived from one base seed, as experiments do). It also names the listing the checks
measure: the ETF whose conventional units trade on an exchange's order book.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiment.seeds import replication_seeds
from sim.compile import PER_SIDE_FEES
from sim.runs import RunResult, run
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.scenario.schema import Etf

DUTY_LEVER = "policy.stamp_duty.conventional_etf"
STOCK_DUTY_LEVER = "policy.stamp_duty.conventional_stock"  # swept with it where shares trade (sim.validation.elasticity)


@dataclass(frozen=True)
class ModelRuns:
    """A scenario file, the overrides every run gets, and the seeds every comparison uses."""

    path: Path
    overrides: tuple[str, ...]
    seeds: tuple[int, ...]

    @classmethod
    def of(cls, path: str | Path, overrides: Sequence[str], replications: int, base_seed: int | None) -> ModelRuns:
        """Seeds derived from `base_seed` (default: the scenario's own); checks the scenario loads."""
        if replications < 1:
            raise ScenarioError("--seeds", "", "must be at least 1", replications)
        runs = cls(Path(path), tuple(overrides), ())
        base = runs.scenario().seed if base_seed is None else base_seed
        return cls(runs.path, runs.overrides, tuple(replication_seeds(base, replications)))

    def scenario(self, *extra: str) -> Scenario:
        return load_scenario(self.path, [*self.overrides, *extra])

    def results(self, *extra: str) -> list[RunResult]:
        """One run per seed of the scenario with `extra` overrides."""
        scenario = self.scenario(*extra)
        return [run(scenario, seed) for seed in self.seeds]

    def with_overrides(self, *extra: str) -> ModelRuns:
        return ModelRuns(self.path, (*self.overrides, *extra), self.seeds)


@dataclass(frozen=True)
class ExchangeListing:
    """The conventional ETF listing on an exchange's order book, and that exchange's per-side fees."""

    instrument: str
    venue: str
    fees_bps: float


def exchange_listing(scenario: Scenario, source: str) -> ExchangeListing:
    """The first ETF listed on a conventional exchange; a ScenarioError naming `source` if there is none."""
    for venue_name, venue in scenario.venues.items():
        if venue.kind != "exchange" or venue.form != "conventional":
            continue
        for name in venue.listings:
            if isinstance(scenario.instruments[name], Etf):
                return ExchangeListing(name, venue_name, sum(getattr(venue.fees, key) for key in PER_SIDE_FEES))
    raise ScenarioError(source, "venues", "validation needs an ETF listed on a conventional exchange's order book")


def listing_days(result: RunResult, venue: str, instrument: str) -> pd.DataFrame:
    """The daily rows of one listing, indexed by business day."""
    daily = result.daily
    return daily[(daily["venue_name"] == venue) & (daily["instrument"] == instrument)].set_index("day")


def brokerage_bps(result: RunResult, listings: Sequence[ExchangeListing]) -> float:
    """The investors' brokerage per side on these exchange listings, weighted by the value each
    group took there (0 when no group pays any, or nothing traded): part of the total transaction
    cost the published elasticities are measured against."""
    groups = result.scenario.investors
    if not any(group.brokerage_bps for group in groups.values()):
        return 0.0
    trades = result.trades
    mask = np.zeros(len(trades), dtype=bool)
    for listing in listings:
        mask |= ((trades["venue_name"] == listing.venue) & (trades["instrument"] == listing.instrument)).to_numpy()
    taken = trades.loc[mask & trades["taker_group"].isin(list(groups)).to_numpy()]
    value = taken.groupby("taker_group")["value_hkd"].sum()
    if not value.sum() > 0:
        return 0.0
    return float(sum(value[name] * groups[name].brokerage_bps for name in value.index) / value.sum())


def half_spread_bps(days: pd.DataFrame, from_day: int = 0) -> float:
    """Mean half quoted spread over a listing's days from `from_day` (nan if it never quoted then)."""
    spreads = days.loc[days.index >= from_day, "quoted_spread_bps"].to_numpy()
    return float(np.nanmean(spreads)) / 2.0 if np.isfinite(spreads).any() else math.nan
