"""Which scenario files a command was given: files as named, folders expanded to their YAML files.

`tokensim run`, `validate` and `report` all accept files or folders of them; this is the one
place that turns those arguments into the list of files, sorted within each folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.scenario import ScenarioError


def scenario_files(paths: Sequence[str]) -> list[Path]:
    """The YAML files named, with each folder expanded to the scenario files in it, sorted."""
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                raise ScenarioError(str(path), "", "no .yaml scenario files in this folder")
            files.extend(found)
        else:
            files.append(path)
    return files
