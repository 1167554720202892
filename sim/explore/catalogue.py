"""The scenarios the explorer offers: the baseline, every policy, and each policy's comparator.

The inputs are scenario files or folders of them, as for `tokensim report`: the baseline is
`--baseline FILE` or the input named `baseline.yaml`, and every other input is a policy the
reader may pick. A policy is measured against the scenario its `measured_against` names (which
need not be among the inputs), else the baseline. Every file is loaded at the explorer's scale
when the catalogue is built, so a broken file stops the command before the server starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.scenario import Scenario, ScenarioError, comparator_file, load_scenario
from sim.scenario_files import scenario_files

BASELINE_FILE = "baseline.yaml"


class NotOffered(LookupError):
    """A scenario (or job) the explorer does not have; `str()` names what it does have."""


@dataclass(frozen=True)
class Entry:
    """One scenario as the explorer uses it: its file, and its resolved data at the explorer's scale."""

    path: Path
    scenario: Scenario

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def counterfactual(self) -> str | None:
        return self.scenario.counterfactual

    def data(self) -> dict[str, Any]:
        """The resolved scenario with every default filled (what the levers read)."""
        return self.scenario.model_dump(mode="json")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "file": str(self.path), "description": " ".join(self.scenario.description.split()),
                "counterfactual": self.counterfactual}


@dataclass(frozen=True)
class Policy:
    """A policy on offer with its comparator."""

    entry: Entry
    comparator: Entry


class Catalogue:
    """The policies on offer by name, each with its comparator, at the explorer's scale."""

    def __init__(self, inputs: Sequence[str], baseline: str | None, scale: Sequence[str]) -> None:
        files = scenario_files(list(inputs))
        for path in files:
            if not path.is_file():
                raise ScenarioError(str(path), "", "file not found")
        base_path = self._baseline(files, baseline)
        self.scale = list(scale)
        self.baseline = self._entry(base_path)
        self.policies: dict[str, Policy] = {}
        for path in dict.fromkeys(files):
            if path.resolve() == base_path.resolve():
                continue
            entry = self._entry(path)
            if entry.name in self.policies or entry.name == self.baseline.name:
                raise ScenarioError(str(path), "name", "two scenarios share this name; names must be unique", entry.name)
            found = comparator_file(path, entry.scenario)
            comparator = self.baseline if found is None else self._entry(found)
            self.policies[entry.name] = Policy(entry, comparator)
        if not self.policies:
            raise ScenarioError(str(base_path), "", "name at least one policy scenario besides the baseline")

    @staticmethod
    def _baseline(files: list[Path], baseline: str | None) -> Path:
        if baseline is not None:
            path = Path(baseline)
            if not path.is_file():
                raise ScenarioError(baseline, "", "file not found (--baseline)")
            return path
        found = [f for f in files if f.name == BASELINE_FILE]
        if not found:
            raise ScenarioError("explore", "--baseline", f"no baseline: name one with --baseline FILE or include {BASELINE_FILE}")
        return found[0]

    def _entry(self, path: Path) -> Entry:
        return Entry(path, load_scenario(path, self.scale))

    def policy(self, name: str) -> Policy:
        """The policy of that name; NotOffered, naming those on offer, otherwise."""
        try:
            return self.policies[name]
        except KeyError:
            raise NotOffered(f"unknown scenario {name!r} (on offer: {', '.join(self.policies)})") from None
