"""Instruments in a scenario: ETFs, Hong Kong stocks, bonds and commodity tokens, their value processes and their correlations."""

from __future__ import annotations

from typing import Any, Annotated, Literal

import numpy as np
from pydantic import Discriminator, Field, Tag, model_validator

from sim.scenario.base import Date, Form, Hour, Name, NonNegativeBps, Strict, check_window


class GbmProcess(Strict):
    """Geometric random walk of an ETF's underlying basket, per unit of the ETF, on its home exchange's clock.

    The basket moves only while its home exchange trades; what happens while it is closed shows as
    a gap at the next open, and until then market makers and the authorised participant see the
    last close's NAV and widen their quotes and band for the move they cannot see.
    """

    initial_value_hkd: float = Field(25.0, gt=0, description="Basket value per ETF unit on day 0, HKD.")
    drift_per_year: float = Field(0.0, ge=-1.0, le=1.0, description="Annual drift of the log value.")
    volatility_per_year: float = Field(
        0.20, ge=0.0, lt=5.0,
        description="Annualised volatility of the log value (close to close; 250 business days a year).",
    )
    sessions_hours: list[tuple[Hour, Hour]] = Field(
        default_factory=lambda: [(9.5, 12.0), (13.0, 16.0)],
        min_length=1,
        description="Hours the basket's home exchange trades, [open, close] in hours of the day (default: HKEX's "
        "continuous sessions); the basket moves only then. [[0, 24]] moves around the clock on business days.",
    )
    overnight_variance_share: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Share of an ordinary business day's variance that accrues while the home exchange is closed "
        "(lunch and overnight), seen as a gap at the next open; a weekend or holiday accrues more at the same "
        "rate per calendar hour. 0: all variance within the sessions. Ignored when the sessions cover the day.",
    )
    off_hours_margin_per_sd: float = Field(
        0.5, ge=0.0, le=10.0,
        description="While the home exchange is closed, market makers widen their half-spread and the authorised "
        "participant its arbitrage band by this many standard deviations of the move not yet seen since the "
        "last close (which grows with the calendar hours since then).",
    )

    @model_validator(mode="after")
    def _check_sessions(self) -> GbmProcess:
        previous_close = 0.0
        for open_hour, close_hour in self.sessions_hours:
            check_window(open_hour, close_hour, "a session of the home exchange")
            if open_hour < previous_close:
                raise ValueError("the home exchange's sessions must be in order and must not overlap")
            previous_close = close_hour
        return self


class SharePrice(GbmProcess):
    """Price of a Hong Kong share: a geometric random walk on HKEX's clock, as an ETF's basket.

    It moves only while HKEX trades; off hours a platform listing its tokens sees the last
    close's price, and its market maker widens its quotes for the move not yet seen.
    """

    initial_value_hkd: float = Field(25.0, gt=0, description="Price per share on day 0, HKD.")
    volatility_per_year: float = Field(
        0.25, ge=0.0, lt=5.0,
        description="Annualised volatility of the log price (close to close; 250 business days a year).",
    )
    off_hours_margin_per_sd: float = Field(
        0.5, ge=0.0, le=10.0,
        description="While HKEX is closed, market makers widen their half-spread by this many standard deviations "
        "of the move not yet seen since the last close (which grows with the calendar hours since then).",
    )


class YieldProcess(Strict):
    """Mean-reverting (Vasicek) yield to maturity of a bond."""

    initial_yield: float = Field(0.025, gt=-0.05, lt=0.5, description="Yield on day 0 (0.025 = 2.5%).")
    long_run_yield: float = Field(0.025, gt=-0.05, lt=0.5, description="Level the yield reverts to.")
    reversion_per_year: float = Field(0.5, ge=0.0, le=50.0, description="Speed of mean reversion, per year.")
    volatility_per_year: float = Field(
        0.008, ge=0.0, lt=0.2, description="Absolute yield volatility per year (0.008 = 80 bp)."
    )


class SpotProcess(Strict):
    """Geometric random walk of a commodity's spot price, HKD per unit of the commodity (e.g. a troy ounce)."""

    initial_price_hkd: float = Field(31_000.0, gt=0, lt=1e9, description="Spot price on day 0, HKD per unit of the commodity.")
    drift_per_year: float = Field(0.0, ge=-1.0, le=1.0, description="Annual drift of the log price.")
    volatility_per_year: float = Field(0.15, ge=0.0, lt=5.0, description="Annualised volatility of the log price.")


class AuthorisedParticipantParams(Strict):
    """Creates and redeems units against the backing (an ETF's basket, a token's commodity) when the price strays from NAV."""

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
    basket_inventory_creation_units: int = Field(
        5, ge=0, le=10_000,
        description="Only for an ETF whose `basket` is a share of the scenario: the participant's stock of that share "
        "at the start, in creation units' baskets. It delivers a creation's basket from this stock and buys it back on "
        "the exchange; it takes a redemption's basket into it and sells it there (an assumption: a participant "
        "prefunds baskets from inventory, so a creation does not wait for its purchase to settle).",
    )


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
    basket_pays_stamp_duty: bool = Field(
        True, description="Is the basket Hong Kong stock, so that the authorised participant's purchases and sales "
        "of it pay stamp duty (`policy.stamp_duty.conventional_stock`)? false for a basket of other assets.",
    )
    basket: Name | None = Field(
        None,
        description="A `stock` instrument of this scenario that is the ETF's basket (one share standing for the "
        "constituents). The NAV then moves with that share's price (scaled to `underlying.initial_value_hkd`), so "
        "`underlying` may not give another walk; the fund holds the share; and the authorised participant buys the "
        "basket on the share's exchange listing after a creation and sells it there after a redemption, as trades "
        "that pay the share's duty and fees. Default (null): the basket is not simulated, and its duty is a line of "
        "the participant's own (`basket_stamp_duty_hkd`).",
    )
    authorised_participant: AuthorisedParticipantParams = Field(
        default_factory=AuthorisedParticipantParams, description="The ETF's authorised participant."
    )

    _check_tick = model_validator(mode="after")(lambda self: _tick_in_cents(self))


