"""Executors: where tasks run. In this process, in a local process pool, or on a Dask cluster.

Each executor takes an evaluator and tasks and yields one `Outcome` per task as runs finish, in
whatever order they finish: the store and the tables never depend on that order, so results
are identical byte for byte whatever the executor and the number of workers. At most a few
tasks per worker are in flight at a time, so a long experiment holds little in memory and an
interruption loses only the runs in progress.

The process pool forks its workers from this process when it runs no other thread: they start
in milliseconds with the model already imported, which matters when each run takes a second or
two (a fork server would first import the model, about a second that 8 replications on 2
workers pay in full). Forking a process with threads is unsafe, so a parent with threads (as
under Dask) starts its workers from a fork server that has imported the model once instead.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import AbstractContextManager
from functools import partial
from itertools import islice
from typing import Any

from sim.experiment.tasks import Evaluator, Outcome, Task, attempt
from sim.scenario import ScenarioError

IN_FLIGHT_PER_WORKER = 2


class InProcess(AbstractContextManager):
    """Runs every task here, one after another (`--workers 1`)."""

    description = "in process"

    def outcomes(self, evaluate: Evaluator, tasks: Sequence[Task]) -> Iterator[Outcome]:
        for task in tasks:
            yield attempt(evaluate, task)

    def __exit__(self, *exc: object) -> None:
        return None


def worker_start_context() -> multiprocessing.context.BaseContext:
    """Fork when this process runs a single thread (a forking pool starts every worker before
    its own thread), else a fork server with the model preloaded."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["sim.experiment.tasks"])
    return context


def default_signals() -> None:
    """A forked worker drops the handlers its parent's command installed (SIGTERM as Ctrl-C)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


class ProcessPool(AbstractContextManager):
    """A pool of `workers` local processes."""

    def __init__(self, workers: int) -> None:
        context = worker_start_context()
        self.workers = workers
        self.description = f"{workers} local worker processes"
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=default_signals)
        # Start the workers now, while this process is single-threaded. Frozen objects are left
        # alone by a forked worker's garbage collector, so it does not copy this process's heap.
        gc.freeze()
        try:
            self.pool.submit(int).result()
        finally:
            gc.unfreeze()

    def outcomes(self, evaluate: Evaluator, tasks: Sequence[Task]) -> Iterator[Outcome]:
        queue = iter(tasks)
        running: set[Future] = set()

        def top_up() -> None:
            while len(running) < self.workers * IN_FLIGHT_PER_WORKER:
                task = next(queue, None)
                if task is None:
                    return
                running.add(self.pool.submit(attempt, evaluate, task))

        top_up()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                running.discard(future)
                yield future.result()
            top_up()

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskCluster(AbstractContextManager):
    """The workers of an existing Dask distributed scheduler at `address`."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ScenarioError("--dask", "", "needs Dask: pip install 'leap-tokensim[distributed]'") from None
        try:
            self.client = Client(address, set_as_default=False, timeout="10s")
        except (OSError, TimeoutError, ValueError) as error:
            raise ScenarioError("--dask", "", f"cannot reach the scheduler: {error}", address) from None
        threads = sum(self.client.nthreads().values()) or 1
        self.window = threads * IN_FLIGHT_PER_WORKER
        self.description = f"Dask scheduler at {address} ({threads} worker threads)"

    def outcomes(self, evaluate: Evaluator, tasks: Sequence[Task]) -> Iterator[Outcome]:
        from distributed import as_completed

        queue = iter(tasks)
        run = partial(attempt, evaluate)

        def submit(task: Task) -> Any:
            return self.client.submit(run, task, pure=False)

        first = [submit(task) for task in islice(queue, self.window)]
        completed = as_completed(first, with_results=True, loop=self.client.loop)
        for _, outcome in completed:
            yield outcome
            task = next(queue, None)
            if task is not None:
                completed.add(submit(task))

    def __exit__(self, *exc: object) -> None:
        self.client.close()


Executor = InProcess | ProcessPool | DaskCluster


def executor(workers: int | None = None, dask: str | None = None) -> Executor:
    """The executor for `--workers N` (default: one per core) or `--dask ADDRESS`."""
    if dask is not None:
        if workers is not None:
            raise ScenarioError("--workers", "", "give --workers or --dask, not both (Dask has its own workers)")
        return DaskCluster(dask)
    if workers is None:
        workers = os.cpu_count() or 1
    if workers < 1:
        raise ScenarioError("--workers", "", "must be at least 1", workers)
    return InProcess() if workers == 1 else ProcessPool(workers)
