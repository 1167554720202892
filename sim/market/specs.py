"""The market layer's own inputs: plain frozen specs, compiled once from a validated scenario.

The market never reads a scenario file or the scenario schema; the engine compiles the
validated scenario into these records (`sim.compile`) and hands each component only the spec
it needs. Field names follow the scenario keys they come from, so `docs/scenario-reference.md` documents
them too; units live in the names.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sim.market.levers import Dated

FORMS = ("conventional", "tokenized")  # the two forms an instrument's units may take
ORDER_BOOK_KINDS = ("exchange", "platform")  # venue kinds where a market maker quotes on an order book


@dataclass(frozen=True, slots=True)
class MarketMakerSpec:
    """A quoting market maker's terms (scenario: a listing's `market_maker`)."""

    base_half_spread_bps: float
    levels: int
    level_step_bps: float
    quote_size_units: int
    inventory_limit_units: int
    skew_bps_at_limit: float
    inventory_spread_bps_at_limit: float
    requote_minutes: float
    initial_units: int
    initial_cash_hkd: float
    prices_own_charges: bool  # false: the quotes stand for investors' limit orders, which do not quote their duty
    refill_after_each_trade: bool = False  # requote after every trade, not only when a side is used up
    flow_half_life_minutes: float = 0.0  # 0: quotes ignore order flow; else its memory (`sim.market.order_flow`)
    adverse_selection_bps: float = 0.0  # extra half-spread when the recent flow is all one way
    flow_lean_bps: float = 0.0  # shift of the mid towards the recent flow when it is all one way
    flow_size_cut: float = 0.0  # share of its quote size withdrawn when the recent flow is all one way


@dataclass(frozen=True, slots=True)
class DealerSpec:
    """An OTC dealer's terms (scenario: a listing's `dealer`)."""

    base_half_spread_bps: float
    size_impact_bps_per_million_hkd: float
    skew_bps_at_limit: float
    inventory_limit_units: int
    initial_units: int
    initial_cash_hkd: float


@dataclass(frozen=True, slots=True)
class ListingSpec:
    """The liquidity provider's terms of one listing, for whichever kind the venue has."""

    market_maker: MarketMakerSpec
    dealer: DealerSpec


@dataclass(frozen=True, slots=True)
class VenueFees:
    """Per-side fees of a venue, bps, and the network fee per transfer."""

    trading_fee_bps: float
    sfc_levy_bps: float
    afrc_levy_bps: float
    settlement_fee_bps: float
    network_fee_hkd_per_transfer: float


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """A venue's rules: kind, form, hours, settlement and fees."""

    name: str
    index: int
    kind: str
    form: str
    sessions_hours: tuple[tuple[float, float], ...]
    settlement_cycle_days: int
    fail_probability: float  # residual operational fail rate per DvP attempt at the venue's own cycle
    tokenized_cash: Dated[bool]  # atomic settlement against tokenized cash (tokenized venues only)
    fees: VenueFees
    listings: dict[str, ListingSpec]  # instruments traded here, with their liquidity provider's terms
    settlement_model: str = "dvp"  # book_entry, dvp or atomic (sim.market.venue.Venue)
    book_entry_lead_days: float = 1.0  # book entry: the buyer's cash is with the custodian this long before the day
    atomic_lead_days: float = 0.0  # atomic or T+0: the same for cash on the ledger (settlement.prefunding_lead_days)
    funding_rate_per_year: float = 0.04  # what idle prefunded cash costs (settlement.funding_rate_per_year)
    settlement_asset: str | None = None  # the settlement asset its trades settle in, atomically (tokenized venues)


@dataclass(frozen=True, slots=True)
class ParticipantSpec:
    """An authorised participant's terms (scenario: an instrument's `authorised_participant`)."""

    creation_fee_hkd: float
    basket_cost_bps: float
    check_minutes: float
    initial_units: dict[str, int]
    initial_cash_hkd: float
    basket_duty: Dated[float]  # stamp duty per side on buying or selling the basket (0: not Hong Kong stock)
    transfer_relief: Dated[bool]  # is the basket's transfer into or out of the fund relieved of duty?
    basket_inventory_creation_units: int  # only with a basket share: the participant's stock of it, in baskets
    basket: str | None = None  # the share that is the basket, traded in the model (None: a duty line only)


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """How an investor group orders new issues during bookbuilding."""

    orders_per_issue: float
    order_size_median_hkd: float | None  # None: order_size_median_share_of_issue instead
    order_size_sigma: float
    reservation_spread_bps_mean: float
    reservation_spread_bps_sd: float
    order_size_median_share_of_issue: float | None = None  # of the value offered; None: order_size_median_hkd
    inflate_orders: bool = False  # scale orders by the previous issue's true cover ratio


@dataclass(frozen=True, slots=True)
class AdoptionSpec:
    """Bass diffusion of a group's onboarding to tokenized channels."""

    initial_share: float
    innovation_per_year: float
    imitation_per_year: float
    advantage_scale_bps: float | None = None  # None: the Bass curve; else imitation responds to the realised advantage


