"""A calibration spec: which scenario keys to fit, within which bounds, to which published figures.

Why: the market-scale work fits the model to several published Hong Kong figures at once, so the
user writes down, in one YAML file, the scenario to start from, the run settings every
evaluation shares (horizon, seeds, overrides), the parameters (dotted scenario keys with bounds)
and the targets (KPIs of a run, or the duty-sweep `volume_elasticity`, each with its published
value and source). The file is validated like a scenario: strict YAML, a `Strict` schema, and
then every key, KPI and bound is checked against the scenario itself, so a typo is a
`ScenarioError` naming the spec file, the key and the value before anything runs.

A `*` in a parameter key stands for every named entry at that level (investor groups, venues,
listings, instruments); each match becomes a parameter of its own with the same bounds, and
entries the rest of the key does not reach are skipped (at least one must match). With
`together: true` the matches move as one instead: the parameter is a factor on each match's
own value (its bounds are factors), so their ratios stay as the scenario sets them (both
investor groups' gain means, say, scaled to a market-wide elasticity).
"""

from __future__ import annotations

import difflib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from sim.kpis import declared_kpis
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.scenario.base import Strict
from sim.scenario.errors import UNSET, Issue, from_validation_error
from sim.scenario.strict_yaml import load_strict
from sim.validation.runs import exchange_listing

ELASTICITY = "volume_elasticity"
"""The target measured by the duty sweep (`sim.validation.elasticity`), not a KPI of one run."""

MAX_SPEC_BYTES = 1_000_000
WILDCARD = "*"
YAML_SUFFIXES = (".yaml", ".yml")


class ParameterSpec(Strict):
    """Bounds of one fitted key, and how the optimiser moves between them."""

    low: float = Field(description="Lowest value tried.")
    high: float = Field(description="Highest value tried.")
    scale: Literal["linear", "log"] = Field(
        "linear", description="`log` searches in the logarithm (for a positive key spanning orders of magnitude).")
    start: float | None = Field(None, description="Where the search starts; default: the scenario's own value "
                                "(1, for a factor).")
    together: bool = Field(
        False, description="For a key with `*`: fit one factor on every match's own value, keeping their ratios, "
        "instead of one parameter per match; `low`, `high` and `start` are then factors.")


class TargetSpec(Strict):
    """One published figure the model should reproduce."""

    kpi: str = Field(min_length=1, description="A KPI of a run (`sim.kpis`), or `volume_elasticity`.")
    value: float = Field(description="The published value, in the KPI's unit.")
    source: str = Field(min_length=1, description="Where the value was published.")
    weight: float = Field(1.0, gt=0, description="Weight of this target's squared relative error.")
    per: str | None = Field(None, min_length=1, description="Divide by this KPI (e.g. turnover per trade: trade size).")
    error_scale: float | None = Field(
        None, gt=0, description="The error that counts as 100% (default: |value|); needed when the value is 0.")


