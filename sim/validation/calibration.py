"""Fit the investors' cost sensitivity to a target volume elasticity.

Why: every group's `gain_mean_bps` is an assumption, and it alone sets how volume answers cost.
This finds one factor s that scales all groups' gain means (keeping their ratio) so that the
elasticity measured by the duty sweep (`sim.validation.elasticity`) equals a target, by default
the -1.0 Baltagi, Li & Li (2006) find against total cost.

The search is a safeguarded secant method in logs. With exponential gains the elasticity is
about -TTC/mu, so ln(e/target) falls roughly one for one in ln s: the first step jumps to
s = e(1)/target, and later steps are secant steps on the measured curve, falling back to that
theoretical slope when the secant is flat or of the wrong sign (on short runs the measured
elasticity carries a few hundredths of noise), and never changing the gains by more than a
factor of 2 at once. It stops within `tolerance` of the target or after `max_evaluations`
sweeps. The evaluation closest to the target gives the fitted gain means, as `--set` overrides
and as a YAML snippet a scenario can merge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import yaml

from sim.scenario import ScenarioError
from sim.validation.elasticity import SWEEP_RATES, measure_elasticity
from sim.validation.runs import ModelRuns

DEFAULT_TARGET = -1.0
THEORETICAL_SLOPE = -1.0  # of ln(e/target) in ln s, when e ~ -TTC/(s mu)
MIN_SLOPE = -0.25
MAX_STEP = math.log(2.0)


@dataclass(frozen=True)
class Evaluation:
    """One sweep: the gain scale tried and the elasticity it gave."""

    scale: float
    elasticity: float


@dataclass(frozen=True)
class GainFit:
    """The search's history and the fitted gain means per group."""

    target: float
    evaluations: tuple[Evaluation, ...]
    gain_means_bps: dict[str, float]  # the scenario's own, before scaling

    @property
    def best(self) -> Evaluation:
        return min(self.evaluations, key=lambda e: abs(e.elasticity - self.target))

    def fitted_gains_bps(self) -> dict[str, float]:
        return scaled_gains(self.gain_means_bps, self.best.scale)

    def overrides(self) -> list[str]:
        """The fitted values as `--set` overrides."""
        return gain_overrides(self.fitted_gains_bps())

    def yaml_snippet(self) -> str:
        """The fitted values as scenario YAML, with how they were found."""
        best = self.best
        header = (f"# gain_mean_bps scaled by {best.scale:.4g} so that the volume elasticity to total transaction\n"
                  f"# cost is {best.elasticity:.3f} (target {self.target:g}); written by `tokensim calibrate`.\n")
        body = {"investors": {name: {"gain_mean_bps": mu} for name, mu in self.fitted_gains_bps().items()}}
        return header + yaml.safe_dump(body, sort_keys=False)


def scaled_gains(gain_means_bps: dict[str, float], scale: float) -> dict[str, float]:
    """Every group's gain mean times `scale`, to 4 significant digits (what the data can support)."""
    return {name: float(f"{mu * scale:.4g}") for name, mu in gain_means_bps.items()}


def gain_overrides(gain_means_bps: dict[str, float]) -> list[str]:
    return [f"investors.{name}.gain_mean_bps={mu:g}" for name, mu in gain_means_bps.items()]


def secant_step(xs: list[float], ys: list[float]) -> float:
    """The next step in ln s towards ys = 0, safeguarded against noise in the measured elasticity.

    The slope of ln(e/target) in ln s is about -1 (e ~ 1/s); a secant slope that is flatter than
    MIN_SLOPE or of the wrong sign is noise, so the theoretical slope is used instead; a step is
    at most MAX_STEP (a factor of 2 in the gains).
    """
    slope = THEORETICAL_SLOPE
    if len(xs) > 1 and xs[-1] != xs[-2]:
        secant = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        slope = secant if secant < MIN_SLOPE else THEORETICAL_SLOPE
    return max(-MAX_STEP, min(MAX_STEP, -ys[-1] / slope))


def fit_gain_scale(
    runs: ModelRuns,
    target: float = DEFAULT_TARGET,
    tolerance: float = 0.05,
    max_evaluations: int = 5,
    rates: tuple[float, ...] = SWEEP_RATES,
) -> GainFit:
    """Secant search in ln s for the gain scale s whose measured elasticity is `target` (negative)."""
    gains = {name: group.gain_mean_bps for name, group in runs.scenario().investors.items()}

    def evaluate(log_scale: float) -> Evaluation:
        scale = math.exp(log_scale)
        scaled = runs.with_overrides(*gain_overrides(scaled_gains(gains, scale)))
        return Evaluation(scale, measure_elasticity(scaled, rates).slope)

    def log_gap(evaluation: Evaluation) -> float:
        """ln(e / target): zero at the target, defined only for a falling volume."""
        if not evaluation.elasticity < 0:
            raise ScenarioError(str(runs.path), "horizon_days", "the measured elasticity is not negative at gain scale "
                                f"{evaluation.scale:.4g}: lengthen the horizon or add seeds", evaluation.elasticity)
        return math.log(evaluation.elasticity / target)

    history = [evaluate(0.0)]
    xs, ys = [0.0], [log_gap(history[0])]
    while len(history) < max_evaluations and abs(history[-1].elasticity - target) > tolerance:
        x = xs[-1] + secant_step(xs, ys)
        history.append(evaluate(x))
        xs.append(x)
        ys.append(log_gap(history[-1]))
    return GainFit(target, tuple(history), gains)
