"""What an issue of a programme sells: its units, their price at a yield, their value path, their payments.

The issuance desk runs every programme's issues through the same story (bookbuilding,
allocation, settlement, payments to holders of record); only the security's terms differ.
A bond issue sells units of HK$100 face at par, with the coupon set at the clearing yield, and
pays coupons and then the principal. Terms are plain objects behind one small interface, so a
new kind of issued security is a new terms class here, not a change to the desk or the engine.
"""

from __future__ import annotations

import datetime

import numpy as np

from sim.market.issuance import FACE_HKD_PER_UNIT
from sim.market.value_processes import dirty_price
from sim.scenario.schema import Programme


class BondTerms:
    """A bond issue: units of HK$100 face sold at par; the coupon is the clearing yield."""

    instrument_type = "bond"

    def __init__(self, programme: Programme) -> None:
        self.programme = programme

    def units_offered(self, lot: int) -> int:
        """Units offered, in whole lots."""
        return int(self.programme.size_hkd / FACE_HKD_PER_UNIT) // lot * lot

    def unit_price_hkd(self, yield_: float, start: datetime.date) -> float:
        """Price per unit when the issue clears at `yield_`: par, since the coupon is set to that yield."""
        return FACE_HKD_PER_UNIT

    def value_path(self, yields: np.ndarray, remaining_years: np.ndarray, clearing_yield: float,
                   start: datetime.date) -> np.ndarray:
        """Invoice (dirty) price per unit along the run: coupons go to holders, so trades carry accrued interest."""
        return dirty_price(yields, clearing_yield, self.programme.coupon_frequency_per_year, remaining_years)

    def payment_per_unit_hkd(self, k: int, n: int, clearing_yield: float, start: datetime.date) -> float:
        """The k-th of n payments per unit (1-based): a coupon, plus the principal with the last."""
        coupon = FACE_HKD_PER_UNIT * clearing_yield / self.programme.coupon_frequency_per_year
        return coupon + (FACE_HKD_PER_UNIT if k == n else 0.0)


def issue_terms(programme: Programme, issue_name: str, seed: int) -> BondTerms:
    """The terms of one issue of `programme` (its own random streams come from `seed` and its name)."""
    return BondTerms(programme)


def offered_value_hkd(programme: Programme) -> float:
    """Value one issue offers, HKD, before the book is built (to weigh costs and grants)."""
    return programme.size_hkd
