"""Writing a run's folder: tables, manifest and figures, all or nothing, never over another's.

Everything is written into a hidden temporary folder beside the destination (`.<name>.partial-<pid>`)
and renamed into place only when complete, so an interrupted run never leaves a folder that
looks finished; one left by a killed process is removed by the next write to the same place.
The rename happens with the parent folder locked (`flock`), after a last look at what is there
now: two processes writing the same folder at once cannot lose each other's results unnoticed
(see `write_run`). `run_status` tells whether a folder already holds this very run (same
scenario, seed and code). Tables hold no wall-clock times, so the same scenario and seed give
byte-identical files. An OS error while writing becomes an `OutputError` naming the folder.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.provenance import code_fingerprint, command_line, git_revision, scenario_digest, scenario_hash, versions
from sim.figures import save_run_figures
from sim.runs import RunResult
from sim.scenario import Scenario, ScenarioError

PARTIAL_PREFIX = "."
TABLES = ("daily.csv", "groups.csv", "issuance.csv", "settlement.csv", "payments.csv", "kpis.csv")  # besides the trades
TRADE_ROWS = ("all", "sample", "none")
TRADE_FORMATS = ("csv", "parquet")
TRADE_SAMPLE_EVERY = 100  # `--trades sample` writes trade 0, 100, 200, ... of the run


@dataclass(frozen=True)
class TradeOutput:
    """Which of a run's trade rows are written, and in what format: the trade table is the one that
    grows with the market (about 200 bytes a row as CSV, so a market-scale year is gigabytes), the
    others stay small and are always CSV."""

    rows: str = "all"  # all; sample: every TRADE_SAMPLE_EVERY-th row in time order; none
    format: str = "csv"  # or parquet (the `parquet` extra: pyarrow)

    def __post_init__(self) -> None:
        if self.rows not in TRADE_ROWS:
            raise ScenarioError("--trades", "", f"must be one of {', '.join(TRADE_ROWS)}", self.rows)
        if self.format not in TRADE_FORMATS:
            raise ScenarioError("--trades-format", "", f"must be one of {', '.join(TRADE_FORMATS)}", self.format)

    @property
    def file(self) -> str | None:
        """The trade table's file name, or None when no trades are written."""
        if self.rows == "none":
            return None
        return f"{'trades' if self.rows == 'all' else 'trades_sample'}.{self.format}"

    def describe(self) -> dict:
        """As the manifest records it (a folder written with other options is not this run's)."""
        return {"rows": self.rows, "format": self.format,
                **({"sample_every": TRADE_SAMPLE_EVERY} if self.rows == "sample" else {})}

    def check_available(self) -> None:
        """Parquet needs pyarrow: said before anything runs."""
        if self.format == "parquet":
            try:
                import pyarrow  # noqa: F401  (only its presence is checked here)
            except ImportError:
                raise ScenarioError("--trades-format", "", "parquet needs pyarrow: pip install -e \".[parquet]\"",
                                    self.format) from None

    def write(self, trades: pd.DataFrame, folder: Path) -> None:
        if self.file is None:
            return
        rows = trades if self.rows == "all" else trades.iloc[::TRADE_SAMPLE_EVERY]
        if self.format == "csv":
            rows.to_csv(folder / self.file, index=False)
        else:
            rows.to_parquet(folder / self.file, index=False, engine="pyarrow", compression="zstd")


LEGACY_TRADES = {"rows": "all", "format": "csv"}  # what a manifest without the key was written with
USER_ERROR, FAULT = 2, 1
# OS errors that say the place is unusable (a user's choice of path) rather than that the machine failed.
PLACE_ERRORS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.EEXIST, errno.ENOTDIR, errno.EISDIR,
                          errno.ENAMETOOLONG, errno.ELOOP})


class OutputError(Exception):
    """An output that could not be written, or that another process wrote first; `str()` is one
    paragraph naming the path, `status` the exit status (2: the place, 1: a fault such as a full disk)."""

    def __init__(self, message: str, status: int = FAULT) -> None:
        super().__init__(message, status)  # both in args, so that it crosses from a worker process
        self.message, self.status = message, status

    def __str__(self) -> str:
        return self.message

    @classmethod
    def writing(cls, path: Path, error: OSError) -> OutputError:
        """`error`, met while writing `path`, as one paragraph; nothing of the write is kept."""
        where = f" ({error.filename})" if error.filename and str(error.filename) != str(path) else ""
        status = USER_ERROR if error.errno in PLACE_ERRORS else FAULT
        return cls(f"could not write {path}: {error.strerror or error}{where}; nothing of it was kept", status)


