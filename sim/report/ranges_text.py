"""What would change this answer: each headline's range over the assumption sets, in words and a table.

A report built from the central comparison of `tokensim ranges` (its folder holds `ranges.csv`
and `assumption_sets.csv`) shows, beside each headline's 95% seed interval, the lowest and
highest effect over every assumption set, which sets give them, and whether the direction
holds in every set (`sim.ranges.tables` defines the verdicts). A report without ranges shows
none of this and says that its intervals are seed noise only.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from sim.report.inputs import ReportInputs
from sim.ranges.tables import DEPENDS, ROBUST
from sim.report.text import Headline, delta, yearly

MISSED_FIT = 0.10  # a refit's largest relative error above which the report says the set missed its targets
RANGE_HEADER = ("Policy", "KPI", "Central (95% seed CI)", "Range over assumption sets", "Lowest under",
                "Highest under", "Direction")
NO_RANGES = ("The intervals are seed noise only: they do not include the unsourced assumptions' effect. "
             "`tokensim ranges` (docs/ranges.md) reruns the policies under named sets of those assumptions, each "
             "refitted to the same published figures, and a report built from its central folder shows each "
             "headline's range over them.")


def _rows(inputs: ReportInputs, policy: str, headlines: list[Headline]) -> list[tuple[Headline, pd.Series]]:
    """Each headline's ranges row for `policy`: a total's per-year row where the runs measured it
    (its label then says "a year"); headlines no set measured (NaN throughout) are left out."""
    if inputs.ranges is None:
        return []
    table = inputs.ranges[inputs.ranges["policy"] == policy].set_index("kpi")
    rows = []
    for h in headlines:
        kpi, when = yearly(h.kpi, set(table.index))
        if when:
            h = dataclasses.replace(h, kpi=kpi, label=f"{h.label}, {when}", phrase=f"{h.phrase} {when}")
        if h.kpi in table.index and not math.isnan(float(table.loc[h.kpi, "difference"])):
            rows.append((h, table.loc[h.kpi]))
    return rows


def range_rows(inputs: ReportInputs, headlines: list[Headline]) -> list[tuple[str, ...]]:
    """Per policy and headline: central difference and seed interval, range over sets, the sets
    at its ends and the verdict on direction."""
    rows = []
    for policy in inputs.policies:
        for h, row in _rows(inputs, policy, headlines):
            if row["difference"] == 0 and row["range_low"] == 0 and row["range_high"] == 0:
                continue  # nothing to say: no set moves it (grants where nothing is issued)
            rows.append((inputs.label(policy), h.label,
                         f"{delta(row['difference'], h.unit)} ({delta(row['ci_low'], h.unit)} to "
                         f"{delta(row['ci_high'], h.unit)})",
                         f"{delta(row['range_low'], h.unit)} to {delta(row['range_high'], h.unit)}",
                         _name(row["set_at_low"]), _name(row["set_at_high"]), str(row["verdict"])))
    return rows


def _name(value: object) -> str:
    return "" if isinstance(value, float) and math.isnan(value) else str(value)


def range_sentence(inputs: ReportInputs, policy: str, headlines: list[Headline]) -> str:
    """One sentence per policy: which headline effects hold in every assumption set and which depend on them."""
    rows = _rows(inputs, policy, headlines)
    if not rows:
        return ""
    sets = len(inputs.assumption_sets) if inputs.assumption_sets is not None else int(rows[0][1]["sets"])
    robust = [h.phrase for h, row in rows if row["verdict"] == ROBUST]
    depends = [f"{h.phrase} ({delta(row['range_low'], h.unit)} under {_name(row['set_at_low'])} to "
               f"{delta(row['range_high'], h.unit)} under {_name(row['set_at_high'])})"
               for h, row in rows if row["verdict"] == DEPENDS]
    parts = []
    if robust:
        parts.append(f"its effect on {', '.join(robust)} keeps its direction in every one")
    if depends:
        parts.append(f"its effect on {', '.join(depends)} changes direction with them")
    if not parts:
        parts.append("no headline effect is clear in every one")
    return f"Across the {sets} assumption sets, each refitted to the same published figures, " + "; ".join(parts) + "."


def range_notes(inputs: ReportInputs) -> list[str]:
    """What the assumption sets are and how well each refit reproduced the published figures;
    without ranges, that the intervals are seed noise only."""
    if inputs.ranges is None:
        return [NO_RANGES]
    notes = ["Each headline's 95% interval above is seed noise only. The range is the lowest and highest effect over "
             "the assumption sets below, each a set of the unsourced assumptions at an end of its range in "
             "docs/calibration.md, refitted to the same published figures and run on the same seeds. 'robust': every "
             "set's interval excludes zero on the same side; 'depends on assumptions': some set's effect is clearly "
             "of the other sign; 'not clear in every set': some set's interval holds zero."]
    if inputs.assumption_sets is not None:
        for row in inputs.assumption_sets.itertuples(index=False):
            refit = "" if not isinstance(row.fitted, str) or not row.fitted else (
                f" Refit: {row.fitted} (largest target error {row.largest_fit_error:.1%}).")
            if refit and row.largest_fit_error > MISSED_FIT:
                refit += (" The refit did not reproduce the published figures: this set's market differs from the "
                          "published one, so read its answers with care.")
            notes.append(f"{row.assumption_set}: {row.description}.{refit}")
    return notes
