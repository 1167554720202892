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

import numpy as np
from pydantic import Field, field_validator, model_validator

from sim.market.adoption import onboarded_accounts
from sim.market.settlement import DEFAULT_FAIL_ELASTICITY, fail_probability_for_cycle

from sim.scenario.base import FORMS, Date, Form, Hour, Name, NonNegativeBps, Rate, Strict
from sim.scenario.instruments import (
    Bond, CommodityToken, Correlation, Etf, GbmProcess, Instrument, AuthorisedParticipantParams, SharePrice, SpotProcess,
    Stock, YieldProcess, correlation_matrix,
)
from sim.scenario.investors import Adoption, Exposure, InvestorGroupParams, Subscription, Wrapper
from sim.scenario.policy import DutyLever, GrantLever, Policy, RebateLever, StampDuty, SwitchLever
from sim.scenario.programmes import FormCosts, Issuer, Programme
from sim.scenario.settlement_assets import SettlementAsset
from sim.scenario.conversions import Conversion
from sim.scenario.venues import DealerParams, Fees, ListingParams, MarketMakerParams, VenueParams

__all__ = [
    "FORMS", "Adoption", "AuthorisedParticipantParams", "Bond", "Calendar", "CommodityToken", "Correlation", "DealerParams", "DutyLever", "Etf",
    "ExperimentPlan", "Exposure", "Fees", "Form", "FormCosts", "GbmProcess", "GrantLever", "Hour", "Instrument",
    "InvestorGroupParams", "Issuer", "ListingParams", "MarketMakerParams", "Name", "NonNegativeBps", "Policy", "Programme", "Rate",
    "RebateLever", "Scenario", "SettlementTerms", "SharePrice", "SpotProcess", "StampDuty", "Stock", "Strict", "Subscription",
    "SwitchLever", "VenueParams", "Wrapper", "YieldProcess", "correlation_matrix",
]

MAX_VENUES = 62  # investors screen needs with one bit per venue in an int64 (sim.market.investors)


class Calendar(Strict):
    """Business days: the run's clock skips weekends and the listed holidays."""

    start_date: Date = Field(
        datetime.date(2026, 1, 5), description="First day of the run (day 0 is the first business day on or after it); "
        "every date in a scenario lies between 1900-01-01 and 2199-12-31."
    )
    holidays: list[Date] = Field(default_factory=list, description="Public holidays (YYYY-MM-DD).")


class SettlementTerms(Strict):
    """How settlement's risks and liquidity are measured: CCP margin, funding cost, fails by cycle."""

    margin_confidence: float = Field(0.99, gt=0.5, lt=1.0, description="One-sided confidence of the CCP's initial margin.")
    margin_lookback_days: int = Field(60, ge=2, le=1000, description="Business days of returns behind the margin volatility.")
    funding_rate_per_year: float = Field(0.04, ge=0.0, lt=1.0, description="Cost of the liquidity settlement ties up, per year.")
    prefunding_lead_days: float = Field(
        0.0, ge=0.0, le=10.0, description="How long before its business day an atomic trade's cash must be on the ledger, days."
    )
    fail_cycle_elasticity: float = Field(
        DEFAULT_FAIL_ELASTICITY, ge=-5.0, le=5.0,
        description="Elasticity of the fail rate to the cycle: p(L) = p(T+2) x (L/2)^e; the default, ln(2.01/1.90)/ln 2 "
        "(about 0.081), joins the US 2.01% at T+2 and 1.90% at T+1.",
    )
    buy_in_after_fails: int | None = Field(
        1, ge=1, le=250,
        description="Failed attempts after which the buyer is bought in and the trade settles at the next attempt "
        "(1: HKSCC buys in on T+3 a position still failing at T+2); null retries until it settles.",
    )
    buy_in_cost_bps: float = Field(
        25.0, ge=0.0, lt=10_000.0,
        description="Buy-in agent's premium and fees, bps of the trade's value, paid by the failing seller "
        "on top of any rise of the price since the trade.",
    )


