"""When would a stamp-duty waiver pay for itself? The turnover response that would recover it.

A waiver lowers the duty rate on one channel (an instrument type in one form, e.g. tokenized
ETF units). Inside the model, the extra turnover it brings is on the waived channel and so
raises no duty: the waiver never pays for itself there. The question for a meeting is how far
the response would have to go for the public purse to break even through channels that remain
taxed. The definition used throughout the report:

    The waiver pays for itself when the extra turnover it brings to the waived channel, were it
    matched by as much trading in channels that are still taxed at the waived rate (both
    sides; for example the stock trades of ETF arbitrage and hedging), raises as much duty as
    is forgone. Break-even extra turnover = duty forgone / (2 x rate per side); the break-even
    response is that amount as a share of the waived channel's turnover in the comparator.

Everything is measured against the policy's comparator (the scenario it names in
`measured_against`, else the baseline), which must charge the duty the policy waives: for the
tokenized ETF waiver that is a counterfactual, since Hong Kong law already exempts ETF units.
Duty forgone is the paired difference of `stamp_duty_hkd` (comparator minus policy, all
channels, from comparison.csv); the channel's turnover in the comparator, its rate there (the
mean over the horizon of the rate in force, turnover-weighted across channels when a policy
waives several) and the measured response come from the runs' series records, paired by
replication with a 95% paired-t interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.experiment.stats import Estimate
from sim.report.inputs import ReportInputs

CHANNEL_WORDS = {"etf": "ETF units", "bond": "bonds"}


@dataclass(frozen=True)
class BreakEven:
    """One waiver policy's duty forgone, the response it brought and the response that would
    recover the duty (responses are fractions of the waived channels' turnover in the comparator)."""

    policy: str
    comparator: str
    channels: list[str]
    rate_per_side: float
    comparator_turnover_hkd: float
    forgone_hkd: float
    forgone_low_hkd: float
    forgone_high_hkd: float
    extra_turnover_hkd: float
    extra_low_hkd: float
    extra_high_hkd: float

    @property
    def break_even_turnover_hkd(self) -> float:
        return self.forgone_hkd / (2.0 * self.rate_per_side)

    @property
    def break_even_response(self) -> float:
        return self.break_even_turnover_hkd / self.comparator_turnover_hkd

    @property
    def response(self) -> float:
        return self.extra_turnover_hkd / self.comparator_turnover_hkd

    @property
    def response_interval(self) -> tuple[float, float]:
        return self.extra_low_hkd / self.comparator_turnover_hkd, self.extra_high_hkd / self.comparator_turnover_hkd


def _channels(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{c['form']} {CHANNEL_WORDS.get(c['instrument_type'], c['instrument_type'])}": c
            for c in record.get("duty", [])}


def _by_replication(records: list[dict[str, Any]]) -> dict[int, dict[str, dict[str, Any]]]:
    return {r["replication"]: _channels(r) for r in records if r.get("duty")}


def break_even(inputs: ReportInputs, policy: str) -> BreakEven | None:
    """The policy's break-even against its comparator, or None when it waives no duty the
    comparator charges, forgoes none, or its series or its duty comparison are missing."""
    comparator = inputs.comparator(policy)
    base = _by_replication(inputs.series.get(comparator, []))
    other = _by_replication(inputs.series.get(policy, []))
    shared = sorted(set(base) & set(other))
    duty = inputs.comparison[(inputs.comparison["policy"] == policy) & (inputs.comparison["kpi"] == "stamp_duty_hkd")]
    if not shared or duty.empty or not duty["n"].iloc[0]:
        return None
    first_base, first_policy = base[shared[0]], other[shared[0]]
    waived = [name for name, c in first_base.items()
              if c["rate_per_side"] > 0 and name in first_policy and first_policy[name]["rate_per_side"] < c["rate_per_side"]]
    forgone = -float(duty["difference"].iloc[0])
    if not waived or not forgone > 0:
        return None
    turnover = {name: np.array([base[k][name]["turnover_hkd"] for k in shared], dtype=float) for name in waived}
    comparator_turnover = float(sum(t.mean() for t in turnover.values()))
    if comparator_turnover <= 0:
        return None
    rate = sum(first_base[n]["rate_per_side"] * turnover[n].mean() for n in waived) / comparator_turnover
    extra = Estimate.of(np.array([sum(other[k][n]["turnover_hkd"] - base[k][n]["turnover_hkd"] for n in waived)
                                  for k in shared], dtype=float))
    half = 0.0 if math.isnan(extra.half_width) else extra.half_width
    return BreakEven(policy, comparator, waived, rate, comparator_turnover, forgone, -float(duty["ci_high"].iloc[0]),
                     -float(duty["ci_low"].iloc[0]), extra.mean, extra.mean - half, extra.mean + half)


def break_evens(inputs: ReportInputs) -> list[BreakEven]:
    """The break-even of every policy that waives duty, in report order."""
    return [b for b in (break_even(inputs, p) for p in inputs.policies) if b is not None]
