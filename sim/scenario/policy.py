"""The policy levers: stamp duty, tokenized cash, fee rebates and issuance grants, each in a window of days."""

from __future__ import annotations

from pydantic import Field, model_validator

from sim.scenario.base import Rate, Strict, check_window, in_window

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
        return self.enabled and in_window(day, self.from_day, self.to_day)


class DutyLever(Strict):
    """A stamp-duty rate in force from `from_day` until `to_day`; `otherwise_rate_per_side` outside."""

    rate_per_side: Rate = Field(0.0, description="Duty paid by buyer and by seller, fraction of value.")
    from_day: int = Field(0, ge=0, description="First business day the rate is in force.")
    to_day: int | None = Field(None, gt=0, description="First business day it no longer is (null: to the end).")
    otherwise_rate_per_side: Rate = Field(0.0, description="Rate outside [from_day, to_day).")

    @model_validator(mode="after")
    def _window_ordered(self) -> DutyLever:
        if self.to_day is not None:
            check_window(self.from_day, self.to_day, "the lever's window [from_day, to_day)")
        return self

    def rate_on(self, day: int) -> float:
        """The rate in force on business day `day`."""
        return self.rate_per_side if in_window(day, self.from_day, self.to_day) else self.otherwise_rate_per_side


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
        return self.enabled and in_window(day, self.from_day, self.to_day)


class RebateLever(Strict):
    """A share of venue fees rebated to market makers and dealers, in force in a window."""

    share: float = Field(0.0, ge=0.0, le=1.0, description="Share of their per-side fees waived.")
    from_day: int = Field(0, ge=0, description="First business day it applies.")
    to_day: int | None = Field(None, gt=0, description="First business day it no longer does (null: to the end).")

    def share_on(self, day: int) -> float:
        return self.share if in_window(day, self.from_day, self.to_day) else 0.0


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
