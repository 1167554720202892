"""Strict YAML: the one reader of scenario text, for files and `--set` values alike.

What a scenario says must be exactly what the schema sees, so the reader refuses what plain
YAML lets slip:

* a key given twice in one mapping, whether written out twice or brought in by a merge key
  (`<<: *defaults`): merge keys may combine mappings, but every key of the result must come
  from exactly one place (to change an inherited value, use `extends` or `--set`);
* keys that are not text (`1: {}` is refused; quote it as `"1": {}`);
* tags beyond plain YAML (`!!python/object` and the like).

A date that is not on the calendar (`2026-02-30`, month 13, year 0) is read as `NotADate`
rather than failing inside the parser, so that the schema can name the key it was given for.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@dataclass(frozen=True)
class NotADate:
    """Text that YAML reads as a date but that names no day (`2026-02-30`); the schema refuses it."""

    text: str

    def __str__(self) -> str:
        return self.text


class StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when PyYAML has it
    """A safe loader that rejects duplicate and non-text mapping keys, and any non-standard tag."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, yaml.Mark | None] = {}
        for key_node, merged_at in _keys(node):
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != STR_TAG:
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else key_node.id
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {shown!r} is not text; quote it", key_node.start_mark
                )
            if key_node.value in seen:
                merged = seen[key_node.value] or merged_at
                how = f" (once through the merge key on line {merged.line + 1})" if merged else ""
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key_node.value!r}{how}", key_node.start_mark
                )
            seen[key_node.value] = merged_at
        return super().construct_mapping(node, deep=deep)

    def construct_date(self, node: yaml.ScalarNode) -> datetime.date | NotADate:
        try:
            return self.construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return NotADate(node.value)

    def refuse_tag(self, node: yaml.Node) -> None:
        """`!!python/object` and other non-standard tags are refused, not silently ignored."""
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise yaml.constructor.ConstructorError(
            None, None, f"tag {tag} is not allowed (scenario files are plain YAML)", node.start_mark
        )


StrictLoader.add_constructor(TIMESTAMP_TAG, StrictLoader.construct_date)
StrictLoader.add_constructor(None, StrictLoader.refuse_tag)


def _keys(node: yaml.MappingNode, merged_at: yaml.Mark | None = None) -> Iterator[tuple[yaml.Node, yaml.Mark | None]]:
    """Every key the mapping `node` ends up with, each with the mark of the merge key that
    brought it in (None if written in `node` itself); a merge value that is not a mapping or a
    list of mappings is left to PyYAML, which reports it."""
    for key_node, value_node in node.value:
        if key_node.tag != MERGE_TAG:
            yield key_node, merged_at
            continue
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if isinstance(source, yaml.MappingNode):
                yield from _keys(source, merged_at or key_node.start_mark)


def load_strict(text: str) -> Any:
    """The Python value of the YAML `text`, read strictly (callers bound its size first)."""
    loader = StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
