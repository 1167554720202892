"""Scenario + seed -> a wired SimPy model, run to its end.

The engine opens the accounts and builds, from the validated scenario: venues and listings
with their liquidity providers (market makers, dealers), the planned issues of every programme
(each with its own ledger asset and a listing that opens when it settles), authorised
participants for every backed instrument (an ETF's basket, a token's asset in custody),
investor groups, and the issuance desk. It runs the SimPy environment to the horizon and on
until every trade has settled; `sim.runs` checks the result and builds the tables.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import simpy

from sim.compile import MarketSpec, compile_market
from sim.market.adoption import daily_shares
from sim.market.authorised_participant import AuthorisedParticipant, BasketShare
from sim.market.calendar import MARGIN_BUSINESS_DAYS, MINUTES_PER_DAY, BusinessCalendar
from sim.market.conversion import FormArbitrageur
from sim.market.costs import Charge, CostSchedule, Scope
from sim.market.investors import Interest, InvestorGroup, Line
from sim.market.issuance import announcement_days
from sim.market.issuer import IssuanceDesk, PlannedIssue, Subscriber, expected_grant_hkd, issue_cost_hkd
from sim.market.ledger import Ledger
from sim.market.market_maker import MarketMaker
from sim.market.money_path import DailyRate, MoneyPath
from sim.market.payers import INVESTORS, Payer
from sim.market.providers import LiquidityProvider
from sim.market.random_streams import stream
from sim.market.securities import issue_terms
from sim.market.settlement import Settlement
from sim.market.settlement_assets import money_paths
from sim.market.specs import FORMS, ListingSpec
from sim.market.trading import Market
from sim.market.values import TRADING_DAYS_PER_YEAR, FairValue, calendar_years, fair_values, programme_yields
from sim.market.venue import Listing, Venue
from sim.market.venue_kinds import PROVIDERS
from sim.recorder import Recorder
from sim.scenario.schema import Scenario

SHARED_COLLECTORS = ("government", "SFC", "AFRC", "network", "basket_costs", "issuance_services")


@dataclass
class Model:
    """The wired components of one run (exposed so tests can inspect and tamper with them)."""

    scenario: Scenario
    spec: MarketSpec
    env: simpy.Environment
    calendar: BusinessCalendar
    ledger: Ledger
    recorder: Recorder
    settlement: Settlement
    market: Market
    listings: list[Listing]
    market_makers: list[MarketMaker]
    participants: list[AuthorisedParticipant]
    groups: list[InvestorGroup]
    issues: list[PlannedIssue]
    money: dict[str, MoneyPath]  # each settlement asset's path (`sim.market.settlement_assets`)
    converters: list[FormArbitrageur]  # the arbitrageurs converting between forms (`sim.market.conversion`)


@dataclass(frozen=True)
class IssuePlan:
    """An issue decided before the run: which programme, when, in which form."""

    name: str
    programme_name: str
    issuer_name: str
    announce_day: int
    form: str


def plan_issues(scenario: Scenario, spec: MarketSpec | None = None) -> list[IssuePlan]:
    """Every issue of every programme in the horizon; `cheaper` picks the form with the lower net cost."""
    spec = compile_market(scenario) if spec is None else spec
    plans = []
    grants: dict[str, int] = {}
    for name, programme in spec.programmes.items():
        for k, day in enumerate(announcement_days(programme, scenario.horizon_days)):
            form = programme.form
            so_far = grants.get(programme.issuer, 0)
            if form == "cheaper":
                tokenized = issue_cost_hkd(programme, "tokenized") - expected_grant_hkd(spec.grants, programme, day, so_far)
                form = "tokenized" if tokenized < issue_cost_hkd(programme, "conventional") else "conventional"
            grants[programme.issuer] = so_far + (form == "tokenized")
            plans.append(IssuePlan(f"{name}_{k + 1}", name, programme.issuer, day, form))
    return plans


class _Wiring:
    """Builds one run's components step by step; `build` reads as the list of steps."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.spec = spec = compile_market(scenario)
        self.seed = seed
        self.env = simpy.Environment()
        self.horizon = scenario.horizon_days
        self.steps = scenario.value_steps_per_day
        self.calendar = BusinessCalendar(scenario.calendar.start_date, scenario.calendar.holidays, self.horizon)
        self.plans = plan_issues(scenario, spec)
        pairs = {(name, venue.form) for venue in scenario.venues.values() for name in venue.listings}
        ordered = [(name, form) for name in spec.instruments for form in FORMS if (name, form) in pairs]
        ordered += [(plan.name, plan.form) for plan in self.plans]
        self.assets = {pair: index for index, pair in enumerate(ordered)}
        self.ledger = Ledger(n_assets=len(self.assets))
        self.recorder = Recorder()
        self.collectors = {name: self.ledger.open_account(name, "collector", Payer.COLLECTOR) for name in SHARED_COLLECTORS}
        self.values = fair_values(spec.instruments, spec.correlation, self.horizon, self.steps, self.calendar, seed)
        self.money = money_paths(spec.settlement_assets, self.calendar, self.horizon)
        self.listings: list[Listing] = []
        self.providers: list[LiquidityProvider] = []
        self.venues: dict[str, Venue] = {}
        self.fail_rates: list[float] = []
        self.fail_rngs: list[np.random.Generator] = []

    def open_account(self, name: str, group: str, payer: Payer, cash_hkd: float, units: list[tuple[int, int]] = ()) -> int:
        vector = [0] * len(self.assets)
        for asset, quantity in units:
            vector[asset] += quantity
        return self.ledger.open_account(name, group, payer, round(cash_hkd * 100), tuple(vector))

    def holding(self, units_by_form: dict[str, int], instrument: str) -> list[tuple[int, int]]:
        return [(self.assets[(instrument, f)], n) for f, n in units_by_form.items() if (instrument, f) in self.assets]

    def open_venues(self) -> None:
        for name, spec in self.spec.venues.items():
            for collector in (f"{name}:operator", f"{name}:settlement"):
                self.collectors[collector] = self.ledger.open_account(collector, "collector", Payer.COLLECTOR)
            self.venues[name] = Venue(spec, self.money.get(spec.settlement_asset))
        if self.spec.conversions:
            self.collectors["custodian"] = self.ledger.open_account("custodian", "collector", Payer.COLLECTOR)
        for asset in self.money:
            self.collectors[f"{asset}:conversion"] = self.ledger.open_account(f"{asset}:conversion", "collector",
                                                                              Payer.COLLECTOR)
        for charge in self.spec.charges:  # a collector that only a charge names (a new levy's) gets its account too
            if charge.collector not in self.collectors:
                self.collectors[charge.collector] = self.ledger.open_account(charge.collector, "collector", Payer.COLLECTOR)

    def cost_schedule(self, venue: Venue, instrument_type: str) -> CostSchedule:
        """The charges and reliefs that cover one listing."""
        where = (venue.name, venue.kind, instrument_type, venue.form)
        return CostSchedule(
            [charge for charge in self.spec.charges if charge.scope.covers(*where)] + self.conversion(venue),
            [relief for relief in self.spec.reliefs if relief.scope.covers(*where)],
            self.collectors, round(venue.spec.fees.network_fee_hkd_per_transfer * 100),
        )

    def conversion(self, venue: Venue) -> list[Charge]:
        """On a venue settling in a stablecoin: each investor side converts between Hong Kong dollars and the
        coin, at the day's cost (`MoneyPath.conversion_cost`), paid to the coin market's liquidity providers."""
        money = venue.money
        if money is None or money.kind != "stablecoin":
            return []
        return [Charge("conversion", f"{money.name}:conversion", DailyRate(money.daily_conversion_cost()), INVESTORS,
                       scope=Scope(venues=frozenset({venue.name})))]

    def add_listing(self, venue_name: str, instrument: str, kind: str, tick_hkd: float, value: FairValue,
                    terms: ListingSpec, initial_units: int | None = None) -> Listing:
        """One instrument on one venue, with its liquidity provider (of the venue kind's class) and its account."""
        venue = self.venues[venue_name]
        asset = self.assets[(instrument, venue.form)]
        if venue.money is not None and venue.money.kind == "stablecoin" and initial_units is None:
            value = value.with_margin(venue.money.at_steps(venue.money.conversion_cost, self.steps))
        listing = Listing(len(self.listings), venue, instrument, kind, asset, round(tick_hkd * 100),
                          self.cost_schedule(venue, kind), value)
        self.listings.append(listing)
        self.fail_rates.append(venue.spec.fail_probability)
        self.fail_rngs.append(stream(self.seed, f"settlement:{venue_name}"))
        provider_class = PROVIDERS[venue.kind]
        role = provider_class.spec_key
        provider_terms = getattr(terms, role)
        units = provider_terms.initial_units if initial_units is None else initial_units
        account = self.open_account(f"{venue_name}:{instrument}:{role}", role, provider_class.payer,
                                    provider_terms.initial_cash_hkd, [(asset, units)])
        listing.provider = provider_class(account, listing, provider_terms, self.ledger, self.recorder)
        listing.provider.target_units = units  # the inventory it leans back towards
        self.providers.append(listing.provider)
        return listing

    def open_instrument_listings(self) -> None:
        for venue_name, venue in self.scenario.venues.items():
            for name in venue.listings:
                instrument = self.spec.instruments[name]
                terms = self.spec.venues[venue_name].listings[name]
                self.add_listing(venue_name, name, instrument.type, instrument.tick_size_hkd, self.values[name], terms)

    def plan_new_issues(self) -> list[PlannedIssue]:
        """A dormant listing per planned issue; it opens when the issue settles."""
        issues = []
        issuers = {name: self.open_account(f"{name}:issuer", "issuer", Payer.ISSUER, issuer.initial_cash_hkd)
                   for name, issuer in self.scenario.issuers.items()}
        n_values = self.horizon * self.steps + 1
        for number, plan in enumerate(self.plans):
            programme = self.spec.programmes[plan.programme_name]
            value = FairValue(np.zeros(n_values), self.steps)
            self.values[plan.name] = value
            terms = issue_terms(programme, plan.name, self.seed)
            listing = self.add_listing(programme.venue[plan.form], plan.name, terms.instrument_type, 0.01, value,
                                       programme.listing, 0)
            listing.active = False
            issuer = self.scenario.issuers[plan.issuer_name]
            issues.append(PlannedIssue(number, plan.name, plan.programme_name, programme, issuers[plan.issuer_name],
                                       issuer.affiliated_platforms, plan.announce_day, plan.form, listing, terms))
        return issues

    def open_participants(self, market: Market) -> list[AuthorisedParticipant]:
        participants = []
        for name, instrument in self.spec.instruments.items():
            terms = instrument.authorised_participant
            if terms is None:  # only backed instruments (a basket, an asset in custody) have one
                continue
            units = self.holding(terms.initial_units, name)
            assets = [asset for (held, _), asset in self.assets.items() if held == name]
            backing_units = sum(self.ledger.issued_units[a] for a in assets) + sum(n for _, n in units)
            basket = self.basket_share(terms.basket)
            if basket is None:  # the fund holds the backing as cash at its value
                inventory, fund_cash, fund_units = [], backing_units * self.values[name].at(0.0), []
            else:  # the fund holds the basket share, and the participant a stock of it
                per_unit = self.values[name].at(0.0) / basket.value.at(0.0)
                basket_units = round(instrument.creation_unit_units * per_unit)
                inventory = [(basket.asset, terms.basket_inventory_creation_units * basket_units)]
                fund_cash, fund_units = 0.0, [(basket.asset, round(backing_units * per_unit))]
            account = self.open_account(f"{name}:authorised_participant", "authorised_participant",
                                        Payer.AUTHORISED_PARTICIPANT, terms.initial_cash_hkd, units + inventory)
            fund = self.open_account(f"{name}:fund", "fund", Payer.FUND, fund_cash, fund_units)
            books = [l for l in self.listings if l.instrument == name and l.book is not None]
            participants.append(AuthorisedParticipant(
                account, fund, self.collectors["basket_costs"], self.collectors["government"], terms, instrument.creation_unit_units,
                books, self.values[name], market, self.ledger, self.recorder, dict(units), basket,
            ))
        return participants

    def open_converters(self, market: Market) -> list[FormArbitrageur]:
        """An arbitrageur per instrument that converts between forms, with its units in each form and its cash."""
        converters = []
        for name, spec in self.spec.conversions.items():
            units = self.holding(spec.initial_units, name)
            account = self.open_account(f"{name}:form_arbitrageur", "form_arbitrageur", FormArbitrageur.payer,
                                        spec.initial_cash_hkd, units)
            books = [listing for listing in self.listings if listing.instrument == name and listing.book is not None]
            assets = {form: self.assets[(name, form)] for form in FORMS if (name, form) in self.assets}
            converters.append(FormArbitrageur(account, self.collectors["custodian"], spec, books, assets, market,
                                              self.ledger, self.recorder))
        return converters

    def basket_share(self, share: str | None) -> BasketShare | None:
        """Where an ETF's basket share trades: its listing on the first exchange (the scenario checks there is one)."""
        if share is None:
            return None
        listing = next(l for l in self.listings if l.instrument == share and l.venue.kind == "exchange")
        return BasketShare(listing, self.values[share], self.assets[(share, "conventional")])

    def open_investors(self, market: Market, issues: list[PlannedIssue]) -> list[InvestorGroup]:
        groups = []
        for index, (name, spec) in enumerate(self.spec.investors.items()):
            units = [pair for instrument, by_form in spec.holdings.items() for pair in self.holding(by_form, instrument)]
            first = len(self.ledger.accounts)
            payer = Payer.RETAIL if spec.retail else Payer.INVESTOR
            for k in range(spec.accounts):
                self.open_account(f"{name}:{k}", name, payer, spec.initial_cash_hkd, units)
            allowed = {"conventional": spec.conventional_access, "tokenized": spec.tokenized_access}

            def usable(instrument: str) -> list[Listing]:
                return [l for l in self.listings if l.instrument == instrument and allowed[l.venue.form]
                        and (spec.venues is None or l.venue.name in spec.venues)]

            interests = []
            for target in spec.interest:
                if target in self.spec.instruments:
                    lot = self.spec.instruments[target].min_denomination_units
                    interests.append(Interest([Line(self.values[target], lot, usable(target))], instrument=True))
                elif target in self.spec.exposures:
                    interests.append(Interest([
                        Line(self.values[wrapper], self.spec.instruments[wrapper].min_denomination_units, usable(wrapper),
                             tracking)
                        for wrapper, tracking in self.spec.exposures[target].tracking_cost_bps.items()
                    ], exposure=True))
                else:
                    interests.append(Interest([
                        Line(issue.listing.value, issue.programme.costs[issue.form].min_denomination_units, usable(issue.name))
                        for issue in issues if issue.programme_name == target
                    ]))
            adoption = spec.adoption
            shares = daily_shares(self.horizon, 1.0 / TRADING_DAYS_PER_YEAR, adoption.initial_share,
                                  adoption.innovation_per_year, adoption.imitation_per_year)
            if not spec.tokenized_access:
                shares = [0.0] * self.horizon
            signals = stream(self.seed, f"signals:{name}") if spec.informed_lead_minutes else None
            groups.append(InvestorGroup(index, spec, first, interests, shares, market, self.ledger,
                                        self.recorder, stream(self.seed, f"needs:{name}"), signals))
        return groups

    def issuance_desk(self, issues: list[PlannedIssue], groups: list[InvestorGroup]) -> IssuanceDesk:
        grants = self.spec.grants
        budget = grants.budget_hkd if grants.open.value else 0.0  # `value`: the scheme is enabled
        grant_scheme = self.open_account("grant_scheme", "government_budget", Payer.GOVERNMENT, budget)
        subscribers = [
            Subscriber(g.index, name, g.first_account, g.params.accounts, g.params, g.onboarded_accounts)
            for g, name in zip(groups, self.spec.investors)
        ]
        return IssuanceDesk(
            issues, subscribers, programme_yields(self.spec.programmes, self.horizon, self.steps, self.seed),
            calendar_years(self.calendar, self.horizon, self.steps), self.steps, self.ledger, self.recorder, self.calendar,
            self.spec.tokenized_cash, grants, self.collectors["issuance_services"], grant_scheme,
            {name: stream(self.seed, f"issuance:{name}") for name in self.spec.programmes},
        )

    def provider_clocks(self) -> list:
        """The processes each class of liquidity provider needs, class by class in order of first appearance."""
        classes = dict.fromkeys(type(provider) for provider in self.providers)
        return [clock for cls in classes
                for clock in cls.clocks(self.env, [p for p in self.providers if type(p) is cls], self.horizon)]


