"""Investor groups in a scenario: needs, access, cost sensitivity, adoption, subscriptions."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from sim.scenario.base import Form, Hour, Name, NonNegativeBps, Strict, check_window


DEFAULT_ORDER_HKD = 1_000_000.0  # median order when a group gives no size


class Subscription(Strict):
    """How a group subscribes to new issues during bookbuilding: what each order wants, and how it inflates it."""

    orders_per_issue: float = Field(0.0, ge=0, le=100_000, description="Mean number of orders per issue it can reach.")
    order_size_median_hkd: float | None = Field(
        None, gt=0, lt=1e12,
        description="Median of what an order wants, HKD (lognormal); 1,000,000 when neither this nor "
        "`order_size_median_share_of_issue` is given. Give one of the two.",
    )
    order_size_sigma: float = Field(1.0, ge=0, le=5, description="Log-standard deviation of order size.")
    reservation_spread_bps_mean: float = Field(
        0.0, ge=-500, le=500, description="Mean of the lowest yield an order accepts, over the market yield, bps."
    )
    reservation_spread_bps_sd: float = Field(5.0, ge=0, le=500, description="Its standard deviation, bps.")
    order_size_median_share_of_issue: float | None = Field(
        None, gt=0, le=1,
        description="Median of what an order wants, as a share of the value offered in the issue (lognormal), so that "
        "demand scales with the issue; null: `order_size_median_hkd` instead. Give one of the two.",
    )
    inflate_orders: bool = Field(
        True,
        description="Inflate orders for the pro-rata scale-back expected: each order is what it wants times the previous "
        "issue of the programme's true cover ratio (wanted over offered, at least 1), bounded by the account's free "
        "cash. The first issue of a programme is ordered at its wanted size.",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_size(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("order_size_median_hkd") is None and data.get(
                "order_size_median_share_of_issue") is None:
            return {**data, "order_size_median_hkd": DEFAULT_ORDER_HKD}
        return data

    @model_validator(mode="after")
    def _one_size(self) -> Subscription:
        if self.order_size_median_share_of_issue is not None and self.order_size_median_hkd is not None:
            raise ValueError("give order_size_median_hkd or order_size_median_share_of_issue, not both "
                             "(set the other to null when overriding)")
        return self


class Adoption(Strict):
    """Bass diffusion of a group's onboarding to tokenized channels."""

    initial_share: float = Field(1.0, ge=0.0, le=1.0, description="Share onboarded on day 0.")
    innovation_per_year: float = Field(0.0, ge=0.0, le=10.0, description="Bass innovation coefficient p, per year.")
    imitation_per_year: float = Field(0.0, ge=0.0, le=10.0, description="Bass imitation coefficient q, per year.")
    advantage_scale_bps: float | None = Field(
        None, gt=0.0, le=10_000.0,
        description="null: onboarding follows the Bass curve whatever happens. Otherwise it responds to what the group "
        "meets: each day, imitation runs at q times (1 + A / this), never below 0, where A is the group's realised "
        "all-in cost (duty, fees, spread) on conventional venues less on tokenized venues, bps of value, fading by "
        "half over 20 business days. A tokenized channel 20 bp cheaper doubles imitation at a scale of 20; one 20 bp "
        "dearer stops it. The group's share onboarded never falls.")


class Wrapper(Strict):
    """One instrument through which an exposure may be held, and what holding it costs beyond trading it."""

    tracking_cost_bps: NonNegativeBps = Field(
        0.0, description="Cost of holding the exposure through this instrument beyond trading it, bps of trade value, "
        "added to its all-in cost when a need chooses between wrappers: an ETF's tracking difference and cash drag "
        "over the holding period, beyond the fee its NAV already deducts. An assumption (docs/calibration.md)."
    )


class Exposure(Strict):
    """An economic exposure several instruments give (a stock, an ETF on it, a tokenized share): a need for it is
    met by whichever of its wrappers costs least all-in, by a logit on net gain."""

    wrappers: dict[Name, Wrapper] = Field(
        description="Instruments that give the exposure, by name, at least two; each keeps its own minimum size, and "
        "each group's access rules apply to it."
    )


