"""The policy levers: stamp duty, tokenized cash, fee rebates and issuance grants, each in a window of days.

Every lever is a `DatedLever`: one window, [from_day, to_day), validated once here for all of
them, and one `value_on(day)`; the engine hands the market each lever as a plain `Dated` value.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from sim.market.levers import Dated
from sim.scenario.base import FeeName, Rate, Strict, VenueKind, check_window


class DatedLever(Strict):
    """A lever in force from `from_day` until `to_day`; subclasses say what is in force inside and outside."""

    from_day: int = Field(0, ge=0, description="First business day the lever is in force.")
    to_day: int | None = Field(None, gt=0, description="First business day it no longer is (null: to the end).")

    @model_validator(mode="after")
    def _window_ordered(self) -> DatedLever:
        if self.to_day is not None:
            check_window(self.from_day, self.to_day, "the lever's window [from_day, to_day)")
        return self

    def inside(self) -> Any:
        """The value in force inside the window."""
        raise NotImplementedError

    def outside(self) -> Any:
        """The value in force outside it."""
        raise NotImplementedError

    def dated(self) -> Dated:
        """The lever as the market reads it."""
        return Dated(self.inside(), self.outside(), self.from_day, self.to_day)

    def value_on(self, day: int) -> Any:
        """The value in force on business day `day`."""
        return self.dated().value_on(day)


class GrantLever(DatedLever):
    """A grant for digital (tokenized) bond issues: the Digital Bond Grant Scheme's shape by default."""

    enabled: bool = Field(False, description="Is the grant scheme in force at all?")
    share_of_eligible_cost: Rate = Field(0.5, description="Share of eligible costs paid.")
    full_grant_cap_hkd: float = Field(2_500_000.0, ge=0, lt=1e10, description="Cap of a full grant, HKD.")
    half_grant_cap_hkd: float = Field(1_250_000.0, ge=0, lt=1e10, description="Cap of a half grant, HKD.")
    full_grant_min_size_hkd: float = Field(1e9, ge=0, lt=1e13, description="Smallest issue size for a full grant, HKD.")
    min_unaffiliated_investors: int = Field(5, ge=0, le=10_000, description="Distinct investors needed for a full grant.")
    max_grants_per_issuer: int = Field(2, ge=0, le=1000, description="Grants one issuer may receive.")
    budget_hkd: float = Field(1e9, ge=0, lt=1e13, description="Money set aside to pay grants, HKD.")
    eligible_issuers: list[Literal["government", "market"]] = Field(
        default_factory=lambda: ["market"],
        description="Kinds of issuer whose digital issues may get a grant (the scheme is for market issuers; "
        "adding `government` is a counterfactual: the government would pay itself).",
    )

    def inside(self) -> bool:
        return self.enabled

    def outside(self) -> bool:
        return False


class DutyLever(DatedLever):
    """A stamp-duty rate in force from `from_day` until `to_day`; `otherwise_rate_per_side` outside."""

    rate_per_side: Rate = Field(0.0, description="Duty paid by buyer and by seller, fraction of value.")
    otherwise_rate_per_side: Rate = Field(0.0, description="Rate outside [from_day, to_day).")

    def inside(self) -> float:
        return self.rate_per_side

    def outside(self) -> float:
        return self.otherwise_rate_per_side


class SwitchLever(DatedLever):
    """A policy switched on from `from_day` until `to_day`."""

    enabled: bool = Field(False, description="Is the policy on at all?")

    def inside(self) -> bool:
        return self.enabled

    def outside(self) -> bool:
        return False


class ReliefSwitch(SwitchLever):
    """A relief the law grants, in force unless switched off (switching it off is a counterfactual)."""

    enabled: bool = Field(True, description="Is the relief in force at all?")


