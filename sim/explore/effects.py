"""What the page shows of a comparison: the headline effects and the fiscal line, as JSON rows.

Each row is one KPI of `comparison.csv` for the setting (policy minus comparator, paired by
replication, 95% paired-t interval), with its numbers and the same numbers in words, formatted
by the report's own helpers (`sim.report.text`) so that the page and the report read alike.
The fiscal line is the report's: stamp duty over every channel, grants paid, and the net take
(duty less grants), over the horizon and a year's worth of each (`_per_year`, which every run
has). "Clear" means the interval excludes zero; with one replication there is no interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim.report.text import amount, delta, headlines_present, is_clear

FISCAL = (
    ("stamp_duty_hkd", "Stamp duty collected (every channel)"),
    ("grants_paid_hkd", "Issuance grants paid"),
    ("net_fiscal_hkd", "Net fiscal take (duty less grants)"),
)
FISCAL_KPIS = {kpi for kpi, _ in FISCAL}


def _number(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _row(row: Mapping[str, Any], label: str, unit: str) -> dict[str, Any]:
    difference, low, high = (float(row[name]) for name in ("difference", "ci_low", "ci_high"))
    interval = "" if math.isnan(row["half_width"]) else f"{delta(low, unit)} to {delta(high, unit)}"
    return {
        "kpi": row["kpi"], "label": label, "unit": unit, "n": int(row["n"]),
        "comparator_mean": _number(row["comparator_mean"]), "policy_mean": _number(row["policy_mean"]),
        "difference": _number(difference), "ci_low": _number(low), "ci_high": _number(high),
        "clear": None if math.isnan(row["half_width"]) or math.isnan(difference) else is_clear(row),
        "text": {"comparator": amount(float(row["comparator_mean"]), unit),
                 "policy": amount(float(row["policy_mean"]), unit),
                 "difference": "n/a" if math.isnan(difference) else delta(difference, unit),
                 "interval": interval or "no interval (fewer than two replications)"},
    }


def effects(comparison: pd.DataFrame, policy: str) -> dict[str, list[dict[str, Any]]]:
    """The rows of `policy` in a `comparison` table: `headlines` (the report's headline KPIs
    that the runs measured, fiscal ones aside) and `fiscal` (each fiscal KPI over the horizon,
    then a year of it)."""
    rows = comparison[comparison["policy"] == policy].set_index("kpi", drop=False)
    present = headlines_present(set(rows.index))
    headlines = [_row(rows.loc[h.kpi], h.label, h.unit) for h in present if h.kpi not in FISCAL_KPIS]
    fiscal = []
    for kpi, label in FISCAL:
        for name, words in ((kpi, "over the horizon"), (f"{kpi}_per_year", "a year")):
            if name in rows.index:
                fiscal.append(_row(rows.loc[name], f"{label}, {words}", "HKD"))
    return {"headlines": headlines, "fiscal": fiscal}

