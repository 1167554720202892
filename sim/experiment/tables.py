"""The experiment's tables, assembled from the per-run files in a fixed order.

`runs.csv` has one row per design point and replication, in design order then replication
order: `scenario` (the point's label), `replication`, `seed`, a column per varied key, then
every KPI (the union over runs, in the order the runs report them). Runs that failed are left
out of it and listed in `failures.csv` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from sim.experiment.store import RunStore
from sim.experiment.tasks import Point, task

LEAD_COLUMNS = ["scenario", "replication", "seed"]


def param_keys(points: Sequence[Point]) -> list[str]:
    """Every varied key, in the order the points name them."""
    return list(dict.fromkeys(key for point in points for key in point.params))


def runs_table(points: Sequence[Point], seeds: Sequence[int], store: RunStore) -> pd.DataFrame:
    """One row per (point, replication) whose run is on disk."""
    keys = param_keys(points)
    rows: list[dict[str, Any]] = []
    for point in points:
        for replication, seed in enumerate(seeds):
            kpis = store.kpis(task(point, seed).key)
            if kpis is not None:
                rows.append({"scenario": point.label, "replication": replication, "seed": seed, **point.params, **kpis})
    kpi_names = list(dict.fromkeys(name for row in rows for name in row if name not in (*LEAD_COLUMNS, *keys)))
    return pd.DataFrame(rows, columns=[*LEAD_COLUMNS, *keys, *kpi_names])


def kpi_columns(runs: pd.DataFrame, points: Sequence[Point]) -> list[str]:
    """The KPI columns of a runs table."""
    fixed = {*LEAD_COLUMNS, *param_keys(points)}
    return [column for column in runs.columns if column not in fixed]


def failures_table(rows: Sequence[dict[str, Any]], points: Sequence[Point]) -> pd.DataFrame:
    """Failed runs in the runs table's order: label, replication, seed, varied values, error."""
    order = {point.label: index for index, point in enumerate(points)}
    ordered = sorted(rows, key=lambda row: (order[row["scenario"]], row["replication"]))
    return pd.DataFrame(ordered, columns=[*LEAD_COLUMNS, *param_keys(points), "error"])
