"""The structural-ranges tables: each policy effect's seed interval beside its range over assumption sets.

`ranges.csv` has one row per policy and KPI: the central set's paired difference with its 95%
seed interval (as in `comparison.csv`), then the lowest and highest difference over every set
(the central one included) and the sets that give them, the difference under each set, and a
verdict on the direction:

- `robust`: under every set the 95% interval excludes zero on the central answer's side;
- `depends on assumptions`: some set's difference is clearly on the other side of zero;
- `not clear in every set`: the direction never clearly flips, but some set's interval holds zero;
- `no clear effect`: no set's interval excludes zero.

`fit_targets.csv` and `fit_parameters.csv` say, per set, how well the refit reproduced each
published figure and the values it took; a set that cannot reproduce them is visible there.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim.validation.fitted_scenario import parameter_table, target_table

if TYPE_CHECKING:
    from sim.ranges.runner import SetOutcome

RANGES_FILE = "ranges.csv"
SETS_FILE = "assumption_sets.csv"
ROBUST, DEPENDS, NOT_CLEAR, NO_EFFECT = "robust", "depends on assumptions", "not clear in every set", "no clear effect"


def _direction(low: float, high: float) -> int:
    """+1 when a 95% interval lies above zero, -1 below, 0 when it holds zero (or is unknown)."""
    if math.isnan(low) or math.isnan(high):
        return 0
    return 1 if low > 0 else -1 if high < 0 else 0


def verdict(central: int, directions: list[int]) -> str:
    """The direction's verdict from the central set's direction and every set's (central included)."""
    if not any(directions):
        return NO_EFFECT
    if 1 in directions and -1 in directions:
        return DEPENDS
    if central and all(d == central for d in directions):
        return ROBUST
    return NOT_CLEAR


def ranges_table(outcomes: list[SetOutcome]) -> pd.DataFrame:
    """One row per (policy, KPI) of the central comparison: its difference and seed interval,
    the range over sets and the sets at its ends, the difference per set, and the verdict."""
    names = [o.assumptions.name for o in outcomes]
    indexed = [o.comparison.set_index(["policy", "kpi"]) for o in outcomes]
    rows = []
    for (policy, kpi), central in indexed[0].iterrows():
        per_set = {}
        directions = []
        for name, table in zip(names, indexed):
            if (policy, kpi) in table.index:
                row = table.loc[(policy, kpi)]
                per_set[name] = float(row["difference"])
                directions.append(_direction(float(row["ci_low"]), float(row["ci_high"])))
            else:
                per_set[name] = math.nan
        known = {name: value for name, value in per_set.items() if not math.isnan(value)}
        low_set = min(known, key=known.get) if known else ""
        high_set = max(known, key=known.get) if known else ""
        rows.append({
            "policy": policy, "compared_with": central["compared_with"], "kpi": kpi,
            "comparator_mean": central["comparator_mean"], "difference": central["difference"],
            "ci_low": central["ci_low"], "ci_high": central["ci_high"],
            "range_low": known.get(low_set, math.nan), "range_high": known.get(high_set, math.nan),
            "set_at_low": low_set, "set_at_high": high_set, "sets": len(known),
            "verdict": verdict(_direction(float(central["ci_low"]), float(central["ci_high"])), directions),
            **{f"difference[{name}]": value for name, value in per_set.items()},
        })
    return pd.DataFrame(rows)


def fit_tables(outcomes: list[SetOutcome]) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Per set, the refit's targets and parameters (None when no set was refitted)."""
    fitted = [o for o in outcomes if o.fit is not None]
    if not fitted:
        return None, None
    targets = pd.concat([target_table(o.fit).assign(assumption_set=o.assumptions.name) for o in fitted],
                        ignore_index=True)
    parameters = pd.concat([parameter_table(o.fit).assign(assumption_set=o.assumptions.name) for o in fitted],
                           ignore_index=True)
    return _set_first(targets), _set_first(parameters)


def _set_first(table: pd.DataFrame) -> pd.DataFrame:
    return table[["assumption_set", *[c for c in table.columns if c != "assumption_set"]]]


def read_ranges(folder: Path) -> pd.DataFrame | None:
    """`ranges.csv` of a folder (a ranges experiment's, or its central comparison's), or None."""
    path = Path(folder) / RANGES_FILE
    return pd.read_csv(path, keep_default_na=True, na_values=[""]) if path.is_file() else None


def sets_table(outcomes: list[SetOutcome]) -> pd.DataFrame:
    """One row per set: its name, words, the keys it sets, the values its refit took and how close the refit came."""
    return pd.DataFrame([{
        "assumption_set": o.assumptions.name, "description": o.assumptions.description,
        "set": "; ".join(o.assumptions.overrides),
        "targets": "; ".join(f"{kpi}={value:g}" for kpi, value in o.assumptions.targets),
        "fitted": "" if o.fit is None else "; ".join(o.fit.overrides()),
        "fit_objective": math.nan if o.fit is None else o.fit.best.objective,
        "largest_fit_error": math.nan if o.fit is None else max(abs(e) for e in o.fit.best.errors),
    } for o in outcomes])


def read_assumption_sets(folder: Path) -> pd.DataFrame | None:
    """`assumption_sets.csv` of a folder, or None."""
    path = Path(folder) / SETS_FILE
    return pd.read_csv(path, keep_default_na=False, na_values=[""]) if path.is_file() else None
