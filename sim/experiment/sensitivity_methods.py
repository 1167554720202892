"""Global sensitivity analysis with SALib (the `sensitivity` extra): which keys move which KPIs.

* `morris`: elementary effects on a 4-level grid, `samples` trajectories of D+1 points each.
  `mu_star` (mean absolute effect, per full range of the key) ranks the keys; a `sigma` large
  against `mu_star` means the effect is nonlinear or interacts with other keys.
* `sobol`: Saltelli's scheme on a scrambled Sobol' sequence, `samples` base points (a power of
  two) and samples x (D + 2) points. `S1` is the share of the KPI's variance due to the key
  alone, `ST` including its interactions; `_conf` columns are 95% bootstrap half-widths.

Designs are drawn on the unit cube and mapped onto each key's LO:HI range (integer ranges are
rounded), so the analysis sees the design SALib drew. Each point's KPI is its mean over the
experiment's replications, which share their seeds across points. The sampler and the
bootstrap are seeded with the experiment's seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiment.designs import Assignment
from sim.experiment.params import Param
from sim.scenario import ScenarioError


@dataclass(frozen=True)
class Method:
    name: str
    default_samples: int
    indices: tuple[str, ...]


METHODS = {
    "morris": Method("morris", 10, ("mu", "mu_star", "mu_star_conf", "sigma")),
    "sobol": Method("sobol", 64, ("S1", "S1_conf", "ST", "ST_conf")),
}
MORRIS_LEVELS = 4


def method(name: str) -> Method:
    if name not in METHODS:
        raise ScenarioError("--method", "", f"must be one of {', '.join(METHODS)}", name)
    return METHODS[name]


def _salib() -> None:
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise ScenarioError(
            "--method", "", "sensitivity analysis needs SALib: pip install 'leap-tokensim[sensitivity]'"
        ) from None


def _unit_problem(params: Sequence[Param]) -> dict[str, Any]:
    return {"num_vars": len(params), "names": [p.key for p in params], "bounds": [[0.0, 1.0]] * len(params)}


def design(chosen: Method, params: Sequence[Param], samples: int, seed: int) -> tuple[np.ndarray, list[Assignment]]:
    """The unit-cube sample SALib draws for `chosen`, and each of its rows as key values."""
    _salib()
    if chosen.name == "sobol" and (samples < 2 or samples & (samples - 1)):
        raise ScenarioError("--samples", "", "Sobol' analysis needs a power of two (64, 128, 256, ...)", samples)
    if samples < 2:
        raise ScenarioError("--samples", "", "must be at least 2", samples)
    problem = _unit_problem(params)
    if chosen.name == "sobol":
        from SALib.sample import sobol

        unit = sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    else:
        from SALib.sample import morris

        unit = morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)
    columns = [param.scale(unit[:, j]) for j, param in enumerate(params)]
    return unit, [dict(zip((p.key for p in params), row, strict=True)) for row in zip(*columns, strict=True)]


def analyze(
    chosen: Method, params: Sequence[Param], unit: np.ndarray, outputs: Mapping[str, np.ndarray], seed: int
) -> pd.DataFrame:
    """One row per KPI and key with the method's indices; KPI order as given, keys as given."""
    problem = _unit_problem(params)
    rows = []
    for kpi, values in outputs.items():
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a KPI that never varies has no variance to share out
            indices = _indices(chosen, problem, unit, np.asarray(values, dtype=float), seed)
        for j, param in enumerate(params):
            rows.append({"kpi": kpi, "parameter": param.key, **{name: float(indices[name][j]) for name in chosen.indices}})
    return pd.DataFrame(rows, columns=["kpi", "parameter", *chosen.indices])


def _indices(chosen: Method, problem: dict[str, Any], unit: np.ndarray, values: np.ndarray, seed: int) -> Mapping:
    if chosen.name == "sobol":
        from SALib.analyze import sobol

        return sobol.analyze(problem, values, calc_second_order=False, seed=seed)
    from SALib.analyze import morris

    return morris.analyze(problem, unit, values, num_levels=MORRIS_LEVELS, seed=seed)
