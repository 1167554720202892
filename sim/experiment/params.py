"""`--param` specifications: which scenario key an experiment varies, and over what.

    KEY=V1,V2,...   listed values (each read as a number when it is one, else as YAML)
    KEY=LO:HI:N     N evenly spaced values from LO to HI inclusive (a grid)
    KEY=LO:HI       a continuous range, for Latin hypercube and sensitivity designs

Generated numbers are kept to 12 significant digits, so a grid step of 0.1 gives 0.3, not
0.30000000000000004, and are rounded to whole numbers for a key that holds a whole number in
the scenario (`investors.retail.accounts`, say; see `ScenarioTarget.typed`).

A mistake is a ScenarioError with source "--param", so the command line reports it in one line
before anything runs; whether the key exists, and whether each value is allowed there, is
checked by loading the scenario with the value as an override.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from sim.scenario import ScenarioError

SOURCE = "--param"


@dataclass(frozen=True)
class Param:
    """One varied key: listed values, or a range LO..HI (with a grid count for grids)."""

    key: str
    text: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    count: int | None = None
    integer: bool = False

    @property
    def is_range(self) -> bool:
        return self.low is not None

    def grid_values(self) -> tuple[Any, ...]:
        """The values a full grid takes: the listed ones, or N evenly spaced over LO:HI:N."""
        if not self.is_range:
            return self.values
        if self.count is None:
            raise ScenarioError(SOURCE, self.key, "a grid needs listed values or LO:HI:N (how many values)", self.text)
        return tuple(self.scale(np.linspace(0.0, 1.0, self.count)))

    def scale(self, unit: np.ndarray) -> list[Any]:
        """Points in [0, 1] mapped onto LO..HI (rounded to whole numbers for an integer key)."""
        values = self.low + (self.high - self.low) * np.asarray(unit, dtype=float)
        if self.integer:
            return [int(round(v)) for v in values]
        return [tidy(float(v)) for v in values]


def tidy(value: float) -> float:
    """`value` to 12 significant digits: what a person would have typed."""
    return float(f"{value:.12g}")


def value_text(value: Any) -> str:
    """A value as YAML text, read back by `--set` as the same value (`1e-05` becomes `1.0e-05`,
    since YAML 1.1 reads a float only with a decimal point)."""
    if type(value) is int:
        return str(value)
    if type(value) is float and math.isfinite(value):
        mantissa, exponent, power = repr(value).partition("e")
        return f"{mantissa}.0e{power}" if exponent and "." not in mantissa else repr(value)
    return yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()


def _number(text: str) -> int | float | None:
    """`text` as an int or a finite float, or None when it is not a number."""
    for kind in (int, float):
        try:
            number = kind(text)
        except ValueError:
            continue
        return number if math.isfinite(number) else None
    return None


def _listed(text: str) -> Any:
    number = _number(text)
    return number if number is not None else yaml.safe_load(text)


def parse_param(text: str) -> Param:
    """Parse one `--param` specification."""
    key, equals, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    if not equals or not key or not spec:
        raise ScenarioError(SOURCE, key, "expected KEY=V1,V2,... or KEY=LO:HI:N or KEY=LO:HI", text)
    parts = spec.split(":")
    if len(parts) == 1:
        return _listed_param(key, text, spec)
    if len(parts) > 3:
        raise ScenarioError(SOURCE, key, "a range is LO:HI or LO:HI:N", spec)
    low, high = _number(parts[0]), _number(parts[1])
    if low is None or high is None:
        raise ScenarioError(SOURCE, key, "range bounds must be finite numbers", spec)
    if not low < high:
        raise ScenarioError(SOURCE, key, "empty range: LO must be below HI", spec)
    count = None
    if len(parts) == 3:
        count = _number(parts[2])
        if not isinstance(count, int) or count < 2:
            raise ScenarioError(SOURCE, key, "N in LO:HI:N must be an integer >= 2", spec)
    return Param(key, text, low=low, high=high, count=count)


def _listed_param(key: str, text: str, spec: str) -> Param:
    items = [item.strip() for item in spec.split(",")]
    if not all(items):
        raise ScenarioError(SOURCE, key, "empty value in the list", spec)
    values = tuple(_listed(item) for item in items)
    if len({value_text(v) for v in values}) < len(values):
        raise ScenarioError(SOURCE, key, "a value is listed twice", spec)
    return Param(key, text, values=values)


def parse_params(texts: Sequence[str], *, ranges_only: bool = False) -> list[Param]:
    """Parse every `--param`; `ranges_only` for designs that sample ranges (LHS, sensitivity)."""
    if not texts:
        raise ScenarioError(SOURCE, "", "give at least one --param KEY=...")
    params = [parse_param(text) for text in texts]
    keys = [p.key for p in params]
    for param in params:
        if keys.count(param.key) > 1:
            raise ScenarioError(SOURCE, param.key, "this key is given twice")
        if ranges_only and not (param.is_range and param.count is None):
            raise ScenarioError(SOURCE, param.key, "this design samples a range: give KEY=LO:HI", param.text)
    return params
