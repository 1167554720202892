"""How big a run will be, and whether the machine can hold it.

Before anything runs, `estimate` sizes a run from its scenario alone: investor needs (each
group's Poisson rate times the horizon), the trades they make, market-maker requotes, issue
subscriptions, the rows recorded, and from those the peak memory and a rough duration.
`check_fits` refuses a run (or an experiment's concurrent runs) whose peak would not fit in
the memory available now, naming the estimate, the memory and the `--allow-large` override.
The estimate errs high: refusing a run that would have fitted costs a flag, running one that
does not costs the machine (and other users' work on it).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from sim.engine import plan_issues
from sim.market.venue_kinds import PROVIDERS
from sim.scenario.schema import Scenario

# Sizes and rates, measured on the shipped baseline (see docs/model.md, "Reliability").
BASE_BYTES = 120_000_000
"""Interpreter, numpy, pandas, SimPy and matplotlib loaded: peak RSS of a short run, rounded up."""
TRADES_PER_NEED = 0.35
"""Trades per investor need: 0.27-0.29 measured on the baseline (many needs do not trade), +20%."""
BYTES_PER_TRADE = 1_200
"""Peak bytes per trade: 89 recorded (a trade row) + ~650 in the trades DataFrame
(`memory_usage(deep=True)`) + the derived tables and CSV text built at the end. The full
baseline (116,856 trades) peaks at 251 MB RSS, about 1.3 kB per trade over a short run's."""
BYTES_PER_QUOTE = 120
"""A recorded quote row (56 bytes) and its copy in a DataFrame."""
BYTES_PER_ACCOUNT_ASSET = 120
"""Three Python int list slots per account and asset in the ledger (settled, pending in, out)."""
SECONDS_PER_EVENT = 40e-6
"""Wall time per need or requote: 15-43 microseconds per need in benchmarks/results.json, rounded up."""


@dataclass(frozen=True)
class Estimate:
    """The expected size of one run."""

    scenario: str
    needs: int
    trades: int
    requotes: int
    subscription_orders: int
    accounts: int
    assets: int
    peak_bytes: int
    seconds: float

    def describe(self) -> str:
        return (f"{self.scenario}: about {self.needs:,} investor needs, {self.trades:,} trades and "
                f"{self.requotes:,} requotes; peak memory about {_size(self.peak_bytes)}, "
                f"about {duration_text(self.seconds)}")


def estimate(scenario: Scenario) -> Estimate:
    """The size of one run of `scenario`, from its parameters alone."""
    days = scenario.horizon_days
    weight = scenario.sample.weight  # a sampled run simulates one in `weight` of the accounts, needs and orders
    needs = math.ceil(sum(group.needs_per_day for group in scenario.investors.values()) / weight * days)
    trades = math.ceil(needs * TRADES_PER_NEED)
    requotes = 0
    for venue in scenario.venues.values():
        if PROVIDERS[venue.kind].spec_key != "market_maker":  # only market makers requote on a clock
            continue
        open_minutes = sum(close - open_ for open_, close in venue.sessions_hours) * 60
        for listing in venue.listings.values():
            requotes += math.ceil(open_minutes / listing.market_maker.requote_minutes) * days
    issues = len(plan_issues(scenario))
    orders = math.ceil(sum(group.subscription.orders_per_issue for group in scenario.investors.values()) / weight * issues)
    accounts = sum(group.accounts for group in scenario.investors.values()) // weight
    assets = 2 * len(scenario.instruments) + issues
    peak = (BASE_BYTES + trades * BYTES_PER_TRADE + requotes * BYTES_PER_QUOTE
            + accounts * assets * BYTES_PER_ACCOUNT_ASSET)
    seconds = (needs + requotes + orders) * SECONDS_PER_EVENT
    return Estimate(scenario.name, needs, trades, requotes, orders, accounts, assets, peak, seconds)


def available_bytes(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """Memory available for new work now (MemAvailable), or free physical memory; None if unknown."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


class TooLarge(Exception):
    """A run or experiment whose estimated memory exceeds what is available."""


def check_fits(estimates: list[Estimate], concurrent: int = 1, allow_large: bool = False,
               available: int | None = None) -> None:
    """Refuse (TooLarge) when `concurrent` of the largest runs would not fit in available memory."""
    if allow_large or not estimates:
        return
    available = available_bytes() if available is None else available
    if available is None:
        return
    largest = sorted(estimates, key=lambda e: e.peak_bytes, reverse=True)[: max(concurrent, 1)]
    need = sum(e.peak_bytes for e in largest)
    if need > available:
        runs = "" if len(largest) == 1 else f" ({len(largest)} runs at once; fewer --workers needs less)"
        raise TooLarge(f"{largest[0].describe()}; that needs about {_size(need)}{runs} but only "
                       f"{_size(available)} is available; shorten horizon_days or lower needs_per_day, "
                       "or pass --allow-large to run it anyway")


def _size(count: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count / 1e3:,.0f} kB"


def duration_text(seconds: float) -> str:
    """A duration in seconds, minutes or hours, rounded for a person to read."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
