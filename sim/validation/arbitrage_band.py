"""ETF premium inside the authorised participant's arbitrage band.

Why: creation and redemption are what tie an ETF's price to its NAV. The participant creates
units when the bid exceeds NAV by more than its costs and redeems when the ask falls below NAV by
more than them, so the premium of the quote mid to NAV should stay within a band of
basket cost + creation fee / (creation unit x NAV) + the participant's own per-side charges on
the venue (fees after any rebate, duty unless exempt), all read from the scenario. Real ETFs
stay within about +-100 bp after correcting for stale prices (Petajisto 2017); in the model,
with a market maker quoting around NAV, the daily mean premium should sit inside the much
tighter band on nearly every day. The share of days inside is reported per listing of every
instrument an authorised participant creates and redeems: ETFs, and commodity tokens, whose
authorised dealers deliver and take back the commodity on the same terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sim.creation_band import backed_book_listings, band_bps
from sim.runs import RunResult

TARGET_SHARE = 0.95


@dataclass(frozen=True)
class BandShare:
    """Daily premium and band of one backed listing, pooled over seeds (`seed` numbers each day's run)."""

    instrument: str
    instrument_type: str
    venue: str
    premium_bps: np.ndarray
    band_bps: np.ndarray
    seed: np.ndarray

    @property
    def share_inside(self) -> float:
        return float(np.mean(np.abs(self.premium_bps) <= self.band_bps)) if len(self.premium_bps) else float("nan")

    @property
    def seed_shares_inside(self) -> np.ndarray:
        inside = np.abs(self.premium_bps) <= self.band_bps
        return np.array([inside[self.seed == k].mean() for k in np.unique(self.seed)])

    @property
    def seed_median_abs_premium_bps(self) -> np.ndarray:
        return np.array([np.median(np.abs(self.premium_bps[self.seed == k])) for k in np.unique(self.seed)])


def premium_in_band(results: list[RunResult]) -> list[BandShare]:
    """For each ETF order-book listing, the days (over all seeds) with a quoted premium and their band."""
    scenario = results[0].scenario
    shares = []
    for instrument, venue in backed_book_listings(scenario):
        premiums, bands, seeds = [], [], []
        for k, result in enumerate(results):
            daily = result.daily
            days = daily[(daily["instrument"] == instrument) & (daily["venue_name"] == venue)]
            days = days.dropna(subset=["premium_bps"])
            premiums.append(days["premium_bps"].to_numpy())
            bands.append(band_bps(scenario, instrument, venue, days))
            seeds.append(np.full(len(days), k))
        kind = scenario.instruments[instrument].type
        shares.append(BandShare(instrument, kind, venue, *map(np.concatenate, (premiums, bands, seeds))))
    return shares
