"""Statistics over replications: means with Student-t intervals, paired and Welch differences.

Every interval is a two-sided 95% interval. The Student-t quantile is computed here (regularized
incomplete beta by continued fraction, inverted by Newton's method) rather than taken from
SciPy, which is not a dependency of the package: the numbers, and so the output files, are the
same on every installation. A KPI that is NaN in a run (undefined, say a share of nothing) is
left out of that KPI's statistics, so `n` can differ between KPIs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np
import pandas as pd

CONFIDENCE = 0.95
SUMMARY_COLUMNS = ["n", "mean", "std", "ci_low", "ci_high", "half_width"]


def _incomplete_beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny = 1e-300

    def guard(value: float) -> float:
        return tiny if abs(value) < tiny else value

    c, d = 1.0, 1.0 / guard(1.0 - (a + b) * x / (a + 1.0))
    fraction = d
    for m in range(1, 1000):
        even = m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m))
        d, c = 1.0 / guard(1.0 + even * d), guard(1.0 + even / c)
        fraction *= d * c
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0))
        d, c = 1.0 / guard(1.0 + odd * d), guard(1.0 + odd / c)
        fraction *= d * c
        if abs(d * c - 1.0) < 1e-16:
            break
    return fraction


def _regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for 0 <= x <= 1."""
    if x <= 0.0 or x >= 1.0:
        return 0.0 if x <= 0.0 else 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _incomplete_beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _incomplete_beta_fraction(b, a, 1.0 - x) / b


def _t_cdf(t: float, df: float) -> float:
    """P(T <= t) for t >= 0 and Student's t with `df` degrees of freedom."""
    return 1.0 - 0.5 * _regularized_beta(df / 2.0, 0.5, df / (df + t * t))


def _t_pdf(t: float, df: float) -> float:
    log_density = (
        math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0) - 0.5 * math.log(df * math.pi)
        - (df + 1.0) / 2.0 * math.log1p(t * t / df)
    )
    return math.exp(log_density)


@lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """The p-quantile (0.5 < p < 1) of Student's t with `df` > 0 degrees of freedom.

    Newton's method from the normal quantile, which lies below the root; the t CDF is concave
    for t > 0, so the iterates rise monotonically to the root without overshooting.
    """
    if not 0.5 < p < 1.0 or not df > 0:
        raise ValueError(f"t_quantile needs 0.5 < p < 1 and df > 0, got p={p}, df={df}")
    t = NormalDist().inv_cdf(p)
    for _ in range(500):
        step = (p - _t_cdf(t, df)) / _t_pdf(t, df)
        t += step
        if abs(step) <= 1e-15 * t:
            break
    return t


def _critical(df: float) -> float:
    return t_quantile(0.5 + CONFIDENCE / 2.0, df)


@dataclass(frozen=True)
class Estimate:
    """A mean with its two-sided Student-t interval (NaN half-width with fewer than 2 values)."""

    n: int
    mean: float
    std: float
    half_width: float

    @classmethod
    def of(cls, values: np.ndarray) -> Estimate:
        values = values[~np.isnan(values)]
        n = len(values)
        if n == 0:
            return cls(0, math.nan, math.nan, math.nan)
        mean = float(np.mean(values))
        if n == 1:
            return cls(1, mean, math.nan, math.nan)
        std = float(np.std(values, ddof=1))
        return cls(n, mean, std, _critical(n - 1) * std / math.sqrt(n) if std > 0 else 0.0)

    def row(self) -> dict[str, float]:
        return dict(zip(SUMMARY_COLUMNS, (self.n, self.mean, self.std, self.mean - self.half_width,
                                          self.mean + self.half_width, self.half_width)))


def welch_half_width(a: np.ndarray, b: np.ndarray) -> float:
    """Half-width of the Welch (unpaired, unequal variances) interval for mean(b) - mean(a)."""
    if min(len(a), len(b)) < 2:
        return math.nan
    va, vb = float(np.var(a, ddof=1)) / len(a), float(np.var(b, ddof=1)) / len(b)
    if va + vb == 0:
        return 0.0
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return _critical(df) * math.sqrt(va + vb)


def summarize(runs: pd.DataFrame, keys: Sequence[str], kpis: Sequence[str]) -> pd.DataFrame:
    """Per group of `runs` (by the `keys` columns, first of which is the group label) and KPI:
    n, mean, std and the 95% interval; groups in order of appearance."""
    rows = []
    for _, group in runs.groupby(keys[0], sort=False):
        ids = {key: group[key].iloc[0] for key in keys}
        for kpi in kpis:
            rows.append({**ids, "kpi": kpi, **Estimate.of(group[kpi].to_numpy(dtype=float)).row()})
    return pd.DataFrame(rows, columns=[*keys, "kpi", *SUMMARY_COLUMNS])


COMPARISON_COLUMNS = ["policy", "compared_with", "kpi", "n", "comparator_mean", "policy_mean", "difference", "ci_low",
                      "ci_high", "half_width", "welch_half_width", "relative_change"]


def _own_mean(values: pd.Series) -> float:
    """The mean of a policy's values where its comparator has none to pair them with (NaN if it has none either)."""
    present = values.to_numpy(dtype=float)
    present = present[~np.isnan(present)]
    return float(present.mean()) if len(present) else math.nan


def paired_comparison(runs: pd.DataFrame, comparators: str | Mapping[str, str], kpis: Sequence[str]) -> pd.DataFrame:
    """Each policy against its comparator, replication by replication (same seeds).

    `comparators` maps each policy to the scenario it is measured against; a single name
    measures every other scenario against that one. Per policy (in the order of `comparators`,
    or of `runs` for a single name) and KPI: the means over the replications both have (a KPI
    the comparator lacks, such as an issue's cost where nothing is issued, has no pairs: then
    the policy's mean is over its own replications and the difference is NaN), the
    paired mean difference (policy - comparator) with its paired-t interval, the relative change
    (difference / comparator mean), and the Welch interval's half-width on the same values, as
    if they were unpaired.
    """
    if isinstance(comparators, str):
        names = [name for name in dict.fromkeys(runs["scenario"]) if name != comparators]
        comparators = dict.fromkeys(names, comparators)
    rows = []
    for policy, comparator in comparators.items():
        base, group = runs[runs["scenario"] == comparator], runs[runs["scenario"] == policy]
        joined = base.merge(group, on="replication", how="inner", suffixes=("_base", "_policy"))
        for kpi in kpis:
            pair = joined[[f"{kpi}_base", f"{kpi}_policy"]].to_numpy(dtype=float)
            pair = pair[~np.isnan(pair).any(axis=1)]
            a, b = pair[:, 0], pair[:, 1]
            diff = Estimate.of(b - a)
            base_mean = float(np.mean(a)) if len(a) else math.nan
            rows.append({
                "policy": policy, "compared_with": comparator, "kpi": kpi, "n": diff.n, "comparator_mean": base_mean,
                "policy_mean": float(np.mean(b)) if len(b) else _own_mean(joined[f"{kpi}_policy"]),
                "difference": diff.mean,
                "ci_low": diff.mean - diff.half_width, "ci_high": diff.mean + diff.half_width,
                "half_width": diff.half_width, "welch_half_width": welch_half_width(a, b),
                "relative_change": diff.mean / base_mean if base_mean else math.nan,
            })
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def precise_enough(summary: pd.DataFrame, kpi: str, relative: float) -> bool:
    """True when every group's interval for `kpi` has half-width <= relative * |mean|."""
    rows = summary[summary["kpi"] == kpi]
    return bool(len(rows)) and bool((rows["half_width"] <= relative * rows["mean"].abs()).all())
