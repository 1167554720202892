"""Tables and KPIs of a run, built once from the recorded columns.

`trades` is the trade table with names and values attached, `daily` has one row per business
day and venue, and the KPIs are declared in one table (`KPIS`): name, unit, meaning and how to
compute it, so that outputs, reports and documentation all read the same list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.market.ledger import Ledger
from sim.market.orderbook import BUY
from sim.market.venue import Venue
from sim.recorder import Recorder
from sim.scenario.schema import Scenario


def trades_table(recorder: Recorder, venues: list[Venue], ledger: Ledger) -> pd.DataFrame:
    """Recorded trades with venue, form, investor groups and HKD values attached."""
    trades = recorder.trades.frame()
    groups = np.array([account.group for account in ledger.accounts], dtype=object)
    trades.insert(3, "venue_name", np.array([v.name for v in venues], dtype=object)[trades["venue"]])
    trades.insert(4, "form", np.array([v.form for v in venues], dtype=object)[trades["venue"]])
    trades["buyer_group"] = groups[trades["buyer"]]
    trades["seller_group"] = groups[trades["seller"]]
    trades["value_hkd"] = trades["price_cents"] * trades["quantity"] / 100.0
    trades["premium_bps"] = (trades["price_cents"] / 100.0 / trades["nav_hkd"] - 1.0) * 10_000.0
    taker_buys = trades["taker_side"] == BUY
    duty = np.where(taker_buys, trades["buyer_duty_cents"], trades["seller_duty_cents"])
    fees = np.where(taker_buys, trades["buyer_fees_cents"], trades["seller_fees_cents"])
    trades["taker_duty_hkd"] = duty / 100.0
    trades["taker_fees_hkd"] = fees / 100.0
    trades["taker_spread_cost_hkd"] = trades["taker_side"] * trades["premium_bps"] / 10_000.0 * trades["nav_hkd"] * trades["quantity"]
    return trades


def daily_table(recorder: Recorder, venues: list[Venue], horizon_days: int) -> pd.DataFrame:
    """One row per business day and venue: volume, trades, spreads, NAV, price, premium, exposure."""
    index = pd.MultiIndex.from_product([range(horizon_days), range(len(venues))], names=["day", "venue"])
    trades = recorder.trades.frame()
    trades["value_hkd"] = trades["price_cents"] * trades["quantity"] / 100.0
    trades["premium_value"] = (trades["price_cents"] / 100.0 / trades["nav_hkd"] - 1.0) * trades["value_hkd"]
    by_day = trades.groupby(["day", "venue"])
    flows = pd.DataFrame(
        {
            "volume_units": by_day["quantity"].sum(),
            "volume_hkd": by_day["value_hkd"].sum(),
            "trades": by_day["quantity"].size(),
            "last_price_hkd": by_day["price_cents"].last() / 100.0,
            "premium_bps": by_day["premium_value"].sum() / by_day["value_hkd"].sum() * 10_000.0,
        }
    ).reindex(index)
    for column in ("volume_units", "volume_hkd", "trades"):
        flows[column] = flows[column].fillna(0)
    flows["volume_units"] = flows["volume_units"].astype("int64")
    flows["trades"] = flows["trades"].astype("int64")
    quotes = two_sided_quotes(recorder)
    by_quote_day = quotes.groupby(["day", "venue"])
    flows["quoted_spread_bps"] = by_quote_day["spread_bps"].mean().reindex(index)
    flows["depth_at_best_units"] = by_quote_day["depth_units"].mean().reindex(index)
    flows["nav_hkd"] = recorder.quotes.frame().groupby("day")["nav_hkd"].last().reindex(index.get_level_values("day")).to_numpy()
    exposure = recorder.exposure.frame().set_index(["day", "venue"])
    flows["unsettled_hkd"] = exposure["unsettled_cents"].reindex(index).fillna(0).to_numpy() / 100.0
    daily = flows.reset_index()
    daily.insert(2, "venue_name", [venues[v].name for v in daily["venue"]])
    daily.insert(3, "form", [venues[v].form for v in daily["venue"]])
    return daily


def two_sided_quotes(recorder: Recorder) -> pd.DataFrame:
    """Quote samples with both sides present, with the quoted spread in bps of the mid."""
    quotes = recorder.quotes.frame()
    quotes = quotes[(quotes["bid_cents"] > 0) & (quotes["ask_cents"] > 0)].copy()
    mid = (quotes["bid_cents"] + quotes["ask_cents"]) / 2.0
    quotes["spread_bps"] = (quotes["ask_cents"] - quotes["bid_cents"]) / mid * 10_000.0
    quotes["depth_units"] = (quotes["bid_depth"] + quotes["ask_depth"]) / 2.0
    return quotes


@dataclass(frozen=True)
class RunTables:
    """What KPI formulas read."""

    trades: pd.DataFrame
    daily: pd.DataFrame
    needs: pd.DataFrame
    quotes: pd.DataFrame
    scenario: Scenario


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str
    meaning: str
    compute: Callable[[RunTables], float]


def _turnover(form: str) -> Callable[[RunTables], float]:
    return lambda r: float(r.trades.loc[r.trades["form"] == form, "value_hkd"].sum())


def _spread(form: str) -> Callable[[RunTables], float]:
    def mean_spread(r: RunTables) -> float:
        venues = [i for i, v in enumerate(r.scenario.venues.values()) if v.form == form]
        spreads = r.quotes.loc[r.quotes["venue"].isin(venues), "spread_bps"]
        return float(spreads.mean()) if len(spreads) else float("nan")

    return mean_spread


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _investor_cost(r: RunTables) -> float:
    t = r.trades
    return float(t["taker_duty_hkd"].sum() + t["taker_fees_hkd"].sum() + t["taker_spread_cost_hkd"].sum())


def _mean_abs_premium(r: RunTables) -> float:
    t = r.trades
    total = t["value_hkd"].sum()
    return float((t["premium_bps"].abs() * t["value_hkd"]).sum() / total) if total > 0 else float("nan")


KPIS: tuple[Kpi, ...] = (
    Kpi("turnover_hkd_tokenized", "HKD", "Value traded in tokenized units", _turnover("tokenized")),
    Kpi("turnover_hkd_conventional", "HKD", "Value traded in conventional units", _turnover("conventional")),
    Kpi(
        "tokenized_share", "fraction", "Tokenized share of all value traded",
        lambda r: _share(_turnover("tokenized")(r), float(r.trades["value_hkd"].sum())),
    ),
    Kpi(
        "stamp_duty_hkd", "HKD", "Stamp duty collected, both sides, all forms",
        lambda r: float((r.trades["buyer_duty_cents"].sum() + r.trades["seller_duty_cents"].sum()) / 100.0),
    ),
    Kpi(
        "fees_hkd", "HKD", "Fees and levies collected, both sides",
        lambda r: float((r.trades["buyer_fees_cents"].sum() + r.trades["seller_fees_cents"].sum()) / 100.0),
    ),
    Kpi("investor_cost_hkd", "HKD", "Investors' duty, fees and spread paid against NAV", _investor_cost),
    Kpi("avg_spread_bps_tokenized", "bps", "Mean quoted spread on tokenized venues", _spread("tokenized")),
    Kpi("avg_spread_bps_conventional", "bps", "Mean quoted spread on conventional venues", _spread("conventional")),
    Kpi("trades", "count", "Number of trades", lambda r: float(len(r.trades))),
    Kpi("needs", "count", "Trading needs that arose", lambda r: float(r.needs["needs"].sum())),
    Kpi(
        "needs_traded_share", "fraction", "Share of needs that traded at all",
        lambda r: _share(float(r.needs["traded"].sum()), float(r.needs["needs"].sum())),
    ),
    Kpi("etf_mean_abs_premium_bps", "bps", "Value-weighted mean absolute premium to NAV", _mean_abs_premium),
    Kpi(
        "avg_unsettled_hkd", "HKD", "Mean end-of-day value awaiting settlement, all venues",
        lambda r: float(r.daily.groupby("day")["unsettled_hkd"].sum().mean()),
    ),
)


def compute_kpis(trades: pd.DataFrame, daily: pd.DataFrame, recorder: Recorder, scenario: Scenario) -> dict[str, float]:
    """Every declared KPI of one run, in declaration order."""
    tables = RunTables(trades, daily, recorder.needs.frame(), two_sided_quotes(recorder), scenario)
    return {kpi.name: kpi.compute(tables) for kpi in KPIS}
