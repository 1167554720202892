"""The Python API: replicate, compare, sweep and analyse scenarios, getting DataFrames back.

    from sim import experiment
    result = experiment.compare("scenarios/baseline.yaml", ["scenarios/stamp_duty_waiver.yaml"], reps=10)
    result.comparison      # paired differences with 95% intervals, per policy and KPI

Every function writes the experiment's folder (`<out>/<name>/`, see docs/experiments.md) and
returns an `ExperimentResult`. Keyword arguments common to all of them say how to run, which
never changes the results: `out` (folder, default "outputs"), `workers` (default: one per
core; 1 runs in this process), `dask` (a scheduler address), `quiet` (default True: no
progress bar or messages), `allow_large` (default False: refuse an experiment whose concurrent
runs would not fit in the memory available, see `sim.run_size`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiment import sensitivity_methods
from sim.experiment.designs import grid, latin_hypercube
from sim.experiment.params import parse_params
from sim.experiment.sample_check import sample_check, sample_flow
from sim.experiment.runner import Conducted, Execution, Experiment, UntilCi, conduct, write_outputs
from sim.experiment.stats import paired_comparison
from sim.experiment.tables import kpi_columns
from sim.experiment.targets import FunctionTarget, ScenarioTarget, Target, label, points
from sim.scenario import ScenarioError

PathLike = str | Path
Model = PathLike | Callable[[dict[str, Any], int], Mapping[str, float]]
DESIGNS = ("grid", "lhs")


@dataclass(frozen=True)
class ExperimentResult:
    """An experiment's tables, where they were written, and what this call computed."""

    name: str
    folder: Path
    files: list[str]
    runs: pd.DataFrame
    summary: pd.DataFrame
    failures: pd.DataFrame
    seeds: list[int]
    computed: int
    reused: int
    until_ci: UntilCi | None = None
    precise: bool | None = None
    comparison: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None

    @property
    def failed(self) -> int:
        return len(self.failures)


def _execution(out: PathLike = "outputs", workers: int | None = None, dask: str | None = None, quiet: bool = True,
               allow_large: bool = False) -> Execution:
    return Execution(Path(out), workers, dask, quiet, allow_large)


def _until(until_ci: str | UntilCi | None) -> UntilCi | None:
    return UntilCi.parse(until_ci) if isinstance(until_ci, str) else until_ci


def _finish(experiment: Experiment, execution: dict[str, Any], until_ci: str | UntilCi | None = None,
            analyse: Callable[[Conducted], dict[str, pd.DataFrame]] = lambda conducted: {}) -> ExperimentResult:
    conducted = conduct(experiment, _execution(**execution), _until(until_ci))
    extra = analyse(conducted)
    files = write_outputs(conducted, extra)
    return ExperimentResult(
        experiment.name, conducted.folder, files, conducted.runs, conducted.summary, conducted.failures,
        conducted.seeds, conducted.computed, conducted.reused, conducted.until_ci, conducted.precise,
        comparison=extra.get("comparison.csv"), sensitivity=extra.get("sensitivity.csv"),
    )


def scenario_targets(files: Sequence[PathLike], overrides: Sequence[str]) -> list[ScenarioTarget]:
    targets = [ScenarioTarget(path, overrides) for path in files]
    names = [t.name for t in targets]
    for target in targets:
        if names.count(target.name) > 1:
            raise ScenarioError(str(target.path), "name", "two scenarios share this name; names must be unique", target.name)
    return targets


def _target(model: Model, overrides: Sequence[str]) -> Target:
    if callable(model):
        if overrides:
            raise ScenarioError("--set", "", "overrides apply to scenario files, not to a Python function")
        return FunctionTarget(model)
    return ScenarioTarget(model, overrides)


