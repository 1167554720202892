"""Experimental designs: which parameter combinations an experiment runs.

A design is a list of parameter assignments ({key: value}), in a fixed order. `grid` is the
full factorial over every parameter's values (the first parameter varies slowest). `latin_hypercube`
draws `samples` points over the parameters' LO:HI ranges so that each parameter's range, cut
into `samples` equal strata, has exactly one point in each stratum; the strata are matched at
random and each point placed uniformly within its stratum, by a generator seeded with the
experiment's seed, so the same seed gives the same design.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.experiment.params import SOURCE, Param
from sim.scenario import ScenarioError

Assignment = dict[str, Any]


def grid(params: Sequence[Param]) -> list[Assignment]:
    """Every combination of the parameters' grid values."""
    keys = [p.key for p in params]
    combos = itertools.product(*(p.grid_values() for p in params))
    return [dict(zip(keys, combo, strict=True)) for combo in combos]


def latin_hypercube(params: Sequence[Param], samples: int, seed: int) -> list[Assignment]:
    """`samples` points, one in each of `samples` strata of every parameter's range."""
    if samples < 2:
        raise ScenarioError("--samples", "", "a Latin hypercube needs at least 2 samples", samples)
    for param in params:
        if not param.is_range or param.count is not None:
            raise ScenarioError(SOURCE, param.key, "a Latin hypercube samples a range: give KEY=LO:HI", param.text)
    rng = np.random.default_rng(seed)
    columns = [p.scale((rng.permutation(samples) + rng.random(samples)) / samples) for p in params]
    return [dict(zip((p.key for p in params), row, strict=True)) for row in zip(*columns, strict=True)]
