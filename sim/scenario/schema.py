"""The scenario schema: what a scenario file may say, with units, ranges and defaults.

Every key carries its unit in its name (`_hkd`, `_bps`, `_days`, `_per_day`, ...), every
default that stands for a real-world quantity is sourced in `docs/calibration.md` (or marked
there as an assumption), and every model forbids unknown keys so that a typo is an error, not a
silently ignored setting. Models are frozen: a validated scenario is a value, not a state.
`docs/scenario-reference.md` is generated from this module (`tokensim reference`).
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

Form = Literal["conventional", "tokenized"]
FORMS: tuple[Form, ...] = ("conventional", "tokenized")

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


class NavProcess(Strict):
    """Geometric random walk of the ETF's net asset value (its underlying basket)."""

    initial_nav_hkd: float = Field(25.0, gt=0, description="NAV per unit on day 0, HKD.")
    drift_per_year: float = Field(0.0, ge=-1.0, le=1.0, description="Annual drift of log NAV.")
    volatility_per_year: float = Field(
        0.20, ge=0.0, lt=5.0, description="Annualised volatility of log NAV."
    )
    steps_per_day: int = Field(
        96, ge=1, le=1440, description="NAV updates per business day (96 = every 15 minutes)."
    )


class Etf(Strict):
    """One exchange-traded fund, issued in a conventional and a tokenized unit class."""

    name: str = Field("HK equity tracker ETF", min_length=1, description="Display name.")
    nav: NavProcess = Field(default_factory=NavProcess, description="NAV process.")
    tick_size_hkd: float = Field(
        0.01, gt=0, le=10.0, description="Price increment, HKD; a whole number of cents."
    )

    @model_validator(mode="after")
    def _tick_in_cents(self) -> Etf:
        cents = self.tick_size_hkd * 100
        if abs(cents - round(cents)) > 1e-9:
            raise ValueError(f"tick_size_hkd must be a whole number of cents (got {self.tick_size_hkd})")
        return self


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
    """A quoting market maker: a ladder around NAV, skewed and capped by its inventory."""

    base_half_spread_bps: NonNegativeBps = Field(
        4.0, description="Half-spread earned on top of the maker's own per-side costs, bps."
    )
    levels: int = Field(3, ge=1, le=50, description="Price levels quoted on each side.")
    level_step_bps: NonNegativeBps = Field(5.0, description="Distance between quoted levels, bps.")
    quote_size_units: int = Field(20_000, gt=0, description="Units quoted at each level.")
    inventory_limit_units: int = Field(
        400_000, gt=0, description="Largest position away from the starting inventory, units."
    )
    skew_bps_at_limit: NonNegativeBps = Field(
        10.0, description="Shift of the quote mid against the inventory when at the limit, bps."
    )
    requote_minutes: float = Field(
        5.0, gt=0, le=1440, description="Minutes between scheduled requotes while the venue is open."
    )
    initial_units: int = Field(1_000_000, ge=0, description="Units held at the start.")
    initial_cash_hkd: float = Field(50_000_000.0, ge=0, description="Cash held at the start, HKD.")


class Venue(Strict):
    """A trading venue with its own order book, hours, fees and settlement cycle."""

    kind: Literal["exchange", "platform"] = Field(
        description="`exchange` (licensed stock exchange) or `platform` (licensed digital-asset platform)."
    )
    form: Form = Field(description="Which unit class trades here: `conventional` or `tokenized`.")
    sessions_hours: list[tuple[Hour, Hour]] = Field(
        default_factory=lambda: [(9.5, 12.0), (13.0, 16.0)],
        min_length=1,
        description="Trading sessions as [open, close] in hours of the day; [[0, 24]] trades around the clock.",
    )
    settlement_cycle_days: int = Field(
        2, ge=0, le=30, description="Business days from trade to settlement; 0 settles atomically at the trade."
    )
    fees: Fees = Field(default_factory=Fees, description="Per-side fees and levies.")
    market_maker: MarketMaker = Field(default_factory=MarketMaker, description="The venue's market maker.")

    @model_validator(mode="after")
    def _sessions_ordered(self) -> Venue:
        previous_close = 0.0
        for open_hour, close_hour in self.sessions_hours:
            _check_window(open_hour, close_hour, "a trading session")
            if open_hour < previous_close:
                raise ValueError("trading sessions must be in order and must not overlap")
            previous_close = close_hour
        return self


