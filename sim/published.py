"""Published Hong Kong market figures: the CSV files in `data/`, read, checked and looked up.

Calibration targets and out-of-sample validation rows need the facts the model is measured
against (HKEX turnover around the stamp duty changes, tender cover ratios, tokenized bond
sizes) as numbers with their source, not as prose. Each file in `data/` holds one published
figure per row in one schema (`COLUMNS`); this module reads a file, refuses it whole if any row
breaks the schema (naming the file, the line, the column, the value and what was expected),
and looks single figures up by series and period.

It sits at the bottom of the package's layers and imports nothing else from `sim`.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
"""The repository's `data/` folder (the project is installed editable, so it sits beside `sim/`)."""

COLUMNS = ("series", "period", "value", "unit", "source", "source_date", "note")
"""Every file's columns, in this order. Only `note` may be empty."""

UNITS = frozenset(
    {
        "HKD",  # a price or a tick, in Hong Kong dollars
        "HKD_m",
        "HKD_bn",
        "HKD_bn_per_year",
        "RMB_bn",
        "USD_m",
        "USD_bn",
        "EUR_m",
        "EUR_bn",
        "percent",  # 0.13 means 0.13%
        "ratio",  # a pure number: bid-to-cover, turnover over assets
        "count",
        "years",
        "business_days",
        "days",  # calendar days
        "USD",  # a price in US dollars (a dollar stablecoin's: par is 1)
    }
)