def run(
    scenarios: Sequence[PathLike], *, reps: int = 10, seed: int | None = None, overrides: Sequence[str] = (),
    until_ci: str | UntilCi | None = None, name: str | None = None, **execution: Any,
) -> ExperimentResult:
    """`reps` replications of each scenario, with the same seeds for all (from `seed`, default
    the first scenario's own); `until_ci` ("KPI=REL") adds replications until precise enough."""
    targets = scenario_targets(scenarios, overrides)
    experiment = Experiment(
        name or "reps-" + "+".join(t.name for t in targets), "run", [t.point({}) for t in targets],
        targets[0].evaluate, targets[0].seed if seed is None else seed, reps,
        {"scenarios": [t.describe() for t in targets]}, targets[0].kpi_names(),
    )
    return _finish(experiment, execution, until_ci)


def compare(
    baseline: PathLike, policies: Sequence[PathLike], *, reps: int = 10, seed: int | None = None,
    overrides: Sequence[str] = (), until_ci: str | UntilCi | None = None, name: str | None = None, **execution: Any,
) -> ExperimentResult:
    """Each policy scenario against its comparator, replication by replication (common random
    numbers): `comparison` has paired differences with paired-t and Welch intervals.

    A policy's comparator is the scenario its `measured_against` names, else the baseline; a
    comparator not among `policies` is run too (once, with the same seeds and overrides) and is
    itself measured against its own comparator. The baseline's own `measured_against` is not
    followed: it is the reference of the experiment."""
    if not policies:
        raise ScenarioError("compare", "", "name at least one policy scenario to compare with the baseline")
    named = scenario_targets([baseline, *policies], overrides)
    base = named[0]
    targets, comparators = with_comparators(named, overrides)
    experiment = Experiment(
        name or f"compare-{base.name}-vs-" + "+".join(t.name for t in named[1:]), "compare",
        [t.point({}) for t in targets], base.evaluate, base.seed if seed is None else seed, reps,
        {"baseline": base.name,
         "scenarios": [{**t.describe(), "compared_with": comparators.get(t.name), "named": t in named} for t in targets]},
        base.kpi_names(),
    )

    def analyse(conducted: Conducted) -> dict[str, pd.DataFrame]:
        kpis = kpi_columns(conducted.runs, experiment.points)
        return {"comparison.csv": paired_comparison(conducted.runs, comparators, kpis)}

    return _finish(experiment, execution, until_ci, analyse)


def with_comparators(named: Sequence[ScenarioTarget], overrides: Sequence[str]) -> tuple[list[ScenarioTarget], dict[str, str]]:
    """The baseline, then every policy preceded by its comparators not yet included (each file
    once), and each policy's comparator by name. Files are matched by their resolved path."""
    base = named[0]
    by_file = {t.path.resolve(): t for t in named}
    ordered: list[ScenarioTarget] = [base]
    comparators: dict[str, str] = {}

    def add(target: ScenarioTarget) -> None:
        if target in ordered:
            return
        file = target.comparator_file()
        comparator = base if file is None else by_file.setdefault(file.resolve(), ScenarioTarget(file, overrides))
        add(comparator)  # `load_scenario` refused cycles, so this ends
        ordered.append(target)
        comparators[target.name] = comparator.name

    for policy in named[1:]:
        add(policy)
    names = [t.name for t in ordered]
    for target in ordered:
        if names.count(target.name) > 1:
            raise ScenarioError(str(target.path), "name", "two scenarios share this name (a comparator named by "
                                "measured_against included); names must be unique", target.name)
    return ordered, comparators


def sweep(
    model: Model, params: Sequence[str], *, design: str = "grid", samples: int | None = None, reps: int = 10,
    seed: int | None = None, overrides: Sequence[str] = (), until_ci: str | UntilCi | None = None,
    name: str | None = None, **execution: Any,
) -> ExperimentResult:
    """The scenario (or function) at every point of a design over `params` ("KEY=V1,V2",
    "KEY=LO:HI:N"; "KEY=LO:HI" with design="lhs" and `samples`)."""
    if design not in DESIGNS:
        raise ScenarioError("--design", "", f"must be one of {', '.join(DESIGNS)}", design)
    if (samples is None) != (design == "grid"):
        raise ScenarioError("--samples", "", "--samples goes with --design lhs (and only with it)", samples)
    target = _target(model, overrides)
    specs = target.typed(parse_params(params, ranges_only=design == "lhs"))
    base_seed = target.seed if seed is None else seed
    assignments = grid(specs) if design == "grid" else latin_hypercube(specs, samples, base_seed)
    experiment = _sweep_experiment(name or f"sweep-{target.name}", target, specs, assignments, base_seed, reps,
                                   design, samples)
    return _finish(experiment, execution, until_ci)


