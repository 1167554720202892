"""Investor groups: trading needs that become trades only when they beat the cost of trading.

A group's needs arrive as one superposed Poisson stream (one SimPy process per group, not per
investor) within the group's active hours. Each need has an instrument (by the group's
interest weights), a side, a size in HKD, an account and a private gain in bps of value drawn
from an exponential distribution; the gain's mean is the group's cost sensitivity. The need
trades only if its gain beats the expected all-in cost of at least one listing the investor may
use that is open, quoted and feasible (the seller holds the units, the buyer has the cash; only
onboarded accounts use tokenized venues). The all-in cost includes the cost the group puts on
waiting for settlement. Among those listings the investor picks by a logit on net gain, and
sends an immediate-or-cancel order limited to the price at which the gain would be used up.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from sim.market.adoption import onboarded_accounts
from sim.market.ledger import Ledger
from sim.market.orderbook import BUY, SELL
from sim.market.random_streams import rows_in_blocks
from sim.market.trading import Market
from sim.market.values import FairValue
from sim.market.venue import Listing
from sim.recorder import Recorder
from sim.scenario.schema import InvestorGroup as GroupParams

CASH_MARGIN_CENTS = 100  # kept free so that per-charge rounding can never overdraw an account


class Line:
    """One bond or ETF a need may concern: its fair value, minimum size and the listings open to the group."""

    def __init__(self, value: FairValue, min_units: int, listings: list[Listing]) -> None:
        self.value = value
        self.min_units = min_units
        self.listings = listings

    def tradable(self) -> bool:
        for listing in self.listings:
            if listing.active:
                return True
        return False


class Interest:
    """What one interest weight stands for: an instrument (one line) or a programme (its issues)."""

    def __init__(self, lines: list[Line]) -> None:
        self.lines = lines

    def pick(self, draw: float) -> Line | None:
        """A line among those currently tradable (new issues open and mature); draw in [0, 1)."""
        if len(self.lines) == 1:  # an instrument: the common case
            line = self.lines[0]
            return line if line.tradable() else None
        tradable = [line for line in self.lines if line.tradable()]
        return tradable[int(draw * len(tradable))] if tradable else None


class InvestorGroup:
    """The needs process of one group and the decision each need goes through."""

    def __init__(
        self,
        index: int,
        params: GroupParams,
        first_account: int,
        interests: list[Interest],
        onboarded_shares: list[float],
        market: Market,
        ledger: Ledger,
        recorder: Recorder,
        rng: np.random.Generator,
    ) -> None:
        self.index = index
        self.params = params
        self.first_account = first_account
        self.interests = interests
        weights = list(params.interest.values())
        self._cumulative = [sum(weights[: k + 1]) / sum(weights) for k in range(len(weights))]
        self.onboarded_shares = onboarded_shares
        self.onboarded_accounts = [onboarded_accounts(share, params.accounts) for share in onboarded_shares]
        self._venues = [
            list({listing.venue.index: listing.venue for line in interest.lines for listing in line.listings}.values())
            for interest in interests
        ]
        self.market = market
        self.ledger = ledger
        self.recorder = recorder
        self._rng = rng

    def _draw_block(self, n: int) -> tuple[np.ndarray, ...]:
        """Per need: waiting time, gain, side, size, account, channel choice and instrument draws."""
        rng = self._rng
        return (
            rng.standard_exponential(n),
            rng.standard_exponential(n),
            rng.random(n),
            rng.standard_normal(n),
            rng.random(n),
            rng.random(n),
            rng.random(n),
        )

    def process(self, env, horizon_days: int):
        """Needs arrive in active time, mapped onto each day's active hours; counted per day.

        A need that arrives while every venue it could use is shut is refused without becoming
        a SimPy event (about half the needs of a group active outside exchange hours). A day is
        still closed at the moment of its last need, so the tables do not change.
        """
        start_hour, end_hour = self.params.active_hours
        start, window = start_hour / 24.0, (end_hour - start_hour) / 24.0
        rate = self.params.needs_per_day
        active_clock = 0.0
        day, needs, traded = 0, 0, 0
        refused_at = None  # time of the last need refused without an event, if after the last event
        for row in rows_in_blocks(self._draw_block):
            active_clock += row[0] / rate
            need_day = int(active_clock)
            if day < need_day:
                if refused_at is not None:
                    yield env.timeout(refused_at - env.now)
                    refused_at = None
                while day < need_day and day < horizon_days:
                    self.recorder.groups.add(day, self.index, needs, traded, self.onboarded_shares[day])
                    day, needs, traded = day + 1, 0, 0
            if need_day >= horizon_days:
                return
            t = need_day + start + (active_clock - need_day) * window
            needs += 1
            if not self._any_venue_open(t, need_day, row):
                refused_at = t
                continue
            yield env.timeout(t - env.now)
            refused_at = None
            traded += self.handle_need(t, need_day, row)

    def _any_venue_open(self, t: float, day: int, row: tuple[float, ...]) -> bool:
        """Is any venue open at t where the need's interest is listed and its account may trade?"""
        k = bisect.bisect_right(self._cumulative, row[6])
        onboarded = int(row[4] * self.params.accounts) < self.onboarded_accounts[day]
        for venue in self._venues[k]:
            if (onboarded or venue.form != "tokenized") and venue.is_open(t):
                return True
        return False

    def handle_need(self, t: float, day: int, row: tuple[float, ...]) -> bool:
        """Decide whether and where the need trades, then send the order; True if anything filled.

        Cheap refusals come first (no line, no open listing the investor may use) so that the
        many needs arriving while their venues are shut cost little; the order of the checks
        does not change which needs trade.
        """
        _, gain_draw, side_draw, size_draw, account_draw, choice_draw, instrument_draw = row
        params = self.params
        cumulative = self._cumulative
        k = bisect.bisect_right(cumulative, instrument_draw)
        low = cumulative[k - 1] if k else 0.0
        line = self.interests[k].pick((instrument_draw - low) / (cumulative[k] - low))
        if line is None:
            return False
        local_account = int(account_draw * params.accounts)
        onboarded = local_account < self.onboarded_accounts[day]
        open_listings = [
            listing for listing in line.listings
            if (onboarded or listing.venue.form != "tokenized") and listing.venue.is_open(t)
        ]
        if not open_listings:
            return False
        fair = line.value.at(t)
        if fair <= 0:
            return False
        side = BUY if side_draw < 0.5 else SELL
        account = self.first_account + local_account
        lot = line.min_units
        wanted = params.trade_size_median_hkd * math.exp(params.trade_size_sigma * size_draw) / fair
        wanted = max(lot, int(wanted / lot) * lot)
        gain = gain_draw * params.gain_mean_bps
        delay_cost = params.settlement_delay_cost_bps_per_day
        options = []
        for listing in open_listings:
            quantity = self._feasible_quantity(listing, account, side, wanted, fair, gain, day, lot)
            if quantity <= 0:
                continue
            crossing = listing.crossing_cost_bps(side, fair, quantity, day)
            if crossing is None:
                continue
            charges = listing.costs.expected_cost_bps(quantity * fair * 100.0, day, 0.0, side == SELL)
            charges += listing.venue.cycle_on(day) * delay_cost
            if gain > charges + crossing:
                options.append((gain - charges - crossing, charges, listing, quantity))
        if not options:
            return False
        _, charges, listing, quantity = options[0] if len(options) == 1 else self._choose(options, choice_draw)
        room = (gain - charges) / 10_000.0
        if side == BUY:
            limit = math.floor(listing.ticks(fair) * (1.0 + room))
        else:
            limit = max(1, math.ceil(listing.ticks(fair) * (1.0 - room)))
        return self.market.take(listing, account, side, quantity, limit, t, fair) > 0

    def _feasible_quantity(
        self, listing: Listing, account: int, side: int, wanted: int, fair: float, gain: float, day: int, lot: int
    ) -> int:
        """No short selling (unless allowed) and no credit: cap the order by free units or cash, in whole lots."""
        if side == SELL:
            quantity = wanted if self.params.short_selling else min(wanted, self.ledger.free_units(listing.asset, account))
        else:
            worst_unit_cents = fair * 100.0 * (1.0 + gain / 10_000.0) * (1.0 + listing.costs.investor_rate(day)) + 1.0
            quantity = min(wanted, int((self.ledger.free_cash(account) - CASH_MARGIN_CENTS) // worst_unit_cents))
        return quantity // lot * lot

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
