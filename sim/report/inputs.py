"""What a policy report is built from: a comparison experiment's tables and its definition.

A report is rebuilt from the files the experiment layer wrote (`comparison.csv`,
`summary.csv`, `manifest.json`), so it never depends on the process that ran the runs. The
scenario files named in the manifest are read again (with the same overrides) for their
descriptions and horizons; a file that is gone or no longer resolves to the scenario that was
run (its hash differs) is reported as such rather than described wrongly. The runs' series
records (under "series" in `runs/<key>.json`, see `sim.experiment.series`) are matched to the manifest's
scenarios and seeds by scenario hash and seed, so figures need no scenario file either.

Each policy is measured against its comparator (the manifest's `compared_with`, the scenario its
`measured_against` named, else the baseline), and each counterfactual scenario carries its text
(the manifest's `counterfactual`); `label`, `described` and `against` are the words every table,
figure and sentence of the report uses for them. A folder written before comparators existed
reads as every policy against the baseline (its `baseline_mean` column is the comparator mean).
The central comparison of a `tokensim ranges` experiment also holds `ranges.csv` and
`assumption_sets.csv`: the report then shows each headline's range over the assumption sets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiment.store import RunStore
from sim.experiment.targets import ScenarioTarget
from sim.ranges.tables import read_assumption_sets, read_ranges
from sim.report.sweep_figures import ExperimentTables, load_tables
from sim.experiment.tasks import task_key
from sim.scenario import ScenarioError

UNAVAILABLE = "(the scenario file is not available as it was run)"


@dataclass(frozen=True)
class ScenarioInfo:
    """One compared scenario as the report describes it."""

    name: str
    file: str
    description: str
    horizon_days: int | None
    settings: dict[str, Any] | None = None  # the resolved scenario as plain data


SWEEPS = "sweeps"  # the comparison folder's subfolder holding the sweeps the report shows
FIGURE_KPIS = "figure_kpis.json"  # in a sweep's folder: the KPIs (and the title) the report shows of it


@dataclass(frozen=True)
class SweepShown:
    """A sweep run with the comparison, as the report shows it: its tables, the KPIs and a title."""

    name: str
    title: str
    kpis: list[str]
    tables: ExperimentTables
    description: str = ""
    counterfactual: str | None = None  # what it departs from in Hong Kong law or practice, if it does
    labels: dict[str, str] = field(default_factory=dict)  # panel titles of KPIs named after its listings


def load_sweeps(folder: Path) -> list[SweepShown]:
    """The sweeps saved under the comparison's folder (`sweeps/<name>/`), each with its figure KPIs."""
    shown = []
    for sub in sorted((folder / SWEEPS).glob("*/manifest.json")):
        chosen = json.loads((sub.parent / FIGURE_KPIS).read_text(encoding="utf-8"))
        tables = load_tables(sub.parent, "sweep")
        kpis = [kpi for kpi in chosen["kpis"] if kpi in tables.kpis()]
        shown.append(SweepShown(sub.parent.name, chosen["title"], kpis, tables, chosen.get("description") or "",
                                chosen.get("counterfactual"), chosen.get("labels") or {}))
    return shown


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report shows: paired comparisons, per-scenario summaries and provenance."""

    experiment: str
    package_version: str
    baseline: str
    policies: list[str]
    scenarios: list[ScenarioInfo]
    overrides: list[str]
    base_seed: int
    seeds: list[int]
    comparison: pd.DataFrame
    summary: pd.DataFrame
    series: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    git_revision: str | None = None  # of the code that ran the experiment, when it was a git checkout
    scenario_hashes: dict[str, str] = field(default_factory=dict)
    comparators: dict[str, str] = field(default_factory=dict)  # policy -> the scenario it is measured against
    counterfactuals: dict[str, str] = field(default_factory=dict)  # scenario -> how it departs from law or practice
    ranges: pd.DataFrame | None = None  # ranges.csv: each effect's range over assumption sets (`tokensim ranges`)
    assumption_sets: pd.DataFrame | None = None  # assumption_sets.csv: each set's name, words and refit
    sweeps: list[SweepShown] = field(default_factory=list)  # sweeps run with the comparison (`report --sweep`)

    def comparator(self, policy: str) -> str:
        """The scenario `policy` is measured against (the baseline unless it named another)."""
        return self.comparators.get(policy, self.baseline)

    def label(self, name: str) -> str:
        """A scenario's short label for figures and titles: "x (counterfactual)" for a counterfactual."""
        return f"{name} (counterfactual)" if name in self.counterfactuals else name

    def described(self, name: str) -> str:
        """A scenario's name with its counterfactual text: "x (counterfactual: charges duty ...)"."""
        text = self.counterfactuals.get(name)
        return f"{name} (counterfactual: {text})" if text else name

    def against(self, policy: str) -> str:
        """What a policy's effects are measured against: "waiver against duty (counterfactual: ...)"."""
        return f"{self.described(policy)} against {self.described(self.comparator(policy))}"

    @property
    def reps(self) -> int:
        return len(self.seeds)

    @property
    def horizons(self) -> list[int]:
        """The distinct horizons (business days) of the scenarios whose files could be read."""
        return sorted({s.horizon_days for s in self.scenarios if s.horizon_days is not None})