class SpecFile(Strict):
    """The calibration spec as written (paths relative to the spec file)."""

    scenario: str = Field(min_length=1, description="The scenario to fit, relative to the spec file.")
    horizon_days: int | None = Field(None, gt=0, le=10_000, description="Horizon of every run; default: the scenario's.")
    seeds: int = Field(2, ge=1, le=100, description="Replications, the same seeds for every evaluation.")
    seed: int | None = Field(None, ge=0, description="Base seed of the replications; default: the scenario's own.")
    overrides: list[str] = Field(default_factory=list, description="`--set` overrides every run gets (not fitted).")
    max_evaluations: int = Field(60, ge=1, le=10_000, description="Parameter vectors evaluated at most.")
    tolerance: float = Field(0.001, gt=0, lt=1, description="Accuracy of the search on each parameter's [0, 1] scale.")
    good_enough: float = Field(1e-6, ge=0, description="Stop once the objective is at most this (1e-6: every target "
                               "within about 0.1%); 0 searches until the search converges or the cap.")
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    targets: list[TargetSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Parameter:
    """One concrete scenario key to fit, or, with `keys`, a factor on several keys' own values (`bases`)."""

    key: str
    low: float
    high: float
    scale: str
    start: float
    keys: tuple[str, ...] = ()  # a factor's concrete keys; empty for a plain key
    bases: tuple[float, ...] = ()  # their values in the scenario, which the factor multiplies

    @property
    def label(self) -> str:
        return f"{self.key} (factor)" if self.keys else self.key

    @property
    def fitted_keys(self) -> tuple[str, ...]:
        """The scenario keys this parameter sets."""
        return self.keys or (self.key,)

    def assignments(self, value: float) -> list[tuple[str, float]]:
        """The scenario keys and the values they take at `value` (a factor's products to 6 significant
        digits, as `from_unit` rounds a plain key's, so a fitted file reproduces its runs)."""
        if not self.keys:
            return [(self.key, value)]
        return [(key, float(f"{base * value:.6g}")) for key, base in zip(self.keys, self.bases)]

    def to_unit(self, value: float) -> float:
        """The value on the optimiser's [0, 1] scale (linear or logarithmic between the bounds)."""
        if self.scale == "log":
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, unit: float) -> float:
        """The key's value at `unit` on [0, 1] (clipped), to 6 significant digits: the value a
        scenario file then holds exactly, so a fitted file reproduces its runs."""
        unit = min(1.0, max(0.0, float(unit)))
        if self.scale == "log":
            value = math.exp(math.log(self.low) + unit * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + unit * (self.high - self.low)
        return float(f"{value:.6g}")


@dataclass(frozen=True)
class Target:
    """One published figure: the KPI (or KPI per KPI) and how its error is scaled and weighted."""

    kpi: str
    value: float
    source: str
    weight: float
    per: str | None
    error_scale: float

    @property
    def label(self) -> str:
        return f"{self.kpi}/{self.per}" if self.per else self.kpi


@dataclass(frozen=True)
class CalibrationSpec:
    """A validated spec: the scenario file, the run settings shared by every evaluation, the
    parameters (wildcards expanded) and the targets."""

    path: Path
    scenario_path: Path
    scenario_text: str  # the `scenario` key as written (relative to the spec's folder)
    overrides: tuple[str, ...]  # horizon and the spec's own, then the command line's
    seeds: int
    seed: int | None
    max_evaluations: int
    tolerance: float
    good_enough: float
    parameters: tuple[Parameter, ...]
    targets: tuple[Target, ...]

    @property
    def measures_elasticity(self) -> bool:
        return any(target.kpi == ELASTICITY for target in self.targets)


def load_spec(path: str | os.PathLike[str], extra_overrides: tuple[str, ...] = (), horizon_days: int | None = None,
              seeds: int | None = None) -> CalibrationSpec:
    """The validated spec in `path`; `extra_overrides`, `horizon_days` and `seeds` (the command
    line's) win over the file's. A ScenarioError naming the spec, key and value otherwise."""
    path = Path(path)
    source = str(path)
    data = read_yaml_mapping(path)
    try:
        written = SpecFile.model_validate(data)
    except ValidationError as error:
        raise _exponent_hint(from_validation_error(error, SpecFile, data, {}, source)) from None
    scenario_path = _scenario_file(path, written.scenario)
    horizon = horizon_days if horizon_days is not None else written.horizon_days
    overrides = (*([f"horizon_days={horizon}"] if horizon is not None else []), *written.overrides, *extra_overrides)
    try:
        scenario = load_scenario(scenario_path, overrides)
    except ScenarioError as error:
        raise ScenarioError(source, "scenario", f"does not load with the spec's overrides ({error.issues[0]})",
                            written.scenario) from None
    parameters = _parameters(source, scenario_path, scenario, written, overrides)
    targets = _targets(source, scenario, written.targets)
    return CalibrationSpec(path, scenario_path, written.scenario, overrides, written.seeds if seeds is None else seeds,
                           written.seed, written.max_evaluations, written.tolerance, written.good_enough, parameters, targets)


def read_yaml_mapping(path: Path, what: str = "calibration spec", keys: str = "scenario, parameters, targets, ...") -> Any:
    """The YAML mapping in `path`, read strictly (no duplicate keys, plain tags) and bounded in
    size; `what` names the kind of file and `keys` the keys it expects, in the errors."""
    source = str(path)
    if not path.is_file():
        raise ScenarioError(source, "", f"{what} not found (or not a file)")
    if path.stat().st_size > MAX_SPEC_BYTES:
        raise ScenarioError(source, "", f"a {what} may have at most {MAX_SPEC_BYTES:,} bytes")
    try:
        data = load_strict(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ScenarioError(source, "", "not UTF-8 text") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise ScenarioError(source, "", where + (getattr(error, "problem", None) or "not valid YAML")) from None
    if not isinstance(data, dict):
        raise ScenarioError(source, "", f"expected a mapping of keys ({keys})")
    return data


def _exponent_hint(error: ScenarioError) -> ScenarioError:
    """The error, with a hint where a number was read as text because its exponent has no sign
    (YAML 1.1 reads `1.5e10` as text and `1.5e+10` as a number)."""
    issues = [Issue(i.source, i.key_path, f"{i.message} (write the exponent with a sign and the mantissa with a "
                    "point, e.g. 1.5e+10: YAML reads 1.5e10 as text)", i.value)
              if isinstance(i.value, str) and _reads_as_number(i.value) else i for i in error.issues]
    return ScenarioError.from_issues(issues)


def _reads_as_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _scenario_file(spec: Path, text: str) -> Path:
    """The scenario the spec names: a relative path to an existing YAML file."""
    if os.path.isabs(text) or text.startswith("~"):
        raise ScenarioError(str(spec), "scenario", "must be a path relative to the spec file's folder", text)
    if not text.endswith(YAML_SUFFIXES):
        raise ScenarioError(str(spec), "scenario", "must name a .yaml or .yml scenario file", text)
    found = Path(os.path.normpath(spec.parent / text))
    if not found.is_file():
        raise ScenarioError(str(spec), "scenario", f"file not found (looked for {found})", text)
    return found


# --- parameters -------------------------------------------------------------------------------

_MISSING = object()


def _children(node: Any) -> dict[str, Any] | None:
    """The named parts of a scenario node (a mapping's entries or a model's fields), or None for a value."""
    if isinstance(node, dict):
        return {str(key): value for key, value in node.items()}
    if isinstance(node, BaseModel):
        return {name: getattr(node, name) for name in type(node).model_fields}
    return None


def expand_key(scenario: Scenario, key: str) -> tuple[list[str], str | None]:
    """The concrete keys `key` names in `scenario` (each `*` over the entries there), and, when it
    names none, why (with a did-you-mean for a misspelt part)."""
    matches: list[str] = []
    reasons: list[str] = []

    def walk(node: Any, parts: list[str], at: list[str]) -> None:
        if not parts:
            matches.append(".".join(at))
            return
        children = _children(node)
        part, rest = parts[0], parts[1:]
        if children is None:
            reasons.append(f"'{'.'.join(at)}' is a value, it has no '{part}'")
        elif part == WILDCARD:
            if not isinstance(node, dict):
                reasons.append(f"'*' stands only for named entries (investor groups, venues, listings), not the "
                               f"fields at '{'.'.join(at)}'")
            for name, child in children.items():
                walk(child, rest, [*at, name])
        elif part in children:
            walk(children[part], rest, [*at, part])
        else:
            close = difflib.get_close_matches(part, list(children), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            where = f" at '{'.'.join(at)}'" if at else ""
            reasons.append(f"no key '{part}'{where}{hint}")

    walk(scenario, key.split("."), [])
    return matches, None if matches else (reasons[0] if reasons else "matches no key")


def value_at(scenario: Scenario, key: str) -> Any:
    node: Any = scenario
    for part in key.split("."):
        children = _children(node)
        node = _MISSING if children is None else children.get(part, _MISSING)
    return node


def _parameters(source: str, scenario_path: Path, scenario: Scenario, written: SpecFile,
                overrides: tuple[str, ...]) -> tuple[Parameter, ...]:
    """Each spec key expanded and checked: it exists, holds a number, its bounds are ordered, and
    the scenario accepts both bounds."""
    overridden = {text.partition("=")[0].strip() for text in overrides}
    found: dict[str, Parameter] = {}
    for key, bounds in written.parameters.items():
        where = f"parameters.{key}"
        keys, why = expand_key(scenario, key)
        if not keys:
            raise ScenarioError(source, where, f"not a key of the scenario {scenario_path}: {why}")
        keys = [k for k in keys if isinstance(value_at(scenario, k), float)] if WILDCARD in key else keys
        if not keys:
            raise ScenarioError(source, where, "matches no key that holds a number")
        _check_bounds(source, where, bounds)
        if bounds.together:
            found[key] = _factor(source, where, key, keys, bounds, scenario, found, overridden)
            continue
        for concrete in keys:
            value = value_at(scenario, concrete)
            if isinstance(value, bool) or not isinstance(value, float):
                raise ScenarioError(source, where, "must be a key that holds a number with a point (an integer, "
                                    "switch, text or section cannot be fitted)", value if _children(value) is None else UNSET)
            _check_free(source, where, concrete, found, overridden)
            start = value if bounds.start is None else bounds.start
            if not bounds.low <= start <= bounds.high:
                what = "start" if bounds.start is not None else f"the scenario's value of {concrete}"
                raise ScenarioError(source, where, f"{what} lies outside [low, high] = [{bounds.low:g}, {bounds.high:g}]; "
                                    "widen the bounds or give `start`", start)
            found[concrete] = Parameter(concrete, bounds.low, bounds.high, bounds.scale, start)
    for parameter in found.values():
        _check_accepted(source, scenario_path, overrides, parameter)
    return tuple(found.values())


def _factor(source: str, where: str, key: str, keys: list[str], bounds: ParameterSpec, scenario: Scenario,
            found: dict[str, Parameter], overridden: set[str]) -> Parameter:
    """One factor on every match of a `*` key (`together: true`)."""
    if WILDCARD not in key:
        raise ScenarioError(source, f"{where}.together", "only a key with `*` can move several keys together", True)
    if not bounds.low > 0:
        raise ScenarioError(source, f"{where}.low", "a factor's bounds must be above 0", bounds.low)
    for concrete in keys:
        _check_free(source, where, concrete, found, overridden)
    start = 1.0 if bounds.start is None else bounds.start
    if not bounds.low <= start <= bounds.high:
        raise ScenarioError(source, where, f"the starting factor lies outside [low, high] = [{bounds.low:g}, "
                            f"{bounds.high:g}]; widen the bounds or give `start`", start)
    return Parameter(key, bounds.low, bounds.high, bounds.scale, start, tuple(keys),
                     tuple(float(value_at(scenario, k)) for k in keys))


def _check_free(source: str, where: str, concrete: str, found: dict[str, Parameter], overridden: set[str]) -> None:
    """A key is fitted by one parameter only (a factor's keys included), and not also set by an override."""
    if any(concrete in parameter.fitted_keys for parameter in found.values()):
        raise ScenarioError(source, where, f"fits '{concrete}', which another parameter already fits")
    if concrete in overridden:
        raise ScenarioError(source, where, f"'{concrete}' is also set by the overrides; fit it or fix it, not both")


def _check_bounds(source: str, where: str, bounds: ParameterSpec) -> None:
    if not bounds.low < bounds.high:
        raise ScenarioError(source, where, "low must be below high", {"low": bounds.low, "high": bounds.high})
    if bounds.scale == "log" and not bounds.low > 0:
        raise ScenarioError(source, f"{where}.low", "must be > 0 on a log scale", bounds.low)


def _check_accepted(source: str, scenario_path: Path, overrides: tuple[str, ...], parameter: Parameter) -> None:
    """The scenario loads with the key at each bound (the schema's own limits apply)."""
    for name, bound in (("low", parameter.low), ("high", parameter.high)):
        try:
            at_bound = [f"{key}={value!r}" for key, value in parameter.assignments(bound)]
            load_scenario(scenario_path, [*overrides, *at_bound])
        except ScenarioError as error:
            raise ScenarioError(source, f"parameters.{parameter.key}.{name}",
                                f"the scenario refuses this value ({error.issues[0].message})", bound) from None


# --- targets ----------------------------------------------------------------------------------

def _targets(source: str, scenario: Scenario, written: list[TargetSpec]) -> tuple[Target, ...]:
    """Each target checked: a KPI declared for this scenario (or the elasticity), a nonzero scale."""
    names = [kpi.name for kpi in declared_kpis(scenario)]
    targets = []
    for index, target in enumerate(written):
        where = f"targets[{index}]"
        for field in ("kpi", "per"):
            name = getattr(target, field)
            if name is None or (field == "kpi" and name == ELASTICITY):
                continue
            if name not in names:
                close = difflib.get_close_matches(name, [*names, ELASTICITY], n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else " (a run's kpis.csv lists them)"
                raise ScenarioError(source, f"{where}.{field}", f"not a KPI of this scenario{hint}", name)
        if target.kpi == ELASTICITY:
            if target.per is not None:
                raise ScenarioError(source, f"{where}.per", "the elasticity is not divided by a KPI", target.per)
            exchange_listing(scenario, source)  # the duty sweep needs an exchange-listed ETF
        if target.value == 0 and target.error_scale is None:
            raise ScenarioError(source, f"{where}.error_scale", "a target of 0 has no relative error: give the error "
                                "that counts as 100%, in the KPI's unit")
        scale = target.error_scale if target.error_scale is not None else abs(target.value)
        targets.append(Target(target.kpi, target.value, target.source, target.weight, target.per, scale))
    labels = [t.label for t in targets]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise ScenarioError(source, "targets", "a KPI is targeted twice; give one value (with its weight)", twice[0])
    return tuple(targets)
