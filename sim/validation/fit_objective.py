"""The calibration objective: how far one parameter vector puts the model from the published figures.

For parameter values x the model is run on the spec's seeds, the same seeds for every x (common
random numbers: every evaluation sees the same trading needs and fair values, so two values of
x differ only through x, and the objective is a deterministic function of x that the optimiser
can compare without chasing noise). Each target's model value is the mean over seeds of its KPI
(a KPI per KPI: the ratio of the two means); `volume_elasticity` is measured by the duty sweep of
`sim.validation.elasticity` on the same seeds.

The objective is the weighted sum of squared relative errors, sum_i w_i ((m_i - t_i) / s_i)^2,
with s_i = |t_i| unless the target gives `error_scale`. Relative, because the targets come in
different units and sizes (HK$1.5e10 of turnover, 8 bp of spread, an elasticity of -1): absolute
errors would let the largest number decide alone, while relative ones are unit-free, so a 10%
miss costs the same on every target and the weights say which figures are trusted more. A
published 0 has no relative error, so such a target must give the error that counts as 100%.

A target the model cannot measure at x (no trade, so no spread; a volume that vanished in the
sweep) counts as MISSED_ERROR, a relative error of 1000%: finite, so the line searches keep
working, and far worse than any measured miss, so the search leaves that region (an assumption).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.validation.calibration_spec import ELASTICITY, CalibrationSpec, Target
from sim.validation.elasticity import measure_elasticity
from sim.validation.runs import ModelRuns

MISSED_ERROR = 10.0


@dataclass(frozen=True)
class Evaluation:
    """One parameter vector: its values (spec order), each target's model value and relative
    error (target order), and the objective."""

    values: tuple[float, ...]
    model: tuple[float, ...]
    errors: tuple[float, ...]
    objective: float


def relative_error(target: Target, model: float) -> float:
    """(model - published) / scale; MISSED_ERROR when the model value is not a number."""
    if not math.isfinite(model):
        return MISSED_ERROR
    return (model - target.value) / target.error_scale


def objective(targets: tuple[Target, ...], errors: tuple[float, ...]) -> float:
    """The weighted sum of squared relative errors."""
    return float(sum(target.weight * error * error for target, error in zip(targets, errors)))


@dataclass
class Objective:
    """Evaluates parameter vectors on the spec's common seeds, remembering each one evaluated
    (the optimiser may come back to a point; a run is never repeated)."""

    spec: CalibrationSpec
    runs: ModelRuns
    history: list[Evaluation] = field(default_factory=list)
    _seen: dict[tuple[float, ...], Evaluation] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: CalibrationSpec, base_seed: int | None = None) -> Objective:
        """The runs the spec describes; `base_seed` (the command line's) wins over the spec's."""
        seed = base_seed if base_seed is not None else spec.seed
        return cls(spec, ModelRuns.of(spec.scenario_path, spec.overrides, spec.seeds, seed))

    def overrides(self, values: tuple[float, ...]) -> list[str]:
        """The parameter values as `--set` overrides (repr: the exact float)."""
        return [f"{key}={assigned!r}" for p, value in zip(self.spec.parameters, values)
                for key, assigned in p.assignments(value)]

    def evaluate(self, values: tuple[float, ...]) -> Evaluation:
        """The model at `values` against every target (cached by value)."""
        values = tuple(float(v) for v in values)
        if values in self._seen:
            return self._seen[values]
        runs = self.runs.with_overrides(*self.overrides(values))
        model = model_values(self.spec.targets, runs)
        errors = tuple(relative_error(t, m) for t, m in zip(self.spec.targets, model))
        evaluation = Evaluation(values, model, errors, objective(self.spec.targets, errors))
        self._seen[values] = evaluation
        self.history.append(evaluation)
        return evaluation

    @property
    def best(self) -> Evaluation:
        return min(self.history, key=lambda e: e.objective)


def model_values(targets: tuple[Target, ...], runs: ModelRuns) -> tuple[float, ...]:
    """Each target's model value from one set of runs (and one duty sweep if the elasticity is a target)."""
    plain = [t for t in targets if t.kpi != ELASTICITY]
    results = runs.results() if plain else []
    elasticity = measure_elasticity(runs).slope if len(plain) < len(targets) else math.nan

    def mean_kpi(name: str) -> float:
        values = np.array([r.kpis[name] for r in results], dtype=float)
        return float(values.mean())  # a seed without a value makes the mean NaN: the target is missed

    def value(target: Target) -> float:
        if target.kpi == ELASTICITY:
            return elasticity
        if target.per is None:
            return mean_kpi(target.kpi)
        denominator = mean_kpi(target.per)
        return mean_kpi(target.kpi) / denominator if denominator != 0 else math.nan

    return tuple(value(t) for t in targets)
