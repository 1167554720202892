"""Scenario errors: one short, human paragraph naming the file, the key, the bad value and why.

Every way a scenario can be wrong (unreadable file, bad YAML, broken `extends`, malformed
`--set`, a value the schema rejects) ends as a `ScenarioError`, so the command line can print
`str(error)` and nothing else. Pydantic's own report is precise but noisy (URLs, `type=...`,
one line per error); `from_validation_error` rewrites it in the scenario's own terms: dotted
key paths, did-you-mean suggestions for typos, and the file that supplied the offending value.
"""

from __future__ import annotations

import difflib
import json
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError

Loc = tuple[str | int, ...]
"""A location in the scenario data: mapping keys, and list positions as integers."""

MAX_VALUE_CHARS = 60
SHOWN_ISSUES = 2


class _Unset:
    """Marks an issue that has no value worth quoting (a missing key, a whole file)."""

    def __repr__(self) -> str:
        return "<unset>"

    def __reduce__(self) -> str:
        return "UNSET"  # unpickles as the module's one instance, so `is UNSET` keeps working


UNSET: Any = _Unset()


@dataclass(frozen=True)
class Issue:
    """One thing wrong with a scenario: where (source, key path), what (value) and why."""

    source: str
    key_path: str
    message: str
    value: Any = UNSET

    def __str__(self) -> str:
        subject = self.key_path
        if self.value is not UNSET:
            shown = _show_value(self.value)
            subject = f"{subject} = {shown}" if subject else shown
        where = f"{self.source}: {subject}" if subject else self.source
        return f"{where}: {' '.join(self.message.split()).rstrip('.')}"


class ScenarioError(Exception):
    """A scenario that cannot be loaded; `str()` is one paragraph fit for the command line."""

    def __init__(
        self,
        source: str,
        key_path: str,
        message: str,
        value: Any = UNSET,
        *,
        others: Sequence[Issue] = (),
    ) -> None:
        self.issues: tuple[Issue, ...] = (Issue(source, key_path, message, value), *others)
        super().__init__(str(self))

    @classmethod
    def from_issues(cls, issues: Sequence[Issue]) -> ScenarioError:
        """One error reporting all `issues` (at least one), the first being the headline."""
        first, *rest = issues
        return cls(first.source, first.key_path, first.message, first.value, others=rest)

    source = property(lambda self: self.issues[0].source, doc="File path as given, or '--set'.")
    key_path = property(lambda self: self.issues[0].key_path, doc="Dotted key path; '' for a whole file.")
    message = property(lambda self: self.issues[0].message, doc="Why the value is wrong.")

    @property
    def value(self) -> Any:
        """The offending value, or None when there is none to quote."""
        value = self.issues[0].value
        return None if value is UNSET else value

    def __reduce__(self) -> tuple[Any, ...]:
        return (ScenarioError.from_issues, (self.issues,))

    def __str__(self) -> str:
        text = "; ".join(str(issue) for issue in self.issues[:SHOWN_ISSUES])
        hidden = len(self.issues) - SHOWN_ISSUES
        return f"{text} (and {hidden} more)." if hidden > 0 else f"{text}."


def _show_value(value: Any) -> str:
    """The value as YAML would spell it (JSON is YAML), cut to MAX_VALUE_CHARS."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def dotted(path: Loc) -> str:
    """`("venues", "a", "sessions_hours", 0)` -> `venues.a.sessions_hours[0]`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{_key(part)}" if text else _key(str(part)))
    return text


def _key(part: str) -> str:
    """A key as written, or quoted (JSON escapes, cut short) if it holds odd characters or is
    long, so that one error stays one line whatever keys a file invents."""
    if part.isprintable() and len(part) <= MAX_VALUE_CHARS:
        return part
    return _show_value(part)


def blame(provenance: Mapping[tuple[str, ...], str], path: Loc, default: str) -> str:
    """The source (file path or "--set") recorded for the longest prefix of `path`, else `default`."""
    keys = tuple(part for part in path if isinstance(part, str))
    for end in range(len(keys), 0, -1):
        if keys[:end] in provenance:
            return provenance[keys[:end]]
    return default


