"""Render `docs/scenario-reference.md` from the schema, so the reference cannot drift from the code.

One section per model (root first, then depth-first in field order), each with a table of its
keys: type in plain words, default, allowed range (from the field constraints), description, and
a link to where `docs/calibration.md` sources the default or marks it as an assumption. The
output depends only on the schema and that page, so regenerating it is a no-op unless one of
them changed.
"""

from __future__ import annotations

import inspect
import datetime
import json
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.scenario.calibration_links import CalibrationEntry, calibration_cell, load_calibration
from sim.scenario.schema import Scenario

COMMAND = "tokensim reference > docs/scenario-reference.md"

HEADER = f"""# Scenario reference

Generated from `sim/scenario/schema.py`; do not edit by hand. Regenerate with
`{COMMAND}`.

A scenario is a YAML file whose top level is the [Scenario](#scenario) section below. Every
key's unit is in its name (`_hkd`, `_bps`, `_days`, `_per_day`, ...); unknown keys are errors.
A file may begin with `extends: base.yaml` (a relative path to a `.yaml` file in the file's
folder, below it, or one folder up; nothing further out): mappings are
merged key by key with this file winning, lists and plain values are replaced whole, and `null`
replaces an inherited value rather than deleting it. On the command line,
`--set KEY.PATH=VALUE` (e.g. `--set policy.stamp_duty.tokenized_etf.rate_per_side=0`) replaces
one value after the files are merged; the value is read as YAML. The last column links to
[calibration.md](calibration.md), which gives each real-world default its source or marks it as
an assumption with a reason and a range to sweep.
"""

_BOUND_SYMBOLS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def render_reference(root: type[BaseModel] = Scenario) -> str:
    """The Markdown reference for `root` and every model nested in it."""
    calibration = load_calibration()
    sections = [_section(model, paths, calibration) for model, paths in _models_in_order(root).items()]
    return "\n".join([HEADER, *sections])


def schema_keys(root: type[BaseModel] = Scenario) -> list[tuple[str, ...]]:
    """Every key of the schema as path segments (`<name>` for a mapping's names, no list markers)."""
    return [
        tuple(part.removesuffix("[]") for part in f"{path}.{name}".strip(".").split("."))
        for model, paths in _models_in_order(root).items() for path in paths for name in model.model_fields
    ]


def _models_in_order(root: type[BaseModel]) -> dict[type[BaseModel], list[str]]:
    """Every model under `root`, depth-first in field order, with the key paths where it appears."""
    found: dict[type[BaseModel], list[str]] = {}

    def visit(model: type[BaseModel], path: str) -> None:
        found.setdefault(model, []).append(path)
        for name, field in model.model_fields.items():
            for inner, suffix in _nested_models(field.annotation):
                visit(inner, f"{path}.{name}{suffix}" if path else f"{name}{suffix}")

    visit(root, "")
    return found


def _nested_models(annotation: Any, suffix: str = "") -> list[tuple[type[BaseModel], str]]:
    """The models inside a field's type, each with the path suffix leading to it."""
    annotation = _strip(annotation)
    if _is_model(annotation):
        return [(annotation, suffix)]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is dict:
        return _nested_models(args[1], f"{suffix}.<name>")
    if origin in (list, tuple, Union, types.UnionType):
        item_suffix = suffix if origin in (Union, types.UnionType) else f"{suffix}[]"
        return [found for arg in args if arg is not Ellipsis for found in _nested_models(arg, item_suffix)]
    return []


def _section(model: type[BaseModel], paths: list[str], calibration: list[CalibrationEntry]) -> str:
    """One model's heading, where it appears, its docstring and its table of keys."""
    where = ", ".join(f"`{path}`" for path in paths) if paths != [""] else "the top level of the file"
    rows = [
        "| Key | Type | Default | Allowed | Description | Calibration |",
        "| --- | --- | --- | --- | --- | --- |",
        *(_row(name, field, calibration_cell(calibration, paths, name)) for name, field in model.model_fields.items()),
    ]
    doc = inspect.cleandoc(model.__doc__ or "")
    return f"## {_title(model)}\n\n{doc}\n\nAt: {where}.\n\n" + "\n".join(rows) + "\n"


