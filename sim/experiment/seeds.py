"""Replication seeds: the same N seeds for every scenario, derived from one base seed.

Replication k of an experiment runs with seed `replication_seed(base, k)`: the first 64-bit
word of numpy's `SeedSequence(base, spawn_key=(k,))` (the k-th child of
`SeedSequence(base).spawn(...)`), shifted right by one bit so it fits a signed 64-bit CSV
column. Every scenario and design point of an experiment gets the same seed for replication k,
so they see the same fair-value paths and the same trading needs (common random numbers, see
`sim.market.random_streams`). The k-th seed depends only on (base, k), never on N, so adding
replications to an experiment keeps the seeds, and the cached runs, of the ones already done.
"""

from __future__ import annotations

import numpy as np

DERIVATION = "seed_k = SeedSequence(base, spawn_key=(k,)).generate_state(1, uint64)[0] >> 1"


def replication_seed(base: int, replication: int) -> int:
    """The seed of replication `replication` (0-based) of an experiment with base seed `base`."""
    state = np.random.SeedSequence(base, spawn_key=(replication,)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def replication_seeds(base: int, reps: int) -> list[int]:
    """The seeds of replications 0 .. reps-1."""
    return [replication_seed(base, k) for k in range(reps)]
