"""Structural ranges: every policy against its comparator under each named assumption set.

For each set of an assumption file (`sim.ranges.assumption_sets`), the central set first:

1. **Refit.** When the file names a calibration spec, the spec is fitted again with the set's
   keys fixed (and any target the set moves at its new value), starting from the central fit's
   values. So every set reproduces the same published figures, and what differs between sets is
   what the figures do not pin down: how the market answers a policy. A set whose refit misses
   its targets badly is kept, and the miss is in `fit_targets.csv` for the reader to judge.
2. **Compare.** The baseline and every policy run with the set's keys and the refit values as
   overrides (each scenario the same ones), through `sim.experiment.api.compare`, into
   `<folder>/<set>/`: an ordinary comparison folder, resumable, that `tokensim report` reads.

Every set uses the same seeds (the baseline's own, or `seed`), so the sets differ only in their
assumptions, not in their draws (common random numbers across sets as well as across policies).
The tables that combine the sets are in `sim.ranges.tables`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.experiment import api
from sim.provenance import git_revision
from sim.ranges.assumption_sets import AssumptionSet, AssumptionSets
from sim.experiment.store import write_atomic, write_table
from sim.ranges.tables import RANGES_FILE, SETS_FILE, fit_tables, ranges_table, sets_table
from sim.validation.calibration_spec import CalibrationSpec, Parameter, load_spec
from sim.validation.fit_targets import TargetFit, fit_targets
from sim.validation.fitted_scenario import fit_report


@dataclass(frozen=True)
class SetOutcome:
    """One set's refit (None without a calibration), the overrides its runs got, and its comparison."""

    assumptions: AssumptionSet
    fit: TargetFit | None
    overrides: tuple[str, ...]
    comparison: pd.DataFrame
    folder: Path
    failed: int


@dataclass(frozen=True)
class RangesResult:
    """Every set's outcome, the combined tables, and where they were written."""

    folder: Path
    outcomes: tuple[SetOutcome, ...]
    ranges: pd.DataFrame
    seeds: list[int]

    @property
    def failed(self) -> int:
        return sum(o.failed for o in self.outcomes)


def set_spec(sets: AssumptionSets, assumptions: AssumptionSet, overrides: Sequence[str],
             start: dict[str, float], central_objective: float | None = None) -> CalibrationSpec:
    """The calibration spec refitted under `assumptions`: its keys as overrides of every
    evaluation, the targets it moves at their new values, the search starting from `start`
    (the central fit's values, clipped to the bounds) where given. With `central_objective`
    (the central fit's best), a set's refit stops as soon as it fits as well as the central one
    did: a set that does not move the targets (a platform fee, say, over a fit's few days) then
    costs one evaluation, not the whole budget, and no set is fitted more closely than the
    central one it is compared with."""
    assert sets.calibration is not None
    spec = load_spec(sets.calibration, (*overrides, *assumptions.overrides))
    moved = dict(assumptions.targets)
    targets = tuple(
        dataclasses.replace(t, value=moved[t.label],
                            error_scale=abs(moved[t.label]) if t.error_scale == abs(t.value) else t.error_scale)
        if t.label in moved else t for t in spec.targets)
    parameters = tuple(_started(p, start.get(p.key)) for p in spec.parameters)
    good_enough = spec.good_enough if central_objective is None else max(spec.good_enough, central_objective)
    return dataclasses.replace(spec, targets=targets, parameters=parameters, good_enough=good_enough)


def _started(parameter: Parameter, value: float | None) -> Parameter:
    if value is None:
        return parameter
    return dataclasses.replace(parameter, start=min(parameter.high, max(parameter.low, value)))


def run_ranges(sets: AssumptionSets, baseline: Path, policies: Sequence[Path], *, reps: int, folder: Path,
               seed: int | None = None, overrides: Sequence[str] = (), run_overrides: Sequence[str] = (),
               say: Callable[[str], None] = lambda text: None, **execution: Any) -> RangesResult:
    """Refit and compare under every set, then write the combined tables into `folder`.
    `overrides` apply to the fits and the runs; `run_overrides` (a horizon, say) to the runs only."""
    outcomes: list[SetOutcome] = []
    start: dict[str, float] = {}
    central_objective: float | None = None
    seeds: list[int] = []
    for index, assumptions in enumerate(sets.sets):
        say(f"[{index + 1}/{len(sets.sets)}] {assumptions.name}: {assumptions.description}")
        fit = None
        if sets.calibration is not None:
            spec = set_spec(sets, assumptions, overrides, start, central_objective)
            fit = fit_targets(spec, seed, lambda k, evaluation: say(
                f"  refit evaluation {k}: {', '.join(f'{v:.6g}' for v in evaluation.values)} -> objective "
                f"{evaluation.objective:.4g}"))
            say(fit_report(fit))
            if index == 0:  # the central set: the others start from its fit and stop once as close
                start, central_objective = fit.parameter_values(), fit.best.objective
        fitted = tuple(fit.overrides()) if fit is not None else ()
        set_overrides = (*overrides, *assumptions.overrides, *fitted, *run_overrides)
        result = api.compare(baseline, list(policies), reps=reps, seed=seed, overrides=list(set_overrides),
                             name=assumptions.name, out=folder, **execution)
        seeds = result.seeds
        outcomes.append(SetOutcome(assumptions, fit, set_overrides, result.comparison, result.folder, result.failed))
    ranges = ranges_table(outcomes)
    targets, parameters = fit_tables(outcomes)
    central = outcomes[0].folder
    described = sets_table(outcomes)
    for place in (folder, central):  # the central folder's report shows the ranges too
        write_table(ranges, place / RANGES_FILE)
        write_table(described, place / SETS_FILE)
    write_table(pd.concat([o.comparison.assign(assumption_set=o.assumptions.name) for o in outcomes],
                          ignore_index=True), folder / "ranges_by_set.csv")
    if targets is not None:
        write_table(targets, folder / "fit_targets.csv")
        write_table(parameters, folder / "fit_parameters.csv")
    _write_manifest(folder, sets, baseline, policies, reps, seeds, overrides, run_overrides, outcomes)
    return RangesResult(folder, tuple(outcomes), ranges, seeds)


def _write_manifest(folder: Path, sets: AssumptionSets, baseline: Path, policies: Sequence[Path], reps: int,
                    seeds: list[int], overrides: Sequence[str], run_overrides: Sequence[str],
                    outcomes: list[SetOutcome]) -> None:
    manifest = {
        "command": "ranges",
        "package_version": __version__,
        "git_revision": git_revision(),
        "assumptions": str(sets.path),
        "assumptions_sha256": hashlib.sha256(sets.text.encode("utf-8")).hexdigest(),
        "calibration": None if sets.calibration is None else str(sets.calibration),
        "baseline": str(baseline),
        "policies": [str(p) for p in policies],
        "reps": reps,
        "seeds": seeds,
        "overrides": list(overrides),
        "run_overrides": list(run_overrides),
        "sets": [{
            "name": o.assumptions.name, "description": o.assumptions.description,
            "set": list(o.assumptions.overrides), "targets": dict(o.assumptions.targets),
            "fitted": {} if o.fit is None else o.fit.fitted_values(),
            "fit_objective": None if o.fit is None else o.fit.best.objective,
            "fit_stopped_by": None if o.fit is None else o.fit.stopped_by,
            "folder": o.folder.name,
        } for o in outcomes],
    }
    write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2, sort_keys=False) + "\n")


def stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
