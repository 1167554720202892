"""Progress of a long run: a line on stderr every few simulated days.

A run estimated (`sim.run_size`) to take longer than half a minute reports the simulated day,
the time elapsed and the time left, about ten times in all. The report is a SimPy process that
reads the clock and nothing else, so the results do not depend on it. (An experiment's progress
bar over many runs is `sim.experiment.progress`.)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator

from sim.run_size import Estimate, duration_text
from sim.runs import RunResult, run
from sim.scenario.schema import Scenario

PROGRESS_AFTER_SECONDS = 30.0
PROGRESS_LINES = 10


def progress_every(estimate: Estimate, horizon_days: int) -> int | None:
    """Report every this many simulated days, or None for a run expected to be short."""
    if estimate.seconds < PROGRESS_AFTER_SECONDS:
        return None
    return max(1, horizon_days // PROGRESS_LINES)


def progress_process(env, horizon_days: int, every: int, label: str,
                     say: Callable[[str], None] | None = None) -> Iterator:
    """A SimPy process printing `label: day d/horizon, elapsed, time left` every `every` days.

    It reads the clock and nothing else, so the run's results do not depend on it."""
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    started = time.monotonic()
    for day in range(every, horizon_days, every):
        yield env.timeout(day - env.now)
        elapsed = time.monotonic() - started
        left = elapsed / day * (horizon_days - day)
        say(f"{label}: day {day}/{horizon_days} simulated, {duration_text(elapsed)} so far, about {duration_text(left)} left")


def run_with_progress(scenario: Scenario, seed: int, every: int, say: Callable[[str], None] | None = None) -> RunResult:
    """`run` with a progress line every `every` simulated days (the results are the same)."""
    return run(scenario, seed, lambda env: progress_process(env, scenario.horizon_days, every, scenario.name, say))
