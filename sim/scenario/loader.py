"""Load a scenario: YAML file -> dict -> `extends` merged -> `--set` applied -> validated `Scenario`.

YAML is read strictly (`sim.scenario.strict_yaml`): no Python tags, no key given twice (merge
keys included), text keys only, so what a file says is exactly what the schema sees. A file
may start from another with `extends: base.yaml` (relative to the extending file's folder, with
`..` taken lexically; chains of any length):

* mappings merge key by key, recursively, and the extending file wins;
* lists and scalars are replaced whole (a list is never appended to);
* `null` is a plain value: it replaces the inherited value, it does not delete the key
  (the schema then rejects it unless the key may be null);
* `extends` itself is not part of the result;
* `measured_against` and `counterfactual` are not inherited: they describe the file that says
  them (what its effects are measured against; how it departs from Hong Kong law or practice),
  so a scenario extending a counterfactual is a counterfactual only if it says so itself.

`measured_against: FILE` names, like `extends` and under the same path rules, the scenario whose
runs this one's effects are measured against. `load_scenario` checks that the file exists and
loads (with the same `--set` overrides, but for these two keys), that it is not the scenario
itself, and that following `measured_against` from file to file never comes back (a cycle).

While merging, every key path is attributed to the file that last set it (a mapping to the last
file that set anything inside it), so a validation error names the file to fix.

A scenario file may come from anyone, so reading it is bounded: only a regular file of at most
`MAX_FILE_BYTES` is read (a folder, FIFO or device is refused without blocking); the YAML may
nest at most `MAX_DEPTH` levels and, with every alias expanded, hold at most `MAX_NODES`
values (a "billion laughs" alias bomb is refused before it is built); and `extends` must be a
relative path to a `.yaml`/`.yml` file in the extending file's folder, below it, or in a
sibling folder (at most one level up, symlinks included), so a chain cannot wander out of the
scenario folders into the rest of the machine.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.scenario.errors import ScenarioError, blame, from_validation_error
from sim.scenario.overrides import OVERRIDE_SOURCE, Override, apply_override, parse_override
from sim.scenario.schema import Scenario
from sim.scenario.strict_yaml import StrictLoader

Provenance = dict[tuple[str, ...], str]

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_NODES = 100_000
YAML_SUFFIXES = (".yaml", ".yml")

NOT_INHERITED = ("measured_against", "counterfactual")  # top-level keys that `extends` does not carry over
COMPARATOR_KEY = "measured_against"


class ComparatorCycle(ScenarioError):
    """`measured_against` leads back to a scenario already on the way (re-raised by each file of
    the chain in turn, so the file the user loaded is the one named)."""


def load_scenario(path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> Scenario:
    """The validated scenario in `path`, after `extends` and the `KEY.PATH=VALUE` overrides;
    its `measured_against` file, if any, checked to load."""
    return _load_checked(Path(path), list(overrides), [])


def comparator_file(path: str | os.PathLike[str], scenario: Scenario) -> Path | None:
    """The file named by the `measured_against` of `scenario` (loaded from `path`), or None."""
    if scenario.measured_against is None:
        return None
    return Path(os.path.normpath(Path(path).parent / scenario.measured_against))


def _load_checked(path: Path, overrides: list[str], chain: list[Path]) -> Scenario:
    data, provenance = resolve_scenario_dict(path, overrides)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(error, Scenario, data, provenance, str(path)) from None
    if scenario.measured_against is not None:
        _check_comparator(path, scenario.measured_against, overrides, blame(provenance, (COMPARATOR_KEY,), str(path)),
                          chain)
    return scenario


def _check_comparator(path: Path, value: str, overrides: list[str], source: str, chain: list[Path]) -> None:
    """The scenario named by `measured_against` exists, is not this one, closes no cycle and loads."""
    target = _relative_target(path, COMPARATOR_KEY, value, source)
    if target.resolve() == path.resolve():
        raise ScenarioError(source, COMPARATOR_KEY, "names this scenario itself; name the scenario its effects are "
                            "measured against, or leave the key out (the experiment's baseline)", value)
    walked = [*chain, path]
    resolved = [step.resolve() for step in walked]
    if target.resolve() in resolved:
        loop = " -> ".join(str(step) for step in [*walked[resolved.index(target.resolve()):], target])
        raise ComparatorCycle(source, COMPARATOR_KEY, f"scenarios are measured against each other in a cycle: {loop}", value)
    own = [text for text in overrides if _override_key(text) not in NOT_INHERITED]
    try:
        _load_checked(target, own, walked)
    except ComparatorCycle as cycle:
        raise ComparatorCycle(source, COMPARATOR_KEY, cycle.message, value) from None
    except ScenarioError as error:
        raise ScenarioError(source, COMPARATOR_KEY, f"the scenario it names does not load ({error.issues[0]})",
                            value) from None


def _override_key(text: str) -> str:
    """The top-level key an override `KEY.PATH=VALUE` sets."""
    return text.partition("=")[0].strip().split(".")[0]


def resolve_scenario_dict(
    path: str | os.PathLike[str], overrides: Iterable[str] = ()
) -> tuple[dict[str, Any], Provenance]:
    """The raw scenario data in `path` (merged and overridden, not validated) and its provenance."""
    provenance: Provenance = {}
    data = _load_with_parents(Path(path), [], provenance)
    for override in map(_parse_override, overrides):
        data = apply_override(data, override)
        for end in range(1, len(override.path)):
            provenance[override.path[:end]] = OVERRIDE_SOURCE
        _attribute(provenance, override.path, override.value, OVERRIDE_SOURCE)
    return data, provenance


def _parse_override(text: str) -> Override:
    """`parse_override`, with the value held to the same limits as a file's YAML."""
    key, _, value_text = text.partition("=")
    source = Path(OVERRIDE_SOURCE)
    try:
        _check_nesting(source, value_text)
        loader = yaml.SafeLoader(value_text)
        try:
            _check_size(source, loader.get_single_node())
        finally:
            loader.dispose()
        return parse_override(text)
    except yaml.YAMLError:
        return parse_override(text)  # it reports the malformed value
    except ValueError:  # Python refuses to read an integer of more than 4300 digits
        raise ScenarioError(OVERRIDE_SOURCE, key.strip(), "holds a number too long to read (more than 4,300 digits)") from None