def _row(name: str, field: FieldInfo, calibration: str) -> str:
    cells = [f"`{name}`", _describe_type(field.annotation), _default(field), _allowed(field), field.description or "",
             calibration]
    return "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |"


def _describe_type(annotation: Any) -> str:
    """A type in plain words: "number", "one of: a, b", "mapping name -> [Venue](#venue)", ..."""
    annotation = _strip(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        return " or ".join("null" if arg is type(None) else _describe_type(arg) for arg in args)
    if origin is Literal:
        return "one of: " + ", ".join(str(arg) for arg in args)
    if origin is dict:
        return f"mapping {_describe_key(args[0])} -> {_describe_type(args[1])}"
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        return f"list of {_describe_type(args[0])}"
    if origin is tuple:
        return "[" + ", ".join(_describe_type(arg) for arg in args) + "]"
    if _is_model(annotation):
        return f"[{_title(annotation)}](#{_title(annotation).lower()})"
    plain = {bool: "true/false", int: "integer", float: "number", str: "text"}
    return plain.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _describe_key(annotation: Any) -> str:
    annotation = _strip(annotation)
    if get_origin(annotation) is Literal:
        return "/".join(str(arg) for arg in get_args(annotation))
    return "name" if annotation is str else _describe_type(annotation)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return f"see [{_title(type(value))}](#{_title(type(value)).lower()})"
    return f"`{_inline(value)}`"


def _inline(value: Any) -> str:
    """A default as YAML flow text: `null`, `true`, `"text"`, `[[9.5, 12.0], [13.0, 16.0]]`, ..."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_inline(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_inline(item)}" for key, item in value.items()) + "}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return _inline(value.model_dump(mode="json"))
    return json.dumps(value, ensure_ascii=False)


def _allowed(field: FieldInfo) -> str:
    """The field's constraints, then those on its items, keys or values."""
    own = ", ".join(_constraints(field.metadata, _strip(field.annotation) is str))
    return "; ".join(part for part in [own, *_inner_constraints(field.annotation)] if part)


def _inner_constraints(annotation: Any) -> list[str]:
    """Constraints on the parts of a container: `names: matches ...`, `each: >= 0, <= 24`."""
    annotation = _strip(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is dict:
        labelled = [("names", args[0]), ("values", args[1])]
    elif origin in (list, tuple):
        labelled = [("each", arg) for arg in args if arg is not Ellipsis]
    else:
        return []
    parts: list[str] = []
    for label, arg in labelled:
        own = _constraints(_annotated_metadata(arg), _strip(arg) is str)
        text = f"{label}: {', '.join(own)}" if own else ""
        parts += [part for part in [text, *_inner_constraints(arg)] if part and part not in parts]
    return parts


def _constraints(metadata: list[Any], is_text: bool) -> list[str]:
    """`>= 0`, `< 1`, `not empty`, `matches ^...$` from pydantic / annotated-types metadata."""
    unit = "characters" if is_text else "items"
    parts = []
    for item in metadata:
        for name, symbol in _BOUND_SYMBOLS.items():
            if getattr(item, name, None) is not None:
                parts.append(f"{symbol} {_bound(getattr(item, name))}")
        if getattr(item, "min_length", None) is not None:
            minimum = item.min_length
            parts.append("not empty" if minimum == 1 else f"at least {minimum} {unit}")
        if getattr(item, "max_length", None) is not None:
            parts.append(f"at most {item.max_length} {unit}")
        if getattr(item, "pattern", None) is not None:
            parts.append(f"matches `{item.pattern}`")
    return parts


def _bound(value: float) -> str:
    """`0.0` -> `0`, `0.5` -> `0.5`: a bound as a person would write it."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _annotated_metadata(annotation: Any) -> list[Any]:
    """Constraint objects attached by `Annotated[..., Field(...)]` or annotated-types markers."""
    if get_origin(annotation) is not Annotated:
        return []
    metadata = []
    for extra in get_args(annotation)[1:]:
        metadata += extra.metadata if isinstance(extra, FieldInfo) else [extra]
    return metadata


def _strip(annotation: Any) -> Any:
    """The type under any `Annotated[...]` wrappers."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _title(model: type) -> str:
    """A section's name as users read it: the schema class without the `Params` that keeps it apart
    from the market class of the same concept (`VenueParams` is the scenario's `Venue`)."""
    return model.__name__.removesuffix("Params")
