"""Settlement: at the trade (book entry, atomic), or delivery versus payment after the venue's cycle.

How a venue settles is its settlement model (`sim.market.venue.Venue`). A book entry on a
platform that holds its clients' units and cash, and atomic delivery versus payment against
tokenized cash, are final the moment the trade is agreed: both legs were there beforehand
(prefunded), so they cannot fail. A trade agreed on business day d on a venue that settles by
delivery versus payment (DvP) with cycle L is due at the end of day d + L (T+L). It fails for a
cause: the seller does not hold the units it sold (they come from a purchase that has not
settled, or has failed), or the buyer does not hold the cash (it comes from a sale that has not
settled: late funding). The day's due trades are settled in passes, as a CSD recycles its
settlement batch, until no more can settle. A venue may add a residual operational fail rate,
per attempt, for breaks with no cause in positions. A failed trade is due again at the end of
the next business day, until, after `buy_in_after_fails` failed attempts, it is bought in: the
listing's liquidity provider stands in for the side that failed (delivers the units, or pays the
cash) and the failing side's trade lapses; the buy-in's cost to the failing seller is measured
in `sim.settlement_economics`. Fails therefore chain: a seller whose purchase failed fails in
turn. Short sellers deliver units they do not hold (their holdings may go negative). Each day's
end records, per listing, the value still outstanding (Little's law puts it near daily value
times L) and the fails.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import NamedTuple

import numpy as np

from sim.market.ledger import CASH_SHORT, UNITS_SHORT, Ledger
from sim.market.random_streams import uniforms
from sim.recorder import Recorder

OPERATIONAL = 0  # a fail's cause: a residual operational break (`Settlement.fails_by_cause`)

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


def prefunding_cost_bps_per_day(funding_rate_per_year: float) -> float:
    """What a day of prefunded cash costs, bps of its value: the funding rate over 365 calendar days.

    A purchase that settles at the trade needs its cash in place from a lead time before the
    start of its business day until the trade; `sim.settlement_economics` charges the same rate
    over the same time (`FundingTerms`)."""
    return funding_rate_per_year / 365.0 * 10_000.0


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
        stand_ins: list[int] | None = None,
        short_sellers: frozenset[str] = frozenset(),
    ) -> None:
        """`fail_probabilities` (the residual operational rate at the venue's cycle), `rngs` (the
        venue's stream) and `stand_ins` (the liquidity provider's account, the buy-in agent) are per
        listing; `buy_in_after_fails` None retries a failed trade until it settles; `short_sellers`
        names the account groups that may deliver units they do not hold."""
        self.ledger = ledger
        self.recorder = recorder
        self._settled_day = recorder.trades.columns["settled_day"]  # written in place as trades settle
        self.horizon_days = horizon_days
        self.fail_probabilities = fail_probabilities
        self._uniforms = [uniforms(rng) for rng in rngs]
        self.buy_in_after_fails = buy_in_after_fails
        self.stand_ins = stand_ins
        self.short_sellers = short_sellers
        self._fails: dict[int, int] = {}  # failed attempts so far, of trades that have failed
        n = len(fail_probabilities)
        self._due: dict[int, list[PendingTrade]] = defaultdict(list)
        self.outstanding_cents = [0] * n
        self.outstanding_trades = [0] * n
        # failed attempts per listing by cause: OPERATIONAL, UNITS_SHORT, CASH_SHORT or both shorts (3)
        self.fails_by_cause = [[0, 0, 0, 0] for _ in range(n)]
        self.stood_in = [0] * n  # trades settled by a buy-in agent standing in for a failing side, per listing

    def submit(self, pending: PendingTrade, trade_day: int, cycle_days: int) -> None:
        """Queue a committed trade for settlement at the end of day trade_day + cycle_days (0: settle now)."""
        if cycle_days == 0:
            self._deliver(pending, trade_day)
            return
        self._due[trade_day + cycle_days].append(pending)
        self.outstanding_cents[pending.listing] += pending.value_cents
        self.outstanding_trades[pending.listing] += 1

    def process(self, env):
        """At the end of each business day settle or fail what is due, then record per listing."""
        day = 0
        while day < self.horizon_days or self._due:
            yield env.timeout(day + 1 - env.now)
            outstanding_cents, outstanding_trades = self.outstanding_cents, self.outstanding_trades
            fails = [0] * len(outstanding_cents)
            failed_cents = [0] * len(outstanding_cents)
            due = self._due.pop(day, ())
            if due:
                settled = self._attempt(due, day, fails, failed_cents)
                settled_day = self._settled_day
                for pending in settled:
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
        """The trades of `due` that settle today; those that fail are counted in `fails` and
        `failed_cents` per listing and are due again tomorrow.

        First the residual operational draws (not for a trade being bought in). Then passes over
        the rest in order: a trade settles when the seller holds the units and the buyer the cash;
        a trade at its buy-in has the liquidity provider stand in for the side that cannot; the
        passes repeat while one of them settles something (a settled purchase gives its buyer the
        units an onward sale needs).
        """
        fail_probabilities, draws, failed_attempts = self.fail_probabilities, self._uniforms, self._fails
        buy_in_after = math.inf if self.buy_in_after_fails is None else self.buy_in_after_fails
        waiting, failed = [], []
        for pending in due:
            fail_probability = fail_probabilities[pending.listing]
            if (
                fail_probability
                and failed_attempts.get(pending.trade, 0) < buy_in_after  # not bought in yet
                and next(draws[pending.listing]) < fail_probability
            ):
                failed.append((pending, OPERATIONAL))
            else:
                waiting.append(pending)
        settled: list[PendingTrade] = []
        ledger = self.ledger
        while waiting:
            still = []
            for pending in waiting:
                short = self._shortfall(pending)
                if not short:
                    ledger.settle((pending,))
                    settled.append(pending)
                elif failed_attempts.get(pending.trade, 0) >= buy_in_after and self._buy_in(pending, short):
                    settled.append(pending)
                else:
                    still.append(pending)
            if len(still) == len(waiting):
                break
            waiting = still
        causes = self.fails_by_cause
        for pending in waiting:
            failed.append((pending, self._shortfall(pending)))
        for pending, cause in failed:
            listing = pending.listing
            failed_attempts[pending.trade] = failed_attempts.get(pending.trade, 0) + 1
            fails[listing] += 1
            failed_cents[listing] += pending.value_cents
            causes[listing][cause] += 1
            self.recorder.mark_failed(pending.trade)
            self._due[day + 1].append(pending)
        return settled

    def _shortfall(self, pending: PendingTrade) -> int:
        """Why `pending` cannot settle now (`Ledger.shortfall`), except that a short seller may deliver
        units it does not hold."""
        short = self.ledger.shortfall(pending)
        if short & UNITS_SHORT and self.ledger.accounts[pending.seller].group in self.short_sellers:
            short ^= UNITS_SHORT
        return short

    def _buy_in(self, pending: PendingTrade, short: int) -> bool:
        """Have the listing's liquidity provider stand in for the side that cannot settle (deliver the
        units of a failing seller, pay the cash of a failing buyer), if it can; True if the trade settled.
        The failing side's trade lapses: its pending amounts move to the stand-in."""
        if self.stand_ins is None:
            return False
        agent = self.stand_ins[pending.listing]
        ledger = self.ledger
        if (short & UNITS_SHORT and ledger.free_units(pending.asset, agent) < pending.quantity) or (
            short & CASH_SHORT and ledger.free_cash(agent) < pending.buyer_pays_cents
        ):  # only what the agent holds free, so that its own deliveries are not put at risk
            return False
        seller = agent if short & UNITS_SHORT else pending.seller
        buyer = agent if short & CASH_SHORT else pending.buyer
        replaced = pending._replace(seller=seller, buyer=buyer)
        ledger.substitute(pending, seller, buyer)
        if ledger.shortfall(replaced):  # the agent cannot either: back to the parties, retried tomorrow
            ledger.substitute(replaced, pending.seller, pending.buyer)
            return False
        ledger.settle((replaced,))
        self.stood_in[pending.listing] += 1
        return True

    def _deliver(self, p: PendingTrade, day: int) -> None:
        self.ledger.settle((p,))
        self._settled_day[p.trade] = day