class Stock(Strict):
    """A Hong Kong share, or one share standing for a basket of them, listed in conventional form on an
    exchange and optionally as tokens on a platform ("tokenized shares": not offered in Hong Kong today).

    Its transfers are Hong Kong stock in either form, so both pay stamp duty
    (`policy.stamp_duty.conventional_stock`, `tokenized_stock`). No authorised participant: shares
    are neither created nor redeemed, and conventional and tokenized shares are separate holdings.
    """

    type: Literal["stock"] = Field(description="`stock`.")
    name: str = Field("HK large-cap share", min_length=1, description="Display name.")
    price: SharePrice = Field(default_factory=SharePrice, description="The share's price.")
    tick_size_hkd: float = Field(
        0.02, gt=0, le=10.0,
        description="Price increment, HKD; a whole number of cents (HKEX's spread table: HK$0.02 for shares "
        "priced HK$20-50 since 4 Aug 2025). Fixed for the run, whatever band the price moves into.",
    )
    min_denomination_units: int = Field(
        500, gt=0, le=10**7, description="Board lot: the smallest tradable number of shares, in either form."
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
    issue_date: Date = Field(description="Issue date (YYYY-MM-DD).")
    min_denomination_units: int = Field(
        1, gt=0, le=10**7, description="Smallest tradable amount, units of HK$100 face."
    )
    tick_size_hkd: float = Field(0.01, gt=0, le=10.0, description="Price increment per HK$100 face, HKD.")
    yield_process: YieldProcess = Field(default_factory=YieldProcess, description="The bond's yield.")

    _check_tick = model_validator(mode="after")(lambda self: _tick_in_cents(self))


class CommodityToken(Strict):
    """A token backed by a quantity of a commodity held in custody (e.g. allocated gold in a vault).

    The custody fee is paid by drawing down the backing, so the value per token is the spot price
    times the backing less the fee accrued over calendar time. Authorised dealers create tokens
    by delivering the commodity and redeem them for it, which bounds the premium as for an ETF.
    """

    type: Literal["commodity_token"] = Field(description="`commodity_token`.")
    name: str = Field("Tokenized gold", min_length=1, description="Display name.")
    commodity: str = Field("gold", min_length=1, max_length=40, description="The commodity held (display only).")
    backing_per_token: float = Field(
        0.01, gt=0, lt=1e6, description="Commodity held in custody per token on day 0, in the spot price's unit (e.g. troy ounces)."
    )
    spot: SpotProcess = Field(default_factory=SpotProcess, description="Spot price of the commodity.")
    custody_fee_bps_per_year: NonNegativeBps = Field(
        30.0, description="Custody and management fee, bps a year, drawn from the backing daily."
    )
    creation_unit_units: int = Field(10_000, gt=0, le=10**9, description="Tokens per creation or redemption.")
    tick_size_hkd: float = Field(0.01, gt=0, le=10.0, description="Price increment, HKD; a whole number of cents.")
    authorised_participant: AuthorisedParticipantParams = Field(
        default_factory=AuthorisedParticipantParams, description="The authorised dealer that creates and redeems tokens."
    )

    _check_tick = model_validator(mode="after")(lambda self: _tick_in_cents(self))


def _instrument_type(value: Any) -> str | None:
    return value.get("type") if isinstance(value, dict) else getattr(value, "type", None)


Instrument = Annotated[
    Annotated[Etf, Tag("etf")] | Annotated[Stock, Tag("stock")] | Annotated[Bond, Tag("bond")]
    | Annotated[CommodityToken, Tag("commodity_token")],
    Discriminator(
        _instrument_type,
        custom_error_type="instrument_type",
        custom_error_message="needs `type: etf`, `type: stock`, `type: bond` or `type: commodity_token`",
    ),
]


def _tick_in_cents(model: Etf | Stock | Bond | CommodityToken) -> Etf | Stock | Bond | CommodityToken:
    cents = model.tick_size_hkd * 100
    if abs(cents - round(cents)) > 1e-9:
        raise ValueError(f"tick_size_hkd must be a whole number of cents (got {model.tick_size_hkd})")
    return model


class Correlation(Strict):
    """Correlation of two instruments' value shocks (ETF basket, share or commodity spot return, bond yield change)."""

    between: tuple[Name, Name] = Field(description="The two instruments, by name.")
    coefficient: float = Field(ge=-1.0, le=1.0, description="Correlation coefficient.")


def correlation_matrix(correlations: list[Correlation], names: list[str]) -> np.ndarray:
    """The instruments' correlation matrix, in the order of `names` (identity where none is given)."""
    matrix = np.eye(len(names))
    for correlation in correlations:
        i, j = (names.index(name) for name in correlation.between)
        matrix[i, j] = matrix[j, i] = correlation.coefficient
    return matrix