SAMPLED_SHARE_TOLERANCE = 0.1  # how far a sample's onboarded share may fall from the whole market's, relative


class Sample(Strict):
    """How much of the market one run simulates: a weighted sample of investor accounts.

    A market at Hong Kong's scale is tens of millions of trades a year. A run may simulate one in
    `weight` of every group's accounts, with one in `weight` of its needs, each account standing for
    `weight` real ones (as a microsimulation weights its records). Everything else keeps its real
    size: trade sizes, holdings per account, the liquidity providers and the authorised
    participants. Totals (HK$ traded, duty, counts) are reported for the whole market, the sample's
    times the weight; rates, shares, spreads and depth are the sample's own. What does and does not
    scale, and how closely a sample matches the whole market, is in docs/model.md ("Market scale").
    """

    weight: int = Field(
        1, ge=1, le=1_000_000,
        description="Real investor accounts each simulated account stands for (1: the whole market). It must "
        "divide every group's `accounts`; the run simulates accounts / weight accounts and needs_per_day / weight "
        "needs a day per group, and reports totals times the weight.",
    )


class ExperimentPlan(Strict):
    """What `tokensim sweep` does with this file when no --param is given."""

    sweep: dict[str, list[bool | int | float | str]] = Field(
        default_factory=dict,
        description="Scenario keys (dotted paths) and the values to run each at; the grid of all combinations.",
    )
    reps: int = Field(1, ge=1, le=10_000, description="Replications per grid point.")
    kpis: list[str] = Field(
        default_factory=list, description="The KPIs the sweep's figures show, in order (a name not measured is an "
        "error when the figures are drawn); empty: the report's headline KPIs.")

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
    measured_against: str | None = Field(
        None, min_length=1, max_length=1000,
        description="The scenario this one's effects are measured against: a scenario file (path relative to this "
        "file's folder, as for `extends`); experiments run it too, with the same seeds, and report this scenario's "
        "paired differences against it. Default (null): the experiment's baseline. Not inherited through `extends`.",
    )
    counterfactual: str | None = Field(
        None, max_length=2000,
        description="Set (non-empty text) when the scenario departs on purpose from Hong Kong law or practice; the "
        "text says how (e.g. \"charges 0.1% per side on tokenized ETF units, which the IRD exempts\"). The report "
        "labels the scenario a counterfactual, with this text, wherever its numbers appear. Not inherited through "
        "`extends`: a scenario extending a counterfactual is one only if it says so itself.",
    )
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
    venues: dict[Name, VenueParams] = Field(
        min_length=1, max_length=MAX_VENUES, description=f"Venues by name (at most {MAX_VENUES})."
    )
    exposures: dict[Name, Exposure] = Field(
        default_factory=dict, description="Exposures by name: each met by several instruments (wrappers), which an "
        "investor group's `interest` may name instead of one instrument."
    )
    investors: dict[Name, InvestorGroupParams] = Field(min_length=1, description="Investor groups by name.")
    conversions: dict[Name, Conversion] = Field(
        default_factory=dict, description="Conversion between forms, by instrument: an arbitrageur trades the "
        "instrument across its conventional and tokenized order books and tokenizes or de-tokenizes units through "
        "the custodian, for a fee and a delay (docs/model.md, Conversion between forms).")
    settlement_assets: dict[Name, SettlementAsset] = Field(
        default_factory=dict, description="The money tokenized venues may settle in, by name, with its stresses: a "
        "licensed stablecoin, tokenized bank deposits or central-bank money (`venues.<v>.settlement_asset`).")
    issuers: dict[Name, Issuer] = Field(default_factory=dict, description="Bond issuers and their programmes.")
    policy: Policy = Field(default_factory=Policy, description="Policy levers.")
    settlement: SettlementTerms = Field(default_factory=SettlementTerms, description="Settlement risk and liquidity terms.")
    sample: Sample = Field(default_factory=Sample, description="How much of the market a run simulates (a weighted "
                           "sample of accounts; default the whole market).")
    experiment: ExperimentPlan | None = Field(None, description="A sweep this scenario is meant for (`tokensim sweep FILE`).")

    def document(self) -> dict:
        """The scenario as data that loads back to the same scenario (`tokensim show`): every key resolved
        and every default filled in, except that each listing keeps only its venue kind's liquidity
        provider (the schema fills in the other kinds' defaults too, and a file may not set them)."""
        data = self.model_dump(mode="json")
        for name, venue in self.venues.items():
            for listing in data["venues"][name]["listings"].values():
                for key in venue.other_providers():
                    listing.pop(key, None)
        return data

    def programmes(self) -> dict[str, Programme]:
        """Every issuance programme by name (names are unique across issuers)."""
        return {name: p for issuer in self.issuers.values() for name, p in issuer.programmes.items()}

    @field_validator("counterfactual")
    @classmethod
    def _counterfactual_says_how(cls, text: str | None) -> str | None:
        if text is not None and not text.strip():
            raise ValueError("say how the scenario departs from Hong Kong law or practice (non-empty text), "
                             "or leave the key out")
        return text

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
            if venue.settlement_asset is not None:
                _known_names([venue.settlement_asset], set(self.settlement_assets),
                             f"venues.{venue_name}.settlement_asset", "settlement asset")
        for name in self.conversions:
            _known_names([name], known, "conversions")
            forms = {venue.form for venue in self.venues.values() if name in venue.listings and venue.kind != "dealer"}
            if forms != set(FORMS):
                raise ValueError(f"conversions.{name}: the instrument needs an order-book listing (exchange or platform) "
                                 f"in each form to be converted between them; it has {', '.join(sorted(forms)) or 'none'}")
        for exposure_name, exposure in self.exposures.items():
            if exposure_name in known or exposure_name in programmes:
                raise ValueError(f"exposures.{exposure_name}: the name is also an instrument's or a programme's "
                                 "(exposures, instruments and programmes need distinct names)")
            _known_names(exposure.wrappers, known, f"exposures.{exposure_name}.wrappers")
            if len(exposure.wrappers) < 2:
                raise ValueError(f"exposures.{exposure_name}.wrappers: give at least two instruments (an exposure with "
                                 "one wrapper is that instrument: name it in the interest instead)")
        for group_name, group in self.investors.items():
            _known_names(group.interest, known | set(programmes) | set(self.exposures), f"investors.{group_name}.interest",
                         "name")
            _known_names(group.holdings, known, f"investors.{group_name}.holdings")
            for venue_name in group.venues or ():
                if venue_name not in self.venues:
                    raise ValueError(f"investors.{group_name}.venues: unknown venue '{venue_name}'")
        pairs: set[frozenset[str]] = set()
        for correlation in self.correlations:
            _known_names(correlation.between, known, "correlations")
            if correlation.between[0] == correlation.between[1]:
                raise ValueError(f"correlations: {correlation.between[0]} is paired with itself")
            if frozenset(correlation.between) in pairs:
                first, second = correlation.between
                raise ValueError(f"correlations: {first} and {second} are paired twice; give each pair once")
            pairs.add(frozenset(correlation.between))
        _check_correlations_possible(self.correlations, list(self.instruments))
        for name, instrument in self.instruments.items():
            if getattr(instrument, "basket", None) is not None:
                self._check_basket(name, instrument)
        listed = {name for venue in self.venues.values() for name in venue.listings}
        unlisted = sorted(known - listed)
        if unlisted:
            raise ValueError(f"instrument {unlisted[0]} is listed on no venue; add it to a venue's listings")
        return self

    def _check_basket(self, name: str, etf: Etf) -> None:
        """An ETF whose basket is a share: the share exists, trades on an exchange, and sets the walk."""
        where = f"instruments.{name}.basket"
        _known_names([etf.basket], set(self.instruments), where)
        share = self.instruments[etf.basket]
        if share.type != "stock":
            raise ValueError(f"{where}: '{etf.basket}' is a {share.type}; a basket is a `stock` instrument")
        if not etf.basket_pays_stamp_duty:
            raise ValueError(f"instruments.{name}.basket_pays_stamp_duty: false, but the basket '{etf.basket}' is a "
                             "Hong Kong share, whose transfers pay duty; leave it true")
        exchanges = [v for v in self.venues.values() if v.kind == "exchange" and etf.basket in v.listings]
        if not exchanges:
            raise ValueError(f"{where}: '{etf.basket}' is listed on no exchange, where the authorised participant "
                             "would buy and sell the basket")
        for field in sorted(etf.underlying.model_fields_set - {"initial_value_hkd"}):
            if getattr(etf.underlying, field) != getattr(share.price, field):
                raise ValueError(
                    f"instruments.{name}.underlying.{field}: {getattr(etf.underlying, field)!r}, but the NAV moves with "
                    f"its basket '{etf.basket}', whose price has {getattr(share.price, field)!r}; give the walk once, "
                    f"under instruments.{etf.basket}.price")
        for correlation in self.correlations:
            if name in correlation.between:
                raise ValueError(f"correlations: {name} moves with its basket '{etf.basket}'; correlate "
                                 f"'{etf.basket}' instead")

    @model_validator(mode="after")
    def _sample_divides_the_accounts(self) -> Scenario:
        weight = self.sample.weight
        if weight == 1:
            return self
        for name, group in self.investors.items():
            if group.accounts % weight:
                raise ValueError(
                    f"sample.weight: {weight} does not divide investors.{name}.accounts ({group.accounts}); each "
                    "simulated account stands for `weight` real ones, so choose a weight that divides every group's "
                    "accounts")
        for name, group in self.investors.items():
            share = group.adoption.initial_share if group.tokenized_access else 0.0
            accounts = group.accounts // weight
            sampled = onboarded_accounts(share, accounts) / accounts
            if onboarded_accounts(share, group.accounts) and abs(sampled - share) > SAMPLED_SHARE_TOLERANCE * share:
                raise ValueError(
                    f"sample.weight: {weight} leaves investors.{name} with {accounts} simulated accounts, of which a share "
                    f"of {sampled:.3g} start onboarded to tokenized venues against {share:g} in the whole market (whole "
                    f"accounts only); a sample must resolve that share within {SAMPLED_SHARE_TOLERANCE:.0%}, so choose a "
                    "smaller weight")
        revenue = [name for name, programme in self.programmes().items() if programme.revenue is not None]
        if revenue:
            raise ValueError(
                f"sample.weight: {weight}, but programme {revenue[0]} issues revenue tokens; a sample does not yet scale "
                "a revenue project (its tokens and output), so sample only scenarios whose programmes issue bonds")
        return self

    @model_validator(mode="after")
    def _trades_can_settle(self) -> Scenario:
        """Without buy-ins a trade settles only when an attempt succeeds, so a venue whose attempts
        all fail would keep the run going for ever."""
        if self.settlement.buy_in_after_fails is not None:
            return self
        for name, venue in self.venues.items():
            cycle = venue.settlement_cycle_days
            elasticity = self.settlement.fail_cycle_elasticity
            if fail_probability_for_cycle(venue.fail_probability_at_t2, 2, cycle, elasticity) >= 1.0:
                raise ValueError(
                    f"venues.{name}: trades can never settle: fail probability 1 at T+{cycle} and buy-ins off "
                    f"(fail_probability_at_t2 {venue.fail_probability_at_t2} scaled by settlement.fail_cycle_elasticity "
                    f"{elasticity}; settlement.buy_in_after_fails is null)"
                )
        return self


def _check_correlations_possible(correlations: list[Correlation], names: list[str]) -> None:
    """The pairwise correlations must form a positive semi-definite matrix."""
    if correlations and np.linalg.eigvalsh(correlation_matrix(correlations, names)).min() < -1e-10:
        raise ValueError("correlations: these coefficients cannot hold together (the matrix is not positive semi-definite)")


def _known_names(names, known: set[str], where: str, what: str = "instrument") -> None:
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" ({what}s: {', '.join(sorted(known))})"
            raise ValueError(f"{where}: unknown {what} '{name}'{hint}")
