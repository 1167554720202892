"""One setting of the explorer: a policy with the reader's levers, at the explorer's scale.

A setting is run as a comparison of two scenario files: the policy's comparator (with the
scale as `--set` overrides) and the setting itself, written as one self-contained YAML file:
the policy's scenario with inheritance resolved and the scale and levers applied (the data
`resolve_scenario_dict` merges, not `Scenario.model_dump`, whose filled-in nulls do not load
back). Inlining makes the file load wherever it is saved (an `extends:` path would break once
the file left the scenario folders), and the file that runs is the file the reader downloads.
It drops `measured_against` (a relative path that would not resolve elsewhere; the comparator
is named in the header instead) and takes the comparator's seed, the comparison's base seed,
so `tokensim run FILE --reps N` runs the explorer's replication seeds.

The cache key (`Setting.key`) is explicit: the SHA-256 of the setting's resolved scenario
(the policy file with the scale and lever overrides), of its comparator's, the replications,
the base seed and the model's code fingerprint. Two requests with the same key are the same
experiment, so the second is served from the cache; anything that could change a number
changes the key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import yaml

from sim.experiment.seeds import replication_seeds
from sim.explore.catalogue import Policy
from sim.provenance import code_fingerprint, scenario_digest
from sim.scenario import Scenario, load_scenario, resolve_scenario_dict

KEY_CHARS = 24


@dataclass(frozen=True)
class Setting:
    """A policy, the reader's lever overrides, the explorer's scale and replications."""

    policy: Policy
    lever_overrides: tuple[str, ...]
    scale: tuple[str, ...]
    reps: int

    @property
    def seed(self) -> int:
        """The comparison's base seed: the comparator's own (as `tokensim compare` takes the baseline's)."""
        return self.policy.comparator.scenario.seed

    @property
    def seeds(self) -> list[int]:
        return replication_seeds(self.seed, self.reps)

    @cached_property
    def data(self) -> dict[str, Any]:
        """The setting's scenario data: the policy file resolved, with the scale and levers applied."""
        data, _ = resolve_scenario_dict(self.policy.entry.path, [*self.scale, *self.lever_overrides])
        data.pop("measured_against", None)
        data["seed"] = self.seed
        return data

    @cached_property
    def scenario(self) -> Scenario:
        """The setting validated (a ScenarioError names the bad override)."""
        load_scenario(self.policy.entry.path, [*self.scale, *self.lever_overrides])  # errors name the file and --set
        return Scenario.model_validate(self.data)

    @cached_property
    def key(self) -> str:
        """The cache key: what the setting runs and against what, with which seeds and code."""
        identity = {
            "setting": scenario_digest(self.scenario),
            "comparator": scenario_digest(self.policy.comparator.scenario),
            "reps": self.reps,
            "seed": self.seed,
            "code": code_fingerprint(),
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:KEY_CHARS]

    def describe(self) -> dict[str, Any]:
        """What the setting is, in the terms a reader (and the cache's index) can check."""
        return {"key": self.key, "scenario": self.policy.entry.name, "file": str(self.policy.entry.path),
                "overrides": list(self.lever_overrides), "scale": list(self.scale), "reps": self.reps,
                "seed": self.seed, "comparator": self.policy.comparator.name,
                "comparator_file": str(self.policy.comparator.path)}

    def file_name(self) -> str:
        return f"{self.policy.entry.name}-explore-{self.key[:8]}.yaml"

    def yaml_text(self) -> str:
        """The setting as a scenario file, with a header saying where it came from and how to run it."""
        self.scenario  # noqa: B018 - validate before writing anything
        comparator = self.policy.comparator
        lines = [
            f"# {self.policy.entry.name} as set in tokensim explore (setting {self.key}).",
            f"# The scenario file {self.policy.entry.path}, inheritance resolved and inlined so this file",
            "# loads wherever it is saved, with these overrides applied:",
            *(f"#   --set {text}   (lever)" for text in self.lever_overrides),
            *(f"#   --set {text}   (the explorer's scale)" for text in self.scale),
        ]
        if not self.lever_overrides:
            lines.append("#   (no lever moved: the scenario as its file has it)")
        label = f" (counterfactual: {' '.join(comparator.counterfactual.split()).rstrip('.')})" if comparator.counterfactual else ""
        lines += [
            f"# Measured in the explorer against {comparator.name}{label}, file {comparator.path}.",
            f"# seed is the comparator's, so the replication seeds are the explorer's: {self.seeds}",
            f"# Reproduce the runs:        tokensim run {self.file_name()} --reps {self.reps}",
            f"# Reproduce the comparison: tokensim compare {comparator.path} {self.file_name()} --reps {self.reps}"
            + "".join(f" --set {text}" for text in self.scale),
            "",
        ]
        body = yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, width=100)
        return "\n".join(lines) + body
