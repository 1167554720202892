"""Columnar recording: each table is a set of typed arrays, appended to row by row.

The event loop only appends plain numbers to `array.array` columns (8 bytes or less per value,
no Python object per row); pandas DataFrames are built once, when the run ends.
"""

from __future__ import annotations

from array import array
from operator import call

import numpy as np
import pandas as pd

TRADE_COLUMNS = {
    "time": "d",
    "day": "i",
    "listing": "b",
    "price_cents": "q",
    "quantity": "q",
    "buyer": "i",
    "seller": "i",
    "taker_side": "b",
    "fair_value_hkd": "d",
    "buyer_duty_cents": "q",
    "seller_duty_cents": "q",
    "buyer_fees_cents": "q",
    "seller_fees_cents": "q",
    "settled_day": "i",
    "fails": "b",
}
QUOTE_COLUMNS = {
    "time": "d",
    "day": "i",
    "listing": "b",
    "bid_cents": "q",
    "ask_cents": "q",
    "bid_depth": "q",
    "ask_depth": "q",
    "fair_value_hkd": "d",
}
SETTLEMENT_COLUMNS = {
    "day": "i",
    "listing": "b",
    "unsettled_cents": "q",
    "unsettled_trades": "q",
    "fails": "q",
    "failed_cents": "q",
}
GROUP_COLUMNS = {"day": "i", "group": "b", "needs": "q", "traded": "q", "onboarded_share": "d"}
ISSUE_COLUMNS = {
    "issue": "i",
    "announce_day": "i",
    "close_day": "i",
    "settle_day": "i",
    "offered_units": "q",
    "allocated_units": "q",
    "orders": "q",
    "demand_units": "q",
    "market_yield": "d",
    "clearing_yield": "d",
    "distinct_holders": "q",
    "fixed_cost_cents": "q",
    "proportional_cost_cents": "q",
    "grant_cents": "q",
    "cash_locked_hkd_days": "d",
}
ALLOCATION_COLUMNS = {"issue": "i", "group": "b", "units": "q"}
PAYMENT_COLUMNS = {"day": "i", "issue": "i", "principal": "b", "holders": "q", "units": "q", "cents": "q"}
ETF_FLOW_COLUMNS = {"time": "d", "day": "i", "listing": "b", "created_units": "q", "nav_hkd": "d"}


class Table:
    """One table of the run, held as typed columns."""

    def __init__(self, columns: dict[str, str]) -> None:
        self.columns = {name: array(code) for name, code in columns.items()}
        self._appends = [column.append for column in self.columns.values()]
        self._length = next(iter(self.columns.values()))

    def add(self, *row: float) -> int:
        """Append one row (values in column order); return its index.

        `any` drives the appends in C (each returns None), with no Python loop per value.
        """
        any(map(call, self._appends, row))
        return len(self._length) - 1

    def __len__(self) -> int:
        return len(self._length)

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame (built once, at the end of a run)."""
        return pd.DataFrame({name: np.array(column) for name, column in self.columns.items()})


class Recorder:
    """All tables a run records."""

    def __init__(self) -> None:
        self.trades = Table(TRADE_COLUMNS)
        self.quotes = Table(QUOTE_COLUMNS)
        self.settlement = Table(SETTLEMENT_COLUMNS)
        self.groups = Table(GROUP_COLUMNS)
        self.etf_flows = Table(ETF_FLOW_COLUMNS)
        self.issues = Table(ISSUE_COLUMNS)
        self.allocations = Table(ALLOCATION_COLUMNS)
        self.payments = Table(PAYMENT_COLUMNS)
        self._settled_day = self.trades.columns["settled_day"]
        self._fails = self.trades.columns["fails"]

    def mark_settled(self, trade: int, day: int) -> None:
        self._settled_day[trade] = day

    def mark_failed(self, trade: int) -> None:
        self._fails[trade] = min(self._fails[trade] + 1, 127)

