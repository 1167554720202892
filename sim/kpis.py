"""The KPIs of a run, declared in one table and computed from the run's tables.

Each KPI has a name, unit, meaning and formula (`declared_kpis`), so outputs, reports and
documentation read the same list. Some KPIs exist once per instrument, form or group; the
settlement-economics KPIs follow the declared ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.scenario.schema import FORMS, Scenario
from sim.settlement_economics import settlement_kpis
from sim.tables import RunTables


FISCAL_KPIS = ("stamp_duty_hkd", "grants_paid_hkd")
"""The KPIs that are money the government collects or pays: the report shows them as the policy's fiscal cost."""


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str
    meaning: str
    compute: Callable[[RunTables], float]


def _value(trades: pd.DataFrame, **where: str) -> float:
    mask = np.ones(len(trades), dtype=bool)
    for column, wanted in where.items():
        mask &= (trades[column] == wanted).to_numpy()
    return float(trades.loc[mask, "value_hkd"].sum())


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _investor_trades(r: RunTables) -> pd.DataFrame:
    return r.trades[r.trades["taker_group"].isin(list(r.scenario.investors))]


def _mean_spread(r: RunTables, form: str) -> float:
    spreads = r.quotes.loc[r.quotes["form"] == form, "spread_bps"]
    return float(spreads.mean()) if len(spreads) else float("nan")


def _abs_premium(r: RunTables, kind: str = "etf") -> float:
    premiums = r.quotes.loc[r.quotes["instrument_type"] == kind, "premium_bps"]
    return float(premiums.abs().mean()) if len(premiums) else float("nan")


def _created(r: RunTables, kind: str) -> float:
    """Units of instruments of this type created less units redeemed."""
    return float(r.daily.loc[r.daily["instrument_type"] == kind, "created_units"].sum())


def _duty(trades: pd.DataFrame) -> float:
    return float((trades["buyer_duty_cents"].sum() + trades["seller_duty_cents"].sum()) / 100.0)


def _total(column: str) -> Callable[[RunTables], float]:
    return lambda r: float(_investor_trades(r)[column].sum())


def declared_kpis(scenario: Scenario) -> list[Kpi]:
    """Every KPI of a run of this scenario, in report order."""
    kpis = [
        Kpi("turnover_hkd_tokenized", "HKD", "Value traded in tokenized form", lambda r: _value(r.trades, form="tokenized")),
        Kpi("turnover_hkd_conventional", "HKD", "Value traded in conventional form", lambda r: _value(r.trades, form="conventional")),
        Kpi("tokenized_share", "fraction", "Tokenized share of all value traded",
            lambda r: _share(_value(r.trades, form="tokenized"), float(r.trades["value_hkd"].sum()))),
        Kpi("stamp_duty_hkd", "HKD", "Stamp duty collected, both sides", lambda r: _duty(r.trades)),
        Kpi("investor_cost_hkd", "HKD", "Investors' duty, fees and spread paid against fair value",
            lambda r: _total("taker_duty_hkd")(r) + _total("taker_fees_hkd")(r) + _total("taker_spread_hkd")(r)),
        Kpi("investor_duty_hkd", "HKD", "Stamp duty paid by investors", _total("taker_duty_hkd")),
        Kpi("investor_fees_hkd", "HKD", "Fees and levies paid by investors", _total("taker_fees_hkd")),
        Kpi("investor_spread_hkd", "HKD", "Spread paid by investors against fair value", _total("taker_spread_hkd")),
        Kpi("avg_spread_bps_tokenized", "bps", "Mean quoted spread on tokenized order books", lambda r: _mean_spread(r, "tokenized")),
        Kpi("avg_spread_bps_conventional", "bps", "Mean quoted spread on conventional order books", lambda r: _mean_spread(r, "conventional")),
        Kpi("trades", "count", "Number of trades", lambda r: float(len(r.trades))),
        Kpi("needs", "count", "Trading needs that arose", lambda r: float(r.groups["needs"].sum())),
        Kpi("needs_traded_share", "fraction", "Share of needs that traded at all",
            lambda r: _share(float(r.groups["traded"].sum()), float(r.groups["needs"].sum()))),
        Kpi("etf_mean_abs_premium_bps", "bps", "Mean absolute premium of ETF mid quotes to NAV", _abs_premium),
        Kpi("etf_units_created", "units", "ETF units created less units redeemed", lambda r: _created(r, "etf")),
        Kpi("avg_unsettled_hkd", "HKD", "Mean end-of-day value awaiting settlement, all venues",
            lambda r: float(r.daily.groupby("day")["unsettled_hkd"].sum().mean())),
        Kpi("settlement_fails", "count", "Failed settlement attempts", lambda r: float(r.daily["fails"].sum())),
        Kpi("settlement_failed_hkd", "HKD", "Value of failed settlement attempts", lambda r: float(r.daily["failed_hkd"].sum())),
    ]
    types = sorted({i.type for i in scenario.instruments.values()} | {p.instrument_type for p in scenario.programmes().values()})
    for kind in types:
        kpis.append(Kpi(f"tokenized_share_{kind}", "fraction", f"Tokenized share of {kind} value traded",
                        lambda r, k=kind: _share(_value(r.trades, form="tokenized", instrument_type=k), _value(r.trades, instrument_type=k))))
        kpis.append(Kpi(f"stamp_duty_hkd_{kind}", "HKD", f"Stamp duty collected on {kind} transfers",
                        lambda r, k=kind: _duty(r.trades[r.trades["instrument_type"] == k])))
    for name in scenario.instruments:
        for form in FORMS:
            kpis.append(Kpi(f"turnover_hkd_{name}_{form}", "HKD", f"Value traded in {name}, {form} form",
                            lambda r, n=name, f=form: _value(r.trades, instrument=n, form=f)))
    if "commodity_token" in types:
        kpis += [
            Kpi("commodity_token_mean_abs_premium_bps", "bps", "Mean absolute premium of commodity token mid quotes to their backing",
                lambda r: _abs_premium(r, "commodity_token")),
            Kpi("commodity_token_units_created", "units", "Commodity tokens created less tokens redeemed",
                lambda r: _created(r, "commodity_token")),
        ]
    if scenario.issuers:
        kpis.extend(_issuance_kpis())
    if "revenue_token" in types:
        kpis.extend(_revenue_kpis())
    for group in scenario.investors:
        kpis.append(Kpi(f"turnover_hkd_tokenized_{group}", "HKD", f"Tokenized value traded by {group} investors",
                        lambda r, g=group: _value(r.trades, form="tokenized", taker_group=g)))
        kpis.append(Kpi(f"adoption_share_{group}", "fraction", f"Share of {group} accounts onboarded at the end",
                        lambda r, g=group: float(r.groups.loc[r.groups["group_name"] == g, "onboarded_share"].iloc[-1])))
    return kpis