class InvestorGroupParams(Strict):
    """Investors alike in access, needs and cost sensitivity; their needs form one Poisson stream."""

    accounts: int = Field(gt=0, le=10_000_000, description="Number of investor accounts in the group.")
    needs_per_day: float = Field(gt=0, le=100_000_000, description="Trading needs per business day, whole group.")
    active_hours: tuple[Hour, Hour] = Field(
        (9.0, 18.0), description="Hours of the day in which the group's needs arrive, [start, end]."
    )
    interest: dict[Name, Annotated[float, Field(gt=0)]] = Field(
        min_length=1, description="What the needs concern, with relative weights: an instrument, a programme (its new issues) or "
        "an exposure (met by whichever of its wrappers costs least), by name."
    )
    trade_size_median_hkd: float = Field(gt=0, lt=1e11, description="Median trade size, HKD (lognormal).")
    trade_size_sigma: float = Field(1.0, ge=0, le=5, description="Log-standard deviation of trade size.")
    trade_size_median_hkd_by_interest: dict[Name, Annotated[float, Field(gt=0, lt=1e11)]] = Field(
        default_factory=dict,
        description="Median trade size, HKD, of the needs that concern one interest (an instrument, programme or "
        "exposure named in `interest`), where it differs from `trade_size_median_hkd`: a group may trade one "
        "instrument in larger tickets than the rest (institutions in the largest index ETF, say).",
    )
    gain_mean_bps: float = Field(
        gt=0,
        lt=10_000,
        description="Mean private gain of a need, bps of trade value (exponential); sets cost sensitivity.",
    )
    channel_logit_scale_bps: float = Field(
        2.0, gt=0, lt=10_000, description="Logit scale of channel choice on net gain, bps; small = picky."
    )
    wrapper_logit_scale_bps: float = Field(
        10.0, gt=0, lt=10_000,
        description="Logit scale of the choice of wrapper for an exposure need (the upper level of a nested logit "
        "whose lower level is the channel choice), bps; at least `channel_logit_scale_bps`. Larger = investors "
        "switch wrapper less readily for a given cost difference (mandates, habit, access). An assumption with a "
        "structural range (docs/calibration.md).",
    )
    brokerage_bps: NonNegativeBps = Field(
        0.0, description="Broker's commission per side, bps of trade value, on every trade the group takes on an "
        "exchange (a platform's trading fee and a dealer's spread stand for their own intermediation): a cost each "
        "need weighs, so the group's volume answers it as it answers duty, paid to its broker outside the simulated "
        "ledger and outside the investor-cost KPIs (the model has no brokers). Published online schedules for Hong "
        "Kong shares run from 0 to about 25 bp; 0 leaves it out (docs/calibration.md).",
    )
    informed_lead_minutes: float = Field(
        0.0, ge=0.0, le=1440.0,
        description="0: the group's needs are uninformed (a side at random, a private gain). Otherwise each need "
        "knows where the fair value will be this many minutes ahead: it buys if the value will rise and sells if it "
        "will fall, and adds the move (bps) to its gain, so it takes quotes that are stale against what it knows "
        "(informed traders; market makers that learn from flow answer them, `venues.<v>.listings.<l>.market_maker`).",
    )
    informed_accuracy: float = Field(
        1.0, gt=0.5, le=1.0,
        description="How good an informed group's private signal is: the probability that it points the way the fair "
        "value will move. 1: each need knows the direction; below 1 it takes the wrong side that often, and adds "
        "(2 x accuracy - 1) times the move to its gain, its expected edge (only with `informed_lead_minutes` above 0).",
    )
    settlement_delay_cost_bps_per_day: NonNegativeBps = Field(
        0.5, description="Cost the group puts on each business day a trade waits to settle, bps."
    )
    retail: bool = Field(
        False, description="Are these retail investors? They pay charges declared for retail and get an issue's "
        "`retail_priority_share`; the group's name does not matter."
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
    def _hours_ordered(self) -> InvestorGroupParams:
        check_window(*self.active_hours, "active_hours")
        return self

    @model_validator(mode="after")
    def _sizes_name_interests(self) -> InvestorGroupParams:
        unknown = sorted(set(self.trade_size_median_hkd_by_interest) - set(self.interest))
        if unknown:
            raise ValueError(
                f"trade_size_median_hkd_by_interest: {', '.join(unknown)} is not among the group's interests "
                f"({', '.join(self.interest)}); a trade size is set for what the group's needs concern")
        return self

    @model_validator(mode="after")
    def _wrapper_scale_nests_channels(self) -> InvestorGroupParams:
        if self.wrapper_logit_scale_bps < self.channel_logit_scale_bps:
            raise ValueError(
                f"wrapper_logit_scale_bps: {self.wrapper_logit_scale_bps} is below channel_logit_scale_bps "
                f"{self.channel_logit_scale_bps}; the choice of wrapper nests the choice of channel, so its scale "
                "must be at least the channel's (equal: one flat logit over every listing of every wrapper)")
        return self
