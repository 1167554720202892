"""The scenario schema: what a scenario file may say, with units, ranges and defaults.

Every key carries its unit in its name (`_hkd`, `_bps`, `_days`, `_per_day`, ...), every
default that stands for a real-world quantity is sourced in `docs/calibration.md` (or marked
there as an assumption), and every model forbids unknown keys so that a typo is an error, not a
silently ignored setting. Models are frozen: a validated scenario is a value, not a state.
`docs/scenario-reference.md` is generated from this module (`tokensim reference`).
"""

from __future__ import annotations

import datetime
import difflib
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator

Form = Literal["conventional", "tokenized"]
FORMS: tuple[Form, ...] = ("conventional", "tokenized")

InstrumentType = Literal["etf", "bond"]
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]
NonNegativeBps = Annotated[float, Field(ge=0.0, lt=10_000.0)]
Hour = Annotated[float, Field(ge=0.0, le=24.0)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")]


class Strict(BaseModel):
    """Base for every scenario section: unknown keys are errors and values are immutable.

    Numbers and switches are taken only as YAML writes them: pydantic alone would read
    `"5"` as 5 or `yes`-as-text and `1` as true, which would hide a user's mistake.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_silent_coercion(cls, value: Any, info: ValidationInfo) -> Any:
        kinds = _scalar_kinds(cls.model_fields[info.field_name].annotation)
        if value is None or not kinds:
            return value
        if bool in kinds and not isinstance(value, bool):
            raise ValueError("expected true/false")
        if kinds & {int, float} and isinstance(value, (str, bool)):
            raise ValueError("expected a number" if float in kinds else "expected an integer")
        return value


def _scalar_kinds(annotation: Any) -> set[type]:
    """The plain scalar types (bool, int, float) a field accepts, looking through Optional."""
    if get_origin(annotation) in (Union, types.UnionType):
        return set().union(*(_scalar_kinds(arg) for arg in get_args(annotation)))
    return {annotation} & {bool, int, float}


def _check_window(start: float, end: float, what: str) -> None:
    if not start < end:
        raise ValueError(f"{what} must start before it ends (got {start} to {end})")


class Calendar(Strict):
    """Business days: the run's clock skips weekends and the listed holidays."""

    start_date: datetime.date = Field(
        datetime.date(2026, 1, 5), description="First day of the run (day 0 is the first business day on or after it)."
    )
    holidays: list[datetime.date] = Field(default_factory=list, description="Public holidays (YYYY-MM-DD).")


class GbmProcess(Strict):
    """Geometric random walk of an ETF's underlying basket, per unit of the ETF."""

    initial_value_hkd: float = Field(25.0, gt=0, description="Basket value per ETF unit on day 0, HKD.")
    drift_per_year: float = Field(0.0, ge=-1.0, le=1.0, description="Annual drift of the log value.")
    volatility_per_year: float = Field(0.20, ge=0.0, lt=5.0, description="Annualised volatility of the log value.")


class YieldProcess(Strict):
    """Mean-reverting (Vasicek) yield to maturity of a bond."""

    initial_yield: float = Field(0.025, gt=-0.05, lt=0.5, description="Yield on day 0 (0.025 = 2.5%).")
    long_run_yield: float = Field(0.025, gt=-0.05, lt=0.5, description="Level the yield reverts to.")
    reversion_per_year: float = Field(0.5, ge=0.0, le=50.0, description="Speed of mean reversion, per year.")
    volatility_per_year: float = Field(
        0.008, ge=0.0, lt=0.2, description="Absolute yield volatility per year (0.008 = 80 bp)."
    )


class AuthorisedParticipant(Strict):
    """Creates and redeems ETF units against the basket when the price strays from NAV."""

    creation_fee_hkd: float = Field(
        1_000.0, ge=0, lt=1e7, description="Fee per creation or redemption order, HKD."
    )
    basket_cost_bps: NonNegativeBps = Field(3.0, description="Cost of trading the basket, bps of value.")
    check_minutes: float = Field(15.0, gt=0, le=1440, description="Minutes between arbitrage checks.")
    initial_units: dict[Form, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: {"conventional": 500_000, "tokenized": 200_000},
        description="Units held at the start, by form.",
    )
    initial_cash_hkd: float = Field(100_000_000.0, ge=0, lt=1e13, description="Cash held at the start, HKD.")


class Etf(Strict):
    """An exchange-traded fund whose units may exist in conventional and tokenized form."""

    type: Literal["etf"] = Field(description="`etf`.")
    name: str = Field("HK equity tracker ETF", min_length=1, description="Display name.")
    underlying: GbmProcess = Field(default_factory=GbmProcess, description="Value of the underlying basket.")
    management_fee_bps_per_year: NonNegativeBps = Field(
        10.0, description="Management fee, bps a year, accrued daily into the NAV."
    )
    creation_unit_units: int = Field(100_000, gt=0, le=10**9, description="Units per creation or redemption.")
    tick_size_hkd: float = Field(0.01, gt=0, le=10.0, description="Price increment, HKD; a whole number of cents.")
    authorised_participant: AuthorisedParticipant = Field(
        default_factory=AuthorisedParticipant, description="The ETF's authorised participant."
    )

    _check_tick = model_validator(mode="after")(lambda self: _tick_in_cents(self))


class Bond(Strict):
    """A bond already outstanding at the start; one unit is HK$100 of face, trading at its clean price.

    Its coupons fall outside the run's cash flows (new issues from `issuers` pay theirs).
    """

    type: Literal["bond"] = Field(description="`bond`.")
    name: str = Field("HKSAR government green bond", min_length=1, description="Display name.")
    coupon_rate: float = Field(ge=0.0, lt=0.5, description="Annual coupon rate (0.025 = 2.5%).")
    coupon_frequency_per_year: Literal[1, 2, 4, 12] = Field(2, description="Coupons a year.")
    tenor_years: float = Field(gt=0, le=50, description="Years from issue to maturity.")
    issue_date: datetime.date = Field(description="Issue date (YYYY-MM-DD).")
    min_denomination_units: int = Field(
        1, gt=0, le=10**7, description="Smallest tradable amount, units of HK$100 face."
    )
    tick_size_hkd: float = Field(0.01, gt=0, le=10.0, description="Price increment per HK$100 face, HKD.")
    yield_process: YieldProcess = Field(default_factory=YieldProcess, description="The bond's yield.")

    _check_tick = model_validator(mode="after")(lambda self: _tick_in_cents(self))


def _instrument_type(value: Any) -> str | None:
    return value.get("type") if isinstance(value, dict) else getattr(value, "type", None)


Instrument = Annotated[
    Annotated[Etf, Tag("etf")] | Annotated[Bond, Tag("bond")],
    Discriminator(
        _instrument_type,
        custom_error_type="instrument_type",
        custom_error_message="needs `type: etf` or `type: bond`",
    ),
]


def _tick_in_cents(model: Etf | Bond) -> Etf | Bond:
    cents = model.tick_size_hkd * 100
    if abs(cents - round(cents)) > 1e-9:
        raise ValueError(f"tick_size_hkd must be a whole number of cents (got {model.tick_size_hkd})")
    return model


class Correlation(Strict):
    """Correlation of two instruments' value shocks (ETF basket return, bond yield change)."""

    between: tuple[Name, Name] = Field(description="The two instruments, by name.")
    coefficient: float = Field(ge=-1.0, le=1.0, description="Correlation coefficient.")


class Fees(Strict):
    """Per-side charges on a venue, each paid by buyer and seller alike to its collector."""

    trading_fee_bps: NonNegativeBps = Field(0.0, description="Venue trading fee per side, bps.")
    sfc_levy_bps: NonNegativeBps = Field(0.0, description="SFC transaction levy per side, bps.")
    afrc_levy_bps: NonNegativeBps = Field(0.0, description="AFRC transaction levy per side, bps.")
    settlement_fee_bps: NonNegativeBps = Field(
        0.0, description="Settlement (clearing house) fee per side, bps."
    )
    network_fee_hkd_per_transfer: float = Field(
        0.0, ge=0, lt=1e6, description="Ledger network fee per token transfer, HKD, paid by the seller."
    )


class MarketMaker(Strict):
    """A quoting market maker on an order book: a ladder around fair value, capped by inventory."""

    base_half_spread_bps: NonNegativeBps = Field(
        4.0, description="Half-spread for inventory risk, on top of the maker's own per-side costs, bps."
    )
    levels: int = Field(3, ge=1, le=50, description="Price levels quoted on each side.")
    level_step_bps: NonNegativeBps = Field(5.0, description="Distance between quoted levels, bps.")
    quote_size_units: int = Field(20_000, gt=0, le=10**9, description="Units quoted at each level.")
    inventory_limit_units: int = Field(
        1_000_000, gt=0, le=10**10, description="Largest position away from the starting inventory, units."
    )
    skew_bps_at_limit: NonNegativeBps = Field(
        15.0, description="Shift of the quote mid against the inventory when at the limit, bps."
    )
    inventory_spread_bps_at_limit: NonNegativeBps = Field(
        5.0, description="Extra half-spread for inventory risk, growing linearly to this at the limit, bps."
    )
    requote_minutes: float = Field(
        5.0, gt=0, le=1440, description="Minutes between scheduled requotes while the venue is open."
    )
    initial_units: int = Field(5_000_000, ge=0, le=10**11, description="Units held at the start.")
    initial_cash_hkd: float = Field(300_000_000.0, ge=0, lt=1e13, description="Cash held at the start, HKD.")


class Dealer(Strict):
    """An OTC dealer answering requests for quote: spread widens with size and leans with inventory."""

    base_half_spread_bps: NonNegativeBps = Field(8.0, description="Half-spread on a small request, bps.")
    size_impact_bps_per_million_hkd: NonNegativeBps = Field(
        0.5, description="Extra half-spread per HK$1m of request size, bps."
    )
    skew_bps_at_limit: NonNegativeBps = Field(15.0, description="Quote shift against inventory at the limit, bps.")
    inventory_limit_units: int = Field(
        2_000_000, gt=0, le=10**10, description="Largest position away from the starting inventory, units."
    )
    initial_units: int = Field(5_000_000, ge=0, le=10**11, description="Units held at the start.")
    initial_cash_hkd: float = Field(1_000_000_000.0, ge=0, lt=1e13, description="Cash held at the start, HKD.")


class Listing(Strict):
    """One instrument on one venue, with its liquidity provider."""

    market_maker: MarketMaker = Field(
        default_factory=MarketMaker, description="Market maker (exchange and platform venues)."
    )
    dealer: Dealer = Field(default_factory=Dealer, description="Dealer (dealer venues).")


class Venue(Strict):
    """A trading venue: an order book or a dealer market, with hours, fees and a settlement cycle."""

    kind: Literal["exchange", "platform", "dealer"] = Field(
        description="`exchange` (stock exchange), `platform` (licensed digital-asset platform) or `dealer` (OTC)."
    )
    form: Form = Field(description="Which form trades here: `conventional` or `tokenized`.")
    listings: dict[Name, Listing] = Field(
        min_length=1, description="Instruments traded here, by instrument name, with their liquidity provider."
    )
    sessions_hours: list[tuple[Hour, Hour]] = Field(
        default_factory=lambda: [(9.5, 12.0), (13.0, 16.0)],
        min_length=1,
        description="Trading sessions as [open, close] in hours of the day; [[0, 24]] trades around the clock.",
    )
    settlement_cycle_days: int = Field(
        2, ge=0, le=30, description="Business days from trade to settlement; 0 settles atomically at the trade."
    )
    fail_probability_at_t2: float = Field(
        0.0, ge=0.0, le=0.5,
        description="Chance that a settlement attempt fails at a T+2 cycle (retried next business day); "
        "scaled to the venue's cycle by `settlement.fail_cycle_elasticity`, and 0 for atomic settlement.",
    )
    central_counterparty: bool = Field(
        False, description="Does a central counterparty novate, net and margin this venue's trades?"
    )
    fees: Fees = Field(default_factory=Fees, description="Per-side fees and levies.")

    @model_validator(mode="after")
    def _check(self) -> Venue:
        previous_close = 0.0
        for open_hour, close_hour in self.sessions_hours:
            _check_window(open_hour, close_hour, "a trading session")
            if open_hour < previous_close:
                raise ValueError("trading sessions must be in order and must not overlap")
            previous_close = close_hour
        provider = "dealer" if self.kind == "dealer" else "market_maker"
        for name, listing in self.listings.items():
            wrong = ({"dealer", "market_maker"} - {provider}) & listing.model_fields_set
            if wrong:
                raise ValueError(f"listing {name}: a {self.kind} venue has a {provider}, not a {wrong.pop()}")
        return self


class Subscription(Strict):
    """How a group subscribes to new bond issues during bookbuilding."""

    orders_per_issue: float = Field(0.0, ge=0, le=100_000, description="Mean number of orders per issue it can reach.")
    order_size_median_hkd: float = Field(1_000_000.0, gt=0, lt=1e12, description="Median order size, HKD (lognormal).")
    order_size_sigma: float = Field(1.0, ge=0, le=5, description="Log-standard deviation of order size.")
    reservation_spread_bps_mean: float = Field(
        0.0, ge=-500, le=500, description="Mean of the lowest yield an order accepts, over the market yield, bps."
    )
    reservation_spread_bps_sd: float = Field(5.0, ge=0, le=500, description="Its standard deviation, bps.")


class Adoption(Strict):
    """Bass diffusion of a group's onboarding to tokenized channels."""

    initial_share: float = Field(1.0, ge=0.0, le=1.0, description="Share onboarded on day 0.")
    innovation_per_year: float = Field(0.0, ge=0.0, le=10.0, description="Bass innovation coefficient p, per year.")
    imitation_per_year: float = Field(0.0, ge=0.0, le=10.0, description="Bass imitation coefficient q, per year.")


class InvestorGroup(Strict):
    """Investors alike in access, needs and cost sensitivity; their needs form one Poisson stream."""

    accounts: int = Field(gt=0, le=10_000_000, description="Number of investor accounts in the group.")
    needs_per_day: float = Field(gt=0, le=10_000_000, description="Trading needs per business day, whole group.")
    active_hours: tuple[Hour, Hour] = Field(
        (9.0, 18.0), description="Hours of the day in which the group's needs arrive, [start, end]."
    )
    interest: dict[Name, Annotated[float, Field(gt=0)]] = Field(
        min_length=1, description="Instruments the needs concern, by name, with relative weights."
    )
    trade_size_median_hkd: float = Field(gt=0, lt=1e11, description="Median trade size, HKD (lognormal).")
    trade_size_sigma: float = Field(1.0, ge=0, le=5, description="Log-standard deviation of trade size.")
    gain_mean_bps: float = Field(
        gt=0,
        lt=10_000,
        description="Mean private gain of a need, bps of trade value (exponential); sets cost sensitivity.",
    )
    channel_logit_scale_bps: float = Field(
        2.0, gt=0, lt=10_000, description="Logit scale of channel choice on net gain, bps; small = picky."
    )
    settlement_delay_cost_bps_per_day: NonNegativeBps = Field(
        0.5, description="Cost the group puts on each business day a trade waits to settle, bps."
    )
    tokenized_access: bool = Field(description="May the group trade tokenized units?")
    conventional_access: bool = Field(True, description="May the group trade conventional units?")
    venues: list[Name] | None = Field(
        None, description="Venues the group may use, by name (null: every venue its access allows)."
    )
    short_selling: bool = Field(
        False, description="May the group sell units it does not hold (its holdings may then go negative)?"
    )
    adoption: Adoption = Field(default_factory=Adoption, description="Onboarding to tokenized channels over time.")
    subscription: Subscription = Field(default_factory=Subscription, description="Orders for new bond issues.")
    holdings: dict[Name, dict[Form, Annotated[int, Field(ge=0)]]] = Field(
        default_factory=dict, description="Units held per account at the start: instrument -> form -> units."
    )
    initial_cash_hkd: float = Field(1_000_000.0, ge=0, lt=1e13, description="Cash held per account at the start, HKD.")

    @model_validator(mode="after")
    def _hours_ordered(self) -> InvestorGroup:
        _check_window(*self.active_hours, "active_hours")
        return self


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


class GrantLever(Strict):
    """A grant for digital (tokenized) bond issues: the Digital Bond Grant Scheme's shape by default."""

    enabled: bool = Field(False, description="Is the grant scheme in force at all?")
    share_of_eligible_cost: Rate = Field(0.5, description="Share of eligible costs paid.")
    full_grant_cap_hkd: float = Field(2_500_000.0, ge=0, lt=1e10, description="Cap of a full grant, HKD.")
    half_grant_cap_hkd: float = Field(1_250_000.0, ge=0, lt=1e10, description="Cap of a half grant, HKD.")
    full_grant_min_size_hkd: float = Field(1e9, ge=0, lt=1e13, description="Smallest issue size for a full grant, HKD.")
    min_unaffiliated_investors: int = Field(5, ge=0, le=10_000, description="Distinct investors needed for a full grant.")
    max_grants_per_issuer: int = Field(2, ge=0, le=1000, description="Grants one issuer may receive.")
    budget_hkd: float = Field(1e9, ge=0, lt=1e13, description="Money set aside to pay grants, HKD.")
    from_day: int = Field(0, ge=0, description="First business day of the scheme.")
    to_day: int | None = Field(None, gt=0, description="First business day it no longer applies (null: to the end).")

    def open_on(self, day: int) -> bool:
        return self.enabled and _in_window(day, self.from_day, self.to_day)


class DutyLever(Strict):
    """A stamp-duty rate in force from `from_day` until `to_day`; `otherwise_rate_per_side` outside."""

    rate_per_side: Rate = Field(0.0, description="Duty paid by buyer and by seller, fraction of value.")
    from_day: int = Field(0, ge=0, description="First business day the rate is in force.")
    to_day: int | None = Field(None, gt=0, description="First business day it no longer is (null: to the end).")
    otherwise_rate_per_side: Rate = Field(0.0, description="Rate outside [from_day, to_day).")

    @model_validator(mode="after")
    def _window_ordered(self) -> DutyLever:
        if self.to_day is not None:
            _check_window(self.from_day, self.to_day, "the lever's window [from_day, to_day)")
        return self

    def rate_on(self, day: int) -> float:
        """The rate in force on business day `day`."""
        return self.rate_per_side if _in_window(day, self.from_day, self.to_day) else self.otherwise_rate_per_side


def _in_window(day: int, from_day: int, to_day: int | None) -> bool:
    return day >= from_day and (to_day is None or day < to_day)


class StampDuty(Strict):
    """Stamp duty on transfers, by instrument type and form."""

    conventional_etf: DutyLever = Field(
        default_factory=DutyLever, description="Duty on conventional ETF unit transfers (exempt in HK since 2015)."
    )
    tokenized_etf: DutyLever = Field(
        default_factory=DutyLever, description="Duty on tokenized ETF unit transfers (exempt in HK; IRD FAQ)."
    )
    conventional_bond: DutyLever = Field(
        default_factory=DutyLever, description="Duty on conventional bond transfers (none in HK)."
    )
    tokenized_bond: DutyLever = Field(
        default_factory=DutyLever, description="Duty on tokenized bond transfers (none in HK)."
    )
    market_maker_exempt: bool = Field(
        True, description="Are market makers', dealers' and authorised participants' own trades exempt?"
    )

    def lever(self, instrument_type: str, form: str) -> DutyLever:
        return getattr(self, f"{form}_{instrument_type}")


class SwitchLever(Strict):
    """A policy switched on from `from_day` until `to_day`."""

    enabled: bool = Field(False, description="Is the policy on at all?")
    from_day: int = Field(0, ge=0, description="First business day it is on.")
    to_day: int | None = Field(None, gt=0, description="First business day it is off again (null: to the end).")

    def on(self, day: int) -> bool:
        return self.enabled and _in_window(day, self.from_day, self.to_day)


class RebateLever(Strict):
    """A share of venue fees rebated to market makers and dealers, in force in a window."""

    share: float = Field(0.0, ge=0.0, le=1.0, description="Share of their per-side fees waived.")
    from_day: int = Field(0, ge=0, description="First business day it applies.")
    to_day: int | None = Field(None, gt=0, description="First business day it no longer does (null: to the end).")

    def share_on(self, day: int) -> float:
        return self.share if _in_window(day, self.from_day, self.to_day) else 0.0


class Policy(Strict):
    """The policy levers in force."""

    stamp_duty: StampDuty = Field(default_factory=StampDuty, description="Stamp duty levers.")
    tokenized_cash: SwitchLever = Field(
        default_factory=SwitchLever,
        description="Settlement in tokenized cash (licensed stablecoin, tokenized deposits): tokenized venues settle atomically at T+0 and cannot fail.",
    )
    market_maker_fee_rebate: RebateLever = Field(
        default_factory=RebateLever, description="Fee rebate for market makers and dealers."
    )
    issuance_grant: GrantLever = Field(default_factory=GrantLever, description="Grants for tokenized bond issues.")


class SettlementTerms(Strict):
    """How settlement's risks and liquidity are measured: CCP margin, funding cost, fails by cycle."""

    margin_confidence: float = Field(0.99, gt=0.5, lt=1.0, description="One-sided confidence of the CCP's initial margin.")
    margin_lookback_days: int = Field(60, ge=2, le=1000, description="Business days of returns behind the margin volatility.")
    funding_rate_per_year: float = Field(0.04, ge=0.0, lt=1.0, description="Cost of the liquidity settlement ties up, per year.")
    prefunding_lead_days: float = Field(
        0.0, ge=0.0, le=10.0, description="How long before its business day an atomic trade's cash must be on the ledger, days."
    )
    fail_cycle_elasticity: float = Field(
        0.081, ge=-5.0, le=5.0,
        description="Elasticity of the fail rate to the cycle: p(L) = p(T+2) x (L/2)^e; 0.081 joins the US 2.01% at T+2 and 1.90% at T+1.",
    )


class ExperimentPlan(Strict):
    """What `tokensim sweep` does with this file when no --param is given."""

    sweep: dict[str, list[bool | int | float | str]] = Field(
        default_factory=dict,
        description="Scenario keys (dotted paths) and the values to run each at; the grid of all combinations.",
    )
    reps: int = Field(1, ge=1, le=10_000, description="Replications per grid point.")

    @model_validator(mode="after")
    def _non_empty(self) -> ExperimentPlan:
        for key, values in self.sweep.items():
            if not values:
                raise ValueError(f"sweep.{key}: give at least one value")
        return self


class Scenario(Strict):
    """A complete, validated scenario: what is modelled, not how a run is executed."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="Short name; becomes the output folder name (letters, digits, `_`, `-`, `.`).",
    )
    description: str = Field("", max_length=2000, description="One or two sentences for the report.")
    seed: int = Field(1, ge=0, le=999_999_999_999, description="Seed of the run's random streams.")
    horizon_days: int = Field(250, gt=0, le=10_000, description="Business days simulated.")
    calendar: Calendar = Field(default_factory=Calendar, description="Business-day calendar.")
    value_steps_per_day: int = Field(
        96, ge=1, le=1440, description="Updates of fair values per business day (96 = every 15 minutes)."
    )
    instruments: dict[Name, Instrument] = Field(min_length=1, description="Instruments by name.")
    correlations: list[Correlation] = Field(
        default_factory=list, description="Correlations between instruments' value shocks."
    )
    venues: dict[Name, Venue] = Field(min_length=1, description="Venues by name.")
    investors: dict[Name, InvestorGroup] = Field(min_length=1, description="Investor groups by name.")
    issuers: dict[Name, Issuer] = Field(default_factory=dict, description="Bond issuers and their programmes.")
    policy: Policy = Field(default_factory=Policy, description="Policy levers.")
    settlement: SettlementTerms = Field(default_factory=SettlementTerms, description="Settlement risk and liquidity terms.")
    experiment: ExperimentPlan | None = Field(None, description="A sweep this scenario is meant for (`tokensim sweep FILE`).")

    def programmes(self) -> dict[str, Programme]:
        """Every issuance programme by name (names are unique across issuers)."""
        return {name: p for issuer in self.issuers.values() for name, p in issuer.programmes.items()}

    @model_validator(mode="after")
    def _names_resolve(self) -> Scenario:
        programmes = [name for issuer in self.issuers.values() for name in issuer.programmes]
        clash = sorted({n for n in programmes if programmes.count(n) > 1} | (set(programmes) & set(self.instruments)))
        if clash:
            raise ValueError(f"programme name '{clash[0]}' is used twice (programmes and instruments need distinct names)")
        for programme_name, programme in self.programmes().items():
            for venue_name in programme.venue.values():
                if venue_name not in self.venues:
                    raise ValueError(f"programme {programme_name}: unknown venue '{venue_name}'")
            for form, venue_name in programme.venue.items():
                if self.venues[venue_name].form != form:
                    raise ValueError(f"programme {programme_name}: venue '{venue_name}' does not trade the {form} form")
        known = set(self.instruments)
        for venue_name, venue in self.venues.items():
            _known_names(venue.listings, known, f"venues.{venue_name}.listings")
        for group_name, group in self.investors.items():
            _known_names(group.interest, known | set(programmes), f"investors.{group_name}.interest")
            _known_names(group.holdings, known, f"investors.{group_name}.holdings")
            for venue_name in group.venues or ():
                if venue_name not in self.venues:
                    raise ValueError(f"investors.{group_name}.venues: unknown venue '{venue_name}'")
        for correlation in self.correlations:
            _known_names(correlation.between, known, "correlations")
            if correlation.between[0] == correlation.between[1]:
                raise ValueError(f"correlations: {correlation.between[0]} is paired with itself")
        _check_correlations_possible(self.correlations, list(self.instruments))
        listed = {name for venue in self.venues.values() for name in venue.listings}
        unlisted = sorted(known - listed)
        if unlisted:
            raise ValueError(f"instrument {unlisted[0]} is listed on no venue; add it to a venue's listings")
        return self


def correlation_matrix(correlations: list[Correlation], names: list[str]) -> np.ndarray:
    """The instruments' correlation matrix, in the order of `names` (identity where none is given)."""
    matrix = np.eye(len(names))
    for correlation in correlations:
        i, j = (names.index(name) for name in correlation.between)
        matrix[i, j] = matrix[j, i] = correlation.coefficient
    return matrix


def _check_correlations_possible(correlations: list[Correlation], names: list[str]) -> None:
    """The pairwise correlations must form a positive semi-definite matrix."""
    if correlations and np.linalg.eigvalsh(correlation_matrix(correlations, names)).min() < -1e-10:
        raise ValueError("correlations: these coefficients cannot hold together (the matrix is not positive semi-definite)")


def _known_names(names, known: set[str], where: str) -> None:
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (instruments: {', '.join(sorted(known))})"
            raise ValueError(f"{where}: unknown instrument '{name}'{hint}")
