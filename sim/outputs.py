"""Writing a run's folder: tables, manifest and figures, all or nothing.

Everything is written into a hidden temporary folder beside the destination (`.<name>.partial-<pid>`)
and renamed into place only when complete, so an interrupted run never leaves a folder that
looks finished; one left by a killed process is removed by the next write to the same place.
`run_status` tells whether a folder already holds this very run (same scenario, seed and code).
Tables hold no wall-clock times, so the same scenario and seed give byte-identical files.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.provenance import code_fingerprint, command_line, git_revision, scenario_digest, scenario_hash, versions
from sim.figures import save_run_figures
from sim.runs import RunResult
from sim.scenario import Scenario

PARTIAL_PREFIX = "."
TABLES = ("trades.csv", "daily.csv", "groups.csv", "issuance.csv", "settlement.csv", "payments.csv", "kpis.csv")


def manifest(result: RunResult, sources: list[str], overrides: list[str], command: list[str] | None = None) -> dict:
    """Everything needed to reproduce the run; `command` defaults to this process's command line."""
    return {
        "scenario": result.scenario.name,
        "seed": result.seed,
        "package_version": __version__,
        "git_revision": git_revision(),
        "code_fingerprint": code_fingerprint(),
        "scenario_hash": scenario_hash(result),
        "scenario_files": sources,
        "overrides": overrides,
        "command": command_line() if command is None else command,
        "versions": versions(),
        "files": [*TABLES, "figures/turnover.png", "figures/spread.png"],
        "resolved_scenario": result.scenario.model_dump(mode="json"),
    }


def run_status(folder: Path, scenario: Scenario, seed: int) -> str:
    """What is at `folder` compared with a run of `scenario` with `seed` by this code:
    "missing", "up to date", "not a run folder", or why it differs ("another seed", ...)."""
    if not folder.exists() and not folder.is_symlink():
        return "missing"
    try:
        recorded = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if folder.is_symlink() or not isinstance(recorded, dict) or "scenario_hash" not in recorded:
            return "not a run folder"
    except (OSError, ValueError):
        return "not a run folder"
    if recorded.get("scenario_hash") != scenario_digest(scenario):
        return "the scenario changed"
    if recorded.get("seed") != seed:
        return f"another seed ({recorded.get('seed')})"
    if recorded.get("code_fingerprint") != code_fingerprint():
        return "the code changed"
    missing = [name for name in recorded.get("files", TABLES) if not (folder / name).is_file()]
    return f"files missing ({missing[0]})" if missing else "up to date"


def kpi_frame(result: RunResult) -> pd.DataFrame:
    """The run's KPIs as one row, led by scenario and seed."""
    return pd.DataFrame([{"scenario": result.scenario.name, "seed": result.seed, **result.kpis}])


def write_folder(final: Path, fill: Callable[[Path], None]) -> Path:
    """Call `fill(partial)` on an empty temporary folder beside `final`, then replace `final` with it."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(final)
    partial = final.parent / f"{PARTIAL_PREFIX}{final.name}.partial-{os.getpid()}"
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


def remove_abandoned(final: Path) -> list[Path]:
    """Remove the temporary folders of `final` left by processes that no longer run (killed
    with SIGKILL, or the machine stopped); return them. A live writer's folder is left alone."""
    removed = []
    for partial in final.parent.glob(f"{PARTIAL_PREFIX}{final.name}.partial-*"):
        pid = partial.name.rpartition("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(partial, ignore_errors=True)
            removed.append(partial)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_run(result: RunResult, out_dir: Path, sources: list[str], overrides: list[str],
              command: list[str] | None = None) -> Path:
    """Write `out_dir/<scenario>/` atomically and return its path; an older folder is replaced."""

    def fill(folder: Path) -> None:
        result.trades.to_csv(folder / "trades.csv", index=False)
        result.daily.to_csv(folder / "daily.csv", index=False)
        result.groups.to_csv(folder / "groups.csv", index=False)
        result.issuance.to_csv(folder / "issuance.csv", index=False)
        result.settlement.to_csv(folder / "settlement.csv", index=False)
        result.payments.to_csv(folder / "payments.csv", index=False)
        kpi_frame(result).to_csv(folder / "kpis.csv", index=False)
        save_run_figures(result, folder / "figures")
        text = json.dumps(manifest(result, sources, overrides, command), indent=2, sort_keys=False)
        (folder / "manifest.json").write_text(text + "\n", encoding="utf-8")

    return write_folder(out_dir / result.scenario.name, fill)
