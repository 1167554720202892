"""Conducting an experiment: every design point times N replications, streamed to disk.

The same N seeds serve every point (common random numbers, see `seeds`). Runs already on disk
are skipped (and counted), the rest go to the executor, and each outcome is written as soon as
it arrives: KPIs to the run store, errors to the list of failures (not retried within the same
invocation; retried by the next one; a broken accounting invariant is replayed to name the day
it broke). Before anything runs, the experiment's memory is checked (`sim.run_size`). With a precision target (`--until-ci KPI=REL`),
replications are added in batches until every point's 95% interval for the KPI has a
half-width of at most REL times its mean's magnitude, or the maximum is reached.

The folder's tables are then assembled from the run files and written atomically, the
manifest last. Nothing in them depends on the executor, the worker count, the order in which
runs finished, or on which runs came from an earlier invocation.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.experiment.executors import Executor, executor
from sim.experiment.progress import Progress, wanted
from sim.experiment.seeds import DERIVATION, replication_seeds
from sim.experiment.stats import precise_enough, summarize
from sim.experiment.store import RunStore, write_atomic, write_table
from sim.experiment.tables import failures_table, kpi_columns, param_keys, runs_table
from sim.experiment.tasks import Evaluator, Point, Task, task
from sim.invariant_replay import locate
from sim.invariants import InvariantError
from sim.provenance import code_fingerprint, git_revision, versions
from sim.run_size import check_fits, estimate
from sim.scenario import Scenario, ScenarioError


@dataclass(frozen=True)
class UntilCi:
    """Add replications until the KPI's interval is narrow enough, or `max_reps` is reached."""

    kpi: str
    relative: float
    max_reps: int = 100
    batch: int = 5

    @classmethod
    def parse(cls, text: str, max_reps: int | None = None, batch: int | None = None) -> UntilCi:
        """From `KPI=REL`, e.g. `tokenized_share=0.05` (half-width at most 5% of the mean)."""
        max_reps = cls.max_reps if max_reps is None else max_reps
        batch = cls.batch if batch is None else batch
        kpi, equals, relative = text.partition("=")
        try:
            value = float(relative)
        except ValueError:
            value = float("nan")
        if not equals or not kpi.strip() or not value > 0:
            raise ScenarioError("--until-ci", "", "expected KPI=REL with REL > 0, e.g. tokenized_share=0.05", text)
        if batch < 1:
            raise ScenarioError("--batch", "", "must be at least 1", batch)
        return cls(kpi.strip(), value, max_reps, batch)

    def describe(self) -> dict[str, Any]:
        return {"kpi": self.kpi, "relative_half_width": self.relative, "max_reps": self.max_reps, "batch": self.batch}


@dataclass(frozen=True)
class Experiment:
    """What to run: design points, how they are evaluated, replications and seeds."""

    name: str
    command: str
    points: list[Point]
    evaluate: Evaluator
    base_seed: int
    reps: int
    definition: dict[str, Any]
    kpi_names: list[str] | None = None


@dataclass(frozen=True)
class Execution:
    """How to run it (none of which can change the results): folder, workers, messages."""

    out: Path = Path("outputs")
    workers: int | None = None
    dask: str | None = None
    quiet: bool = True
    allow_large: bool = False

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, file=sys.stderr)


@dataclass
class Conducted:
    """An experiment's results and what this invocation did to get them."""

    experiment: Experiment
    folder: Path
    seeds: list[int]
    runs: pd.DataFrame
    summary: pd.DataFrame
    failures: pd.DataFrame
    computed: int
    reused: int
    until_ci: UntilCi | None = None
    precise: bool | None = None


@dataclass
class _Tally:
    seen: set[str] = field(default_factory=set)
    computed: int = 0
    reused: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)


