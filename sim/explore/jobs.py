"""Running settings in the background, one at a time, with progress and a cache on disk.

A reader moves levers faster than runs finish, so the runner keeps one setting running and at
most one waiting: a newer request replaces the waiting one (marked "superseded"; the page asks
again if it still wants it). Each setting runs through the experiment API (`api.compare`:
the comparator against the setting file, the scale as overrides) on the local process pool or
a Dask scheduler, into `OUT/explore-vs-<comparator>/`. Every setting measured against the same
comparator shares that folder, so the comparator's runs are computed once and reused by every
later setting (the run store keys runs by resolved scenario and seed), and a setting's own
runs are reused when it comes back.

Progress is read from the run store: the runs expected (each scenario at each replication
seed, keyed as the experiment layer keys them) that are on disk. A finished setting's result is
written to `OUT/explore-cache/<key>.json` (the key of `Setting.key`, which includes the code's
fingerprint), so a repeated setting, even after a restart, is served at once without
starting a worker.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.engine import RunDidNotEnd
from sim.experiment import api
from sim.experiment.executors import WorkerLost
from sim.experiment.store import write_atomic
from sim.experiment.tasks import task_key
from sim.explore.effects import effects
from sim.explore.setting import Setting
from sim.provenance import scenario_digest
from sim.run_size import TooLarge
from sim.scenario import ScenarioError

POLL_SECONDS = 0.3
CACHE_FOLDER = "explore-cache"
SETTINGS_FOLDER = "explore-settings"


class RunsFailed(RuntimeError):
    """Some runs of a setting raised; the experiment folder's failures.csv lists them."""


EXPECTED_ERRORS = (ScenarioError, TooLarge, WorkerLost, RunDidNotEnd, OSError, RunsFailed)


@dataclass
class Job:
    """One setting's run: its state, progress (runs on disk out of runs needed) and result."""

    setting: Setting
    status: str = "queued"  # queued, running, done, failed, superseded
    done: int = 0
    total: int = 0
    cached: bool = False
    error: str | None = None
    result: dict[str, Any] | None = None
    seconds: float | None = None
    started: float = field(default_factory=time.monotonic)

    def as_json(self) -> dict[str, Any]:
        return {"key": self.setting.key, "status": self.status, "done": self.done, "total": self.total,
                "cached": self.cached, "error": self.error, "seconds": self.seconds, "result": self.result,
                "setting": self.setting.describe()}


class Runner:
    """Runs settings one at a time in a background thread; `submit` and `job` are thread-safe."""

    def __init__(self, out: Path, workers: int | None = None, dask: str | None = None) -> None:
        self.out, self.workers, self.dask = Path(out), workers, dask
        self._jobs: dict[str, Job] = {}
        self._waiting: Job | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._serve, name="explore-runner", daemon=True)
        self._thread.start()

    def submit(self, setting: Setting) -> Job:
        """The job of `setting`: the one already known, one done from the disk cache, or a new one queued."""
        with self._changed:
            known = self._jobs.get(setting.key)
            if known is not None and known.status in ("queued", "running", "done"):
                return known
            job = Job(setting)
            cached = self._cached(setting)
            if cached is not None:
                job.status, job.cached, job.result, job.seconds = "done", True, cached, 0.0
                job.done = job.total = 2 * setting.reps
            else:
                if self._waiting is not None:
                    self._waiting.status = "superseded"
                self._waiting = job
                self._changed.notify_all()
            self._jobs[setting.key] = job
            return job

    def job(self, key: str) -> Job | None:
        with self._changed:
            return self._jobs.get(key)

    def _cache_path(self, key: str) -> Path:
        return self.out / CACHE_FOLDER / f"{key}.json"

    def _cached(self, setting: Setting) -> dict[str, Any] | None:
        path = self._cache_path(setting.key)
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))["result"]
        except (OSError, ValueError, KeyError):
            return None  # an unreadable entry is computed again (and rewritten)

    def _serve(self) -> None:
        while True:
            with self._changed:
                while self._waiting is None:
                    self._changed.wait()
                job, self._waiting = self._waiting, None
                job.status, job.started = "running", time.monotonic()
            self._run(job)

    def _run(self, job: Job) -> None:
        setting = job.setting
        watching = threading.Event()
        folder = self.out / f"explore-vs-{setting.policy.comparator.name}"
        expected = self._expected_keys(setting)
        job.total = len(expected)
        watcher = threading.Thread(target=self._watch, args=(job, folder / "runs", expected, watching), daemon=True)
        status, error_text = "failed", None
        try:
            path = self.out / SETTINGS_FOLDER / setting.file_name()
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, setting.yaml_text())
            watcher.start()
            result = api.compare(setting.policy.comparator.path, [path], reps=setting.reps, overrides=setting.scale,
                                 out=self.out, name=folder.name, workers=self.workers, dask=self.dask, quiet=True)
            if result.failed:
                raise RunsFailed(f"{result.failed} runs failed: {result.failures['error'].iloc[0]}")
            job.result = {
                "policy": setting.policy.entry.describe(), "comparator": setting.policy.comparator.describe(),
                "effects": effects(result.comparison, setting.policy.entry.name), "reps": setting.reps,
                "seeds": result.seeds, "computed": result.computed, "reused": result.reused,
                "folder": str(result.folder),
            }
            cache = self._cache_path(setting.key)
            cache.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(cache, json.dumps({"setting": setting.describe(), "result": job.result}, indent=1) + "\n")
            status = "done"
        except EXPECTED_ERRORS as error:
            error_text = str(error)
        except Exception as error:  # a model bug: the page gets one line, the terminal the traceback
            traceback.print_exc(file=sys.stderr)
            error_text = f"{type(error).__name__}: {error}"
        finally:
            watching.set()
            job.done = self._on_disk(folder / "runs", expected)
            job.seconds = round(time.monotonic() - job.started, 1)
            job.error, job.status = error_text, status  # the status last: a reader seeing "done" sees the rest

    @staticmethod
    def _expected_keys(setting: Setting) -> list[str]:
        """The run-store keys of the runs the setting needs: comparator and setting, each replication."""
        identities = [scenario_digest(setting.policy.comparator.scenario), scenario_digest(setting.scenario)]
        return [task_key(identity, seed) for identity in identities for seed in setting.seeds]

    @staticmethod
    def _on_disk(runs: Path, keys: list[str]) -> int:
        return sum((runs / f"{key}.json").exists() for key in keys)

    def _watch(self, job: Job, runs: Path, keys: list[str], stop: threading.Event) -> None:
        while not stop.wait(POLL_SECONDS):
            job.done = self._on_disk(runs, keys)