def _load_with_parents(path: Path, chain: list[Path], provenance: Provenance) -> dict[str, Any]:
    """The data in `path` merged over everything it extends; fills `provenance` as it goes."""
    data = _read_mapping(path)
    base: dict[str, Any] = {}
    if "extends" in data:
        chain = [*chain, path]
        parent = _extends_target(path, data.pop("extends"), chain)
        base = _load_with_parents(parent, chain, provenance)
        for key in NOT_INHERITED:
            base.pop(key, None)
            for known in [known for known in provenance if known[0] == key]:
                del provenance[known]
    return _merge(base, data, str(path), provenance)


def _relative_target(path: Path, key: str, target: Any, source: str | None = None) -> Path:
    """The existing YAML file that `key` in `path` names, relative to the file's folder and at
    most one folder up; errors are attributed to `source` (default: `path`)."""
    source = str(path) if source is None else source
    if not isinstance(target, str) or not target.strip():
        raise ScenarioError(source, key, "must name a YAML file (text)", target)
    if os.path.isabs(target) or target.startswith("~"):
        raise ScenarioError(source, key, "must be a path relative to this file's folder", target)
    if not target.endswith(YAML_SUFFIXES):
        raise ScenarioError(source, key, "must name a .yaml or .yml file", target)
    found = Path(os.path.normpath(path.parent / target))
    allowed = Path(os.path.abspath(path.parent)).parent
    if not _inside(Path(os.path.abspath(found)), allowed) or not _inside(found.resolve(), allowed.resolve()):
        raise ScenarioError(
            source, key, f"leaves the scenario folders (a target may be at most one folder up, in {allowed})", target
        )
    if not found.is_file():
        raise ScenarioError(source, key, f"file not found (looked for {found})", target)
    return found


def _extends_target(path: Path, target: Any, chain: list[Path]) -> Path:
    """The file named by `extends` in `path`, checked to exist and not to close a cycle."""
    parent = _relative_target(path, "extends", target)
    resolved = [step.resolve() for step in chain]
    if parent.resolve() in resolved:
        loop = chain[resolved.index(parent.resolve()) :] + [parent]
        names = " -> ".join(str(step) for step in loop)
        raise ScenarioError(str(path), "extends", f"extends itself in a cycle: {names}", target)
    return parent


