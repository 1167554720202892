"""The scenario's settlement assets: the money tokenized venues settle in, and its stresses.

`settlement_assets` names each asset with its kind: a licensed `stablecoin` (an issuer with
reserves, a redemption queue and ramp hours; holders who run; a secondary market), a
`tokenized_deposit` (a bank's deposits on a ledger, frozen while the bank fails) or
`central_bank` money. A tokenized venue names the asset it settles in (`venues.<v>.settlement_asset`);
its trades then settle atomically in that money. Defaults follow the Stablecoins Ordinance
(Cap. 656) and the HKMA's guideline where they are law (full reserves, redemption at par within
one business day); behaviour (thresholds, run speed, arbitrage) is an assumption, documented in
`docs/calibration.md`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from sim.scenario.base import Hour, Name, NonNegativeBps, Rate, Strict, check_window


class At(Strict):
    """A time on the run's clock: hours after the start of a business day."""

    day: int = Field(ge=0, le=10_000, description="Business day (0 is the first).")
    hour: float = Field(0.0, ge=0.0, le=240.0, description="Hours after that day's midnight; past 24 it reaches the "
                        "calendar days after it (business day 4 at hour 66 is Sunday 18:00 when day 4 is a Friday).")

    def key(self) -> tuple[int, float]:
        return self.day, self.hour


class Reserve(Strict):
    """One class of a stablecoin's reserve assets."""

    share: float = Field(gt=0.0, le=1.0, description="Share of the reserves in this class.")
    liquid_within_days: int = Field(
        0, ge=0, le=30, description="Business days from selling it to cash (0: cash at a bank, paid out at once; 1: "
        "Treasury bills or a government money fund sold for next-day cash).")


class CoinHolders(Strict):
    """A group of a stablecoin's holders and how it runs."""

    share: float = Field(gt=0.0, le=1.0, description="Share of the coins in issue this group holds at the start "
                         "(the rest never run).")
    threshold_bps_max: float = Field(
        3000.0, gt=0.0, le=10_000.0, description="Holders' thresholds of expected loss (bps of par) are spread evenly "
        "from 0 to this; those whose threshold the expected loss passes decide to leave, for good (assumption: "
        "`docs/calibration.md`).")
    leave_share_per_hour: float = Field(
        0.05, gt=0.0, le=1.0, description="Share of what decided holders still hold that they move each hour "
        "(assumption).")
    sell_share: float = Field(
        0.5, ge=0.0, le=1.0, description="Share of what leaves that is sold on the coin's secondary market "
        "(immediacy); the rest joins the issuer's redemption queue (assumption).")


class Window(Strict):
    """A window of the run's clock."""

    start: At
    end: At

    @model_validator(mode="after")
    def _in_order(self) -> Window:
        if self.end.key() <= self.start.key():
            raise ValueError("end must come after start")
        return self


class Impairment(Window):
    """A share of one reserve class frozen, as at a failed bank."""

    reserve: Name = Field(description="The reserve class (a key of `reserves`).")
    share_frozen: float = Field(gt=0.0, le=1.0, description="Share of that class frozen.")
    start: At = Field(description="When it is frozen (and the market learns of it).")
    end: At = Field(description="When the frozen reserves come back, `recovery` of them.")
    expected_recovery: Rate = Field(
        0.5, description="Share of the frozen reserves the market expects back before it knows (assumption).")
    recovery: float = Field(1.0, ge=0.0, le=1.0, description="Share that comes back at `end`.")
    guarantee: At | None = Field(None, description="When the market learns `recovery` (a deposit guarantee); "
                                 "null: at `end`.")

    @model_validator(mode="after")
    def _guarantee_inside(self) -> Impairment:
        if self.guarantee is not None and not self.start.key() <= self.guarantee.key() <= self.end.key():
            raise ValueError("guarantee must fall between start and end")
        return self


