"""Tasks: one run of one design point with one seed, small and picklable, and its outcome.

A task carries what a worker needs and nothing else: the resolved scenario data (merged and
overridden, not yet validated, so it pickles to a few kilobytes and needs no scenario files on
the worker) or, for a plain Python model, the parameter values; and the seed. Its key is a
SHA-256 of the package's code (a fingerprint of its source files), the point's identity (the
hash of its resolved scenario) and the seed: two tasks with equal keys would compute the same KPIs, so the key names the run's
file on disk and lets an experiment skip what is already there.

An evaluator maps a task to its KPIs, or to a `Measured` (KPIs and the run's series record, see
`series`) for scenario runs, whose report figures need more than one number per run. `attempt`
runs one and turns an exception into an outcome that records the error, so one failing run
never stops the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sim import runs
from sim.experiment.series import run_series
from sim.provenance import code_fingerprint
from sim.scenario import Scenario


@dataclass(frozen=True)
class Point:
    """One design point: a label (the scenario's name, `@key=value,...` for varied keys), the
    varied values, the identity of what runs (a hash) and the worker's payload."""

    label: str
    params: dict[str, Any]
    identity: str
    payload: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Task:
    """One run: a point's payload and varied values, with a seed; `key` names its result."""

    key: str
    seed: int
    params: dict[str, Any]
    payload: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Outcome:
    """What came back from a task: its KPIs (and series record, if any), or the error it raised."""

    key: str
    kpis: dict[str, float] | None
    error: str | None = None
    series: dict[str, Any] | None = None


@dataclass(frozen=True)
class Measured:
    """An evaluation that brings the run's series record along with its KPIs."""

    kpis: Mapping[str, float]
    series: dict[str, Any] | None


Evaluator = Callable[[Task], "Mapping[str, float] | Measured"]


def task_key(identity: str, seed: int) -> str:
    return hashlib.sha256(f"{code_fingerprint()}/{identity}/{seed}".encode()).hexdigest()


def task(point: Point, seed: int) -> Task:
    return Task(task_key(point.identity, seed), seed, point.params, point.payload)


def simulate(task: Task) -> Measured:
    """The KPIs and series record of one simulation run of the task's scenario with its seed."""
    result = runs.run(Scenario.model_validate(task.payload), task.seed)
    return Measured(result.kpis, run_series(result))


@dataclass(frozen=True)
class CallFunction:
    """An evaluator for a plain model `function(params, seed) -> {kpi: value}` (picklable when
    `function` is defined at module level)."""

    function: Callable[[dict[str, Any], int], Mapping[str, float]]

    def __call__(self, task: Task) -> Mapping[str, float]:
        return self.function(dict(task.params), task.seed)


def attempt(evaluate: Evaluator, task: Task) -> Outcome:
    """Evaluate `task`; an exception becomes an outcome carrying its one-line description."""
    try:
        evaluated = evaluate(task)
        measured = evaluated if isinstance(evaluated, Measured) else Measured(evaluated, None)
        kpis = {name: float(value) for name, value in measured.kpis.items()}
    except Exception as error:  # noqa: BLE001 - any failure of one run is recorded, not raised
        message = " ".join(f"{type(error).__name__}: {error}".split())
        return Outcome(task.key, None, message)
    return Outcome(task.key, kpis, series=measured.series)