def from_validation_error(
    error: ValidationError,
    model: type[BaseModel],
    data: Mapping[str, Any],
    provenance: Mapping[tuple[str, ...], str],
    default_source: str,
) -> ScenarioError:
    """Rewrite a pydantic error about `data` (validated as `model`) as a ScenarioError."""
    issues: list[Issue] = []
    for detail in error.errors(include_url=False):
        loc = tuple(detail["loc"])
        path, message, value = _misnamed_entry(model, data, loc) or _explain(detail, model, loc)
        path = _without_tags(model, path)
        issue = Issue(blame(provenance, path, default_source), dotted(path), message, value)
        if issue not in issues:
            issues.append(issue)
    return ScenarioError.from_issues(issues)


def _explain(detail: Mapping[str, Any], model: type[BaseModel], loc: Loc) -> tuple[Loc, str, Any]:
    """Key path, message and quotable value for one pydantic error."""
    if loc and loc[-1] == "[key]":
        return loc[:-1], "invalid key: " + _describe(detail, model, loc[:-1]), UNSET
    quiet = detail["type"] in ("missing", "extra_forbidden") or isinstance(detail.get("input"), dict)
    return loc, _describe(detail, model, loc), UNSET if quiet else detail.get("input")


def _misnamed_entry(model: type[BaseModel], data: Any, loc: Loc) -> tuple[Loc, str, Any] | None:
    """An error inside a named entry that looks like a typo for a sibling, reported as such.

    `--set venues.platfrom.settlement_cycle_days=1` creates a new venue `platfrom` that has
    none of a venue's required keys; "unknown key 'platfrom' (did you mean 'platform'?)" says
    what went wrong, where "venues.platfrom.kind: required key missing" would puzzle.
    """
    for end in range(len(loc), 0, -1):
        entries = _schema_type_at(model, loc[: end - 1])
        if _is_named_entries(entries):
            return _typo_report(_unwrap(get_args(entries)[1]), data, loc[:end])
    return None


def _typo_report(entry_model: type[BaseModel], data: Any, entry_path: Loc) -> tuple[Loc, str, Any] | None:
    """Report `entry_path` as a misspelt name if it lacks every required key and has a close sibling."""
    name, entry = str(entry_path[-1]), _value_at(data, entry_path)
    required = [key for key, field in entry_model.model_fields.items() if field.is_required()]
    if not required or not isinstance(entry, Mapping) or any(key in entry for key in required):
        return None  # an entry with no required keys (a listing) cannot be told from a typo by what it lacks
    siblings = [str(key) for key in _value_at(data, entry_path[:-1]) or {} if str(key) != name]
    close = difflib.get_close_matches(name, siblings, n=1)
    if not close:
        return None
    hint = f"did you mean '{close[0]}'? A new entry would need {', '.join(required)}"
    return entry_path, f"unknown key '{_key(name)}' ({hint})", UNSET


_EXPECTED = {
    "expected an integer": ("int_type", "int_parsing", "int_from_float", "int_parsing_size"),
    "expected a number": ("float_type", "float_parsing"),
    "expected a finite number": ("finite_number",),
    "expected true/false": ("bool_type", "bool_parsing"),
    "expected text": ("string_type", "string_unicode"),
    "expected a mapping of keys": ("dict_type", "model_type", "model_attributes_type"),
    "expected a list": ("list_type", "tuple_type"),
}
_EXPECTED_BY_TYPE = {kind: text for text, kinds in _EXPECTED.items() for kind in kinds}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def _describe(detail: Mapping[str, Any], model: type[BaseModel], path: Loc) -> str:
    """Why the value at `path` was rejected, in scenario terms."""
    kind, ctx = detail["type"], detail.get("ctx", {})
    if kind == "extra_forbidden":
        return _unknown_key(model, path)
    if kind == "missing":
        return "required key missing"
    if kind in _EXPECTED_BY_TYPE:
        return _EXPECTED_BY_TYPE[kind]
    if kind in _BOUNDS:
        (bound,) = ctx.values()
        return f"must be {_BOUNDS[kind]} {_number(bound)}"
    if kind == "literal_error":
        return f"expected {ctx['expected']}"
    if kind == "value_error":
        return str(ctx["error"])
    return _describe_size(kind, ctx) or _lower_first(detail["msg"])


