"""What an issue of a programme sells: its units, their price at a yield, their value path, their payments.

The issuance desk runs every programme's issues through the same story (bookbuilding,
allocation, settlement, payments to holders of record); only the security's terms differ.
A bond issue sells units of HK$100 face at par, with the coupon set at the clearing yield, and
pays coupons and then the principal. A revenue token is a share of a renewable-energy project's
revenue: each period it pays the period's output times the tariff, divided among the tokens; its
price at a yield is the present value of the expected payments (the seasonal mean output), so
the book's clearing yield is the discount rate investors accept. Terms are plain objects behind
one small interface, so a new kind of issued security is a new terms class here, not a change to
the desk or the engine.
"""

from __future__ import annotations

import datetime

import numpy as np

from sim.market.issuance import FACE_HKD_PER_UNIT
from sim.market.random_streams import stream
from sim.market.value_processes import dirty_price, lognormal_noise, revenue_share_value, seasonal_output_kwh
from sim.market.specs import ProgrammeSpec


class BondTerms:
    """A bond issue: units of HK$100 face sold at par; the coupon is the clearing yield."""

    instrument_type = "bond"

    def __init__(self, programme: ProgrammeSpec) -> None:
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


class RevenueTerms:
    """A revenue token: each unit is one `tokens`-th share of a project's revenue, for the tenor."""

    instrument_type = "revenue_token"

    def __init__(self, programme: ProgrammeSpec, shocks: np.ndarray) -> None:
        """`shocks`: one standard normal per payment period, the noise of the project's output."""
        self.programme = programme
        self.project = programme.revenue
        self.frequency = programme.coupon_frequency_per_year
        self.n_payments = round(programme.tenor_years * self.frequency)
        self.noise = lognormal_noise(shocks[: self.n_payments], self.project.generation.noise_sd)

    def expected_output_kwh(self, start: datetime.date | None) -> np.ndarray:
        """Mean output of each period from `start` (None: no season, for estimates before a date is known)."""
        g = self.project.generation
        amplitude = 0.0 if start is None else g.seasonal_amplitude
        month = 0.0 if start is None else start.month - 1 + (start.day - 1) / 31.0
        return seasonal_output_kwh(g.capacity_kw, g.capacity_factor, amplitude, g.peak_month, self.frequency, month,
                                   self.n_payments)

    def expected_flows_hkd(self, start: datetime.date | None) -> np.ndarray:
        """Expected payment per token in each period, HKD."""
        return self.expected_output_kwh(start) * self.project.tariff_hkd_per_kwh / self.project.tokens

    def output_kwh(self, k: int, start: datetime.date) -> float:
        """The project's actual output in period k (1-based): its seasonal mean times the period's noise."""
        return float(self.expected_output_kwh(start)[k - 1] * self.noise[k - 1])

    def units_offered(self, lot: int) -> int:
        return self.project.tokens // lot * lot

    def unit_price_hkd(self, yield_: float, start: datetime.date | None) -> float:
        """Present value per token of the expected payments, discounted at `yield_`."""
        return float(revenue_share_value(yield_, self.expected_flows_hkd(start), self.frequency, self.programme.tenor_years))

    def value_path(self, yields: np.ndarray, remaining_years: np.ndarray, clearing_yield: float,
                   start: datetime.date) -> np.ndarray:
        """Present value per token of the remaining expected payments at the market's discount rate."""
        return revenue_share_value(yields, self.expected_flows_hkd(start), self.frequency, remaining_years)

    def payment_per_unit_hkd(self, k: int, n: int, clearing_yield: float, start: datetime.date) -> float:
        """Period k's output times the tariff, per token; nothing is repaid at the end."""
        return self.output_kwh(k, start) * self.project.tariff_hkd_per_kwh / self.project.tokens


def issue_terms(programme: ProgrammeSpec, issue_name: str, seed: int) -> BondTerms | RevenueTerms:
    """The terms of one issue of `programme` (its own random streams come from `seed` and its name)."""
    if programme.revenue is None:
        return BondTerms(programme)
    periods = round(programme.tenor_years * programme.coupon_frequency_per_year)
    return RevenueTerms(programme, stream(seed, f"generation:{issue_name}").standard_normal(periods))


def offered_value_hkd(programme: ProgrammeSpec) -> float:
    """Value one issue offers, HKD, before the book is built (to weigh costs and grants)."""
    if programme.revenue is None:
        return programme.size_hkd
    terms = RevenueTerms(programme, np.zeros(round(programme.tenor_years * programme.coupon_frequency_per_year)))
    offer = programme.yield_process.initial_yield + programme.new_issue_premium_bps / 10_000.0
    return terms.project.tokens * terms.unit_price_hkd(offer, None)
