"""The package's layers import one way, as declared in pyproject.toml ([tool.importlinter]).

Each contract is checked with import-linter on the installed package's real import graph
(lazy and type-checking imports included); its report, printed on failure, names the import
that breaks it and the line.
"""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
KEPT = 0


def kept(contract: str) -> bool:
    return lint_imports(str(ROOT / "pyproject.toml"), (contract,), no_cache=True, no_logo=True) == KEPT


def test_every_layer_imports_only_from_layers_below_it():
    assert kept("layers")


def test_the_market_never_imports_the_scenario_schema():
    assert kept("market-owns-its-inputs")