@dataclass(frozen=True, slots=True)
class InvestorSpec:
    """An investor group: its needs, access, cost sensitivity and subscriptions."""

    accounts: int
    needs_per_day: float
    active_hours: tuple[float, float]
    interest: dict[str, float]
    trade_size_median_hkd: float
    trade_size_sigma: float
    trade_size_median_hkd_by_interest: dict[str, float]  # where an interest's differs from the group's median
    gain_mean_bps: float
    channel_logit_scale_bps: float
    wrapper_logit_scale_bps: float  # the nested logit's upper level: which wrapper of an exposure
    brokerage_bps: float  # weighed by each need, paid outside the ledger
    settlement_delay_cost_bps_per_day: float
    tokenized_access: bool
    conventional_access: bool
    venues: tuple[str, ...] | None
    short_selling: bool
    retail: bool
    adoption: AdoptionSpec
    subscription: SubscriptionSpec
    holdings: dict[str, dict[str, int]]
    initial_cash_hkd: float
    informed_lead_minutes: float = 0.0  # 0: uninformed; else each need knows the fair value this far ahead
    informed_accuracy: float = 1.0  # probability an informed need's signal of the move's direction is right


@dataclass(frozen=True, slots=True)
class ExposureSpec:
    """An exposure several instruments give: its wrappers, each with the cost of holding the exposure through it."""

    tracking_cost_bps: dict[str, float]  # by wrapper instrument, bps of trade value


@dataclass(frozen=True, slots=True)
class YieldSpec:
    """A Vasicek yield process."""

    initial_yield: float
    long_run_yield: float
    reversion_per_year: float
    volatility_per_year: float


@dataclass(frozen=True, slots=True)
class EtfValueSpec:
    """An ETF's NAV: its basket's random walk less the management fee, on its home exchange's clock;
    a stock's price is the same walk with no fee."""

    initial_value_hkd: float
    drift_per_year: float
    volatility_per_year: float
    management_fee_bps_per_year: float
    sessions_hours: tuple[tuple[float, float], ...]  # of the home exchange: the basket moves only then
    overnight_variance_share: float  # of a business day's variance, accrued while closed, seen at the next open
    off_hours_margin_per_sd: float  # liquidity providers' off-hours margin per sd of the move not yet seen
    basket: str | None = None  # a share of the scenario whose shocks move the NAV (the walk's other terms are its)


@dataclass(frozen=True, slots=True)
class BackingValueSpec:
    """A commodity token's backing: spot times the commodity per token, less the custody fee."""

    initial_price_hkd: float
    drift_per_year: float
    volatility_per_year: float
    backing_per_token: float
    custody_fee_bps_per_year: float


@dataclass(frozen=True, slots=True)
class BondValueSpec:
    """An outstanding bond's clean price at its yield and remaining life."""

    yield_process: YieldSpec
    coupon_rate: float
    coupon_frequency_per_year: int
    tenor_years: float
    issue_date: datetime.date


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """An instrument traded from the start: its type, trading unit and value process."""

    name: str
    type: str
    tick_size_hkd: float
    min_denomination_units: int
    creation_unit_units: int | None  # backed instruments only
    authorised_participant: ParticipantSpec | None
    value: EtfValueSpec | BackingValueSpec | BondValueSpec


@dataclass(frozen=True, slots=True)
class FormCostsSpec:
    """An issuer's costs and primary settlement for one form of issue."""

    fixed_cost_hkd: float
    proportional_cost_bps: float
    servicing_cost_hkd_per_payment: float
    settlement_days: int
    payment_lag_days: int
    min_denomination_units: int
    allocation: str = "pro_rata"  # or "tender": lowest yields filled in full first


@dataclass(frozen=True, slots=True)
class GenerationSpec:
    """A renewable project's output: seasonal mean with noise."""

    capacity_kw: float
    capacity_factor: float
    seasonal_amplitude: float
    peak_month: int
    noise_sd: float


@dataclass(frozen=True, slots=True)
class RevenueSpec:
    """A project whose revenue is shared among tokens."""

    generation: GenerationSpec
    tariff_hkd_per_kwh: float
    tokens: int


@dataclass(frozen=True, slots=True)
class ProgrammeSpec:
    """An issuance programme: when it issues, what, where, at what cost."""

    name: str
    issuer: str
    issuer_kind: str  # `government` or `market`
    instrument_type: str  # `bond` or `revenue_token`
    form: str  # `conventional`, `tokenized` or `cheaper`
    issue_days: tuple[int, ...]
    every_days: int | None
    first_day: int
    count: int | None
    size_hkd: float | None
    revenue: RevenueSpec | None
    tenor_years: float
    coupon_frequency_per_year: int
    currency: str
    bookbuilding_days: int
    new_issue_premium_bps: float
    market_maker_share: float
    retail_priority_share: float
    yield_process: YieldSpec
    venue: dict[str, str]
    listing: ListingSpec
    costs: dict[str, FormCostsSpec]


@dataclass(frozen=True, slots=True)
class GrantSpec:
    """A grant scheme for tokenized issues (the Digital Bond Grant Scheme's shape)."""

    open: Dated[bool]
    share_of_eligible_cost: float
    full_grant_cap_hkd: float
    half_grant_cap_hkd: float
    full_grant_min_size_hkd: float
    min_unaffiliated_investors: float  # distinct investors a full grant needs (a sample's: one in its weight)
    max_grants_per_issuer: int
    budget_hkd: float
    eligible_issuers: tuple[str, ...]  # kinds of issuer the scheme pays
