"""Investor groups: trading needs that become trades only when they beat the cost of trading.

A group's needs arrive as one superposed Poisson stream (one SimPy process per group, not per
investor) within the group's active hours. Each need has a side, a size, an account and a
private gain in bps of value drawn from an exponential distribution; the gain's mean is the
group's cost sensitivity. The need trades only if its gain beats the all-in expected cost of at
least one channel the group may use that is open, quoted and feasible (the seller holds the
units, the buyer has the cash). Among those channels the investor picks by a logit on net gain.
The order is immediate-or-cancel, limited to the price at which the gain would be used up.
"""

from __future__ import annotations

import math

import numpy as np

from sim.market.ledger import Ledger
from sim.market.nav import NavPath
from sim.market.orderbook import BUY, SELL
from sim.market.random_streams import rows_in_blocks
from sim.market.trading import Market
from sim.market.venue import Venue
from sim.recorder import Recorder
from sim.scenario.schema import InvestorGroup as GroupParams

CASH_MARGIN_CENTS = 100  # kept free so that per-charge rounding can never overdraw an account


class InvestorGroup:
    """The needs process of one group and the decision each need goes through."""

    def __init__(
        self,
        index: int,
        params: GroupParams,
        first_account: int,
        channels: list[Venue],
        market: Market,
        ledger: Ledger,
        nav: NavPath,
        recorder: Recorder,
        rng: np.random.Generator,
    ) -> None:
        self.index = index
        self.params = params
        self.first_account = first_account
        self.channels = channels
        self.market = market
        self.ledger = ledger
        self.nav = nav
        self.recorder = recorder
        self._rng = rng

    def _draw_block(self, n: int) -> np.ndarray:
        """Per need: waiting time, gain, side, size, account and channel-choice draws."""
        rng = self._rng
        return np.column_stack(
            (
                rng.standard_exponential(n),
                rng.standard_exponential(n),
                rng.random(n),
                rng.standard_normal(n),
                rng.random(n),
                rng.random(n),
            )
        )

    def process(self, env, horizon_days: int):
        """Needs arrive in active time, mapped onto each day's active hours; counted per day."""
        start_hour, end_hour = self.params.active_hours
        start, window = start_hour / 24.0, (end_hour - start_hour) / 24.0
        rate = self.params.needs_per_day
        active_clock = 0.0
        day, needs, traded = 0, 0, 0
        for row in rows_in_blocks(self._draw_block):
            active_clock += row[0] / rate
            need_day = int(active_clock)
            while day < need_day and day < horizon_days:
                self.recorder.needs.add(day, self.index, needs, traded)
                day, needs, traded = day + 1, 0, 0
            if need_day >= horizon_days:
                return
            t = need_day + start + (active_clock - need_day) * window
            yield env.timeout(t - env.now)
            needs += 1
            traded += self.handle_need(t, need_day, row)

    def handle_need(self, t: float, day: int, row: list[float]) -> bool:
        """Decide whether and where the need trades, then send the order; True if anything filled."""
        _, gain_draw, side_draw, size_draw, account_draw, choice_draw = row
        params = self.params
        side = BUY if side_draw < 0.5 else SELL
        account = self.first_account + int(account_draw * params.accounts)
        wanted = max(1, int(params.trade_size_median_units * math.exp(params.trade_size_sigma * size_draw) + 0.5))
        gain = gain_draw * params.gain_mean_bps
        nav = self.nav.at(t)
        options = []
        for venue in self.channels:
            if not venue.is_open(t):
                continue
            crossing = venue.crossing_cost_bps(side, nav)
            if crossing is None:
                continue
            quantity = self._feasible_quantity(venue, account, side, wanted, nav, gain, day)
            if quantity <= 0:
                continue
            cost = venue.costs.expected_cost_bps(quantity * nav * 100.0, day, crossing, side == SELL)
            if gain > cost:
                options.append((gain - cost, cost - crossing, venue, quantity))
        if not options:
            return False
        _, charges_bps, venue, quantity = self._choose(options, choice_draw)
        room = (gain - charges_bps) / 10_000.0
        if side == BUY:
            limit = math.floor(venue.ticks(nav) * (1.0 + room))
        else:
            limit = max(1, math.ceil(venue.ticks(nav) * (1.0 - room)))
        return self.market.take(venue, account, side, quantity, limit, t) > 0

    def _feasible_quantity(
        self, venue: Venue, account: int, side: int, wanted: int, nav: float, gain: float, day: int
    ) -> int:
        """No short selling and no credit: cap the order by free units or by free cash."""
        if side == SELL:
            return min(wanted, self.ledger.free_units(venue.asset, account))
        rate = venue.costs.duty.rate_on(day) + venue.costs.fee_rate
        worst_unit_cents = nav * 100.0 * (1.0 + gain / 10_000.0) * (1.0 + rate) + 1.0
        affordable = int((self.ledger.free_cash(account) - CASH_MARGIN_CENTS) // worst_unit_cents)
        return min(wanted, affordable)

    def _choose(self, options: list[tuple], draw: float) -> tuple:
        """Logit choice on net gain among the channels worth using."""
        if len(options) == 1:
            return options[0]
        scale = self.params.channel_logit_scale_bps
        best = max(option[0] for option in options)
        weights = [math.exp((option[0] - best) / scale) for option in options]
        threshold = draw * sum(weights)
        for option, weight in zip(options, weights):
            threshold -= weight
            if threshold <= 0:
                return option
        return options[-1]