class Stablecoin(Strict):
    """A licensed stablecoin (Stablecoins Ordinance, Cap. 656, in force 1 Aug 2025)."""

    kind: Literal["stablecoin"] = Field(description="`stablecoin`.")
    in_issue_hkd: float = Field(gt=0.0, le=1e13, description="Coins in issue at the start, HKD at par.")
    reserve_ratio: float = Field(
        1.0, ge=1.0, le=2.0, description="Reserves over coins in issue at the start; the Ordinance requires at least 1.")
    reserves: dict[Name, Reserve] = Field(
        default_factory=lambda: {"bank_deposits": Reserve(share=0.2), "government_bills": Reserve(share=0.8, liquid_within_days=1)},
        min_length=1, description="Reserve classes, most liquid first (sold in that order to pay redemptions); "
        "shares sum to 1. Default: a fifth in bank deposits, the rest in bills sold for next-day cash (USDC's "
        "mix in March 2023, about 20/80).")
    redemption_fee_bps: NonNegativeBps = Field(0.0, description="Fee on redemptions, bps of par.")
    redemption_deadline_days: int = Field(
        1, ge=0, le=30, description="Business days the issuer has to pay a valid request at par (the Stablecoins "
        "Ordinance and the HKMA's guideline: one). The issuer sells reserves as soon as requests outgrow its cash; "
        "what it pays later, or still owes at the end, counts as late (`money_redeemed_late_hkd_<asset>`).")
    ramp_hours: tuple[Hour, Hour] = Field(
        (9.0, 17.0), description="Hours of a business day when the issuer pays redemptions and mints (its banks' "
        "hours; assumption).")
    holders: dict[Name, CoinHolders] = Field(
        default_factory=dict, description="Holder groups that may run, by name (an investor group's name puts its "
        "losses beside its trading KPIs).")
    arbitrage_depth_share: float = Field(
        0.02, gt=0.0, le=10.0, description="The secondary market's depth: coins arbitrageurs will hold (at cost, a "
        "share of the coins in issue) for each percentage point the price stands below the coin's value; they "
        "redeem them when the issuer pays (assumption: `docs/calibration.md`).")
    half_spread_bps: NonNegativeBps = Field(1.0, description="The coin market's half-spread in normal times (assumption).")
    impairments: list[Impairment] = Field(default_factory=list, description="Reserve impairments (stress).")
    redemption_pauses: list[Window] = Field(default_factory=list, description="Pauses of redemptions (stress).")

    @model_validator(mode="after")
    def _consistent(self) -> Stablecoin:
        total = sum(r.share for r in self.reserves.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"reserves: the shares sum to {total:g}; they must sum to 1")
        held = sum(h.share for h in self.holders.values())
        if held > 1.0 + 1e-9:
            raise ValueError(f"holders: the shares sum to {held:g}; at most 1")
        check_window(self.ramp_hours[0], self.ramp_hours[1], "ramp_hours")
        for k, impairment in enumerate(self.impairments):
            if impairment.reserve not in self.reserves:
                raise ValueError(f"impairments[{k}].reserve: unknown reserve class '{impairment.reserve}' "
                                 f"(reserves: {', '.join(self.reserves)})")
        return self


class DepositHolders(Strict):
    """A group holding the bank's tokenized deposits."""

    balance_hkd: float = Field(gt=0.0, le=1e13, description="Its balance, HKD.")
    depositors: int = Field(ge=1, le=100_000_000, description="Over how many depositors (deposit protection is per "
                            "depositor).")


class BankFailure(Window):
    """The issuing bank's failure."""

    start: At = Field(description="When its tokens freeze.")
    end: At = Field(description="When it is resolved and balances are paid.")
    recovery: float = Field(1.0, ge=0.0, le=1.0, description="Share of balances above the protection limit paid at "
                            "`end` (1: every deposit guaranteed, as at SVB in March 2023).")


class TokenizedDeposit(Strict):
    """Tokenized deposits of one licensed bank (HKMA Project Ensemble)."""

    kind: Literal["tokenized_deposit"] = Field(description="`tokenized_deposit`.")
    bank: str = Field("issuing_bank", min_length=1, max_length=80, description="The bank's name (for the report).")
    protection_hkd_per_depositor: float = Field(
        800_000.0, ge=0.0, le=1e9, description="Deposit protection per depositor per bank (Hong Kong's Deposit "
        "Protection Scheme: HK$800,000 from 1 Oct 2024; whether it covers tokenized deposits is an assumption).")
    holders: dict[Name, DepositHolders] = Field(default_factory=dict, description="Holder groups by name.")
    failures: list[BankFailure] = Field(default_factory=list, description="The bank's failures (stress).")
    funding_rate_per_year: Rate = Field(0.04, description="What a frozen balance's lost use costs its holder a year.")


class CentralBankMoney(Strict):
    """Central-bank money (HKD RTGS, or a wholesale token of it): at par, never frozen."""

    kind: Literal["central_bank"] = Field(description="`central_bank`.")


def _kind(value: Any) -> str | None:
    return value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)


SettlementAsset = Annotated[
    Annotated[Stablecoin, Tag("stablecoin")] | Annotated[TokenizedDeposit, Tag("tokenized_deposit")]
    | Annotated[CentralBankMoney, Tag("central_bank")],
    Discriminator(_kind, custom_error_type="settlement_asset_kind",
                  custom_error_message="needs `kind: stablecoin`, `kind: tokenized_deposit` or `kind: central_bank`"),
]