def build(scenario: Scenario, seed: int) -> Model:
    """Open accounts and wire every component into a fresh SimPy environment."""
    w = _Wiring(scenario, seed)
    w.open_venues()
    w.open_instrument_listings()
    issues = w.plan_new_issues()
    settlement = Settlement(w.ledger, w.recorder, w.fail_rates, w.fail_rngs, w.horizon, w.spec.buy_in_after_fails,
                            [listing.provider.account for listing in w.listings],
                            frozenset(name for name, group in scenario.investors.items() if group.short_selling))
    market = Market(w.ledger, w.recorder, settlement)
    participants = w.open_participants(market)
    converters = w.open_converters(market)
    groups = w.open_investors(market, issues)
    desk = w.issuance_desk(issues, groups)
    env = w.env
    for process in w.provider_clocks() + [
        participant.process(env, w.horizon) for participant in participants
    ] + [converter.process(env, w.horizon) for converter in converters
         ] + [group.process(env, w.horizon) for group in groups] + [settlement.process(env)]:
        env.process(process)
    desk.start(env)
    makers = [p for p in w.providers if isinstance(p, MarketMaker)]
    model = Model(scenario, w.spec, env, w.calendar, w.ledger, w.recorder, settlement, market, w.listings, makers,
                  participants, groups, issues, w.money, converters)
    env.process(watch_budget(env, model, run_budget(model)))
    return model


