"""Run every validation part on one scenario and collect the results and their checks.

Why: `validate-model` and the tests need the same sequence (zero-intelligence markets, the duty
sweep, the 2021 replay, a run at the scenario's own settings for the ETF premium band, Little's
law and the bonds' spreads by form, and one with a duty on the tokenized venue for the shift
between venues), with one choice of horizon, seeds and periods. `QUICK` keeps it to seconds for
tests; `FULL` is long enough for the figures to be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.validation.arbitrage_band import BandShare, premium_in_band
from sim.validation.checks import (
    Check, band_checks, elasticity_checks, littles_law_checks, replay_checks, statutory_cost_check,
    zero_intelligence_checks,
)
from sim.validation.elasticity import Elasticity, measure_elasticity
from sim.validation.kinds import check_fits
from sim.validation.hong_kong import HongKong, hong_kong_checks, measure_hong_kong, share_channel
from sim.validation.littles_law import LittleRatio, littles_law
from sim.validation.replay import Replay, replay_duty_rise
from sim.validation.runs import ModelRuns, exchange_listing
from sim.validation.usdc_2023 import UsdcReplay, replay_usdc, usdc_checks
from sim.validation.venue_shift import Venues, measure_venues, venue_checks
from sim.validation.zero_intelligence import efficiencies


@dataclass(frozen=True)
class Settings:
    """How long the model runs, on how many seeds, and how many zero-intelligence periods per market."""

    horizon_days: int
    seeds: int
    zi_periods: int


QUICK = Settings(horizon_days=6, seeds=1, zi_periods=3)
FULL = Settings(horizon_days=60, seeds=5, zi_periods=20)


@dataclass(frozen=True)
class Validation:
    """Everything measured, kept for the report's tables and figures."""

    runs: ModelRuns
    zero_intelligence: pd.DataFrame
    elasticity: Elasticity
    replay: Replay
    bands: list[BandShare]
    little: list[LittleRatio]
    hong_kong: HongKong | None = None  # only for a scenario with a taxed share channel
    usdc: UsdcReplay | None = None  # the March 2023 USDC de-peg replayed (with the scenario's stablecoin behaviour)
    venues: Venues | None = None  # a duty on the tokenized venue of an ETF in both forms; bonds' spreads by form

    def checks(self) -> list[Check]:
        """Every check, each with its kind; a driver fitted to a row that is not a calibration target here is refused."""
        checks = [
            *zero_intelligence_checks(self.zero_intelligence),
            *elasticity_checks(self.elasticity),
            *replay_checks(self.replay),
            *band_checks(self.bands),
            *littles_law_checks(self.little),
            statutory_cost_check(self.runs.scenario()),
            *([] if self.hong_kong is None else hong_kong_checks(self.hong_kong)),
            *([] if self.usdc is None else usdc_checks(self.usdc)),
            *([] if self.venues is None else venue_checks(self.venues)),
        ]
        check_fits(checks)
        return checks


def validate(path: str | Path, overrides: Sequence[str], settings: Settings, seed: int | None = None) -> Validation:
    """Run every part; `overrides` (the user's `--set`) apply after the settings' horizon."""
    runs = ModelRuns.of(path, [f"horizon_days={settings.horizon_days}", *overrides], settings.seeds, seed)
    exchange_listing(runs.scenario(), str(path))  # fail early if the scenario has nothing to measure
    zero_intelligence = efficiencies(runs.seeds[0], settings.zi_periods)
    elasticity = measure_elasticity(runs)
    replay = replay_duty_rise(runs)
    own = runs.results()
    channel = share_channel(runs.scenario())
    hong_kong = None if channel is None else measure_hong_kong(runs, channel, own)
    return Validation(runs, zero_intelligence, elasticity, replay, premium_in_band(own), littles_law(own), hong_kong,
                      replay_usdc(runs.scenario()), measure_venues(runs, own))