def _sweep_experiment(name: str, target: Target, specs: list, assignments, base_seed: int, reps: int, design: str,
                      samples: int | None) -> Experiment:
    """A sweep of `target` over the points of `assignments` (design `design`, with `samples` points if lhs)."""
    return Experiment(
        name, "sweep", points(target, assignments), target.evaluate, base_seed, reps,
        {"target": target.describe(), "params": [p.text for p in specs], "design": design, "samples": samples},
        target.kpi_names(),
    )


def check_sample(
    model: PathLike, weights: Sequence[int], *, reps: int = 5, seed: int | None = None, horizon_days: int = 10,
    overrides: Sequence[str] = (), name: str | None = None, **execution: Any,
) -> ExperimentResult:
    """The scenario as a whole market (`sample.weight` 1) and as a sample at each of `weights`, on the
    same seeds over `horizon_days`: `sample_check.csv` says, KPI by KPI, whether each sample's mean
    lies within the 95% interval of its difference from the whole market's, and `sample_flow.csv`
    gives each listing's trades a day in the sample beside its spread and depth."""
    if any(int(w) < 2 for w in weights):
        raise ScenarioError("--weights", "", "give sample weights of 2 or more (the whole market, weight 1, is "
                            "always run)", ",".join(map(str, weights)))
    grid_text = ",".join(str(w) for w in [1, *sorted({int(w) for w in weights})])
    target = _target(model, [*overrides, f"horizon_days={horizon_days}"])
    specs = target.typed(parse_params([f"sample.weight={grid_text}"]))
    experiment = _sweep_experiment(name or f"sample-check-{target.name}", target, specs, grid(specs),
                                   target.seed if seed is None else seed, reps, "grid", None)

    def analyse(conducted: Conducted) -> dict[str, pd.DataFrame]:
        kpis = kpi_columns(conducted.runs, experiment.points)
        return {"sample_check.csv": sample_check(conducted.runs, kpis),
                "sample_flow.csv": sample_flow(conducted.runs, horizon_days)}

    return _finish(experiment, execution, None, analyse)


def sensitivity(
    model: Model, params: Sequence[str], *, method: str = "sobol", samples: int | None = None, reps: int = 1,
    seed: int | None = None, overrides: Sequence[str] = (), name: str | None = None, **execution: Any,
) -> ExperimentResult:
    """Morris or Sobol' indices of every KPI with respect to `params` ("KEY=LO:HI" each)."""
    chosen = sensitivity_methods.method(method)
    target = _target(model, overrides)
    specs = target.typed(parse_params(params, ranges_only=True))
    base_seed = target.seed if seed is None else seed
    samples = chosen.default_samples if samples is None else samples
    unit, assignments = sensitivity_methods.design(chosen, specs, samples, base_seed)
    experiment = Experiment(
        name or f"sensitivity-{target.name}-{chosen.name}", "sensitivity", points(target, assignments),
        target.evaluate, base_seed, reps,
        {"target": target.describe(), "params": [p.text for p in specs], "method": chosen.name, "samples": samples},
        target.kpi_names(),
    )

    def analyse(conducted: Conducted) -> dict[str, pd.DataFrame]:
        kpis = kpi_columns(conducted.runs, experiment.points)
        means = conducted.runs.groupby("scenario", sort=False)[kpis].mean()
        rows = means.reindex([label(target.name, assignment) for assignment in assignments])
        outputs = {kpi: rows[kpi].to_numpy(dtype=float) for kpi in kpis}
        return {"sensitivity.csv": sensitivity_methods.analyze(chosen, specs, unit, outputs, base_seed)}

    return _finish(experiment, execution, analyse=analyse)
