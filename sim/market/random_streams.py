"""Per-run random streams: one independent generator per source of randomness, drawn in blocks.

Each source (the NAV path, each investor group's needs, ...) gets its own stream derived from
the run seed and the source's name, never from the order in which sources are created. So
replication k of two scenarios that differ only in policy sees the same NAV path and the same
trading needs (common random numbers), and adding an investor group does not reshuffle the
others. Numbers are drawn in numpy blocks and handed out as plain Python floats, because one
numpy call per event would cost about a quarter of the event throughput.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np


def stream(seed: int, source: str) -> np.random.Generator:
    """The generator for one named source of randomness in a run with this seed."""
    key = zlib.crc32(source.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))


def uniforms(rng: np.random.Generator, block_size: int = 4096) -> Iterator[float]:
    """Endless iterator over uniform draws in [0, 1), drawn in blocks."""
    while True:
        yield from rng.random(block_size).tolist()