def _read_mapping(path: Path) -> dict[str, Any]:
    """The top-level mapping of the UTF-8 YAML file at `path`, read with the strict safe loader."""
    try:
        text = _read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ScenarioError(str(path), "", f"not UTF-8 text (bad byte at offset {error.start})") from None
    try:
        data = _construct(path, text)
    except yaml.MarkedYAMLError as error:
        raise ScenarioError(str(path), "", _yaml_problem(error)) from None
    except yaml.reader.ReaderError as error:
        problem = f"character {error.position}: unacceptable character #x{error.character:04x} ({error.reason})"
        raise ScenarioError(str(path), "", problem) from None
    except RecursionError:
        raise ScenarioError(str(path), "", f"nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError:  # Python refuses to read an integer of more than 4300 digits
        raise ScenarioError(str(path), "", "holds a number too long to read (more than 4,300 digits)") from None
    if data is None:
        raise ScenarioError(str(path), "", "file is empty; expected a mapping of scenario keys")
    if not isinstance(data, dict):
        raise ScenarioError(str(path), "", f"top level must be a mapping of keys, not a {type(data).__name__}")
    return data


def _construct(path: Path, text: str) -> Any:
    """The Python value of the YAML `text`, built only after its size has been checked."""
    _check_nesting(path, text)
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        _check_size(path, node)
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _read_bytes(path: Path) -> bytes:
    """The bytes of `path` if it is a regular file of at most MAX_FILE_BYTES; never blocks on a FIFO."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except IsADirectoryError:
        raise ScenarioError(str(path), "", "is a folder, not a scenario file") from None
    except OSError as error:
        raise ScenarioError(str(path), "", f"cannot read file: {error.strerror or error}") from None
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError(str(path), "", "is a folder, not a scenario file")
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(str(path), "", "is not a regular file (a pipe, device or socket)")
        if info.st_size > MAX_FILE_BYTES:
            raise ScenarioError(str(path), "", f"is {info.st_size:,} bytes; a scenario file may have at most {MAX_FILE_BYTES:,}")
        return os.read(descriptor, MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ScenarioError(str(path), "", f"cannot read file: {error.strerror or error}") from None
    finally:
        os.close(descriptor)


def _check_nesting(path: Path, text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH from the parser's events, before the (recursive)
    composer meets it: thousands of `[` would take seconds to reach Python's recursion limit.

    libyaml's C parser makes this pass nearly free where it is installed; a document it cannot
    parse (it stops at 1000 levels itself) goes through the pure-Python parser, which is slower
    but iterative; a document neither can parse is left to the strict loader, whose messages
    are the ones users see."""
    for loader in (getattr(yaml, "CSafeLoader", None), yaml.SafeLoader):
        if loader is None:
            continue
        try:
            line = _too_deep_at(text, loader)
        except yaml.YAMLError:
            continue
        if line is not None:
            raise ScenarioError(str(path), "", f"line {line}: nested too deeply (at most {MAX_DEPTH} levels)")
        return


def _too_deep_at(text: str, loader: type) -> int | None:
    """The line at which `text` nests deeper than MAX_DEPTH, or None."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return event.start_mark.line + 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _check_size(path: Path, root: yaml.Node | None) -> None:
    """Refuse YAML that nests deeper than MAX_DEPTH or expands (aliases counted each time they
    are used) to more than MAX_NODES values, before any of it is built into Python objects."""
    sizes: dict[int, tuple[int, int]] = {}  # node id -> (expanded values, depth)
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [] if root is None else [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            open_nodes.discard(id(node))
            inner = [sizes[id(child)] for child in _children(node)]
            count = 1 + sum(size for size, _ in inner)
            depth = 1 + max((level for _, level in inner), default=0)
            if depth > MAX_DEPTH:
                raise ScenarioError(str(path), "", f"line {node.start_mark.line + 1}: nested too deeply (at most {MAX_DEPTH} levels)")
            if count > MAX_NODES:
                raise ScenarioError(
                    str(path), "", f"line {node.start_mark.line + 1}: expands to more than {MAX_NODES:,} values "
                    "(aliases are counted each time they are used); refusing a possible alias bomb"
                )
            sizes[id(node)] = (count, depth)
        elif id(node) in open_nodes:
            raise ScenarioError(str(path), "", f"line {node.start_mark.line + 1}: an alias refers to a value that contains it")
        elif id(node) not in sizes:
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _yaml_problem(error: yaml.MarkedYAMLError) -> str:
    """`line 3, column 7: mapping values are not allowed here` from a parser error."""
    mark = error.problem_mark or error.context_mark
    problem = error.problem or error.context or "invalid YAML"
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else problem


def _merge(
    base: dict[str, Any], child: dict[str, Any], source: str, provenance: Provenance, at: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`child` deep-merged over `base` (a new dict); records `source` for what `child` sets."""
    merged = dict(base)
    for key, value in child.items():
        path = (*at, key)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            provenance[path] = source
            merged[key] = _merge(merged[key], value, source, provenance, path)
        else:
            merged[key] = value
            _attribute(provenance, path, value, source)
    return merged


def _attribute(provenance: Provenance, path: tuple[str, ...], value: Any, source: str) -> None:
    """Attribute `path` and every key inside `value` to `source`, forgetting what was there."""
    for known in [known for known in provenance if known[: len(path)] == path]:
        del provenance[known]
    provenance.update(dict.fromkeys(_key_paths(path, value), source))


def _key_paths(path: tuple[str, ...], value: Any) -> Iterator[tuple[str, ...]]:
    """`path` and the path of every mapping key nested in `value`."""
    yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _key_paths((*path, key), inner)
