"""Shared fixtures: the repository root and small, fast scenarios built from the shipped ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

# A short horizon and fewer accounts keep each run well under a second.
QUICK = ["horizon_days=6", "investors.retail.accounts=500", "investors.institutional.accounts=40"]


def quick(name: str, *overrides: str) -> Scenario:
    """A shipped scenario, shortened for tests, with extra `--set` style overrides."""
    return load_scenario(SCENARIOS / f"{name}.yaml", [*QUICK, *overrides])


@pytest.fixture
def baseline() -> Scenario:
    return quick("baseline")


def key_paths(data: Any, at: tuple = ()) -> list[tuple]:
    """Every key path and list position in nested scenario data (for tests that mutate it)."""
    paths = [at] if at else []
    if isinstance(data, dict):
        for key, inner in data.items():
            paths += key_paths(inner, (*at, key))
    elif isinstance(data, list):
        for index, inner in enumerate(data):
            paths += key_paths(inner, (*at, index))
    return paths