def check_name(name: str) -> str:
    """An experiment name is one folder name."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
        raise ScenarioError("--name", "", "must be a plain folder name", name)
    return name


def conduct(experiment: Experiment, execution: Execution, until_ci: UntilCi | None = None) -> Conducted:
    """Run (or resume) the experiment and return its tables; nothing written before it starts."""
    if experiment.reps < 1:
        raise ScenarioError("--reps", "", "must be at least 1", experiment.reps)
    if until_ci is not None:
        if until_ci.max_reps < experiment.reps:
            raise ScenarioError("--max-reps", "", f"must be at least --reps ({experiment.reps})", until_ci.max_reps)
        _check_kpi(until_ci.kpi, experiment.kpi_names)
    folder = execution.out / check_name(experiment.name)
    if execution.out.exists() and not execution.out.is_dir():
        raise ScenarioError("--out", "", "is a file, not a folder", str(execution.out))
    _check_memory(experiment, execution)
    store = RunStore(folder)
    tally = _Tally()
    with executor(execution.workers, execution.dask) as pool:
        store.open()
        reps = experiment.reps
        while True:
            seeds = replication_seeds(experiment.base_seed, reps)
            _run_batch(experiment, seeds, store, pool, tally, execution)
            runs = runs_table(experiment.points, seeds, store)
            summary = summarize(runs, ["scenario", *param_keys(experiment.points)], kpi_columns(runs, experiment.points))
            if until_ci is None:
                precise = None
                break
            _check_kpi(until_ci.kpi, kpi_columns(runs, experiment.points) if len(runs) else None)
            precise = precise_enough(summary, until_ci.kpi, until_ci.relative)
            if precise or reps >= until_ci.max_reps:
                break
            reps = min(reps + until_ci.batch, until_ci.max_reps)
    failures = failures_table(tally.failures, experiment.points)
    return Conducted(experiment, folder, seeds, runs, summary, failures, tally.computed, tally.reused, until_ci, precise)


def _check_memory(experiment: Experiment, execution: Execution) -> None:
    """Refuse (TooLarge) an experiment whose runs, as many at once as there are local workers,
    would not fit in memory. Runs on a Dask cluster use the cluster's memory, not this machine's."""
    if execution.allow_large or execution.dask is not None:
        return
    scenarios = [point.payload for point in experiment.points if point.payload is not None]
    if not scenarios:
        return
    estimates = [estimate(Scenario.model_validate(payload)) for payload in scenarios]
    workers = execution.workers or os.cpu_count() or 1
    check_fits(estimates, concurrent=min(workers, len(estimates) * experiment.reps))


def _explain_failure(error: str, one: Task) -> str:
    """A broken invariant, located by replaying the run (the day and ledger operation added)."""
    if not error.startswith(f"{InvariantError.__name__}:") or one.payload is None:
        return error
    located = locate(Scenario.model_validate(one.payload), one.seed)
    return error if located is None else " ".join(f"{InvariantError.__name__}: {located}".split())


def _check_kpi(kpi: str, names: list[str] | None) -> None:
    if names is not None and kpi not in names:
        close = difflib.get_close_matches(kpi, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ScenarioError("--until-ci", "", f"no KPI of that name{hint}", kpi)


def _run_batch(
    experiment: Experiment, seeds: list[int], store: RunStore, pool: Executor, tally: _Tally, execution: Execution
) -> None:
    """Run every (point, replication) not yet seen by this invocation nor on disk."""
    slots: dict[str, list[tuple[Point, int]]] = {}
    fresh: dict[str, Task] = {}
    for point in experiment.points:
        for replication, seed in enumerate(seeds):
            one = task(point, seed)
            slots.setdefault(one.key, []).append((point, replication))
            if one.key not in tally.seen:
                fresh.setdefault(one.key, one)
    pending = store.missing(fresh.values())
    tally.seen.update(fresh)
    tally.reused += len(fresh) - len(pending)
    if len(fresh) > len(pending):
        execution.say(f"{experiment.name}: {len(fresh) - len(pending)} runs already on disk, {len(pending)} to compute")
    progress = Progress(len(pending), experiment.name, wanted(execution.quiet))
    by_key = {one.key: one for one in pending}
    try:
        for outcome in pool.outcomes(experiment.evaluate, pending):
            if outcome.error is None:
                store.save(by_key[outcome.key], outcome)
                tally.computed += 1
            else:
                error = _explain_failure(outcome.error, by_key[outcome.key])
                tally.failures.extend(
                    {"scenario": point.label, "replication": replication, "seed": seeds[replication],
                     **point.params, "error": error}
                    for point, replication in slots[outcome.key]
                )
            progress.update(failed=outcome.error is not None)
    finally:
        progress.close()


def write_outputs(conducted: Conducted, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Write runs.csv, summary.csv, failures.csv (only when runs failed), `tables` and the
    manifest into the experiment's folder; returns the files written."""
    folder = conducted.folder
    tables = {"runs.csv": conducted.runs, "summary.csv": conducted.summary, **tables}
    if len(conducted.failures):
        tables["failures.csv"] = conducted.failures
    else:
        (folder / "failures.csv").unlink(missing_ok=True)
    for name, table in tables.items():
        write_table(table, folder / name)
    files = [*tables, "manifest.json"]
    write_atomic(folder / "manifest.json", json.dumps(_manifest(conducted, files), indent=2) + "\n")
    return files


def _manifest(conducted: Conducted, files: list[str]) -> dict[str, Any]:
    experiment = conducted.experiment
    until_ci = None
    if conducted.until_ci is not None:
        until_ci = {**conducted.until_ci.describe(), "reached": conducted.precise}
    return {
        "experiment": experiment.name,
        "command": experiment.command,
        "package_version": __version__,
        "git_revision": git_revision(),
        "code_fingerprint": code_fingerprint(),
        "versions": versions(),
        **experiment.definition,
        "points": len(experiment.points),
        "reps": len(conducted.seeds),
        "base_seed": experiment.base_seed,
        "seed_derivation": DERIVATION,
        "seeds": conducted.seeds,
        "until_ci": until_ci,
        "files": files,
    }