class StampDuty(Strict):
    """Stamp duty by instrument type and form, as Hong Kong charges it by default, and its reliefs.

    Every payer class pays the rate of a type and form (an ordinary market maker pays duty like
    anyone else); reliefs are levers only where the law names them. Hong Kong stock pays 0.1% per
    side; ETF units (tokenized included), bonds and non-stock assets pay none.
    """

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
    conventional_commodity_token: DutyLever = Field(
        default_factory=DutyLever, description="Duty on conventional units of a commodity trust (not HK stock: none)."
    )
    tokenized_commodity_token: DutyLever = Field(
        default_factory=DutyLever, description="Duty on commodity token transfers (not HK stock: none)."
    )
    conventional_revenue_token: DutyLever = Field(
        default_factory=DutyLever, description="Duty on conventional revenue-share units (not HK stock: none)."
    )
    tokenized_revenue_token: DutyLever = Field(
        default_factory=DutyLever, description="Duty on revenue token transfers (not HK stock: none)."
    )
    conventional_stock: DutyLever = Field(
        default_factory=lambda: DutyLever(rate_per_side=0.001),
        description="Duty on Hong Kong stock transfers, 0.1% per side since 17 Nov 2023: paid by both sides of a "
        "trade in a stock listing, and by an authorised participant on the basket stocks it buys to create ETF "
        "units and sells after a redemption.",
    )
    tokenized_stock: DutyLever = Field(
        default_factory=lambda: DutyLever(rate_per_side=0.001),
        description="Duty on tokenized share transfers: the stock rate, 0.1% per side, since a tokenized share of a "
        "company whose register is in Hong Kong is still Hong Kong stock (Stamp Duty Ordinance s. 2; no relief "
        "names tokens). A lower rate is a counterfactual.",
    )
    creation_redemption_relief: ReliefSwitch = Field(
        default_factory=lambda: ReliefSwitch(enabled=True),
        description="Relief of the transfer of the basket into or out of an ETF at creation and redemption "
        "(in force since 1 Aug 2020); off, the transfer pays the stock rate as well (a counterfactual).",
    )
    market_maker_exempt: bool = Field(
        False, description="Counterfactual: exempt market makers', dealers' and authorised participants' own "
        "secondary trades from duty. No Hong Kong law gives an ordinary market maker this relief.",
    )

    def lever(self, instrument_type: str, form: str) -> DutyLever:
        return getattr(self, f"{form}_{instrument_type}")

    def rates(self) -> dict[str, DutyLever]:
        """The duty rate of each `{form}_{instrument_type}`, by field name."""
        return {name: value for name in type(self).model_fields
                if isinstance(value := getattr(self, name), DutyLever)}


class RebateLever(DatedLever):
    """A share of named venue fees waived for market makers on venues of named kinds, in force in a window.

    The default is HKEX's trading-fee waiver for registered exchange-traded-product market makers
    (25-100% of the trading fee): half, on exchanges, of the trading fee only.
    """

    share: float = Field(0.5, ge=0.0, le=1.0, description="Share of the named fees waived.")
    venue_kinds: list[VenueKind] = Field(
        default_factory=lambda: ["exchange"], description="Kinds of venue whose market makers get the rebate."
    )
    fees: list[FeeName] = Field(
        default_factory=lambda: ["trading_fee_bps"], description="The venue's per-side fees the rebate covers."
    )

    def inside(self) -> float:
        return self.share

    def outside(self) -> float:
        return 0.0


class Policy(Strict):
    """The policy levers in force."""

    stamp_duty: StampDuty = Field(default_factory=StampDuty, description="Stamp duty levers.")
    tokenized_cash: SwitchLever = Field(
        default_factory=SwitchLever,
        description="Settlement in tokenized cash (licensed stablecoin, tokenized deposits): tokenized venues settle atomically at T+0 and cannot fail.",
    )
    market_maker_fee_rebate: RebateLever = Field(
        default_factory=RebateLever,
        description="Fee rebate for market makers (HKEX's trading-fee waiver for ETP market makers by default).",
    )
    issuance_grant: GrantLever = Field(default_factory=GrantLever, description="Grants for tokenized bond issues.")
