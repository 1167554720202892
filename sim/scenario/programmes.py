"""Issuers in a scenario: issuance programmes (bonds, revenue tokens) and their costs by form."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.base import FORMS, Form, Name, NonNegativeBps, Rate, Strict
from sim.scenario.instruments import YieldProcess
from sim.scenario.venues import ListingParams


class FormCosts(Strict):
    """An issuer's costs for one form of issue."""

    fixed_cost_hkd: float = Field(
        0.0, ge=0, lt=1e10,
        description="Arranger, legal, audit, rating, listing or CMU lodging and DLT platform fees, per issue, HKD: "
        "the Digital Bond Grant Scheme's eligible categories.",
    )
    proportional_cost_bps: NonNegativeBps = Field(
        0.0, description="Underwriting and distribution, bps of size (not eligible for grants)."
    )
    servicing_cost_hkd_per_payment: float = Field(0.0, ge=0, lt=1e9, description="Cost of each coupon or principal payment, HKD.")
    settlement_days: int = Field(5, ge=0, le=30, description="Business days from allocation to settlement (primary market).")
    payment_lag_days: int = Field(0, ge=0, le=30, description="Business days from a payment date until holders are paid.")
    min_denomination_units: int = Field(1, gt=0, le=10**7, description="Smallest allocation, units of HK$100 face.")
    allocation: Literal["pro_rata", "tender"] = Field(
        "pro_rata",
        description="How the book is allocated: `pro_rata` (a syndicated book: every order at or below the clearing "
        "yield scaled back alike, so investors inflate their orders) or `tender` (an HKMA-style institutional tender: "
        "the lowest yields filled in full, only the marginal yield scaled back, so no one inflates; one clearing "
        "yield for all).",
    )


class Generation(Strict):
    """Electricity output of a renewable-energy project: a seasonal mean with noise each period."""

    capacity_kw: float = Field(1_000.0, gt=0, lt=1e8, description="Installed capacity, kW (peak).")
    capacity_factor: float = Field(0.12, gt=0, le=1.0, description="Mean output as a share of capacity over the year.")
    seasonal_amplitude: float = Field(
        0.25, ge=0.0, lt=1.0, description="Seasonal swing of the mean output, fraction (0.25: +-25% around the mean)."
    )
    peak_month: int = Field(8, ge=1, le=12, description="Month of highest mean output (1 = January).")
    noise_sd: float = Field(0.15, ge=0.0, le=2.0, description="Log-standard deviation of a period's output around its mean.")


class RevenueProject(Strict):
    """A renewable-energy project whose revenue from selling its output is paid out to token holders."""

    generation: Generation = Field(default_factory=Generation, description="The project's output.")
    tariff_hkd_per_kwh: float = Field(3.0, gt=0, lt=100.0, description="Price paid per kWh exported (e.g. a feed-in tariff), HKD.")
    tokens: int = Field(100_000, gt=0, le=10**10, description="Tokens the revenue is shared among; all are offered in each issue.")


class Programme(Strict):
    """A series of issues, of bonds or of revenue tokens: one-off dates, or a regular rule."""

    form: Literal["conventional", "tokenized", "cheaper"] = Field(
        description="Form of every issue, or `cheaper`: the form with the lower cost after grants."
    )
    issue_days: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list, description="Business days on which one-off issues are announced."
    )
    every_days: int | None = Field(None, gt=0, le=10_000, description="Regular rule: announce an issue every N business days.")
    first_day: int = Field(0, ge=0, description="Regular rule: day of the first announcement.")
    count: int | None = Field(None, gt=0, le=1000, description="Regular rule: number of issues (null: until the horizon).")
    size_hkd: float | None = Field(
        None, gt=0, lt=1e13, description="Bonds: face value offered per issue, HKD (revenue tokens offer `revenue.tokens`)."
    )
    revenue: RevenueProject | None = Field(
        None, description="Issue revenue tokens of this project instead of bonds (each issue: one project)."
    )
    tenor_years: float = Field(gt=0, le=50, description="Years from settlement to maturity (the last payment).")
    coupon_frequency_per_year: Literal[1, 2, 4, 12] = Field(2, description="Coupons or revenue distributions a year.")
    currency: Literal["HKD"] = Field("HKD", description="Currency of the issues (HKD only for now).")
    bookbuilding_days: int = Field(2, ge=0, le=60, description="Business days from announcement to the close of the book.")
    new_issue_premium_bps: NonNegativeBps = Field(
        2.0, description="Yield (revenue tokens: discount rate) offered over the market's when the book opens, bps."
    )
    market_maker_share: Rate = Field(0.1, description="Share of each issue allocated first to the secondary-market maker or dealer.")
    retail_priority_share: Rate = Field(0.0, description="Share of each issue allocated first to retail orders.")
    yield_process: YieldProcess = Field(
        default_factory=YieldProcess, description="Market yield at this tenor (revenue tokens: the rate their flows are discounted at)."
    )
    venue: dict[Form, Name] = Field(description="Venue listing the issues, by form.")
    listing: ListingParams = Field(default_factory=ListingParams, description="Liquidity provider of each issue on that venue.")
    costs: dict[Form, FormCosts] = Field(
        default_factory=lambda: {"conventional": FormCosts(), "tokenized": FormCosts(settlement_days=1)},
        description="Issuer's costs and settlement terms by form.",
    )

    @model_validator(mode="after")
    def _one_rule(self) -> Programme:
        if bool(self.issue_days) == (self.every_days is not None):
            raise ValueError("give either issue_days (one-off issues) or every_days (a regular rule), not both or neither")
        if (self.size_hkd is None) == (self.revenue is None):
            raise ValueError("give either size_hkd (a bond programme) or revenue (a revenue-token programme), not both or neither")
        for form in self.forms():
            if form not in self.venue:
                raise ValueError(f"venue: name the venue that lists {form} issues")
            if form not in self.costs:
                raise ValueError(f"costs: give the costs of {form} issues")
        return self

    @property
    def instrument_type(self) -> str:
        """What the issues are: `bond` or `revenue_token`."""
        return "bond" if self.revenue is None else "revenue_token"

    def forms(self) -> tuple[str, ...]:
        """The forms an issue of this programme may take."""
        return FORMS if self.form == "cheaper" else (self.form,)


class Issuer(Strict):
    """An issuer: the government, a corporate, or a project company issuing revenue tokens."""

    kind: Literal["government", "market"] = Field(
        "market",
        description="`government` (the HKSAR Government: a grant of its own scheme would be paid to itself) or "
        "`market` (a bank, a corporate, a quasi-government body or a project company).",
    )
    initial_cash_hkd: float = Field(1e11, ge=0, lt=1e14, description="Cash held at the start, HKD.")
    affiliated_platforms: list[Name] = Field(default_factory=list, description="Venues affiliated with the issuer (no grant).")
    programmes: dict[Name, Programme] = Field(default_factory=dict, description="Issuance programmes by name.")
