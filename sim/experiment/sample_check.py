"""How closely a weighted sample of accounts reproduces the whole market's KPIs.

A run may simulate one in `sample.weight` of every group's accounts and report totals times the
weight (`sim.scenario.schema.Sample`). That is only as good as the market's outcomes are
independent of how many accounts trade: the liquidity providers, the authorised participants and
the trade sizes keep their real size while the flow they see shrinks. This compares, KPI by KPI,
runs at each weight with runs of the whole market (weight 1) on the same seeds: the difference of
means with its Welch 95% interval (the sample's and the whole market's runs draw different
needs, so they are not paired), and whether that interval holds zero. The sample's own flow at
each listing (its trades per day, which is what its market maker sees) is given beside the
spread and depth it produced.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.experiment.stats import welch_half_width

WEIGHT = "sample.weight"
CHECK_COLUMNS = ["kpi", "weight", "n", "market_mean", "sample_mean", "difference", "ci_low", "ci_high", "within",
                 "relative_difference"]


def sample_check(runs: pd.DataFrame, kpis: list[str]) -> pd.DataFrame:
    """Per weight above 1 and KPI: the whole market's mean (weight 1), the sample's, their difference
    with its Welch 95% interval, whether the interval holds zero, and the difference relative to the
    market's mean (NaN where that is zero)."""
    if WEIGHT not in runs or not (runs[WEIGHT] == 1).any():
        raise ValueError("a sample check needs runs of the whole market (sample.weight 1) beside the samples")
    market = runs[runs[WEIGHT] == 1]
    rows = []
    for weight in sorted(w for w in runs[WEIGHT].unique() if w != 1):
        sample = runs[runs[WEIGHT] == weight]
        for kpi in kpis:
            a, b = _finite(market[kpi]), _finite(sample[kpi])
            if not len(a) or not len(b):
                continue
            difference = float(b.mean() - a.mean())
            half = welch_half_width(a, b)
            low, high = difference - half, difference + half
            rows.append({
                "kpi": kpi, "weight": int(weight), "n": min(len(a), len(b)), "market_mean": float(a.mean()),
                "sample_mean": float(b.mean()), "difference": difference, "ci_low": low, "ci_high": high,
                "within": bool(low <= 0.0 <= high) if not math.isnan(half) else False,
                "relative_difference": difference / float(a.mean()) if a.mean() != 0 else math.nan,
            })
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def sample_flow(runs: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """Per weight and order-book listing: the trades a day the sample itself makes there (the
    market's trades over the weight), beside the listing's mean spread and depth, pooled over seeds."""
    rows = []
    for column in [c for c in runs.columns if c.startswith("trades_") and c != "trades"]:
        listing = column.removeprefix("trades_")
        for weight, group in runs.groupby(WEIGHT):
            rows.append({
                "listing": listing, "weight": int(weight),
                "sample_trades_per_day": float(group[column].mean()) / weight / horizon_days,
                "spread_bps": float(group.get(f"spread_bps_{listing}", pd.Series(math.nan)).mean()),
                "depth_hkd": float(group.get(f"depth_hkd_{listing}", pd.Series(math.nan)).mean()),
            })
    return pd.DataFrame(rows, columns=["listing", "weight", "sample_trades_per_day", "spread_bps", "depth_hkd"])


def _finite(values: pd.Series) -> np.ndarray:
    array = values.to_numpy(dtype=float)
    return array[np.isfinite(array)]