def _describe_size(kind: str, ctx: Mapping[str, Any]) -> str | None:
    """Length and pattern complaints, or None for any other kind of error."""
    if kind in ("too_short", "string_too_short") and ctx.get("min_length") == 1:
        return "must not be empty"
    unit = "characters" if kind.startswith("string_") else "items"
    if kind in ("too_short", "string_too_short"):
        return f"must have at least {ctx['min_length']} {unit}"
    if kind in ("too_long", "string_too_long"):
        return f"must have at most {ctx['max_length']} {unit}"
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {ctx['pattern']}"
    return None


def _unknown_key(model: type[BaseModel], path: Loc) -> str:
    """`unknown key 'fess' (did you mean 'fees'?)`, or a list of the allowed keys."""
    key = str(path[-1])
    allowed = _allowed_keys(model, path[:-1])
    close = difflib.get_close_matches(key, allowed, n=1)
    key = _key(key)
    if close:
        return f"unknown key '{key}' (did you mean '{close[0]}'?)"
    if allowed:
        return f"unknown key '{key}' (allowed here: {', '.join(allowed)})"
    return f"unknown key '{key}'"


def _allowed_keys(model: type[BaseModel], path: Loc) -> list[str]:
    """The keys the schema allows at `path`, or [] when `path` is not a model."""
    node = _schema_type_at(model, path)
    return list(node.model_fields) if _is_model(node) else []


def _schema_type_at(model: type[BaseModel], path: Loc) -> Any:
    """The schema type describing the value at `path`, or None if the schema has no such place."""
    node: Any = model
    for part in path:
        node = _unwrap(node)
        choices = _tagged_choices(node)
        if part in choices:
            node = choices[part]
        elif _is_model(node):
            field = node.model_fields.get(part) if isinstance(part, str) else None
            node = field.annotation if field else None
        elif get_origin(node) is dict:
            node = get_args(node)[1]
        elif get_origin(node) in (list, tuple) and isinstance(part, int):
            args = get_args(node)
            node = args[0] if get_origin(node) is list or len(args) <= part else args[part]
        else:
            return None
    return _unwrap(node)


def _tagged_choices(node: Any) -> dict[str, Any]:
    """The models of a tagged union by tag (`instruments.<name>` is an Etf or a Bond), else {}."""
    if get_origin(node) not in (Union, types.UnionType):
        return {}
    choices = {}
    for arg in get_args(node):
        if get_origin(arg) is Annotated:
            for meta in get_args(arg)[1:]:
                if isinstance(meta, Tag):
                    choices[meta.tag] = get_args(arg)[0]
    return choices


def _without_tags(model: type[BaseModel], path: Loc) -> Loc:
    """The path as the user wrote it: pydantic inserts the union tag (`etf`) after the entry name."""
    kept = [part for end, part in enumerate(path) if part not in _tagged_choices(_schema_type_at(model, path[:end]))]
    return tuple(kept)


def _unwrap(node: Any) -> Any:
    """Strip `Annotated[...]` and `Optional[...]` down to the type that matters."""
    while True:
        origin = get_origin(node)
        if origin is Annotated:
            node = get_args(node)[0]
        elif origin in (Union, types.UnionType):
            real = [arg for arg in get_args(node) if arg is not type(None)]
            if len(real) != 1:
                return node
            node = real[0]
        else:
            return node


def _is_model(node: Any) -> bool:
    return isinstance(node, type) and issubclass(node, BaseModel)


def _is_named_entries(node: Any) -> bool:
    """A `dict[str, Model]`: entries named by the user, each a model (venues, investors)."""
    return get_origin(node) is dict and _is_model(_unwrap(get_args(node)[1]))


def _value_at(data: Any, path: Loc) -> Any:
    """The raw value at `path`, or None if the data does not reach that far."""
    for part in path:
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


def _number(value: Any) -> str:
    """`0.0` -> `0`, `0.5` -> `0.5`: bounds as a person would write them."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
