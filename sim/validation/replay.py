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

from sim.engine import RunResult
from sim.scenario import ScenarioError
from sim.validation.runs import DUTY_LEVER, ModelRuns, exchange_listing, listing_days

RATE_BEFORE, RATE_AFTER = 0.001, 0.0013  # per side, until 31 Jul 2021 and from 1 Aug 2021 (IRD budget 2021)
PUBLISHED_TAX_ELASTICITY = -0.5  # Baltagi, Li & Li (2006), China 1997, against the tax


@dataclass(frozen=True)
class Replay:
    """Daily exchange volume (mean over seeds) with and without the rise, and the cost after the switch."""

    switch_day: int
    rise_volume_hkd: pd.Series
    counterfactual_volume_hkd: pd.Series
    cost_rise_bps: float
    cost_counterfactual_bps: float

    def _after(self, volume: pd.Series) -> pd.Series:
        return volume[volume.index >= self.switch_day]

    def _before(self, volume: pd.Series) -> pd.Series:
        return volume[volume.index < self.switch_day]

    @property
    def change_vs_counterfactual(self) -> float:
        """Volume after the switch relative to the counterfactual's over the same days, less one."""
        return self._after(self.rise_volume_hkd).sum() / self._after(self.counterfactual_volume_hkd).sum() - 1.0

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
    def elasticity_tax(self) -> float:
        return math.log1p(self.change_vs_counterfactual) / math.log(RATE_AFTER / RATE_BEFORE)


def _volume_and_cost(results: list[RunResult], switch_day: int, source: str, duty_bps: float) -> tuple[pd.Series, float]:
    """Mean daily volume of the exchange listing over seeds, and TTC per side after the switch."""
    listing = exchange_listing(results[0].scenario, source)
    days = [listing_days(r, listing.venue, listing.instrument) for r in results]
    volume = pd.concat([d["volume_hkd"] for d in days], axis=1).mean(axis=1)
    spreads = np.concatenate([d.loc[d.index >= switch_day, "quoted_spread_bps"].to_numpy() for d in days])
    return volume, duty_bps + listing.fees_bps + float(np.nanmean(spreads)) / 2.0


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
    rise_volume, rise_cost = _volume_and_cost(rise, switch_day, source, RATE_AFTER * 10_000.0)
    cf_volume, cf_cost = _volume_and_cost(counterfactual, switch_day, source, RATE_BEFORE * 10_000.0)
    return Replay(switch_day, rise_volume, cf_volume, rise_cost, cf_cost)