def scenario_info(entry: dict[str, Any]) -> ScenarioInfo:
    """A manifest's scenario entry, described from its file when that still resolves to it."""
    try:
        target = ScenarioTarget(entry["file"], entry.get("overrides", []))
    except (ScenarioError, OSError):
        return ScenarioInfo(entry["scenario"], entry["file"], UNAVAILABLE, None)
    if target.describe()["scenario_hash"] != entry.get("scenario_hash"):
        return ScenarioInfo(entry["scenario"], entry["file"], UNAVAILABLE, None)
    scenario = target.scenario
    return ScenarioInfo(scenario.name, entry["file"], scenario.description.strip(), scenario.horizon_days,
                        scenario.model_dump(mode="json"))


def load_series(folder: Path, entries: list[dict[str, Any]], seeds: list[int]) -> dict[str, list[dict[str, Any]]]:
    """Per scenario, its runs' series records in replication order, each with its `replication`
    (replications without one are left out). Where a folder holds records of the same scenario
    and seed from different code, the one this code would have written is preferred, then the
    first by key."""
    slots: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for record in RunStore(folder).series():
        slots.setdefault((record.get("scenario_hash", ""), record.get("seed")), []).append(record)
    found = {}
    for entry in entries:
        identity, records = entry.get("scenario_hash", ""), []
        for seed in seeds:
            candidates = slots.get((identity, seed), [])
            preferred = [r for r in candidates if r["key"] == task_key(identity, seed)]
            if candidates:
                records.append({**(preferred or candidates)[0], "replication": seeds.index(seed)})
        found[entry["scenario"]] = records
    return found


def load_inputs(folder: str | Path) -> ReportInputs:
    """The inputs of a report from a `compare` experiment's folder."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise ScenarioError(str(folder), "", "not an experiment folder: manifest.json is missing")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("command") != "compare" or not (folder / "comparison.csv").is_file():
        raise ScenarioError(str(folder), "", "a report needs a `compare` experiment (with comparison.csv)",
                            manifest.get("command"))
    entries = manifest["scenarios"]
    seeds = [int(s) for s in manifest["seeds"]]
    baseline = manifest["baseline"]
    scenarios = [scenario_info(e) for e in entries]
    settings = {s.name: s.settings or {} for s in scenarios}
    counterfactuals = {e["scenario"]: text for e in entries
                       if (text := e.get("counterfactual", settings.get(e["scenario"], {}).get("counterfactual")))}
    return ReportInputs(
        experiment=manifest["experiment"],
        package_version=manifest["package_version"],
        baseline=baseline,
        policies=[e["scenario"] for e in entries if e["scenario"] != baseline],
        scenarios=scenarios,
        overrides=list(entries[0].get("overrides", [])) if entries else [],
        base_seed=int(manifest["base_seed"]),
        seeds=seeds,
        comparison=comparison_table(pd.read_csv(folder / "comparison.csv"), baseline),
        summary=pd.read_csv(folder / "summary.csv"),
        series=load_series(folder, entries, seeds),
        git_revision=manifest.get("git_revision"),
        scenario_hashes={e["scenario"]: e.get("scenario_hash", "") for e in entries},
        comparators={e["scenario"]: e.get("compared_with") or baseline for e in entries if e["scenario"] != baseline},
        counterfactuals=counterfactuals,
        ranges=read_ranges(folder),
        assumption_sets=read_assumption_sets(folder),
        sweeps=load_sweeps(folder),
    )


def comparison_table(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """comparison.csv in today's columns; one written before comparators existed measured every
    policy against the baseline and called the comparator's mean `baseline_mean`."""
    if "comparator_mean" not in table.columns and "baseline_mean" in table.columns:
        table = table.rename(columns={"baseline_mean": "comparator_mean"})
    if "compared_with" not in table.columns:
        table.insert(1, "compared_with", baseline)
    return table
