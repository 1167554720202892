"""Issuers in a scenario: bond issuance programmes and their costs by form."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.base import FORMS, Form, Name, NonNegativeBps, Rate, Strict
from sim.scenario.instruments import YieldProcess
from sim.scenario.venues import Listing

class FormCosts(Strict):
    """An issuer's costs for one form of issue."""

    fixed_cost_hkd: float = Field(0.0, ge=0, lt=1e10, description="Legal, arranger, listing or platform onboarding, per issue, HKD.")
    proportional_cost_bps: NonNegativeBps = Field(0.0, description="Underwriting and distribution, bps of size.")
    servicing_cost_hkd_per_payment: float = Field(0.0, ge=0, lt=1e9, description="Cost of each coupon or principal payment, HKD.")
    settlement_days: int = Field(5, ge=0, le=30, description="Business days from allocation to settlement (primary market).")
    payment_lag_days: int = Field(0, ge=0, le=30, description="Business days from a payment date until holders are paid.")
    min_denomination_units: int = Field(1, gt=0, le=10**7, description="Smallest allocation, units of HK$100 face.")


class Programme(Strict):
    """A series of bond issues: one-off dates, or a regular rule."""

    form: Literal["conventional", "tokenized", "cheaper"] = Field(
        description="Form of every issue, or `cheaper`: the form with the lower cost after grants."
    )
    issue_days: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list, description="Business days on which one-off issues are announced."
    )
    every_days: int | None = Field(None, gt=0, le=10_000, description="Regular rule: announce an issue every N business days.")
    first_day: int = Field(0, ge=0, description="Regular rule: day of the first announcement.")
    count: int | None = Field(None, gt=0, le=1000, description="Regular rule: number of issues (null: until the horizon).")
    size_hkd: float = Field(gt=0, lt=1e13, description="Face value offered per issue, HKD.")
    tenor_years: float = Field(gt=0, le=50, description="Years from settlement to maturity.")
    coupon_frequency_per_year: Literal[1, 2, 4, 12] = Field(2, description="Coupons a year.")
    currency: Literal["HKD"] = Field("HKD", description="Currency of the issues (HKD only for now).")
    bookbuilding_days: int = Field(2, ge=0, le=60, description="Business days from announcement to the close of the book.")
    new_issue_premium_bps: NonNegativeBps = Field(2.0, description="Yield offered over the market yield when the book opens, bps.")
    market_maker_share: Rate = Field(0.1, description="Share of each issue allocated first to the secondary-market maker or dealer.")
    retail_priority_share: Rate = Field(0.0, description="Share of each issue allocated first to retail orders.")
    yield_process: YieldProcess = Field(default_factory=YieldProcess, description="Market yield at this tenor.")
    venue: dict[Form, Name] = Field(description="Venue listing the issues, by form.")
    listing: Listing = Field(default_factory=Listing, description="Liquidity provider of each issue on that venue.")
    costs: dict[Form, FormCosts] = Field(
        default_factory=lambda: {"conventional": FormCosts(), "tokenized": FormCosts(settlement_days=1)},
        description="Issuer's costs and settlement terms by form.",
    )

    @model_validator(mode="after")
    def _one_rule(self) -> Programme:
        if bool(self.issue_days) == (self.every_days is not None):
            raise ValueError("give either issue_days (one-off issues) or every_days (a regular rule), not both or neither")
        for form in self.forms():
            if form not in self.venue:
                raise ValueError(f"venue: name the venue that lists {form} issues")
            if form not in self.costs:
                raise ValueError(f"costs: give the costs of {form} issues")
        return self

    def forms(self) -> tuple[str, ...]:
        """The forms an issue of this programme may take."""
        return FORMS if self.form == "cheaper" else (self.form,)


class Issuer(Strict):
    """A bond issuer: the government or a corporate."""

    initial_cash_hkd: float = Field(1e11, ge=0, lt=1e14, description="Cash held at the start, HKD.")
    affiliated_platforms: list[Name] = Field(default_factory=list, description="Venues affiliated with the issuer (no grant).")
    programmes: dict[Name, Programme] = Field(default_factory=dict, description="Issuance programmes by name.")
