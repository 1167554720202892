"""Settlement: delivery versus payment after each venue's cycle, atomically, or failed and retried.

A trade agreed on business day d on a venue with cycle L is due at the end of day d + L (T+L).
Each attempt fails with the venue's fail probability (a break that needs fixing); a failed trade
stays outstanding and is retried at the end of the next business day, until, after
`buy_in_after_fails` failed attempts, the buyer is bought in: the next attempt delivers for
certain (the buy-in's cost to the failing seller is measured in `sim.settlement_economics`).
With tokenized cash in force on a tokenized venue a trade settles the moment it is agreed
(atomic delivery versus payment: both legs or neither, so it cannot fail). Each day's end
records, per listing, the value still outstanding (Little's law puts it near daily value times
L) and the fails.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import NamedTuple

import numpy as np

from sim.market.ledger import Ledger
from sim.market.random_streams import uniforms
from sim.recorder import Recorder

# US CNS fail rates around the move to T+1 (SIFMA/ICI/DTCC T+1 After Action Report, Sep 2024).
CNS_FAIL_RATE_T2 = 0.0201
CNS_FAIL_RATE_T1 = 0.0190
# The elasticity of the fail rate to the cycle that joins those two figures, about 0.081.
DEFAULT_FAIL_ELASTICITY = math.log(CNS_FAIL_RATE_T2 / CNS_FAIL_RATE_T1) / math.log(2.0)


def fail_probability_for_cycle(
    base_probability: float,
    base_cycle_days: int,
    cycle_days: int,
    elasticity: float = DEFAULT_FAIL_ELASTICITY,
) -> float:
    """The fail probability of a settlement attempt at a cycle of `cycle_days`.

    p(L) = p0 * (L / L0) ** elasticity for L >= 1 (capped at 1), and 0 at L = 0: atomic
    delivery versus payment cannot fail, because both legs are on the ledger before the trade.
    The default elasticity, ln(2.01 / 1.90) / ln 2 = 0.081, takes the US CNS fail rate from
    2.01% at T+2 to 1.90% at T+1. Halving the cycle lowers fails by only about 5%.
    """
    if not 0.0 <= base_probability <= 1.0:
        raise ValueError(f"base_probability must be in [0, 1], got {base_probability}")
    if base_cycle_days < 1 or cycle_days < 0:
        raise ValueError(f"need base_cycle_days >= 1 and cycle_days >= 0, got {base_cycle_days}, {cycle_days}")
    if cycle_days == 0:
        return 0.0
    return min(1.0, base_probability * (cycle_days / base_cycle_days) ** elasticity)


class PendingTrade(NamedTuple):
    trade: int
    listing: int
    asset: int
    seller: int
    buyer: int
    quantity: int
    value_cents: int
    buyer_pays_cents: int
    seller_receives_cents: int
    credits: list[tuple[int, int]]


class Settlement:
    """The settlement queue of all listings, run as one SimPy process at each day's end."""

    def __init__(
        self,
        ledger: Ledger,
        recorder: Recorder,
        fail_probabilities: list[float],
        rngs: list[np.random.Generator],
        horizon_days: int,
        buy_in_after_fails: int | None = None,
    ) -> None:
        """`fail_probabilities` and `rngs` are per listing (the venue's rate, the venue's stream);
        `buy_in_after_fails` None retries a failed trade until it settles."""
        self.ledger = ledger
        self.recorder = recorder
        self._settled_day = recorder.trades.columns["settled_day"]  # written in place as trades settle
        self.horizon_days = horizon_days
        self.fail_probabilities = fail_probabilities
        self._uniforms = [uniforms(rng) for rng in rngs]
        self.buy_in_after_fails = buy_in_after_fails
        self._fails: dict[int, int] = {}  # failed attempts so far, of trades that have failed
        n = len(fail_probabilities)
        self._due: dict[int, list[PendingTrade]] = defaultdict(list)
        self.outstanding_cents = [0] * n
        self.outstanding_trades = [0] * n

    def submit(self, pending: PendingTrade, trade_day: int, cycle_days: int) -> None:
        """Queue a committed trade for settlement at the end of day trade_day + cycle_days."""
        if cycle_days == 0:
            self._deliver(pending, trade_day)
            return
        self._due[trade_day + cycle_days].append(pending)
        self.outstanding_cents[pending.listing] += pending.value_cents
        self.outstanding_trades[pending.listing] += 1

    def process(self, env):
        """At the end of each business day settle or fail what is due, then record per listing."""
        fail_probabilities = self.fail_probabilities
        day = 0
        while day < self.horizon_days or self._due:
            yield env.timeout(day + 1 - env.now)
            outstanding_cents, outstanding_trades = self.outstanding_cents, self.outstanding_trades
            fails = [0] * len(outstanding_cents)
            failed_cents = [0] * len(outstanding_cents)
            due = self._due.pop(day, ())
            if any(fail_probabilities):
                due = self._attempt(due, day, fails, failed_cents)
            self.ledger.settle(due)
            settled_day = self._settled_day
            for pending in due:
                listing = pending.listing
                outstanding_cents[listing] -= pending.value_cents
                outstanding_trades[listing] -= 1
                settled_day[pending.trade] = day
            if day < self.horizon_days:
                for listing, cents in enumerate(outstanding_cents):
                    self.recorder.settlement.add(
                        day, listing, cents, outstanding_trades[listing], fails[listing], failed_cents[listing]
                    )
            day += 1

    def _attempt(self, due: list[PendingTrade], day: int, fails: list[int], failed_cents: list[int]) -> list[PendingTrade]:
        """The trades of `due` that do not fail today, in order; those that fail are counted in
        `fails` and `failed_cents` per listing and are due again tomorrow, unless bought in."""
        fail_probabilities, draws, failed_attempts = self.fail_probabilities, self._uniforms, self._fails
        buy_in_after = math.inf if self.buy_in_after_fails is None else self.buy_in_after_fails
        delivered = []
        for pending in due:
            listing = pending.listing
            fail_probability = fail_probabilities[listing]
            if (
                fail_probability
                and failed_attempts.get(pending.trade, 0) < buy_in_after  # not bought in yet
                and next(draws[listing]) < fail_probability
            ):
                failed_attempts[pending.trade] = failed_attempts.get(pending.trade, 0) + 1
                fails[listing] += 1
                failed_cents[listing] += pending.value_cents
                self.recorder.mark_failed(pending.trade)
                self._due[day + 1].append(pending)
            else:
                delivered.append(pending)
        return delivered

    def _deliver(self, p: PendingTrade, day: int) -> None:
        self.ledger.settle((p,))
        self._settled_day[p.trade] = day