def output_folder(text: str, option: str = "--out") -> Path:
    """`--out` as a folder: it may not exist yet, but it may not be a file, and the nearest
    existing folder on its path must be writable (checked before anything runs). Errors name
    the path in full."""
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise ScenarioError(text, "", f"{option} is a file, not a folder")
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise ScenarioError(text, "", f"{option} cannot be created: {existing} is a file")
    if os.statvfs(existing).f_flag & os.ST_RDONLY:
        raise ScenarioError(text, "", f"{option} is on a read-only file system ({existing})")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ScenarioError(text, "", f"{option} is not writable (permission denied on {existing})")
    return out


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder` (flock on the folder itself, so no lock file is left);
    another writer into the same folder waits. Held only while outputs are moved into place."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _interrupt(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second kill must not cut the clean-up short
    raise KeyboardInterrupt


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a `kill`) is handled like Ctrl-C: temporary folders are removed on the way out."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def manifest(result: RunResult, sources: list[str], overrides: list[str], command: list[str] | None = None,
             trades: TradeOutput = TradeOutput()) -> dict:
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
        "files": [*([trades.file] if trades.file else []), *TABLES, *money_files(result), "figures/turnover.png",
                  "figures/spread.png"],
        "trades": trades.describe(),
        "resolved_scenario": result.scenario.model_dump(mode="json"),
    }


MONEY_TABLES = ("money.csv", "money_holders.csv", "money_venues.csv")  # a scenario with settlement assets only


def money_files(result: RunResult) -> tuple[str, ...]:
    """The settlement assets' tables a run writes: all three when its scenario has settlement assets, else none."""
    return MONEY_TABLES if result.scenario.settlement_assets else ()


def run_status(folder: Path, scenario: Scenario, seed: int, trades: TradeOutput = TradeOutput()) -> str:
    """What is at `folder` compared with a run of `scenario` with `seed` by this code, writing
    `trades`: "missing", "up to date", "not a run folder", or why it differs ("another seed", ...)."""
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
    if recorded.get("trades", LEGACY_TRADES) != trades.describe():
        return "written with other trade output options"
    missing = [name for name in recorded.get("files", TABLES) if not (folder / name).is_file()]
    return f"files missing ({missing[0]})" if missing else "up to date"


def kpi_frame(result: RunResult) -> pd.DataFrame:
    """The run's KPIs as one row, led by scenario and seed."""
    return pd.DataFrame([{"scenario": result.scenario.name, "seed": result.seed, **result.kpis}])


def write_folder(final: Path, fill: Callable[[Path], None], replace: Callable[[Path], bool] | None = None) -> Path:
    """Call `fill(partial)` on an empty temporary folder beside `final`, then move it to `final`.

    The move happens with the parent folder locked, after `replace(final)` has looked at what
    is there now: it returns True to replace it (the default), False to keep it and drop this
    write, or raises to refuse. An OS error (a full disk, say) is an `OutputError`; on every way
    out, the temporary folder is removed and whatever was at `final` is left as it was."""
    final = Path(final)
    partial = final.parent / f"{PARTIAL_PREFIX}{final.name}.partial-{os.getpid()}"
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned(final)
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        fill(partial)
        with folder_lock(final.parent):
            if replace is None or replace(final):
                _move_into_place(partial, final)
    except OSError as error:
        raise OutputError.writing(final, error) from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return final


def _move_into_place(partial: Path, final: Path) -> None:
    """Rename `partial` to `final`; an older `final` is first renamed aside (and put back if the
    rename fails), then removed."""
    if not final.exists() and not final.is_symlink():
        partial.rename(final)
        return
    if final.is_symlink() or not final.is_dir():
        raise OutputError(f"{final} is a file or a link, not a folder; it was left alone and nothing was written "
                          "in its place: choose another --out or move it away", USER_ERROR)
    older = final.parent / f"{PARTIAL_PREFIX}{final.name}.partial-replaced-{os.getpid()}"
    shutil.rmtree(older, ignore_errors=True)
    final.rename(older)
    try:
        partial.rename(final)
    except BaseException:
        older.rename(final)
        raise
    shutil.rmtree(older, ignore_errors=True)


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
              command: list[str] | None = None, overwrite: bool = False, trades: TradeOutput = TradeOutput()) -> Path:
    """Write `out_dir/<scenario>/` atomically and return its path. What is there when the run
    ends decides: nothing, it is written; the same run (another process finished it first), it is
    kept; another run, it is replaced only with `overwrite`, else an `OutputError` (exit status
    2) says so and this run's results are dropped; a folder that is not a run's is never replaced."""

    def fill(folder: Path) -> None:
        trades.write(result.trades, folder)
        result.daily.to_csv(folder / "daily.csv", index=False)
        result.groups.to_csv(folder / "groups.csv", index=False)
        result.issuance.to_csv(folder / "issuance.csv", index=False)
        result.settlement.to_csv(folder / "settlement.csv", index=False)
        result.payments.to_csv(folder / "payments.csv", index=False)
        for name in money_files(result):
            getattr(result, name.removesuffix(".csv")).to_csv(folder / name, index=False)
        kpi_frame(result).to_csv(folder / "kpis.csv", index=False)
        save_run_figures(result, folder / "figures")
        text = json.dumps(manifest(result, sources, overrides, command, trades), indent=2, sort_keys=False)
        (folder / "manifest.json").write_text(text + "\n", encoding="utf-8")

    def replace(folder: Path) -> bool:
        status = run_status(folder, result.scenario, result.seed, trades)
        if status in ("missing", "up to date"):
            return status == "missing"
        if status == "not a run folder":
            raise OutputError(f"{folder} appeared while this run ran and is not a tokensim run folder; it was left "
                              "alone and this run's results were not kept: choose another --out or move it away",
                              USER_ERROR)
        if not overwrite:
            raise OutputError(f"{folder} was written by another tokensim run while this one ran ({status}); its "
                              "results were kept and this run's were not: pass --overwrite to replace them, or "
                              "choose another --out", USER_ERROR)
        return True

    return write_folder(out_dir / result.scenario.name, fill, replace)
