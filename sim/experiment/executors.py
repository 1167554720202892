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

Lost workers: a local worker that dies (killed, out of memory) breaks the pool; the runs that
were in flight are run again in a fresh pool, each at most `WORKER_RETRIES` more times, and
`WorkerLost` names them if they keep killing their workers. Local workers exit when the process
that started them dies. On Dask, a task that kills its workers comes back as Dask's
`KilledWorker`, and a cluster left without any worker for `lost_worker_seconds` (60 s, or
`TOKENSIM_LOST_WORKER_SECONDS`) stops the experiment with `WorkerLost`. Either way the runs
finished so far are stored, and the same command resumes with what is missing.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from functools import partial
from itertools import islice
from typing import Any

from sim.experiment.tasks import Evaluator, Outcome, Task, attempt
from sim.scenario import ScenarioError

IN_FLIGHT_PER_WORKER = 2
WORKER_RETRIES = 2  # times a run whose worker died is run again before the experiment stops
PR_SET_PDEATHSIG = 1  # Linux prctl option: a signal for this process when its parent dies
PARENT_POLL_SECONDS = 1.0
POLL_SECONDS = 2.0  # how often an experiment on Dask checks, while nothing finishes, that it still has workers
WAIT_SECONDS = 0.02  # between looks for finished runs on Dask


def lost_worker_seconds() -> float:
    """How long a Dask cluster may be without workers before the experiment stops (default 60 s)."""
    text = os.environ.get("TOKENSIM_LOST_WORKER_SECONDS", "60")
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0:
        raise ScenarioError("TOKENSIM_LOST_WORKER_SECONDS", "", "expected a number of seconds above 0", text)
    return seconds


class WorkerLost(RuntimeError):
    """Workers died or vanished and the experiment cannot go on; finished runs are kept."""


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


def start_worker() -> None:
    """A local worker's set-up: default signals, and an exit when the process that started it dies.

    On Linux the kernel sends SIGTERM when the parent dies (prctl's PR_SET_PDEATHSIG); a thread
    that notices the parent has changed covers other systems and a parent that died before the
    request was made."""
    default_signals()
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux
        pass

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch_parent, name="exit-with-parent", daemon=True).start()


class ProcessPool(AbstractContextManager):
    """A pool of `workers` local processes."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.description = f"{workers} local worker processes"
        self.pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=worker_start_context(), initializer=start_worker)
        # Start the workers now, while this process is single-threaded. Frozen objects are left
        # alone by a forked worker's garbage collector, so it does not copy this process's heap.
        gc.freeze()
        try:
            pool.submit(int).result()
        finally:
            gc.unfreeze()
        return pool

    def outcomes(self, evaluate: Evaluator, tasks: Sequence[Task]) -> Iterator[Outcome]:
        queue = iter(tasks)
        running: dict[Future, Task] = {}
        retries: dict[str, int] = {}

        def submit(task: Task) -> None:
            running[self.pool.submit(attempt, evaluate, task)] = task

        def top_up() -> None:
            while len(running) < self.workers * IN_FLIGHT_PER_WORKER:
                task = next(queue, None)
                if task is None:
                    return
                submit(task)

        top_up()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                try:
                    outcome = future.result()
                except BrokenProcessPool:  # a worker died: every run still in the pool is lost
                    broken = True
                    continue
                del running[future]
                yield outcome
            if broken:
                self._restart(running, retries)
                lost = list(running.values())
                running.clear()
                for task in lost:
                    submit(task)
            top_up()

    def _restart(self, running: dict[Future, Task], retries: dict[str, int]) -> None:
        """A worker died and broke the pool: count a retry for each run in flight, then start a
        fresh pool (or stop, naming the runs that keep losing their workers)."""
        for task in running.values():
            retries[task.key] = retries.get(task.key, 0) + 1
        failing = [task for task in running.values() if retries[task.key] > WORKER_RETRIES]
        # Wait for the broken pool's manager thread: left running after shutdown(wait=False) with a
        # worker that died abnormally, it can still touch the pool's closed pipes and print an
        # OSError (Bad file descriptor) traceback at exit (CPython gh-132969). A broken pool has
        # already terminated its workers, so the wait is short.
        self.pool.shutdown(wait=True, cancel_futures=True)
        if failing:
            seeds = ", ".join(str(task.seed) for task in failing)
            raise WorkerLost(
                f"a local worker process died {WORKER_RETRIES + 1} times while running seed(s) {seeds} "
                "(killed, or out of memory?); the runs finished so far are stored: run the same command "
                "again to resume, with fewer --workers if memory is short"
            )
        self.pool = self._start()

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
        pending: dict[Any, Task] = {}
        completed = as_completed(with_results=True, raise_errors=False, loop=self.client.loop)
        patience, alone_since, checked = lost_worker_seconds(), None, time.monotonic()

        def submit(task: Task | None) -> None:
            if task is not None:
                future = self.client.submit(run, task, pure=False)
                pending[future] = task
                completed.add(future)

        for task in islice(queue, self.window):
            submit(task)
        while pending:
            batch = completed.next_batch(block=False)
            if not batch:  # nothing finished: now and then, ask whether any worker is left
                time.sleep(WAIT_SECONDS)
                if time.monotonic() - checked >= POLL_SECONDS:
                    checked = time.monotonic()
                    alone_since = None if self.client.nthreads() else (alone_since or checked)
                    if alone_since is not None and checked - alone_since >= patience:
                        raise WorkerLost(
                            f"the Dask cluster has had no workers for {patience:g} s, with {len(pending)} runs "
                            "waiting; the runs finished so far are stored: start workers and run the same "
                            "command again to resume"
                        )
                continue
            alone_since = None
            for future, result in batch:
                task = pending.pop(future)
                if future.status == "error":  # `attempt` keeps a run's own errors: this is the worker's death
                    raise WorkerLost(
                        f"Dask workers died while running seed {task.seed} as often as the scheduler allows "
                        f"({result[1]!r}; killed, or out of memory?); the runs finished so far are stored: "
                        "run the same command again to resume"
                    )
                yield result
                submit(next(queue, None))

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
