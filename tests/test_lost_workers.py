"""Experiments survive lost workers: a run whose worker died is run again or reported, on the
local pool and on Dask, and local workers exit when the process that started them dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from sim.experiment.executors import DaskCluster, ProcessPool, WorkerLost
from sim.experiment.tasks import CallFunction, Task


def dies_once(params: dict, seed: int) -> dict[str, float]:
    """Kills its own worker the first time it runs seed 3 (a marker file remembers), else answers."""
    marker = Path(params["marker"])
    if seed == 3 and not marker.exists():
        marker.write_text("died once")
        os.kill(os.getpid(), signal.SIGKILL)
    return {"y": float(seed)}


def always_dies(params: dict, seed: int) -> dict[str, float]:
    if seed == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"y": float(seed)}


def slow(params: dict, seed: int) -> dict[str, float]:
    time.sleep(0.5)
    return {"y": float(seed)}


def tasks(n: int, **params) -> list[Task]:
    return [Task(f"key{seed}", seed, dict(params)) for seed in range(n)]


def test_a_run_whose_local_worker_died_is_run_again_and_every_outcome_comes_back(tmp_path):
    with ProcessPool(2) as pool:
        outcomes = list(pool.outcomes(CallFunction(dies_once), tasks(8, marker=str(tmp_path / "died"))))
    assert (tmp_path / "died").exists(), "the worker was killed"
    assert sorted((o.key, o.kpis["y"]) for o in outcomes) == sorted((f"key{s}", float(s)) for s in range(8))
    assert all(o.error is None for o in outcomes)


def test_a_run_that_keeps_killing_its_local_worker_stops_the_experiment_naming_it():
    with ProcessPool(2) as pool, pytest.raises(WorkerLost, match=r"died 3 times while running seed\(s\) .*1"):
        list(pool.outcomes(CallFunction(always_dies), tasks(4)))


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc to find the workers")
def test_local_workers_exit_when_the_command_that_started_them_is_killed(tmp_path):
    command = [sys.executable, "-m", "sim.cli", "run", str(ROOT / "scenarios" / "baseline.yaml"), "--reps", "8",
               "--workers", "2", "--set", "horizon_days=60", "--out", str(tmp_path)]
    parent = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(children(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = children(parent.pid)
        assert len(workers) >= 2, "the pool's workers started"
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 15
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(running(pid) for pid in workers), "no worker outlives its parent"


distributed = pytest.importorskip("distributed")
dask_config = pytest.importorskip("dask.config")


def test_a_dask_cluster_left_without_workers_stops_the_experiment_within_its_patience(monkeypatch):
    monkeypatch.setenv("TOKENSIM_LOST_WORKER_SECONDS", "3")
    with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster:
        with DaskCluster(cluster.scheduler_address) as dask:
            outcomes = dask.outcomes(CallFunction(slow), tasks(12))
            assert next(outcomes).error is None
            cluster.scale(0)  # every worker gone, runs still waiting
            started = time.monotonic()
            with pytest.raises(WorkerLost, match="no workers for 3 s"):
                list(outcomes)
            assert time.monotonic() - started < 30


def test_a_run_that_kills_its_dask_workers_stops_the_experiment_naming_it():
    with dask_config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster:
            with DaskCluster(cluster.scheduler_address) as dask, pytest.raises(WorkerLost, match="running seed 1 "):
                list(dask.outcomes(CallFunction(always_dies), [Task("key1", 1, {})]))