class InvestorGroup(Strict):
    """Investors alike in access, needs and cost sensitivity; their needs form one Poisson stream."""

    accounts: int = Field(gt=0, le=10_000_000, description="Number of investor accounts in the group.")
    needs_per_day: float = Field(gt=0, le=10_000_000, description="Trading needs per business day, whole group.")
    active_hours: tuple[Hour, Hour] = Field(
        (9.0, 18.0), description="Hours of the day in which the group's needs arrive, [start, end]."
    )
    trade_size_median_units: float = Field(gt=0, description="Median trade size, units (lognormal).")
    trade_size_sigma: float = Field(1.0, ge=0, le=5, description="Log-standard deviation of trade size.")
    gain_mean_bps: float = Field(
        gt=0,
        lt=10_000,
        description="Mean private gain of a need, bps of trade value (exponential); sets cost sensitivity.",
    )
    channel_logit_scale_bps: float = Field(
        2.0, gt=0, lt=10_000, description="Logit scale of channel choice on net gain, bps; small = picky."
    )
    tokenized_access: bool = Field(description="May the group trade tokenized units?")
    conventional_access: bool = Field(True, description="May the group trade conventional units?")
    initial_units: dict[Form, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: {"conventional": 0, "tokenized": 0},
        description="Units held per account at the start, by form.",
    )
    initial_cash_hkd: float = Field(1_000_000.0, ge=0, description="Cash held per account at the start, HKD.")

    @model_validator(mode="after")
    def _hours_ordered(self) -> InvestorGroup:
        _check_window(*self.active_hours, "active_hours")
        return self


class DutyLever(Strict):
    """A stamp-duty rate in force from `from_day` until `to_day`; `otherwise_rate_per_side` outside."""

    rate_per_side: Rate = Field(0.0, description="Duty paid by buyer and by seller, fraction of value.")
    from_day: int = Field(0, ge=0, description="First business day the rate is in force.")
    to_day: int | None = Field(None, gt=0, description="First business day it no longer is (none: to the end).")
    otherwise_rate_per_side: Rate = Field(0.0, description="Rate outside [from_day, to_day).")

    @model_validator(mode="after")
    def _window_ordered(self) -> DutyLever:
        if self.to_day is not None:
            _check_window(self.from_day, self.to_day, "the lever's window [from_day, to_day)")
        return self

    def rate_on(self, day: int) -> float:
        """The rate in force on business day `day`."""
        in_force = day >= self.from_day and (self.to_day is None or day < self.to_day)
        return self.rate_per_side if in_force else self.otherwise_rate_per_side


class StampDuty(Strict):
    """Stamp duty on transfers, by instrument type and form."""

    conventional_etf: DutyLever = Field(
        default_factory=DutyLever, description="Duty on conventional ETF unit transfers (exempt in HK since 2015)."
    )
    tokenized_etf: DutyLever = Field(
        default_factory=DutyLever, description="Duty on tokenized ETF unit transfers (exempt in HK; IRD FAQ)."
    )
    market_maker_exempt: bool = Field(True, description="Are market makers' own trades exempt?")


class Policy(Strict):
    """The policy levers in force."""

    stamp_duty: StampDuty = Field(default_factory=StampDuty, description="Stamp duty levers.")


class Scenario(Strict):
    """A complete, validated scenario: what is modelled, not how a run is executed."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="Short name; becomes the output folder name (letters, digits, `_`, `-`, `.`).",
    )
    description: str = Field("", max_length=2000, description="One or two sentences for the report.")
    seed: int = Field(1, ge=0, le=999_999_999_999, description="Seed of the run's random streams.")
    horizon_days: int = Field(250, gt=0, le=10_000, description="Business days simulated.")
    etf: Etf = Field(default_factory=Etf, description="The ETF.")
    venues: dict[Name, Venue] = Field(min_length=1, description="Venues by name.")
    investors: dict[Name, InvestorGroup] = Field(min_length=1, description="Investor groups by name.")
    policy: Policy = Field(default_factory=Policy, description="Policy levers.")
