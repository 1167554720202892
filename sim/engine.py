"""Scenario + seed -> a wired SimPy model -> a checked RunResult.

The engine opens the accounts, builds venues and listings, liquidity providers (market makers,
dealers, authorised participants) and investor groups from the validated scenario, runs the
SimPy environment to the horizon and on until every trade has settled, checks the accounting
invariants, and hands the recorded tables to `metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import simpy

from sim.market.adoption import daily_shares
from sim.market.authorised_participant import AuthorisedParticipant
from sim.market.calendar import BusinessCalendar
from sim.market.costs import CostSchedule
from sim.market.dealer import Dealer
from sim.market.investors import Interest, InvestorGroup
from sim.market.ledger import AccountingError, Ledger
from sim.market.market_maker import MarketMaker
from sim.market.random_streams import stream
from sim.market.settlement import Settlement
from sim.market.trading import Market
from sim.market.values import TRADING_DAYS_PER_YEAR, fair_values
from sim.market.venue import Listing, Venue
from sim.metrics import RunTables, compute_kpis
from sim.recorder import Recorder
from sim.scenario.schema import FORMS, Etf, Scenario

SHARED_COLLECTORS = ("government", "SFC", "AFRC", "network", "basket_costs")


@dataclass(frozen=True)
class RunResult:
    """What one run of one scenario with one seed produced."""

    scenario: Scenario
    seed: int
    trades: pd.DataFrame
    daily: pd.DataFrame
    groups: pd.DataFrame
    kpis: dict[str, float]


@dataclass
class Model:
    """The wired components of one run (exposed so tests can inspect and tamper with them)."""

    scenario: Scenario
    env: simpy.Environment
    calendar: BusinessCalendar
    ledger: Ledger
    recorder: Recorder
    settlement: Settlement
    listings: list[Listing]
    market_makers: list[MarketMaker]
    participants: list[AuthorisedParticipant]
    groups: list[InvestorGroup]


def _assets(scenario: Scenario) -> dict[tuple[str, str], int]:
    """One ledger asset per instrument and form that is listed somewhere."""
    pairs = {(name, venue.form) for venue in scenario.venues.values() for name in venue.listings}
    ordered = [(name, form) for name in scenario.instruments for form in FORMS if (name, form) in pairs]
    return {pair: index for index, pair in enumerate(ordered)}


def build(scenario: Scenario, seed: int) -> Model:
    """Open accounts and wire every component into a fresh SimPy environment."""
    env = simpy.Environment()
    horizon = scenario.horizon_days
    calendar = BusinessCalendar(scenario.calendar.start_date, scenario.calendar.holidays, horizon)
    assets = _assets(scenario)
    ledger = Ledger(n_assets=len(assets))
    recorder = Recorder()
    policy = scenario.policy
    collectors = {name: ledger.open_account(name, "collector") for name in SHARED_COLLECTORS}
    values = fair_values(scenario, calendar, seed)

    def holding(units_by_form: dict[str, int], instrument: str) -> list[tuple[int, int]]:
        return [(assets[(instrument, f)], n) for f, n in units_by_form.items() if (instrument, f) in assets]

    def open_account(name: str, group: str, cash_hkd: float, units: list[tuple[int, int]]) -> int:
        vector = [0] * len(assets)
        for asset, quantity in units:
            vector[asset] += quantity
        return ledger.open_account(name, group, round(cash_hkd * 100), tuple(vector))

    listings: list[Listing] = []
    providers: set[int] = set()
    makers: list[MarketMaker] = []
    fail_rates, fail_rngs = [], []
    for venue_index, (venue_name, params) in enumerate(scenario.venues.items()):
        venue = Venue(venue_name, venue_index, params, policy.tokenized_cash)
        fee_collectors = {
            "trading_fee_bps": ledger.open_account(f"{venue_name}:operator", "collector"),
            "settlement_fee_bps": ledger.open_account(f"{venue_name}:settlement", "collector"),
            "sfc_levy_bps": collectors["SFC"],
            "afrc_levy_bps": collectors["AFRC"],
        }
        venue_rng = stream(seed, f"settlement:{venue_name}")
        for instrument_name, listing_params in params.listings.items():
            instrument = scenario.instruments[instrument_name]
            costs = CostSchedule(
                params.fees, policy.stamp_duty.lever(instrument.type, params.form),
                policy.stamp_duty.market_maker_exempt, policy.market_maker_fee_rebate,
                fee_collectors, collectors["government"], collectors["network"],
            )
            listing = Listing(
                len(listings), venue, instrument_name, instrument.type, assets[(instrument_name, params.form)],
                round(instrument.tick_size_hkd * 100), costs, values[instrument_name],
            )
            listings.append(listing)
            fail_rates.append(params.fail_probability)
            fail_rngs.append(venue_rng)
            provider = listing_params.dealer if params.kind == "dealer" else listing_params.market_maker
            account = open_account(
                f"{venue_name}:{instrument_name}:{'dealer' if params.kind == 'dealer' else 'market_maker'}",
                "dealer" if params.kind == "dealer" else "market_maker",
                provider.initial_cash_hkd, [(listing.asset, provider.initial_units)],
            )
            providers.add(account)
            if params.kind == "dealer":
                listing.dealer = Dealer(account, listing, listing_params.dealer, ledger)
            else:
                makers.append(MarketMaker(account, listing, listing_params.market_maker, ledger, recorder))

    settlement = Settlement(ledger, recorder, fail_rates, fail_rngs, horizon)
    market = Market(ledger, recorder, settlement, providers)
    market.after_trade = {maker.listing.index: maker.after_trade for maker in makers}

    groups = []
    years_per_day = 1.0 / TRADING_DAYS_PER_YEAR
    for index, (name, params) in enumerate(scenario.investors.items()):
        units = [pair for instrument, by_form in params.holdings.items() for pair in holding(by_form, instrument)]
        first = len(ledger.accounts)
        for k in range(params.accounts):
            open_account(f"{name}:{k}", name, params.initial_cash_hkd, units)
        allowed = {"conventional": params.conventional_access, "tokenized": params.tokenized_access}
        interests = [
            Interest(
                values[instrument],
                getattr(scenario.instruments[instrument], "min_denomination_units", 1),
                [
                    l for l in listings
                    if l.instrument == instrument and allowed[l.venue.form]
                    and (params.venues is None or l.venue.name in params.venues)
                ],
            )
            for instrument in params.interest
        ]
        adoption = params.adoption
        shares = daily_shares(horizon, years_per_day, adoption.initial_share, adoption.innovation_per_year, adoption.imitation_per_year)
        if not params.tokenized_access:
            shares = [0.0] * horizon
        groups.append(
            InvestorGroup(index, params, first, interests, shares, market, ledger, recorder, stream(seed, f"needs:{name}"))
        )

    participants = []
    for name, instrument in scenario.instruments.items():
        if not isinstance(instrument, Etf):
            continue
        params = instrument.authorised_participant
        units = holding(params.initial_units, name)
        account = open_account(f"{name}:authorised_participant", "authorised_participant", params.initial_cash_hkd, units)
        providers.add(account)
        etf_assets = [asset for (held, _), asset in assets.items() if held == name]
        basket_cents = round(sum(ledger.issued_units[a] for a in etf_assets) * values[name].at(0.0) * 100)
        fund = ledger.open_account(f"{name}:fund", "fund", basket_cents)  # holds the basket, as cash at NAV
        participants.append(
            AuthorisedParticipant(
                account, fund, collectors["basket_costs"], params, instrument.creation_unit_units,
                [l for l in listings if l.instrument == name and l.book is not None], values[name],
                market, ledger, recorder, dict(units),
            )
        )

    for maker in makers:
        env.process(maker.process(env, horizon))
    for participant in participants:
        env.process(participant.process(env, horizon))
    for group in groups:
        env.process(group.process(env, horizon))
    env.process(settlement.process(env))
    return Model(scenario, env, calendar, ledger, recorder, settlement, listings, makers, participants, groups)


def check_invariants(model: Model) -> None:
    """Units and cash conserved, nothing negative, every trade settled: otherwise fail loudly."""
    short_sellers = {name for name, group in model.scenario.investors.items() if group.short_selling}
    model.ledger.check(negative_units_allowed=short_sellers)
    unsettled = model.recorder.unsettled_trades()
    if unsettled:
        raise AccountingError(f"accounting check failed: {unsettled} trades neither settled nor failed")


def run(scenario: Scenario, seed: int | None = None) -> RunResult:
    """Run one scenario once; `seed` defaults to the scenario's own."""
    seed = scenario.seed if seed is None else seed
    model = build(scenario, seed)
    model.env.run()
    check_invariants(model)
    tables = RunTables.from_model(model)
    return RunResult(scenario, seed, tables.trades, tables.daily, tables.groups, compute_kpis(tables))
