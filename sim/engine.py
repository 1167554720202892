"""Scenario + seed -> a wired SimPy model -> a checked RunResult.

The engine opens the accounts, builds venues, market makers and investor groups from the
validated scenario, runs the SimPy environment to the horizon and on until every trade has
settled, checks the accounting invariants, and hands the recorded tables to `metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import simpy

from sim.market.costs import CostSchedule
from sim.market.investors import InvestorGroup
from sim.market.ledger import AccountingError, Ledger
from sim.market.market_maker import MarketMaker
from sim.market.nav import NavPath
from sim.market.random_streams import stream
from sim.market.settlement import Settlement
from sim.market.trading import Market
from sim.market.venue import Venue
from sim.metrics import compute_kpis, daily_table, trades_table
from sim.recorder import Recorder
from sim.scenario.schema import FORMS, Scenario

SHARED_COLLECTORS = ("government", "SFC", "AFRC", "network")


@dataclass(frozen=True)
class RunResult:
    """What one run of one scenario with one seed produced."""

    scenario: Scenario
    seed: int
    trades: pd.DataFrame
    daily: pd.DataFrame
    kpis: dict[str, float]


@dataclass
class Model:
    """The wired components of one run (exposed so tests can inspect and tamper with them)."""

    env: simpy.Environment
    ledger: Ledger
    recorder: Recorder
    settlement: Settlement
    venues: list[Venue]
    market_makers: list[MarketMaker]
    groups: list[InvestorGroup]


def build(scenario: Scenario, seed: int) -> Model:
    """Open accounts and wire every component into a fresh SimPy environment."""
    env = simpy.Environment()
    horizon = scenario.horizon_days
    ledger = Ledger(n_assets=len(FORMS))
    recorder = Recorder()
    collectors = {name: ledger.open_account(name, "collector") for name in SHARED_COLLECTORS}
    nav = NavPath(scenario.etf.nav, horizon, stream(seed, "nav"))
    tick_cents = round(scenario.etf.tick_size_hkd * 100)
    duty = scenario.policy.stamp_duty
    venues = []
    for index, (name, params) in enumerate(scenario.venues.items()):
        fee_collectors = {
            "trading_fee_bps": ledger.open_account(f"{name}:operator", "collector"),
            "settlement_fee_bps": ledger.open_account(f"{name}:settlement", "collector"),
            "sfc_levy_bps": collectors["SFC"],
            "afrc_levy_bps": collectors["AFRC"],
        }
        costs = CostSchedule(
            params.fees, getattr(duty, f"{params.form}_etf"), fee_collectors,
            government=collectors["government"], network=collectors["network"],
        )
        venues.append(Venue(name, index, params, FORMS.index(params.form), tick_cents, costs))
    settlement = Settlement(ledger, recorder, len(venues), horizon)
    makers = []
    for venue, params in zip(venues, scenario.venues.values()):
        mm = params.market_maker
        units = tuple(mm.initial_units if asset == venue.asset else 0 for asset in range(len(FORMS)))
        account = ledger.open_account(f"{venue.name}:market_maker", "market_maker", _cents(mm.initial_cash_hkd), units)
        makers.append(MarketMaker(account, venue, mm, ledger, nav, recorder, duty.market_maker_exempt))
    exempt = {maker.account for maker in makers} if duty.market_maker_exempt else set()
    market = Market(ledger, recorder, settlement, nav, exempt)
    market.after_trade = {maker.venue.index: maker.after_trade for maker in makers}
    groups = []
    for index, (name, params) in enumerate(scenario.investors.items()):
        units = tuple(params.initial_units.get(form, 0) for form in FORMS)
        first = len(ledger.accounts)
        for k in range(params.accounts):
            ledger.open_account(f"{name}:{k}", name, _cents(params.initial_cash_hkd), units)
        allowed = {"conventional": params.conventional_access, "tokenized": params.tokenized_access}
        channels = [venue for venue in venues if allowed[venue.form]]
        groups.append(
            InvestorGroup(index, params, first, channels, market, ledger, nav, recorder, stream(seed, f"needs:{name}"))
        )
    for maker in makers:
        env.process(maker.process(env, horizon))
    for group in groups:
        env.process(group.process(env, horizon))
    env.process(settlement.process(env))
    return Model(env, ledger, recorder, settlement, venues, makers, groups)


def check_invariants(model: Model) -> None:
    """Units and cash conserved, nothing negative, every trade settled: otherwise fail loudly."""
    model.ledger.check()
    unsettled = model.recorder.unsettled_trades()
    if unsettled:
        raise AccountingError(f"accounting check failed: {unsettled} trades neither settled nor failed")


def run(scenario: Scenario, seed: int | None = None) -> RunResult:
    """Run one scenario once; `seed` defaults to the scenario's own."""
    seed = scenario.seed if seed is None else seed
    model = build(scenario, seed)
    model.env.run()
    check_invariants(model)
    trades = trades_table(model.recorder, model.venues, model.ledger)
    daily = daily_table(model.recorder, model.venues, scenario.horizon_days)
    kpis = compute_kpis(trades, daily, model.recorder, scenario)
    return RunResult(scenario, seed, trades, daily, kpis)


def _cents(hkd: float) -> int:
    return round(hkd * 100)
