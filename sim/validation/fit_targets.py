"""Fit several scenario keys to several published figures at once: the search.

The optimiser is scipy's bounded Powell method on the parameters mapped to [0, 1] (linearly, or
in logarithms for `scale: log`). Why Powell: the objective is a simulation, so it has no
gradient, and with common random numbers it is deterministic but not smooth: a small change of
a parameter flips whole trades, and tick sizes make spreads move in steps, so it is flat at
fine scales and jumps between plateaus. Powell minimises along one direction at a time with a
bounded Brent search over the whole feasible segment (golden sections, then parabolas), which
needs no derivative, respects the bounds without penalties, and looks across the range before
refining, rather than taking the small initial steps in which Nelder-Mead's simplex can stall
on a plateau. On the [0, 1] scale one `tolerance` means the same relative accuracy for every
parameter. Its cost is evaluations: about 10-20 per line search, so the spec (or
`--max-evaluations`) caps them, and the best vector evaluated is returned whatever the cap cut;
the search also stops as soon as the objective is `good_enough` (the published figures are not
known to better than a fraction of a percent, so further evaluations would fit noise in them).

Evaluations are counted by parameter vector (each one runs every seed, and the duty sweep when
the elasticity is a target); the objective is in `sim.validation.fit_objective`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.scenario import ScenarioError
from sim.validation.calibration_spec import CalibrationSpec
from sim.validation.fit_objective import Evaluation, Objective

RELATIVE_FTOL = 1e-4
"""Powell stops when a whole round of line searches lowers the objective by less than this share:
on a plateau of the common-random-numbers objective a round gains nothing at all."""


class OptimiserMissing(ScenarioError):
    """scipy is not installed: the fit needs the `calibration` extra."""


class _Spent(Exception):
    """The evaluation budget is used up (raised inside the optimiser's call of the objective)."""


class _GoodEnough(Exception):
    """An evaluation met the spec's `good_enough` (raised inside the optimiser's call of the objective)."""


@dataclass(frozen=True)
class TargetFit:
    """The result: the spec, the first evaluation (the start values), the best, and every one in order."""

    spec: CalibrationSpec
    start: Evaluation
    best: Evaluation
    history: tuple[Evaluation, ...]
    stopped_by: str  # "converged", "good enough" or "evaluation cap"

    def fitted_values(self) -> dict[str, float]:
        """The scenario keys the fit sets, at their fitted values (a factor's keys each at its product)."""
        return {key: value for p, best in zip(self.spec.parameters, self.best.values)
                for key, value in p.assignments(best)}

    def parameter_values(self) -> dict[str, float]:
        """Each parameter as the spec names it (a factor as the factor), at its fitted value."""
        return {p.key: value for p, value in zip(self.spec.parameters, self.best.values)}

    def overrides(self) -> list[str]:
        """The fitted values as `--set` overrides."""
        return [f"{key}={value!r}" for key, value in self.fitted_values().items()]


def require_scipy(source: str) -> None:
    """An OptimiserMissing naming `source` (the spec) if scipy cannot be imported."""
    try:
        import scipy.optimize  # noqa: F401
    except ImportError:
        raise OptimiserMissing(source, "", "fitting a calibration spec needs scipy: "
                               "pip install -e \".[calibration]\"") from None


def fit_targets(spec: CalibrationSpec, base_seed: int | None = None,
                progress: Callable[[int, Evaluation], None] | None = None) -> TargetFit:
    """Minimise the spec's objective over its parameters with bounded Powell, at most
    `spec.max_evaluations` evaluations; `progress(k, evaluation)` is told of each new one."""
    require_scipy(str(spec.path))
    from scipy.optimize import minimize

    objective = Objective.of(spec, base_seed)
    parameters = spec.parameters

    def evaluate_unit(unit: np.ndarray) -> float:
        values = tuple(p.from_unit(u) for p, u in zip(parameters, unit))
        known = len(objective.history)
        if values not in {e.values for e in objective.history} and known >= spec.max_evaluations:
            raise _Spent
        evaluation = objective.evaluate(values)
        if progress is not None and len(objective.history) > known:
            progress(len(objective.history), evaluation)
        if evaluation.objective <= spec.good_enough:
            raise _GoodEnough
        return evaluation.objective

    start_unit = np.array([p.to_unit(p.start) for p in parameters])
    start = objective.evaluate(tuple(p.start for p in parameters))
    if progress is not None:
        progress(1, start)
    stopped_by = "converged"
    try:
        if start.objective <= spec.good_enough:
            raise _GoodEnough
        minimize(evaluate_unit, start_unit, method="Powell", bounds=[(0.0, 1.0)] * len(parameters),
                 options={"xtol": spec.tolerance, "ftol": RELATIVE_FTOL, "maxfev": 10 * spec.max_evaluations})
    except _Spent:
        stopped_by = "evaluation cap"
    except _GoodEnough:
        stopped_by = "good enough"
    return TargetFit(spec, start, objective.best, tuple(objective.history), stopped_by)