@contextmanager
def deferred_collection() -> Iterator[None]:
    """Collect the young generation of objects every 500,000 allocations instead of every 700.

    An event loop allocates many short-lived objects and hardly any reference cycles: most are
    gone before a collection and are never scanned (3-5% of a run saved; cycles are still
    collected). What does outlive a collection, trades waiting for settlement among them, is
    scanned at each: collecting every 50,000 allocations still cost about 4% of hk_2025's event
    loop, every 500,000 next to nothing. The collector's settings are restored afterwards.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(500_000, 50, 1_000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


class RunDidNotEnd(RuntimeError):
    """A run went past its budget of simulated time or of events: left alone it would not end."""


GRACE_DAYS = 10  # business days a run may go on past everything it is known to wait for


@dataclass(frozen=True)
class RunBudget:
    """How far a run may go: every run of its model ends by `last_day` having scheduled fewer than
    `events` events, unless something keeps it going (trades that can never settle, a process
    that never stops). Both scale with the run's own size."""

    last_day: int
    events: int


def run_budget(model: Model) -> RunBudget:
    """The budget of a built model.

    Time: the horizon, then the calendar's margin (issues are paid and redeemed within it), the
    longest settlement cycle, the buy-in's retries and a grace. Events: ten times an upper bound
    of the events a day can schedule (a SimPy event per need at most, the market makers' clock
    ticks, the participants' checks, a few per issue and per day), over those days.
    """
    scenario, spec = model.scenario, model.spec
    longest_cycle = max((venue.settlement_cycle_days for venue in spec.venues.values()), default=0)
    last_day = (scenario.horizon_days + MARGIN_BUSINESS_DAYS + longest_cycle
                + (spec.buy_in_after_fails or 0) + GRACE_DAYS)
    ticks = sum(
        sum(close - open_ for open_, close in maker.listing.venue.sessions) * MINUTES_PER_DAY / maker.params.requote_minutes
        for maker in model.market_makers
    )
    checks = sum(len(participant.listings) * MINUTES_PER_DAY / participant.params.check_minutes
                 for participant in model.participants)
    needs = sum(group.params.needs_per_day for group in model.groups)
    per_day = needs + ticks + checks + 10 * (len(model.issues) + len(model.listings)) + 100
    return RunBudget(last_day, math.ceil(10 * per_day * last_day))