_YEAR = re.compile(r"(\d{4})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_FISCAL_YEAR = re.compile(r"FY(\d{4})-(\d{2})")
PERIOD_FORMS = "a year 2024, a month 2021-08, a day 2025-07-23 or a fiscal year FY2024-25"


class PublishedDataError(ValueError):
    """A data file that breaks the schema; `str()` names the file, line, column and value."""


class UnknownFigure(LookupError):
    """A series or period that no data file holds; the message names the close matches."""

    def __str__(self) -> str:  # LookupError would quote the message like a dict key
        return str(self.args[0])


@dataclass(frozen=True)
class Figure:
    """One published figure as its file states it."""

    series: str
    period: str
    value: float
    unit: str
    source: str
    source_date: str
    note: str
    file: str


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day a period covers; FY2024-25 is Hong Kong's 1 Apr 2024 - 31 Mar 2025.

    Raises ValueError for anything but the four forms in `PERIOD_FORMS`.
    """
    if match := _FISCAL_YEAR.fullmatch(period):
        start = int(match[1])
        if int(match[2]) != (start + 1) % 100:
            raise ValueError(f"fiscal year {period!r} must end the year after it starts")
        return date(start, 4, 1), date(start + 1, 3, 31)
    if match := _DAY.fullmatch(period):
        day = date(int(match[1]), int(match[2]), int(match[3]))  # ValueError if no such day
        return day, day
    if match := _MONTH.fullmatch(period):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"no month {month} in {period!r}")
        return date(year, month, 1), date(year, month, monthrange(year, month)[1])
    if match := _YEAR.fullmatch(period):
        year = int(match[1])
        return date(year, 1, 1), date(year, 12, 31)
    raise ValueError(f"{period!r} is not {PERIOD_FORMS}")


def file_names(folder: Path | None = None) -> list[str]:
    """The data files' names without `.csv`, sorted."""
    return sorted(path.stem for path in (folder or DATA_DIR).glob("*.csv"))


def load(name: str, folder: Path | None = None) -> pd.DataFrame:
    """One data file (`name` without `.csv`) as a DataFrame, checked row by row first."""
    folder = folder or DATA_DIR
    path = folder / f"{name}.csv"
    if not path.is_file():
        known = ", ".join(file_names(folder)) or "none"
        raise PublishedDataError(f"{path}: no such data file (files in {folder}: {known})")
    rows = _checked_rows(path)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["value"] = frame["value"].astype(float)
    return frame


def figures(folder: Path | None = None) -> pd.DataFrame:
    """Every data file's rows in one DataFrame, with a `file` column; a (series, period) that
    two files both hold is refused, since a lookup could not tell them apart."""
    folder = folder or DATA_DIR
    names = file_names(folder)
    if not names:
        raise PublishedDataError(f"{folder}: no data files (*.csv)")
    frames = [load(name, folder).assign(file=name) for name in names]
    table = pd.concat(frames, ignore_index=True)
    twice = table[table.duplicated(["series", "period"], keep=False)]
    if not twice.empty:
        first = twice.iloc[0]
        files = sorted(twice.loc[twice["series"].eq(first["series"]) & twice["period"].eq(first["period"]), "file"])
        raise PublishedDataError(
            f"{folder}: series {first['series']!r} period {first['period']!r} is in more than one file "
            f"({', '.join(files)}); expected each (series, period) once"
        )
    return table


def figure(series: str, period: str, folder: Path | None = None) -> Figure:
    """The figure for `series` in `period`, as its file states it.

    Raises UnknownFigure naming the close matches (series names, or the series' periods).
    """
    table = figures(folder)
    of_series = table[table["series"] == series]
    if of_series.empty:
        known = sorted(table["series"].unique())
        near = difflib.get_close_matches(series, known, n=5, cutoff=0.6)
        hint = f"did you mean {', '.join(near)}?" if near else f"known series: {', '.join(known)}"
        raise UnknownFigure(f"no published series {series!r}; {hint}")
    row = of_series[of_series["period"] == period]
    if row.empty:
        periods = sorted(of_series["period"])
        near = difflib.get_close_matches(period, periods, n=3, cutoff=0.6)
        hint = f"closest: {', '.join(near)}; " if near else ""
        raise UnknownFigure(
            f"series {series!r} has no figure for period {period!r}; {hint}its periods: {', '.join(periods)}"
        )
    found = row.iloc[0]
    fields = {column: str(found[column]) for column in (*COLUMNS, "file") if column != "value"}
    return Figure(value=float(found["value"]), **fields)


def _checked_rows(path: Path) -> list[list[str]]:
    """The file's data rows as text, or a PublishedDataError for the first row that is wrong."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle, strict=True))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise PublishedDataError(f"{path}: cannot be read as UTF-8 CSV ({error})") from error
    if not lines:
        raise PublishedDataError(f"{path}: empty file; expected the header {','.join(COLUMNS)}")
    header = [name.strip() for name in lines[0]]
    missing = [name for name in COLUMNS if name not in header]
    extra = [name for name in header if name not in COLUMNS]
    if missing or extra or tuple(header) != COLUMNS:
        detail = "; ".join(
            part
            for part in (
                f"missing column(s) {', '.join(missing)}" if missing else "",
                f"unexpected column(s) {', '.join(extra)}" if extra else "",
            )
            if part
        ) or "columns out of order"
        raise PublishedDataError(f"{path}: line 1: {detail}; expected the header {','.join(COLUMNS)}")
    rows = []
    seen: dict[tuple[str, str], int] = {}
    for line_number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(cells) != len(COLUMNS):
            raise PublishedDataError(
                f"{path}: line {line_number}: {len(cells)} cells; expected {len(COLUMNS)} ({','.join(COLUMNS)})"
            )
        row = dict(zip(COLUMNS, (cell.strip() for cell in cells)))
        _check_row(path, line_number, row)
        key = (row["series"], row["period"])
        if key in seen:
            raise PublishedDataError(
                f"{path}: line {line_number}: series {key[0]!r} period {key[1]!r} repeats line {seen[key]}; "
                "expected each (series, period) once"
            )
        seen[key] = line_number
        rows.append([row[column] for column in COLUMNS])
    if not rows:
        raise PublishedDataError(f"{path}: no figures below the header")
    return rows


def _check_row(path: Path, line: int, row: dict[str, str]) -> None:
    def refuse(column: str, expected: str) -> PublishedDataError:
        return PublishedDataError(f"{path}: line {line}: {column} = {row[column]!r}: expected {expected}")

    for column in COLUMNS:
        if column != "note" and not row[column]:
            raise refuse(column, "a value (only note may be empty)")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", row["series"]):
        raise refuse("series", "a lower-case name of letters, digits and underscores")
    try:
        period_bounds(row["period"])
    except ValueError as error:
        raise refuse("period", f"{PERIOD_FORMS} ({error})") from error
    try:
        value = float(row["value"])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise refuse("value", "a finite number such as 16.0 or -0.2")
    if row["unit"] not in UNITS:
        near = difflib.get_close_matches(row["unit"], sorted(UNITS), n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise refuse("unit", f"one of {', '.join(sorted(UNITS))}{hint}")
    source_date = row["source_date"]
    if _FISCAL_YEAR.fullmatch(source_date) or not _valid_period(source_date):
        raise refuse("source_date", "the publication date: 2025-10-21, or 2025-10 or 2025 where the day is not shown")


def _valid_period(text: str) -> bool:
    try:
        period_bounds(text)
    except ValueError:
        return False
    return True
