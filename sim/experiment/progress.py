"""A progress bar on stderr: runs done, failed and remaining, with an estimate of time left.

tqdm draws it when installed (the `progress` extra); otherwise one plain line is rewritten in
place at most twice a second. It stays silent when stderr is not a terminal (a log file, a CI
job) or when the user asked for quiet.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

REFRESH_SECONDS = 0.5


def wanted(quiet: bool, stream: TextIO | None = None) -> bool:
    """Whether to show progress: not quiet, and stderr is a terminal."""
    stream = stream or sys.stderr
    return not quiet and stream.isatty()


class Progress:
    """Counts finished runs; draws them when `enabled`."""

    def __init__(self, total: int, description: str, enabled: bool) -> None:
        self.total, self.description = total, description
        self.done = self.failed = 0
        self.started = time.monotonic()
        self.shown = 0.0
        self.bar = _tqdm(total, description) if enabled and total else None
        self.plain = enabled and total > 0 and self.bar is None

    def update(self, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if self.bar is not None:
            self.bar.set_postfix_str(f"failed={self.failed} remaining={self.total - self.done}", refresh=False)
            self.bar.update(1)
        elif self.plain and (time.monotonic() - self.shown >= REFRESH_SECONDS or self.done == self.total):
            self.shown = time.monotonic()
            print(f"\r{self._line()}", end="", file=sys.stderr, flush=True)

    def _line(self) -> str:
        remaining = self.total - self.done
        elapsed = time.monotonic() - self.started
        eta = f"{elapsed / self.done * remaining:.0f}s" if self.done else "?"
        return f"{self.description}: {self.done}/{self.total} done, {self.failed} failed, {remaining} remaining, ETA {eta}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.plain and self.done:
            print(file=sys.stderr)


def _tqdm(total: int, description: str):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=description, unit="run", file=sys.stderr, dynamic_ncols=True)
