"""Venues in a scenario: fees, hours, settlement, and each listing's market maker or dealer."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.market.venue_kinds import PROVIDERS
from sim.scenario.base import Form, Hour, Name, NonNegativeBps, Strict, VenueKind, check_window

SettlementModel = Literal["book_entry", "dvp", "atomic"]
# The settlement model of a venue that does not name one, by kind: exchanges and OTC dealers
# settle delivery versus payment through a CSD (CCASS, CMU); licensed digital-asset platforms
# hold their clients' units and cash on trust, so a trade on them is a book entry.
DEFAULT_SETTLEMENT_MODEL = {"exchange": "dvp", "dealer": "dvp", "platform": "book_entry"}

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


class MarketMakerParams(Strict):
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
    refill_after_each_trade: bool = Field(
        False,
        description="Does the maker replenish its ladder after every trade that takes from it (a book whose resting "
        "liquidity refills at once, as on a deep, fast market), rather than only when one side is used up or at "
        "its next requote? true makes what each taker meets independent of how many takers arrive, which a "
        "weighted sample of accounts needs (docs/model.md, Market scale).",
    )
    flow_half_life_minutes: float = Field(
        0.0, ge=0.0, le=1440.0,
        description="0: the quotes ignore order flow (their spread and mid are set by costs, inventory and off-hours "
        "risk alone). Otherwise the maker learns from flow, as in Glosten and Milgrom (1985): it keeps the takers' "
        "buying less selling over recent trades, fading by half every this many minutes, and reads one-sided flow as "
        "information (`adverse_selection_bps`, `flow_lean_bps`). The imbalance is that net flow over the gross plus "
        "one quote size (`quote_size_units`): a lone trade moves it little, a run of buying towards 1.",
    )
    adverse_selection_bps: NonNegativeBps = Field(
        0.0, description="Extra half-spread when the recent flow is all one way, in proportion to its imbalance, bps "
        "(only with `flow_half_life_minutes` above 0).",
    )
    flow_lean_bps: NonNegativeBps = Field(
        0.0, description="Shift of the quote mid towards the recent flow when it is all one way, in proportion to its "
        "imbalance, bps: the maker's update of the value from what takers did (only with `flow_half_life_minutes` "
        "above 0).",
    )
    flow_size_cut: float = Field(
        0.0, ge=0.0, lt=1.0,
        description="Share of its quote size the maker withdraws when the recent flow is all one way, in proportion "
        "to its imbalance: at imbalance i it quotes `quote_size_units` x (1 - cut x |i|) a level, at least one unit, "
        "so depth at the best quotes thins when someone may know more (only with `flow_half_life_minutes` above 0).",
    )
    prices_own_charges: bool = Field(
        True,
        description="Does the half-spread cover the quoting side's own per-side charges (fees, duty)? true: a "
        "dealer-like market maker that turns inventory over and recovers its costs from the spread. false: the "
        "quotes stand for a public order book of many investors' limit orders, placed to trade for their own "
        "reasons: they pay duty and fees on their fills as any side does, but their prices are set by risk and "
        "the tick, not by the duty (how a Hong Kong large cap quotes about one tick wide under a 0.1% duty).",
    )


class DealerParams(Strict):
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


class ListingParams(Strict):
    """One instrument on one venue, with its liquidity provider."""

    market_maker: MarketMakerParams = Field(
        default_factory=MarketMakerParams, description="Market maker (exchange and platform venues)."
    )
    dealer: DealerParams = Field(default_factory=DealerParams, description="Dealer (dealer venues).")


class VenueParams(Strict):
    """A trading venue: an order book or a dealer market, with hours, fees and a settlement cycle."""

    kind: VenueKind = Field(
        description="`exchange` (stock exchange), `platform` (licensed digital-asset platform) or `dealer` (OTC)."
    )
    form: Form = Field(description="Which form trades here: `conventional` or `tokenized`.")
    listings: dict[Name, ListingParams] = Field(
        min_length=1, description="Instruments traded here, by instrument name, with their liquidity provider."
    )
    sessions_hours: list[tuple[Hour, Hour]] = Field(
        default_factory=lambda: [(9.5, 12.0), (13.0, 16.0)],
        min_length=1,
        description="Trading sessions as [open, close] in hours of the day; [[0, 24]] trades around the clock.",
    )
    settlement_model: SettlementModel | None = Field(
        None,
        description="How trades settle. `book_entry`: units and cash are held with the venue's custodian and a "
        "trade is final at once, with no fails, but the buyer's cash must be there in advance (prefunded, "
        "`book_entry_lead_days`). `dvp`: delivery versus payment through a custodian or CSD after "
        "`settlement_cycle_days`, failing when the seller's units or the buyer's cash are not there. `atomic`: "
        "atomic delivery versus payment against tokenized cash at the trade (tokenized venues only; "
        "`policy.tokenized_cash` makes any tokenized venue atomic while in force). Default by kind: `dvp` for "
        "`exchange` and `dealer`, `book_entry` for `platform`.",
    )
    settlement_asset: Name | None = Field(
        None,
        description="The settlement asset (a key of `settlement_assets`) this venue's trades settle in, atomically; "
        "tokenized venues only. Its path then reaches the venue: a frozen asset stops its trades, and converting to "
        "and from it costs each investor side the coin market's half-spread, which the market maker adds to its "
        "quotes too. Null: the venue's own `settlement_model`.",
    )
    settlement_cycle_days: int = Field(
        2, ge=0, le=30,
        description="Business days from trade to settlement under `dvp`; 0 settles at the trade, prefunded. "
        "Ignored by `book_entry` and `atomic`, which settle at the trade.",
    )
    book_entry_lead_days: float = Field(
        1.0, ge=0.0, le=30.0,
        description="Under `book_entry`: how long before the start of a trade's business day the buyer's cash must "
        "be with the venue's custodian, days; it then waits idle until the trade, at "
        "`settlement.funding_rate_per_year` (assumption: a fiat deposit clears a business day ahead).",
    )
    fail_probability_at_t2: float = Field(
        0.0, ge=0.0, le=0.5,
        description="Residual operational fail rate under `dvp`: chance that a settlement attempt fails although "
        "the units and cash are there (a mismatched instruction, an operational break), at a T+2 cycle, scaled "
        "to the venue's cycle by `settlement.fail_cycle_elasticity`; retried next business day. Default 0: "
        "fails come only from their causes, units or cash not there at settlement.",
    )
    central_counterparty: bool = Field(
        False, description="Does a central counterparty novate, net and margin this venue's trades?"
    )
    fees: Fees = Field(default_factory=Fees, description="Per-side fees and levies.")

    @model_validator(mode="after")
    def _check(self) -> VenueParams:
        previous_close = 0.0
        for open_hour, close_hour in self.sessions_hours:
            check_window(open_hour, close_hour, "a trading session")
            if open_hour < previous_close:
                raise ValueError("trading sessions must be in order and must not overlap")
            previous_close = close_hour
        if self.settlement_model == "atomic" and self.form != "tokenized":
            raise ValueError("settlement_model atomic settles tokenized units against tokenized cash: the venue's "
                             "form must be tokenized (for a conventional venue settling at the trade, use dvp with "
                             "settlement_cycle_days 0)")
        if self.settlement_asset is not None and self.form != "tokenized":
            raise ValueError("settlement_asset: only a tokenized venue settles in a settlement asset (a conventional "
                             "venue settles in Hong Kong dollars through its custodian or CSD)")
        provider = PROVIDERS[self.kind].spec_key  # the listing key of this kind's provider: one mapping, the market's
        others = self.other_providers()
        for name, listing in self.listings.items():
            wrong = others & listing.model_fields_set
            if wrong:
                raise ValueError(f"listing {name}: a {self.kind} venue has a {provider}, not a {wrong.pop()}")
        return self

    def other_providers(self) -> set[str]:
        """The listing keys of the liquidity providers of other venue kinds: a listing here may not set them."""
        return {cls.spec_key for cls in PROVIDERS.values()} - {PROVIDERS[self.kind].spec_key}

    def settlement(self) -> SettlementModel:
        """The venue's settlement model: its own, or its kind's default."""
        return self.settlement_model or DEFAULT_SETTLEMENT_MODEL[self.kind]
