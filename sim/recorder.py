"""Columnar recording: each table's rows are packed, one after another, into one growing buffer.

The event loop only packs plain numbers into bytes (each value at its column type's size, 8 bytes
or less, no padding and no Python object per row): one precompiled `struct` call per row.
pandas DataFrames are built once, when the run ends, from numpy's view of the buffer.
"""

from __future__ import annotations

from struct import Struct
from typing import NamedTuple

import numpy as np
import pandas as pd


class TradeRow(NamedTuple):
    """One trade as recorded: the trade table's columns, in order (`TRADE_COLUMNS` must match)."""

    time: float
    day: int
    listing: int
    price_cents: int
    quantity: int
    buyer: int
    seller: int
    taker_side: int
    fair_value_hkd: float
    buyer_duty_cents: int
    seller_duty_cents: int
    buyer_fees_cents: int
    seller_fees_cents: int
    settled_day: int  # -1 until it settles
    fails: int  # failed settlement attempts


TRADE_COLUMNS = {
    "time": "d",
    "day": "i",
    "listing": "i",
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
    "fails": "i",
}
QUOTE_COLUMNS = {
    "time": "d",
    "day": "i",
    "listing": "i",
    "bid_cents": "q",
    "ask_cents": "q",
    "bid_depth": "q",
    "ask_depth": "q",
    "fair_value_hkd": "d",
}
SETTLEMENT_COLUMNS = {
    "day": "i",
    "listing": "i",
    "unsettled_cents": "q",
    "unsettled_trades": "q",
    "fails": "q",
    "failed_cents": "q",
}
GROUP_COLUMNS = {"day": "i", "group": "i", "needs": "q", "traded": "q", "onboarded_share": "d"}
ISSUE_COLUMNS = {
    "issue": "i",
    "announce_day": "i",
    "close_day": "i",
    "settle_day": "i",
    "offered_units": "q",
    "allocated_units": "q",
    "orders": "q",
    "demand_units": "q",  # units ordered (the book, inflated)
    "wanted_units": "q",  # units the orders' investors want (before inflating for the expected scale-back)
    "expected_cover_ratio": "d",  # the cover investors expect (previous issue's true cover, at least 1); inflating groups scale orders by it
    "market_yield": "d",
    "clearing_yield": "d",
    "distinct_holders": "q",
    "fixed_cost_cents": "q",
    "proportional_cost_cents": "q",
    "grant_cents": "q",
    "cash_locked_hkd_days": "d",
}
ALLOCATION_COLUMNS = {"issue": "i", "group": "i", "units": "q"}  # group -1: the market maker
PAYMENT_COLUMNS = {"day": "i", "issue": "i", "principal": "b", "holders": "q", "units": "q", "cents": "q"}
# stamp_duty_cents: the authorised participant's duty line on the basket: its purchase or sale where that is not
# a trade of the run (the basket is not a share of the run), and its transfer into or out of the fund unless relieved
CONVERSION_COLUMNS = {"time": "d", "day": "i", "from_asset": "i", "to_asset": "i", "units": "q", "fee_cents": "q"}
CREATION_COLUMNS = {"time": "d", "day": "i", "listing": "i", "created_units": "q", "nav_hkd": "d", "stamp_duty_cents": "q"}


class Table:
    """One table of the run: rows of typed values (`array` type codes), packed without padding."""

    def __init__(self, columns: dict[str, str], record: type[tuple] | None = None) -> None:
        """`record`, if given, is the named record whose fields are the columns, in order (checked here,
        so that a column added, dropped or moved in one but not the other fails at once)."""
        if record is not None and record._fields != tuple(columns):
            raise TypeError(f"{record.__name__} fields {record._fields} differ from the columns {tuple(columns)}")
        self.dtype = np.dtype([(name, "=" + code) for name, code in columns.items()])
        self.row_bytes = self.dtype.itemsize
        self._rows = bytearray()  # grown in place, never replaced: columns keep a reference
        self._pack = Struct("=" + "".join(columns.values())).pack
        self.columns = {name: Column(self._rows, self.dtype, name) for name in columns}

    def add(self, *row: float) -> int:
        """Append one row (values in column order); return its index."""
        self._rows += self._pack(*row)
        return len(self._rows) // self.row_bytes - 1

    def add_record(self, record: tuple) -> int:
        """Append one row given as the table's named record; return its index."""
        self._rows += self._pack(*record)
        return len(self._rows) // self.row_bytes - 1

    def __len__(self) -> int:
        return len(self._rows) // self.row_bytes

    def nbytes(self) -> int:
        """Memory the rows take, the buffer's over-allocation included."""
        return self._rows.__sizeof__()

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame (built once, at the end of a run)."""
        rows = np.frombuffer(self._rows, self.dtype)
        return pd.DataFrame({name: rows[name].copy() for name in self.dtype.names})


class Column:
    """One column of a table, read and written in place by row index, negative from the end."""

    def __init__(self, rows: bytearray, dtype: np.dtype, name: str) -> None:
        kind, offset = dtype.fields[name]
        cell = Struct("=" + kind.char)
        self._rows, self._row_bytes, self._offset = rows, dtype.itemsize, offset
        self._unpack_from, self._pack_into = cell.unpack_from, cell.pack_into
        self._every_row = Struct(f"={offset}x{kind.char}{dtype.itemsize - offset - cell.size}x")

    def __len__(self) -> int:
        return len(self._rows) // self._row_bytes

    def __getitem__(self, row: int) -> float:
        return self._unpack_from(self._rows, row * self._row_bytes + self._offset)[0]

    def __setitem__(self, row: int, value: float) -> None:
        self._pack_into(self._rows, row * self._row_bytes + self._offset, value)

    def __iter__(self):
        return iter([value for value, in self._every_row.iter_unpack(self._rows)])


class Recorder:
    """All tables a run records."""

    def __init__(self) -> None:
        self.trades = Table(TRADE_COLUMNS, TradeRow)
        self.quotes = Table(QUOTE_COLUMNS)
        self.settlement = Table(SETTLEMENT_COLUMNS)
        self.groups = Table(GROUP_COLUMNS)
        self.creations = Table(CREATION_COLUMNS)  # and redemptions (negative) of every backed instrument
        self.issues = Table(ISSUE_COLUMNS)
        self.allocations = Table(ALLOCATION_COLUMNS)
        self.payments = Table(PAYMENT_COLUMNS)
        self.conversions = Table(CONVERSION_COLUMNS)  # units sent from one form to the other (`sim.market.conversion`)
        self._fails = self.trades.columns["fails"]

    def mark_failed(self, trade: int) -> None:
        self._fails[trade] += 1

