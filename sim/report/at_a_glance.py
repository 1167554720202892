"""The report's first screen: what each policy does, how sure we are, what it costs a year, and
how big the simulated market is against Hong Kong's.

- **The market's size** (`market_size_line`): the baseline's exchange turnover a day (the whole
  market's, for a weighted sample) against HKEX's published turnover of the same kind, so every
  amount that follows is read at its scale.
- **One verdict per policy** (`verdicts`): the decisive numbers only: its largest clear effect on a
  non-fiscal headline, and the net effect on the public purse a year (duty over every channel less
  grants, which are paid only to market issuers, so no transfer within government counts), each
  with its 95% seed interval; then, when the report has structural ranges, whether those hold in
  every assumption set. A counterfactual comparator is named as one in the verdict itself.
- **A compact matrix** (`matrix`): policies as columns, a handful of headline KPIs as rows, each
  cell the paired difference (a year, for totals) marked up, down or unclear by its interval.
  The full table of every headline KPI moves to the report's appendix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from sim.published import figure
from sim.report.inputs import ReportInputs
from sim.ranges.tables import DEPENDS, NO_EFFECT, NOT_CLEAR, ROBUST
from sim.report.text import Headline, amount, change, delta, is_clear, yearly

PER_YEAR = "_per_year"
NET_FISCAL = "net_fiscal_hkd"
MATRIX_KPIS = (  # (KPI, label, unit), in the matrix's order; totals are shown a year
    ("turnover_hkd_tokenized", "Tokenized turnover, a year", "HKD"),
    ("tokenized_share", "Tokenized share of value traded", "fraction"),
    ("stamp_duty_hkd", "Stamp duty, a year", "HKD"),
    (NET_FISCAL, "Net fiscal effect, a year", "HKD"),
    ("investor_cost_bps", "Investor cost per HK$ traded", "bps"),
    ("spread_bps_hk_tracker_platform", "Tokenized ETF spread (platform)", "bps"),
    ("avg_unsettled_hkd", "Mean value unsettled", "HKD"),
)
UP, DOWN, UNCLEAR, NONE = "up", "down", "unclear", "none"
ROBUSTNESS = {  # the ranges' verdict on the fiscal effect, in the verdict line's words
    ROBUST: "its direction holds under every assumption set",
    DEPENDS: "its sign depends on the assumptions",
    NOT_CLEAR: "it is not clear under every assumption set",
    NO_EFFECT: "it is not clear under any assumption set",
}
COMPARED_YEAR = "2025"


@dataclass(frozen=True)
class Cell:
    """One matrix cell: its text and its mark (up, down, unclear, or none when not measured)."""

    text: str
    mark: str


def _row(inputs: ReportInputs, policy: str, kpi: str) -> pd.Series | None:
    table = inputs.comparison
    rows = table[(table["policy"] == policy) & (table["kpi"] == kpi)]
    if rows.empty or rows.iloc[0]["n"] == 0 or math.isnan(rows.iloc[0]["difference"]):
        return None
    return rows.iloc[0]


def _yearly(inputs: ReportInputs, policy: str, kpi: str) -> tuple[pd.Series | None, str]:
    """The KPI's row a year when the run computed its per-year form (a total), else its own row;
    and the words saying which ("a year", or nothing for a level or a rate)."""
    name, when = yearly(kpi, set(inputs.comparison["kpi"]))
    return _row(inputs, policy, name), when


def _mark(row: pd.Series | None) -> str:
    if row is None:
        return NONE
    if math.isnan(row["half_width"]) or not is_clear(row):
        return UNCLEAR
    return UP if row["difference"] > 0 else DOWN


def _largest_clear_effect(inputs: ReportInputs, policy: str, headlines: list[Headline]) -> str:
    """The clear effect on a non-fiscal headline with the largest relative change, in words."""
    best, best_size = "", 0.0
    for h in headlines:
        if h.kpi in {"stamp_duty_hkd", NET_FISCAL, "grants_paid_hkd"}:
            continue
        row, when = _yearly(inputs, policy, h.kpi) if h.unit == "HKD" else (_row(inputs, policy, h.kpi), "")
        if row is None or _mark(row) not in (UP, DOWN):
            continue
        base = row["comparator_mean"]
        size = abs(row["difference"] / base) if base else math.inf
        if size > best_size:
            verb = "raises" if row["difference"] > 0 else "lowers"
            relative = f", {change(row['difference'], h.unit, base)}" if base else ""
            best = f"{verb} {h.phrase} by {amount(abs(row['difference']), h.unit)}{' ' + when if when else ''}{relative}"
            best += f" (95% CI {delta(row['ci_low'], h.unit)} to {delta(row['ci_high'], h.unit)})"
            best_size = size
    return best or "has no clear effect on any headline KPI"


def _fiscal(inputs: ReportInputs, policy: str) -> str:
    row, when = _yearly(inputs, policy, NET_FISCAL)
    if row is None:
        return ""
    when = when or "over the run"  # a total; a folder from before the per-year forms has it over the horizon
    mark = _mark(row)
    if mark == UNCLEAR:
        interval = "" if math.isnan(row["half_width"]) else (
            f" (95% CI {delta(row['ci_low'], 'HKD')} to {delta(row['ci_high'], 'HKD')})")
        return f"no clear effect on the public purse: {delta(row['difference'], 'HKD')} {when}{interval}"
    word = "gains" if mark == UP else "costs"
    return (f"{word} the public purse {amount(abs(row['difference']), 'HKD')} {when} "
            f"(95% CI {delta(row['ci_low'], 'HKD')} to {delta(row['ci_high'], 'HKD')}; duty over every channel less "
            "grants to market issuers)")


def _robustness(inputs: ReportInputs, policy: str) -> str:
    if inputs.ranges is None:
        return ""
    table = inputs.ranges[(inputs.ranges["policy"] == policy) & (inputs.ranges["kpi"] == NET_FISCAL + PER_YEAR)]
    if table.empty:
        return ""
    row = table.iloc[0]
    sets = int(row["sets"])
    span = f"{delta(row['range_low'], 'HKD')} to {delta(row['range_high'], 'HKD')} a year over {sets} assumption sets"
    return f"{ROBUSTNESS.get(row['verdict'], row['verdict'])} ({span})"


def verdicts(inputs: ReportInputs, headlines: list[Headline]) -> list[str]:
    """One line per policy: what it does, what it costs a year, and whether that holds across assumptions."""
    lines = []
    for policy in inputs.policies:
        parts = [_largest_clear_effect(inputs, policy, headlines), _fiscal(inputs, policy), _robustness(inputs, policy)]
        text = "; ".join(p for p in parts if p)
        lines.append(f"{inputs.label(policy)}, against {inputs.label(inputs.comparator(policy))}: {text}.")
    return lines


def matrix(inputs: ReportInputs) -> tuple[list[str], list[tuple[str, list[Cell]]]]:
    """The column heads (policies) and, per KPI measured for some policy, its label and one cell per policy."""
    header = [inputs.label(p) for p in inputs.policies]
    rows = []
    for kpi, label, unit in MATRIX_KPIS:
        cells = []
        for policy in inputs.policies:
            row = _yearly(inputs, policy, kpi)[0] if unit == "HKD" else _row(inputs, policy, kpi)
            cells.append(Cell("" if row is None else delta(row["difference"], unit), _mark(row)))
        if any(c.mark != NONE for c in cells):
            rows.append((label, cells))
    return header, rows


def market_size_line(inputs: ReportInputs) -> str:
    """The simulated market's exchange turnover a day (the whole market's, for a sample) against
    HKEX's for 2025; empty when the baseline's runs or horizon are unknown."""
    summary = inputs.summary.set_index(["scenario", "kpi"])
    settings = next((s.settings for s in inputs.scenarios if s.name == inputs.baseline and s.settings), None)
    horizon = next((s.horizon_days for s in inputs.scenarios if s.name == inputs.baseline), None)
    key = (inputs.baseline, "turnover_hkd_conventional")
    if settings is None or not horizon or key not in summary.index:
        return ""
    per_day = float(summary.loc[key, "mean"]) / horizon
    hkex = figure("hkex_securities_adt", COMPARED_YEAR).value * 1e9  # HKEX's securities turnover includes its ETFs'
    weight = int((settings.get("sample") or {}).get("weight", 1))
    sampled = (f", from a 1/{weight} weighted sample of its accounts (totals are the whole market's)"
               if weight > 1 else "")
    ratio = hkex / per_day if per_day > 0 else math.inf
    size = "about the size of Hong Kong's" if 0.5 <= ratio <= 2 else f"about 1/{ratio:,.0f} of Hong Kong's"
    named = "the baseline" if inputs.baseline == "baseline" else f"the baseline ({inputs.baseline})"
    return (f"Scale: {named} turns over {amount(per_day, 'HKD')} a day of conventional "
            f"securities{sampled}, {size} HK${hkex / 1e9:,.0f}bn a day of HKEX securities turnover (ETFs included) in "
            f"{COMPARED_YEAR} (HKEX). Amounts below are the simulated market's, a year where marked.")
