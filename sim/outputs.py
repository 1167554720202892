"""Writing a run's folder: tables, manifest and figures, all or nothing.

Everything is written into a hidden temporary folder beside the destination and renamed into
place only when complete, so an interrupted run never leaves a folder that looks finished.
Tables hold no wall-clock times, so the same scenario and seed give byte-identical files.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.engine import RunResult
from sim.report.figures import save_run_figures

TABLES = ("trades.csv", "daily.csv", "groups.csv", "issuance.csv", "settlement.csv", "kpis.csv")


def scenario_hash(result: RunResult) -> str:
    """SHA-256 of the resolved scenario in canonical JSON: equal hashes mean equal inputs."""
    canonical = json.dumps(result.scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 of the package's source files: results computed by other code never count as cached."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def git_revision() -> str | None:
    """The source revision of this package, when it runs from a git checkout."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout.strip() or None


def manifest(result: RunResult, sources: list[str], overrides: list[str]) -> dict:
    """Everything needed to reproduce the run."""
    return {
        "scenario": result.scenario.name,
        "seed": result.seed,
        "package_version": __version__,
        "git_revision": git_revision(),
        "code_fingerprint": code_fingerprint(),
        "scenario_hash": scenario_hash(result),
        "scenario_files": sources,
        "overrides": overrides,
        "files": [*TABLES, "figures/turnover.png", "figures/spread.png"],
        "resolved_scenario": result.scenario.model_dump(mode="json"),
    }


def kpi_frame(result: RunResult) -> pd.DataFrame:
    """The run's KPIs as one row, led by scenario and seed."""
    return pd.DataFrame([{"scenario": result.scenario.name, "seed": result.seed, **result.kpis}])


def write_folder(final: Path, fill: Callable[[Path], None]) -> Path:
    """Call `fill(partial)` on an empty temporary folder beside `final`, then replace `final` with it."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.parent / f".{final.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        partial.mkdir()
        fill(partial)
        if final.exists():
            shutil.rmtree(final)
        partial.rename(final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return final


def write_run(result: RunResult, out_dir: Path, sources: list[str], overrides: list[str]) -> Path:
    """Write `out_dir/<scenario>/` atomically and return its path; an older folder is replaced."""

    def fill(folder: Path) -> None:
        result.trades.to_csv(folder / "trades.csv", index=False)
        result.daily.to_csv(folder / "daily.csv", index=False)
        result.groups.to_csv(folder / "groups.csv", index=False)
        result.issuance.to_csv(folder / "issuance.csv", index=False)
        result.settlement.to_csv(folder / "settlement.csv", index=False)
        kpi_frame(result).to_csv(folder / "kpis.csv", index=False)
        save_run_figures(result, folder / "figures")
        text = json.dumps(manifest(result, sources, overrides), indent=2, sort_keys=False)
        (folder / "manifest.json").write_text(text + "\n", encoding="utf-8")

    return write_folder(out_dir / result.scenario.name, fill)
