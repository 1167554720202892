"""The settlement assets' own inputs: plain frozen specs, compiled once from a validated scenario.

A settlement asset is the money a tokenized venue's trades settle in: a licensed stablecoin
(an issuer's liability backed by reserves, whose price is discovered on its own secondary
market), a tokenized bank deposit (a bank's liability at par, exposed to the bank's failure)
or central-bank money (at par, never stressed). Field names follow the scenario's keys under
`settlement_assets` (`docs/scenario-reference.md`); units live in the names.
"""

from __future__ import annotations

from dataclasses import dataclass

MONEY_KINDS = ("stablecoin", "tokenized_deposit", "central_bank")


@dataclass(frozen=True, slots=True)
class Moment:
    """A time on the run's clock: `hour` hours after the start of business day `day`. An hour past
    24 reaches the calendar days after it (day 4 at hour 66 is the Sunday 18:00 after a Friday)."""

    day: int
    hour: float


@dataclass(frozen=True, slots=True)
class ReserveSpec:
    """One class of a stablecoin's reserve assets: its share of the reserves and how fast it turns into cash."""

    share: float
    liquid_within_days: int  # business days from a sale to cash (0: cash at a bank, paid the same hour)


@dataclass(frozen=True, slots=True)
class CoinHolderSpec:
    """A group of a stablecoin's holders and how it runs.

    Each holder has a threshold of expected loss (uniform from 0 to `threshold_bps_max`) past
    which it decides to leave; a decision is not taken back. Holders who have decided leave at
    `leave_share_per_hour` of what they still hold each hour: `sell_share` of it on the coin's
    secondary market (immediacy), the rest as redemption requests in the issuer's queue.
    """

    share: float  # of the coins in issue at the start
    threshold_bps_max: float
    leave_share_per_hour: float
    sell_share: float


@dataclass(frozen=True, slots=True)
class ImpairmentSpec:
    """A reserve class frozen (a bank's failure): none of it can be paid out from `start` until
    `end`, when `recovery` of it comes back. Until the market learns the outcome it expects
    `expected_recovery`; at `guarantee` (if any) it learns `recovery`."""

    reserve: str
    share_frozen: float  # of that reserve class
    start: Moment
    end: Moment
    expected_recovery: float
    recovery: float
    guarantee: Moment | None


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """A window of the clock (a pause of redemptions)."""

    start: Moment
    end: Moment


@dataclass(frozen=True, slots=True)
class StablecoinSpec:
    """A licensed stablecoin: its issuer's reserves and rules, its holders and its secondary market."""

    name: str
    in_issue_hkd: float
    reserve_ratio: float  # reserves at the start over the coins in issue (the Ordinance: at least 1)
    reserves: dict[str, ReserveSpec]  # ordered from the most liquid: sold in that order to pay redemptions
    redemption_fee_bps: float
    ramp_hours: tuple[float, float]  # on business days: when redemptions are paid and coins minted
    holders: dict[str, CoinHolderSpec]
    arbitrage_depth_share: float  # coins arbitrageurs hold (at cost, a share of those in issue) per point of discount
    half_spread_bps: float  # the coin market's half-spread in normal times
    impairments: tuple[ImpairmentSpec, ...]
    pauses: tuple[WindowSpec, ...]
    redemption_deadline_days: int = 1  # business days the issuer has to pay a request (the Ordinance: one)
    kind: str = "stablecoin"


@dataclass(frozen=True, slots=True)
class DepositHolderSpec:
    """A group holding a bank's tokenized deposits: how much, over how many depositors."""

    balance_hkd: float
    depositors: int


@dataclass(frozen=True, slots=True)
class BankFailureSpec:
    """The issuing bank's failure: its deposit tokens are frozen from `start` until `end`, when
    `recovery` of the balances above the deposit protection limit is paid."""

    start: Moment
    end: Moment
    recovery: float


@dataclass(frozen=True, slots=True)
class DepositTokenSpec:
    """Tokenized deposits of one bank: at par while the bank stands, frozen while it fails."""

    name: str
    bank: str
    protection_hkd_per_depositor: float
    holders: dict[str, DepositHolderSpec]
    failures: tuple[BankFailureSpec, ...]
    funding_rate_per_year: float  # what a frozen balance's lost use costs its holder
    kind: str = "tokenized_deposit"


@dataclass(frozen=True, slots=True)
class CentralBankMoneySpec:
    """Central-bank money (a wholesale token or the RTGS): at par and usable at every hour."""

    name: str
    kind: str = "central_bank"


MoneySpec = StablecoinSpec | DepositTokenSpec | CentralBankMoneySpec
