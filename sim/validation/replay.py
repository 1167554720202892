"""Historical replay: Hong Kong's stamp duty rise on stock transfers, 0.1% to 0.13% per side (1 Aug 2021).

Why: a policy simulator should answer a real policy change the way markets did. The conventional
ETF stands in for a stock: its duty is 0.1% per side until a switch day in mid-run and 0.13%
from then on (the lever's `from_day` / `otherwise_rate_per_side`). Volume is the exchange
listing's daily turnover. A before/after comparison mixes the rise with whatever else changes
over the run, so the same seeds are also run without the rise (the counterfactual) and the
effect is the ratio of volumes over the same days after the switch. Dividing its log by the log
change in total transaction cost (duty + fees + half quoted spread, as in
`sim.validation.elasticity`) gives the implied elasticity, to set beside the published -0.5 to
-1.5 against total cost; divided by ln 1.3 it is the elasticity to the tax alone (Baltagi, Li &
Li 2006: about -0.5 for China 1997).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.runs import RunResult
from sim.scenario import ScenarioError
from sim.validation.runs import (
    DUTY_LEVER, ModelRuns, brokerage_bps, exchange_listing, half_spread_bps, listing_days,
)

RATE_BEFORE, RATE_AFTER = 0.001, 0.0013  # per side, until 31 Jul 2021 and from 1 Aug 2021 (IRD budget 2021)
PUBLISHED_TAX_ELASTICITY = -0.5  # Baltagi, Li & Li (2006), China 1997, against the tax


@dataclass(frozen=True)
class Replay:
    """Daily exchange volume per seed (a column each) with and without the rise, and the cost after
    the switch per seed. Figures pool the seeds; the spread between seeds gives the intervals."""

    switch_day: int
    rise_volumes_hkd: pd.DataFrame
    counterfactual_volumes_hkd: pd.DataFrame
    rise_costs_bps: np.ndarray
    counterfactual_costs_bps: np.ndarray

    @property
    def rise_volume_hkd(self) -> pd.Series:
        return self.rise_volumes_hkd.mean(axis=1)

    @property
    def counterfactual_volume_hkd(self) -> pd.Series:
        return self.counterfactual_volumes_hkd.mean(axis=1)

    @property
    def cost_rise_bps(self) -> float:
        return float(np.nanmean(self.rise_costs_bps))

    @property
    def cost_counterfactual_bps(self) -> float:
        return float(np.nanmean(self.counterfactual_costs_bps))

    def _after(self, volume: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
        return volume[volume.index >= self.switch_day]

    def _before(self, volume: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
        return volume[volume.index < self.switch_day]

    @property
    def change_vs_counterfactual(self) -> float:
        """Volume after the switch relative to the counterfactual's over the same days, less one."""
        return self._after(self.rise_volume_hkd).sum() / self._after(self.counterfactual_volume_hkd).sum() - 1.0

    @property
    def seed_changes_vs_counterfactual(self) -> np.ndarray:
        """The same change on each seed alone."""
        return (self._after(self.rise_volumes_hkd).sum() / self._after(self.counterfactual_volumes_hkd).sum()
                - 1.0).to_numpy()

    @property
    def change_before_after(self) -> float:
        """Mean daily volume after the switch relative to before it, in the run with the rise, less one."""
        return self._after(self.rise_volume_hkd).mean() / self._before(self.rise_volume_hkd).mean() - 1.0

    @property
    def counterfactual_before_after(self) -> float:
        """The same before/after change without the rise: what the counterfactual takes out."""
        cf = self.counterfactual_volume_hkd
        return self._after(cf).mean() / self._before(cf).mean() - 1.0

    @property
    def elasticity_ttc(self) -> float:
        return math.log1p(self.change_vs_counterfactual) / math.log(self.cost_rise_bps / self.cost_counterfactual_bps)

    @property
    def seed_elasticities_ttc(self) -> np.ndarray:
        return np.log1p(self.seed_changes_vs_counterfactual) / np.log(self.rise_costs_bps / self.counterfactual_costs_bps)

    @property
    def elasticity_tax(self) -> float:
        return math.log1p(self.change_vs_counterfactual) / math.log(RATE_AFTER / RATE_BEFORE)

    @property
    def seed_elasticities_tax(self) -> np.ndarray:
        return np.log1p(self.seed_changes_vs_counterfactual) / math.log(RATE_AFTER / RATE_BEFORE)


def _volumes_and_costs(
    results: list[RunResult], switch_day: int, source: str, duty_bps: float
) -> tuple[pd.DataFrame, np.ndarray]:
    """Daily volume of the exchange listing per seed, and each seed's TTC per side after the switch."""
    listing = exchange_listing(results[0].scenario, source)
    days = [listing_days(r, listing.venue, listing.instrument) for r in results]
    volumes = pd.concat([d["volume_hkd"] for d in days], axis=1, ignore_index=True)
    half = [half_spread_bps(d, switch_day) for d in days]
    brokerage = np.array([brokerage_bps(r, [listing]) for r in results])
    return volumes, duty_bps + listing.fees_bps + brokerage + np.array(half)


def replay_duty_rise(runs: ModelRuns, switch_day: int | None = None) -> Replay:
    """The rise from `switch_day` (default: mid-horizon) against the same seeds without it."""
    horizon = runs.scenario().horizon_days
    switch_day = horizon // 2 if switch_day is None else switch_day
    if not 0 < switch_day < horizon:
        raise ScenarioError(str(runs.path), "horizon_days",
                            f"the replay needs days before and after the switch on day {switch_day}", horizon)
    rise_lever = f"{{rate_per_side: {RATE_AFTER}, from_day: {switch_day}, otherwise_rate_per_side: {RATE_BEFORE}}}"
    rise = runs.results(f"{DUTY_LEVER}={rise_lever}")
    counterfactual = runs.results(f"{DUTY_LEVER}={{rate_per_side: {RATE_BEFORE}}}")
    source = str(runs.path)
    rise_volumes, rise_costs = _volumes_and_costs(rise, switch_day, source, RATE_AFTER * 10_000.0)
    cf_volumes, cf_costs = _volumes_and_costs(counterfactual, switch_day, source, RATE_BEFORE * 10_000.0)
    return Replay(switch_day, rise_volumes, cf_volumes, rise_costs, cf_costs)
