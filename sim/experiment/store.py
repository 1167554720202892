"""An experiment's folder on disk: one small file per finished run, and the final tables.

Each finished run is written at once to `runs/<key>.json` (its seed, varied values and KPIs),
through a temporary file renamed into place, so a file that exists is complete. A scenario
run's file also carries its series record (see `series`) under "series", on one line after
the KPIs so the file stays readable; a run without one (a Python function's, or one from
before series existed) simply has none, and the report omits what needs it. A run's key
is the hash of its resolved scenario and seed (see `tasks`), so an interrupted or extended
experiment finds the runs it already has and computes only the rest. The final tables are
assembled from these files and written atomically the same way. One experiment process
writes to a folder at a time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiment.tasks import Outcome, Task

TEMPORARY = ".tmp"


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same folder and a rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}{TEMPORARY}")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_table(table: pd.DataFrame, path: Path) -> None:
    """A CSV with a fixed layout: no index, floats as Python writes them (shortest round trip)."""
    write_atomic(path, table.to_csv(index=False, lineterminator="\n"))


class RunStore:
    """The per-run files of one experiment folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runs = folder / "runs"

    def open(self) -> None:
        """Create the folders and remove temporary files left by an interrupted process."""
        self.runs.mkdir(parents=True, exist_ok=True)
        for leftover in self.runs.glob(f".*{TEMPORARY}"):
            leftover.unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        return self.runs / f"{key}.json"

    def series(self) -> list[dict[str, Any]]:
        """Every run's series record in the folder (with its run's key), in key order."""
        records = []
        for path in sorted(self.runs.glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(record.get("series"), dict):
                records.append({"key": record["key"], **record["series"]})
        return records

    def missing(self, tasks: Iterable[Task]) -> list[Task]:
        """The tasks whose run is not on disk yet."""
        return [task for task in tasks if not self._path(task.key).exists()]

    def save(self, task: Task, outcome: Outcome) -> None:
        record = {"key": task.key, "seed": task.seed, "params": task.params, "kpis": outcome.kpis}
        text = json.dumps(record, indent=1)
        if outcome.series is not None:
            series = json.dumps(outcome.series, separators=(",", ":"))
            text = f'{text.removesuffix("}")[:-1]},\n "series": {series}\n}}'
        write_atomic(self._path(task.key), text + "\n")

    def kpis(self, key: str) -> dict[str, float] | None:
        """The KPIs of the run with this key, or None when it is not on disk."""
        path = self._path(key)
        if not path.exists():
            return None
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return record["kpis"]
