"""One run of one scenario with one seed: build, simulate, check, tabulate.

A run composes the layers below it: the engine wires and runs the model, the invariants check
its accounting, and the tables and KPIs are built once from what it recorded. Everything above
(outputs, experiments, validation, the report and the command line) starts from `run` and
reads only the `RunResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pandas as pd
import simpy

from sim.engine import build, simulate
from sim.invariants import check_invariants
from sim.kpis import compute_kpis
from sim.scenario.schema import Scenario
from sim.tables import RunTables


@dataclass(frozen=True)
class RunResult:
    """What one run of one scenario with one seed produced."""

    scenario: Scenario
    seed: int
    trades: pd.DataFrame
    daily: pd.DataFrame
    groups: pd.DataFrame
    issuance: pd.DataFrame
    settlement: pd.DataFrame
    kpis: dict[str, float]
    payments: pd.DataFrame  # coupons, principal and revenue distributions paid to holders of new issues
    money: pd.DataFrame = field(default_factory=pd.DataFrame)  # settlement assets' hours (`sim.money_tables`)
    money_holders: pd.DataFrame = field(default_factory=pd.DataFrame)  # their holder groups' outcomes
    money_venues: pd.DataFrame = field(default_factory=pd.DataFrame)  # trades settled in each, by venue


def run(scenario: Scenario, seed: int | None = None, watch: Callable[[simpy.Environment], Iterator] | None = None,
        ) -> RunResult:
    """Run one scenario once; `seed` defaults to the scenario's own. `watch(env)`, if given, is a
    SimPy process run alongside that only reads the clock (progress reports), never the model."""
    seed = scenario.seed if seed is None else seed
    model = build(scenario, seed)
    if watch is not None:
        model.env.process(watch(model.env))
    simulate(model)
    check_invariants(model)
    tables = RunTables.from_model(model)
    return RunResult(scenario, seed, tables.trades, tables.daily, tables.groups, tables.issuance,
                     tables.settlement, compute_kpis(tables), tables.payments, tables.money, tables.money_holders,
                     tables.money_venues)
