"""Named assumption sets: the alternatives to a scenario's unsourced assumptions a policy's answer is tried under.

Why: a seed interval says how much a headline moves with the luck of the draw, not with the
choices nobody could source (how readily investors trade when costs change, what a platform
charges, how fast institutions onboard, how readily they switch wrapper). An assumption file
names those alternatives, each a set of scenario keys with the value it takes, so that the
report can show, beside each headline's seed interval, how far it moves across them.

    calibration: ../calibration/hk_2025.yaml   # optional: refit every set to these targets
    sets:
      elastic:
        description: investors' volume answers cost at the elastic end of the published range (-1.5)
        targets: {volume_elasticity: -1.5}     # a target of the calibration moved with the set
      platform_fee_high:
        description: the platform charges 20 bp a side (the high end of calibration.md's 0-20 bp)
        set: {venues.platform.fees.trading_fee_bps: 20.0}   # scenario keys and their values

The central set (the shipped values, refitted) is always run and is called `central`; the name
is reserved. A set may not fix a key the calibration fits: the refit decides those. A set may
move a calibration target's value only where the target itself is an assumption's range (an
elasticity's published range), and says so in its description. Everything is checked before
anything runs, naming the file, the key and the value: every key loads in the baseline and in
every policy scenario, every replaced target is a target of the calibration.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from sim.scenario import ScenarioError, load_scenario
from sim.scenario.base import Strict
from sim.scenario.errors import from_validation_error
from sim.validation.calibration_spec import CalibrationSpec, load_spec, read_yaml_mapping

CENTRAL = "central"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"


class SetFile(Strict):
    """One named alternative as written."""

    description: str = Field(min_length=1, description="What the set assumes, and why its values stand for an end "
                             "of a range (cite the range's source in docs/calibration.md).")
    set: dict[str, Any] = Field(default_factory=dict, description="Scenario keys (dotted) and the values they take.")
    targets: dict[str, float] = Field(default_factory=dict, description="Calibration targets (by KPI) whose published "
                                      "value is itself a range, and the end this set takes.")


class AssumptionFile(Strict):
    """The assumption file as written (paths relative to it)."""

    calibration: str | None = Field(None, min_length=1, description="A calibration spec every set is refitted with, "
                                    "relative to this file; none: the sets run as written.")
    sets: dict[str, SetFile] = Field(min_length=1, description="The alternatives, by name (lower case, digits, _).")


@dataclass(frozen=True)
class AssumptionSet:
    """One alternative: its name, its words, its overrides (`KEY=VALUE`) and its target values."""

    name: str
    description: str
    overrides: tuple[str, ...]
    targets: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class AssumptionSets:
    """A validated assumption file: the central set first, then the alternatives in file order."""

    path: Path
    text: str  # the file as read, for the experiment's manifest and its cache key
    calibration: Path | None
    sets: tuple[AssumptionSet, ...]

    def named(self, name: str) -> AssumptionSet:
        return next(s for s in self.sets if s.name == name)


def override_text(key: str, value: Any) -> str:
    """`KEY=VALUE` as `--set` reads it (JSON is YAML, so every scalar, list and mapping round-trips)."""
    return f"{key}={json.dumps(value)}"


def load_assumption_sets(path: str | os.PathLike[str], scenarios: list[Path], overrides: tuple[str, ...] = ()
                         ) -> AssumptionSets:
    """The validated file at `path`, checked against every scenario in `scenarios` (with the
    command line's `overrides`); a ScenarioError naming the file, key and value otherwise."""
    path = Path(path)
    source = str(path)
    data = read_yaml_mapping(path, "assumption file", "calibration, sets")
    try:
        written = AssumptionFile.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(error, AssumptionFile, data, {}, source) from None
    calibration = _calibration_file(path, written.calibration)
    spec = load_spec(calibration, tuple(overrides)) if calibration is not None else None
    sets = [AssumptionSet(CENTRAL, "the scenarios' own values (refitted where a calibration is named)", (), ())]
    for name, entry in written.sets.items():
        sets.append(_checked_set(source, name, entry, spec, scenarios, overrides))
    return AssumptionSets(path, path.read_text(encoding="utf-8-sig"), calibration, tuple(sets))


def _calibration_file(path: Path, text: str | None) -> Path | None:
    if text is None:
        return None
    if os.path.isabs(text) or text.startswith("~"):
        raise ScenarioError(str(path), "calibration", "must be a path relative to the assumption file's folder", text)
    found = Path(os.path.normpath(path.parent / text))
    if not found.is_file():
        raise ScenarioError(str(path), "calibration", f"file not found (looked for {found})", text)
    return found


def _checked_set(source: str, name: str, entry: SetFile, spec: CalibrationSpec | None, scenarios: list[Path],
                 overrides: tuple[str, ...]) -> AssumptionSet:
    where = f"sets.{name}"
    if not re.match(NAME_PATTERN, name):
        raise ScenarioError(source, where, "a set's name is lower case letters, digits and _ (at most 40), "
                            "starting with a letter", name)
    if name == CENTRAL:
        raise ScenarioError(source, where, f"'{CENTRAL}' is the scenarios' own values, always run: name the "
                            "alternatives only", name)
    if not entry.set and not entry.targets:
        raise ScenarioError(source, where, "a set changes at least one key (`set`) or target (`targets`)")
    fitted = {key for p in spec.parameters for key in p.fitted_keys} if spec is not None else set()
    for key in entry.set:
        if key in fitted:
            raise ScenarioError(source, f"{where}.set.{key}", "the calibration fits this key, so a set may not fix "
                                "it: the refit under each set decides it", entry.set[key])
    set_overrides = tuple(override_text(key, value) for key, value in entry.set.items())
    for scenario in scenarios:
        for key, value in entry.set.items():
            try:
                load_scenario(scenario, [*overrides, override_text(key, value)])
            except ScenarioError as error:
                issue = error.issues[0]
                raise ScenarioError(source, f"{where}.set.{key}", f"not accepted by {scenario}: {issue.message}",
                                    value) from None
    if entry.targets:
        if spec is None:
            raise ScenarioError(source, f"{where}.targets", "moves a calibration target, but the file names no "
                                "`calibration`", sorted(entry.targets))
        known = {t.label for t in spec.targets}
        for kpi in entry.targets:
            if kpi not in known:
                raise ScenarioError(source, f"{where}.targets.{kpi}", f"not a target of {spec.path} (its targets: "
                                    f"{', '.join(sorted(known))})", entry.targets[kpi])
    return AssumptionSet(name, " ".join(entry.description.split()), set_overrides, tuple(entry.targets.items()))
