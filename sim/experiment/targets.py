"""What an experiment evaluates: a scenario file, or a plain Python function for testing designs.

A target turns a parameter assignment into a design `Point` and names the evaluator that runs
its tasks. A scenario target loads the scenario with the assignment as `--set` overrides, so
an unknown key or a value the schema rejects is reported before anything runs (as a
ScenarioError naming `--param`); a point's identity is the hash of its resolved scenario.
A function target evaluates `function(params, seed)` instead: the same designs, executors,
store and statistics, on a model whose answers are known.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sim.experiment.params import SOURCE, Param, value_text
from sim.experiment.tasks import CallFunction, Evaluator, Point, simulate
from sim.kpis import declared_kpis
from sim.provenance import scenario_hash
from sim.scenario import Scenario, ScenarioError, comparator_file, load_scenario, resolve_scenario_dict
from sim.scenario.errors import Issue


def _identity(scenario: Scenario) -> str:
    """The scenario's hash as a run's manifest has it (`scenario_hash` reads only `.scenario`),
    known before the run exists."""
    return scenario_hash(SimpleNamespace(scenario=scenario))


def label(name: str, params: Mapping[str, Any]) -> str:
    """`baseline@policy.x=0.001,horizon_days=5`; just the name when nothing varies."""
    if not params:
        return name
    return f"{name}@" + ",".join(f"{key}={value_text(value)}" for key, value in params.items())


class ScenarioTarget:
    """A scenario file with fixed overrides; points vary further keys."""

    evaluate: Evaluator = staticmethod(simulate)

    def __init__(self, path: str | Path, overrides: Sequence[str] = ()) -> None:
        self.path = Path(path)
        self.overrides = list(overrides)
        self.scenario = load_scenario(self.path, self.overrides)
        self.name = self.scenario.name
        self.seed = self.scenario.seed

    def point(self, params: Mapping[str, Any]) -> Point:
        overrides = [*self.overrides, *(f"{key}={value_text(value)}" for key, value in params.items())]
        try:
            scenario = load_scenario(self.path, overrides)
        except ScenarioError as error:
            raise _blame_params(error, params) from None
        data, _ = resolve_scenario_dict(self.path, overrides)
        return Point(label(self.name, params), dict(params), _identity(scenario), data)

    def kpi_names(self) -> list[str] | None:
        return [kpi.name for kpi in declared_kpis(self.scenario)]

    def typed(self, params: list[Param]) -> list[Param]:
        """`params`, those over keys that hold a whole number in the scenario marked integer."""
        data = self.scenario.model_dump(mode="json")
        return [replace(p, integer=type(_value_at(data, p.key)) is int) for p in params]

    def describe(self) -> dict[str, Any]:
        return {"scenario": self.name, "file": str(self.path), "overrides": self.overrides,
                "scenario_hash": _identity(self.scenario), "counterfactual": self.scenario.counterfactual}

    def comparator_file(self) -> Path | None:
        """The file this scenario's `measured_against` names (None: the experiment's baseline)."""
        return comparator_file(self.path, self.scenario)


class FunctionTarget:
    """A plain model `function(params, seed) -> {kpi: value}`, named after the function."""

    seed = 0

    def __init__(self, function: Callable[[dict[str, Any], int], Mapping[str, float]], name: str | None = None) -> None:
        self.function = function
        self.name = name or function.__name__
        self.evaluate: Evaluator = CallFunction(function)

    def point(self, params: Mapping[str, Any]) -> Point:
        qualified = f"{self.function.__module__}.{self.function.__qualname__}"
        canonical = json.dumps({"function": qualified, "params": params}, sort_keys=True, default=str)
        return Point(label(self.name, params), dict(params), hashlib.sha256(canonical.encode()).hexdigest())

    def kpi_names(self) -> list[str] | None:
        return None

    def typed(self, params: list[Param]) -> list[Param]:
        return params

    def describe(self) -> dict[str, Any]:
        return {"function": f"{self.function.__module__}.{self.function.__qualname__}"}


Target = ScenarioTarget | FunctionTarget


def points(target: Target, assignments: Iterable[Mapping[str, Any]]) -> list[Point]:
    """The design points of `assignments`, in order, each distinct assignment once."""
    unique: dict[str, Point] = {}
    for params in assignments:
        point = target.point(params)
        unique.setdefault(point.label, point)
    return list(unique.values())


def _value_at(data: Any, key: str) -> Any:
    """The value at a dotted key path, or None where the data has no such key."""
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _blame_params(error: ScenarioError, params: Mapping[str, Any]) -> ScenarioError:
    """The error with an override that came from `--param` attributed to `--param`."""

    def varied(issue: Issue) -> bool:
        return issue.source == "--set" and any(
            issue.key_path == key or issue.key_path.startswith(f"{key}.") or key.startswith(f"{issue.key_path}.")
            for key in params
        )

    return ScenarioError.from_issues([replace(i, source=SOURCE) if varied(i) else i for i in error.issues])