def watch_budget(env: simpy.Environment, model: Model, budget: RunBudget):
    """A process that stops the run, raising `RunDidNotEnd` with its cause, once it goes past its
    budget; it checks at each day's end and leaves when nothing else is scheduled, so a run that
    ends by itself ends as it would without it."""
    scheduled = getattr(env, "_eid", None)  # SimPy's event counter: the id the next event will get
    queue = getattr(env, "_queue", None)  # SimPy's event queue (read directly: `peek` may be patched in tests)
    day = 0
    while (queue if queue is not None else env.peek() < math.inf):  # something else is still scheduled
        if day >= budget.last_day:
            raise RunDidNotEnd(_why_not_ended(model, f"it was still going {day - model.scenario.horizon_days} "
                                                     "business days after the horizon"))
        if scheduled is not None and next(scheduled) > budget.events:
            raise RunDidNotEnd(_why_not_ended(model, f"it had scheduled more than {budget.events:,} events by day {day}"))
        day += 1
        yield env.timeout(day - env.now)


def simulate(model: Model) -> None:
    """Run the model's event loop to its end (its budget's watch stops a run that would not end)."""
    with deferred_collection():
        model.env.run()


def _why_not_ended(model: Model, budget_text: str) -> str:
    """The cause of a run that would not end, as far as the model can tell."""
    stuck = [listing for listing, trades in enumerate(model.settlement.outstanding_trades) if trades]
    causes = []
    for venue in dict.fromkeys(model.listings[listing].venue for listing in stuck):
        if venue.spec.fail_probability >= 1.0 and model.spec.buy_in_after_fails is None:
            causes.append(f"trades on venue {venue.name} can never settle: fail probability 1 at "
                          f"T+{venue.settlement_cycle_days} and buy-ins off (settlement.buy_in_after_fails: null)")
        elif model.spec.buy_in_after_fails is None:
            causes.append(f"trades on venue {venue.name} wait for units or cash that never arrive "
                          f"(a seller short of units, a buyer short of cash) and buy-ins are off "
                          f"(settlement.buy_in_after_fails: null)")
    if not causes and stuck:
        causes.append(f"{sum(model.settlement.outstanding_trades):,} trades were still unsettled")
    cause = "; ".join(causes) or "the model still had events scheduled"
    return f"the run of {model.scenario.name} did not end: {cause} ({budget_text}); it was stopped"
