"""Tokenized bank deposits: a bank's liability at par, exposed to that bank's failure.

A deposit token is a claim on its bank, moved on a ledger; banks settle among themselves in
central-bank money (Project Ensemble's interbank leg runs through HKD RTGS), so a token of a sound
bank is worth par wherever it goes and has no secondary market to fall on. What it carries is the
bank's failure: from the failure until the resolution the bank's tokens cannot move, so trades
settling in them cannot settle, and at the resolution each depositor is paid in full up to the
deposit protection limit and `recovery` of the rest. A frozen balance also costs its holder its
use (at the funding rate) for the calendar days it stays frozen.
"""

from __future__ import annotations

import math

import numpy as np

from sim.market.money_clock import HOURS_PER_DAY, MoneyClock
from sim.market.money_path import HolderOutcome, MoneyPath, at_par
from sim.market.money_specs import DepositTokenSpec


def run_deposit_token(spec: DepositTokenSpec, clock: MoneyClock) -> MoneyPath:
    """The deposit token's path: at par, frozen during each failure of its bank, and its holders' losses."""
    usable = np.ones(clock.hours, dtype=bool)
    frozen_hours = 0
    loss_share = 0.0  # of the balances above the protection limit, lost over all failures
    for failure in spec.failures:
        start = math.floor(clock.hour_of(failure.start))
        end = math.floor(clock.hour_of(failure.end))
        usable[start:end] = False
        frozen_hours += max(0, end - start)
        loss_share = 1.0 - (1.0 - loss_share) * failure.recovery
    total = sum(holder.balance_hkd for holder in spec.holders.values())
    frozen_hkd = np.where(usable, 0.0, total)
    frozen_days = frozen_hours / HOURS_PER_DAY
    outcomes = []
    for group, holder in spec.holders.items():
        per_depositor = holder.balance_hkd / holder.depositors
        unprotected = max(0.0, per_depositor - spec.protection_hkd_per_depositor) * holder.depositors
        use = holder.balance_hkd * spec.funding_rate_per_year * frozen_days / 365.0
        outcomes.append(HolderOutcome(group, holder.balance_hkd, 0.0, 0.0, holder.balance_hkd * frozen_days,
                                      unprotected * loss_share + use))
    return at_par(spec.name, spec.kind, clock, usable, tuple(outcomes), frozen_hkd)
