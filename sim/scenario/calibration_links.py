"""Which scenario keys `docs/calibration.md` sources or marks as assumptions, for the reference.

Why: a reader of the scenario reference should reach, from any key, the place that says where
its default comes from. `docs/calibration.md` lists keys as backticked dotted paths in the first
cell of its table rows, under a "Sourced values", an "Assumptions" or a topic heading (whose
rows say which they are); `*` stands for any
name, a leading `...` for any prefix, a path to a section covers the keys inside it, and a
bare name after a comma continues the previous
key's prefix (`settlement.margin_confidence`, `margin_lookback_days`). The reference matches
each of its keys (with `<name>` for any name) against those paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CALIBRATION_FILE = Path(__file__).resolve().parents[2] / "docs" / "calibration.md"
LABELS = {"Sourced values": "sourced", "Assumptions": "assumption"}  # other headings link by their title
NOT_KEYS = "Full citations"


@dataclass(frozen=True)
class CalibrationEntry:
    """One documented key: its path segments, whether any prefix may precede them, and its section."""

    segments: tuple[str, ...]
    any_prefix: bool
    section: str  # the heading it stands under

    @property
    def link(self) -> str:
        """A Markdown link to its section of calibration.md (GitHub's heading anchors)."""
        anchor = re.sub(r"[^\w\- ]", "", self.section.lower()).replace(" ", "-")
        return f"[{LABELS.get(self.section, self.section.lower())}](calibration.md#{anchor})"

    def matches(self, key: tuple[str, ...]) -> bool:
        """Does this entry document the reference key `key` (segments, `<name>` for any name)?

        An entry naming a section (`investors.retail`) documents every key inside it.
        """
        starts = range(len(key) - len(self.segments) + 1) if self.any_prefix else range(min(1, len(key)))
        return any(
            len(key) - start >= len(self.segments) and all(
                mine == "*" or theirs == "<name>" or mine == theirs
                for mine, theirs in zip(self.segments, key[start:start + len(self.segments)])
            )
            for start in starts
        )


def _row_keys(cell: str) -> list[tuple[tuple[str, ...], bool]]:
    """The dotted keys named in a row's first cell, bare continuations completed."""
    keys, prefix, any_prefix = [], (), False
    for text in re.findall(r"`([^`]+)`", cell):
        if not re.fullmatch(r"(\.\.\.)?[\w*]+(\.[\w*]+)*", text):
            continue
        if text.startswith("..."):
            any_prefix, parts = True, tuple(text[3:].split("."))
        elif "." in text or not prefix:
            any_prefix, parts = False, tuple(text.split("."))
        else:
            parts = (*prefix, text)
        prefix = parts[:-1]
        keys.append((parts, any_prefix))
    return keys


def parse_calibration(text: str) -> list[CalibrationEntry]:
    """Every key documented in a calibration page's sourced and assumption tables."""
    entries, section = [], None
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif section and section != NOT_KEYS and line.startswith("| `"):
            cell = line.split("|")[1]
            entries += [CalibrationEntry(parts, any_prefix, section) for parts, any_prefix in _row_keys(cell)]
    return entries


def load_calibration(path: Path = CALIBRATION_FILE) -> list[CalibrationEntry]:
    """The entries of the project's calibration page (none when it is not beside the package)."""
    return parse_calibration(path.read_text(encoding="utf-8")) if path.is_file() else []


def calibration_cell(entries: list[CalibrationEntry], paths: list[str], name: str) -> str:
    """Links to the calibration sections that document the key `name` at any of `paths`."""
    keys = [tuple(part.removesuffix("[]") for part in f"{path}.{name}".strip(".").split(".")) for path in paths]
    links = dict.fromkeys(entry.link for entry in entries if any(entry.matches(key) for key in keys))
    return ", ".join(links)