def _bond_issues(r: RunTables) -> pd.DataFrame:
    return r.issuance[r.issuance["kind"] == "bond issue"]


def _issued(r: RunTables, form: str) -> pd.DataFrame:
    issues = _bond_issues(r)
    return issues[issues["form"] == form]


def _mean_or_nan(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else float("nan")


def _retail_allocated(r: RunTables) -> float:
    """Units allocated to the groups flagged `retail`, whatever their names."""
    issues = _bond_issues(r)
    columns = [f"allocated_units_{name}" for name, group in r.scenario.investors.items() if group.retail]
    return float(sum(issues[c].sum() for c in columns if c in issues))


def _issuance_kpis() -> list[Kpi]:
    kpis = [
        Kpi("grants_paid_hkd", "HKD", "Issuance grants paid (a fiscal cost)", lambda r: float(r.issuance["grant_hkd"].sum())),
        Kpi("retail_allocation_share", "fraction", "Share of all units allocated in new issues to retail groups "
            "(investor groups flagged `retail`)", lambda r: _share(_retail_allocated(r), float(_bond_issues(r)["allocated_units"].sum()))),
    ]
    for form in FORMS:
        kpis += [
            Kpi(f"issued_hkd_{form}", "HKD", f"Face value issued in {form} form", lambda r, f=form: float(_issued(r, f)["size_hkd"].sum())),
            Kpi(f"issue_cost_bps_{form}", "bps", f"Mean issuer cost net of grants, {form} issues",
                lambda r, f=form: _mean_or_nan(_issued(r, f)["net_cost_bps"])),
            Kpi(f"days_to_settle_{form}", "days", f"Mean business days from allocation to settlement, {form} issues",
                lambda r, f=form: _mean_or_nan(_issued(r, f)["days_to_settle"])),
            Kpi(f"distinct_holders_{form}", "count", f"Mean distinct holders per {form} issue",
                lambda r, f=form: _mean_or_nan(_issued(r, f)["distinct_holders"])),
            Kpi(f"cash_locked_hkd_days_{form}", "HKD-days", f"Investor cash locked from allocation to settlement, {form} issues",
                lambda r, f=form: float(_issued(r, f)["cash_locked_hkd_days"].sum())),
        ]
    return kpis


def _revenue_kpis() -> list[Kpi]:
    def issued(r: RunTables) -> pd.DataFrame:
        return r.issuance[r.issuance["kind"] == "revenue token issue"]

    def distributions(r: RunTables) -> pd.DataFrame:  # within the horizon (the desk pays on while trades settle)
        return r.payments[(r.payments["kind"] == "distribution") & (r.payments["day"] < r.scenario.horizon_days)]

    return [
        Kpi("revenue_tokens_issued_hkd", "HKD", "Value of revenue tokens sold in their issues", lambda r: float(issued(r)["size_hkd"].sum())),
        Kpi("revenue_token_discount_rate", "fraction", "Mean discount rate at which revenue token issues cleared",
            lambda r: _mean_or_nan(issued(r)["clearing_yield"])),
        Kpi("distributions_paid_hkd", "HKD", "Revenue distributed to revenue token holders within the horizon",
            lambda r: float(distributions(r)["paid_hkd"].sum())),
        Kpi("distributed_output_kwh", "kWh", "Project output behind the distributions paid",
            lambda r: float(distributions(r)["output_kwh"].sum())),
    ]


def compute_kpis(tables: RunTables) -> dict[str, float]:
    """Every declared KPI of one run, in declaration order, then the settlement-economics KPIs."""
    kpis = {kpi.name: kpi.compute(tables) for kpi in declared_kpis(tables.scenario)}
    return kpis | settlement_kpis(tables.settlement)
