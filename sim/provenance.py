"""Provenance: what a result was computed from, so that it can be reproduced or reused.

A run's manifest and an experiment's records name the resolved scenario (its SHA-256 in
canonical JSON), the package's source (a SHA-256 of every source file, and the git revision
when there is one), the command line and the versions of the libraries the results depend on.
Equal scenario hashes and code fingerprints mean a stored result can stand for a new run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.runs import RunResult


def scenario_hash(result: RunResult) -> str:
    """SHA-256 of the resolved scenario in canonical JSON: equal hashes mean equal inputs."""
    return scenario_digest(result.scenario)


def scenario_digest(scenario: Scenario) -> str:
    """`scenario_hash` of a scenario not yet run."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 of the package's source files: results computed by other code never count as cached."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@functools.cache
def git_revision() -> str | None:
    """The source revision of this package, when it runs from a git checkout (read once per
    process, like `code_fingerprint`, so one command's outputs all name the same revision)."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout.strip() or None


def command_line() -> list[str]:
    """The command that is running, as typed (`tokensim run ...` or `python run_scenarios.py`)."""
    return [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else []


def versions() -> dict[str, str]:
    """Python and the libraries whose behaviour the results depend on."""
    found = {"python": platform.python_version()}
    for name in ("numpy", "pandas", "simpy", "pydantic", "pyyaml", "scipy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found
