"""Command-line overrides: `--set KEY.PATH=VALUE` applied to the raw scenario data.

The value text is read as strict YAML, like a file (`sim.scenario.strict_yaml`: no key given twice,
merge keys included; text keys only; `0` is a number, `true` a boolean, `[[0, 24]]` a list, `null`
null, and an empty value is null too); the schema types it when the whole scenario is
validated, so an override is checked exactly like the same value written in a file. An override
replaces the value at its path whole (a mapping value is not merged), applies after `extends`,
and creates missing intermediate mappings, leaving unknown keys for the schema to reject.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from sim.scenario.errors import ScenarioError
from sim.scenario.strict_yaml import load_strict

OVERRIDE_SOURCE = "--set"


@dataclass(frozen=True)
class Override:
    """One parsed `KEY.PATH=VALUE`."""

    path: tuple[str, ...]
    value: Any


def parse_override(text: str) -> Override:
    """Parse `KEY.PATH=VALUE`; a ScenarioError (source "--set") if it is malformed."""
    key, equals, value_text = text.partition("=")
    key = key.strip()
    if not equals:
        raise ScenarioError(OVERRIDE_SOURCE, "", "expected KEY.PATH=VALUE (no '=' found)", text)
    if not key:
        raise ScenarioError(OVERRIDE_SOURCE, "", "expected KEY.PATH=VALUE (empty key)", text)
    path = tuple(part.strip() for part in key.split("."))
    if not all(path):
        raise ScenarioError(OVERRIDE_SOURCE, "", "empty segment in the key path", text)
    try:
        value = load_strict(value_text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "not valid YAML"
        mark = getattr(error, "problem_mark", None)
        if mark is not None:
            line = f"line {mark.line + 1}, " if mark.line else ""
            problem = f"{line}column {mark.column + 1}: {problem}"
        raise ScenarioError(OVERRIDE_SOURCE, key, f"cannot read the value: {problem}", value_text) from None
    return Override(path, value)


def apply_override(data: dict[str, Any], override: Override) -> dict[str, Any]:
    """`data` with `override` applied: a new dict, sharing whatever the override does not touch."""
    result = dict(data)
    node = result
    for depth, key in enumerate(override.path[:-1]):
        inner = node.get(key, {})
        if not isinstance(inner, dict):
            where, wanted = ".".join(override.path[: depth + 1]), ".".join(override.path)
            message = f"not a mapping, so {wanted} cannot be set"
            raise ScenarioError(OVERRIDE_SOURCE, where, message, inner)
        node[key] = dict(inner)
        node = node[key]
    node[override.path[-1]] = override.value
    return result
