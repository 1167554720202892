"""Investor groups: trading needs that become trades only when they beat the cost of trading.

A group's needs arrive as one superposed Poisson stream (one SimPy process per group, not per
investor) within the group's active hours. Each need has an instrument (by the group's
interest weights), a side, a size in HKD (lognormal about the group's median, or the median it
gives that interest), an account and a private gain in bps of value drawn
from an exponential distribution; the gain's mean is the group's cost sensitivity. The need
trades only if its gain beats the expected all-in cost of at least one listing the investor may
use that is open, quoted and feasible (the seller holds the units, the buyer has the cash; only
onboarded accounts use tokenized venues). The all-in cost includes the cost the group puts on
waiting for settlement and, for a purchase that settles at the trade (a book entry, atomic
settlement, T+0), the cost of the cash that must sit idle on the venue beforehand, at the
funding rate (the prefunding cost `sim.settlement_economics` measures: the same rate and
definition). A sale that settles later may deliver units bought but not yet settled, and a
purchase that settles later may be paid from a pending sale's proceeds (`Ledger.sellable_units`,
`Ledger.spendable_cash`); one that settles at the trade uses only what is held free. Among those listings the investor picks by a logit on net gain, and
sends an immediate-or-cancel order limited to the price at which the gain would be used up.

An informed group (`informed_lead_minutes`) knows where the fair value will be that far ahead: each
need buys if it will rise and sells if it will fall, and adds the move to its gain, so it takes
quotes that are stale against what it knows; market makers that learn from flow answer it. Its
signal may be noisy (`informed_accuracy` below 1): it then points the right way only that often,
drawn from a stream of the group's own, and the need adds its expected edge, (2 x accuracy - 1)
times the move, to its gain.

A need for an exposure (a stock, an ETF on it, a tokenized share: instruments that give the same
economic exposure) weighs the listings of every wrapper the group may use, each at its wrapper's
fair value, minimum size and tracking cost, so a duty on one wrapper moves its volume to the
others. It picks by a nested logit: the wrapper at the group's `wrapper_logit_scale_bps` (investors
switch wrapper less readily than venue), then the listing within it at the channel scale.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import repeat
from typing import NamedTuple

import numpy as np

from sim.market.adoption import ResponsiveAdoption, onboarded_accounts
from sim.market.calendar import MINUTES_PER_DAY
from sim.market.ledger import Ledger
from sim.market.orderbook import BUY, SELL
from sim.market.payers import Payer
from sim.market.random_streams import uniforms
from sim.market.settlement import prefunding_cost_bps_per_day
from sim.market.specs import InvestorSpec
from sim.market.trading import Market
from sim.market.values import TRADING_DAYS_PER_YEAR, FairValue
from sim.market.venue import Listing
from sim.recorder import Recorder

CASH_MARGIN_CENTS = 100  # kept free so that per-charge rounding can never overdraw an account
NEEDS_PER_BLOCK = 4096  # needs drawn and screened per numpy call
_tuple_new = tuple.__new__  # builds records without NamedTuple.__new__'s Python frame: once per need


class Need(NamedTuple):
    """One trading need that passed the screen, as `handle_need` takes it."""

    t: float  # its time, business days
    day: int
    interest: int  # index of the group's interest it concerns
    line_draw: float  # picks the line within the interest (a programme's open issues)
    account: int  # within the group
    open_bits: int  # the venues open to that account at that time, one bit per venue index
    side: int  # BUY or SELL
    size_draw: float  # standard normal: the size's deviation from the median, in log-sds
    gain_bps: float  # private gain, bps of value
    choice_draw: float  # uniform: the logit choice among channels worth using


class Screened(NamedTuple):
    """A block of needs after screening: the needs to visit one by one, and what those that pass carry.

    Only visited needs become Python objects; the arrays are read at a day's first need (was
    the need before it refused?).
    """

    times: np.ndarray  # every need's time
    usable: np.ndarray  # may it trade somewhere open at its time?
    visits: list[int]  # needs the process visits one by one: those usable and each day's first
    visit_days: list[int]  # their days
    visit_usable: list[bool]  # and whether each is usable
    needs: Iterator[Need]  # what `handle_need` takes, for each usable need in order


class Line:
    """One bond or ETF a need may concern: its fair value, minimum size and the listings open to the group.

    `tracking_bps`: as one wrapper of an exposure, the cost of holding the exposure through it (an
    ETF's tracking difference), bps of value, added to the all-in cost of each of its listings."""

    def __init__(self, value: FairValue, min_units: int, listings: list[Listing], tracking_bps: float = 0.0) -> None:
        self.value = value
        self.min_units = min_units
        self.listings = listings
        self.tracking_bps = tracking_bps
        self.venue_bits = [(listing, 1 << listing.venue.index) for listing in listings]  # see `_screen`
        self.open_listings: dict[int, list[Listing]] = {}  # by the bits of the venues open to a need, as met

    def tradable(self) -> bool:
        for listing in self.listings:
            if listing.active:
                return True
        return False


class Interest:
    """What one interest weight stands for: an instrument (one line), a programme (its issues, one
    picked per need) or an exposure (its wrappers, every one considered by each need)."""

    def __init__(self, lines: list[Line], instrument: bool = False, exposure: bool = False) -> None:
        """`instrument`: the one line of an instrument, whose listings never close (only new issues'
        open and close), so that while it has a listing its need always meets it: `always`.
        `exposure`: the lines are the exposure's wrappers (instruments, whose listings never close);
        `wrappers` keeps those with a listing open to the group, None for any other interest."""
        self.lines = lines
        self.always = lines[0] if instrument and lines[0].listings else None
        self.wrappers = [line for line in lines if line.listings] if exposure else None

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
        params: InvestorSpec,
        first_account: int,
        interests: list[Interest],
        onboarded_shares: list[float],
        market: Market,
        ledger: Ledger,
        recorder: Recorder,
        rng: np.random.Generator,
        signals: np.random.Generator | None = None,
    ) -> None:
        self.index = index
        self.params = params
        self.payer = Payer.RETAIL if params.retail else Payer.INVESTOR
        self.first_account = first_account
        self.interests = interests
        weights = list(params.interest.values())
        self._cumulative_array = np.array([sum(weights[: k + 1]) / sum(weights) for k in range(len(weights))])
        # the median trade size of a need, by the index of its interest
        self._size_medians = [params.trade_size_median_hkd_by_interest.get(name, params.trade_size_median_hkd)
                              for name in params.interest]
        self.onboarded_shares = onboarded_shares
        self.onboarded_accounts = [onboarded_accounts(share, params.accounts) for share in onboarded_shares]
        self._onboarded_array = np.array(self.onboarded_accounts, dtype=np.int64)
        venues_of = [{listing.venue for line in interest.lines for listing in line.listings} for interest in interests]
        self._venues = sorted(set().union(*venues_of), key=lambda venue: venue.index)
        self._interest_bits = [sum(1 << venue.index for venue in venues) for venues in venues_of]
        self._listings = list({listing: None for interest in interests for line in interest.lines
                               for listing in line.listings})
        self._terms_day: int | None = None  # the key of `_terms`: the day (levers and cycles change by day only)
        self._terms: dict[Listing, tuple[float, float, float, int, float, float, bool]] = {}
        self.market = market
        self.ledger = ledger
        self.recorder = recorder
        self._rng = rng
        self._lead_days = params.informed_lead_minutes / MINUTES_PER_DAY  # 0: uninformed
        # an informed need's signal is right with this probability (its own stream: the needs' draws stay the same)
        self._accuracy = params.informed_accuracy
        self._signal_draws = uniforms(signals) if signals is not None and self._accuracy < 1.0 else None
        self.adoption = None  # onboarding that responds to the realised advantage (`ResponsiveAdoption`), if it does
        scale = params.adoption.advantage_scale_bps
        if scale is not None and params.tokenized_access:
            adoption = params.adoption
            self.adoption = ResponsiveAdoption(adoption.initial_share, adoption.innovation_per_year,
                                               adoption.imitation_per_year, scale, 1.0 / TRADING_DAYS_PER_YEAR)
            # the shares are known a day at a time: each day's is filled in when the day before closes; the
            # screen lets every account through to tokenized venues, and `handle_need` checks the day's share
            self.onboarded_shares[:] = [adoption.initial_share] * len(onboarded_shares)
            self.onboarded_accounts[:] = [onboarded_accounts(adoption.initial_share, params.accounts)] * len(onboarded_shares)
            self._onboarded_array = np.full(len(onboarded_shares), params.accounts, dtype=np.int64)
        self._onboarded_now = self.onboarded_accounts[0] if self.onboarded_accounts else 0
        self._tokenized_bits = sum(1 << venue.index for venue in self._venues if venue.form == "tokenized")

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

        Needs are drawn and screened a block at a time (`_screen`). Only those that pass, and the
        first need of each day, are visited one by one, so a need that arrives while every venue
        it could use is shut (about half the needs of a group active outside exchange hours)
        costs no Python step and no SimPy event. A need that comes before any other process's next
        event is handled at once, without an event of its own: nothing else could happen in
        between, and the need carries its own time (nothing it does reads the clock). A day is
        still closed at the moment of its last need, so the tables are exactly what a need-by-need
        loop with an event per need records.
        """
        rate = self.params.needs_per_day
        day, day_first, traded = 0, 0, 0  # the current day, its first need's number, its needs that traded
        first = 0  # number of the block's first need among all the group's needs
        clock = 0.0  # active time at the last need drawn, in days
        last_refused_at = None  # time of the block's last need, if it was refused without an event
        # Only other processes schedule events, and they run only while this one waits: handling
        # a need schedules none (the market has no clock). So the next event's time is read after each wait.
        next_event = env.peek()
        while True:
            columns = self._draw_block(NEEDS_PER_BLOCK)
            active = columns[0] / rate
            active[0] += clock
            active = np.cumsum(active)
            clock = float(active[-1])
            block = self._screen(active, columns, day)
            times, usable, needs = block.times, block.usable, block.needs
            for i, need_day, passes in zip(block.visits, block.visit_days, block.visit_usable):
                if need_day != day:
                    refused_at = last_refused_at if i == 0 else (None if usable[i - 1] else float(times[i - 1]))
                    if refused_at is not None and refused_at >= next_event:
                        yield env.timeout(refused_at - env.now)
                        next_event = env.peek()
                    while day < need_day and day < horizon_days:
                        self.recorder.groups.add(day, self.index, first + i - day_first, traded, self.onboarded_shares[day])
                        day, day_first, traded = day + 1, first + i, 0
                        if self.adoption is not None and day < horizon_days:
                            self._onboard(day)
                if need_day >= horizon_days:
                    return
                if passes:
                    need = next(needs)
                    if need.t >= next_event:
                        yield env.timeout(need.t - env.now)
                        next_event = env.peek()
                    traded += self.handle_need(need)
            last_refused_at = None if usable[-1] else float(times[-1])
            first += len(times)

    def _onboard(self, day: int) -> None:
        """Responsive adoption: the share onboarded from `day` on, now that the day before has closed."""
        share = self.adoption.next_day()
        accounts = onboarded_accounts(share, self.params.accounts)
        for later in range(day, len(self.onboarded_shares)):  # known up to today: later days hold it until they come
            self.onboarded_shares[later] = share
            self.onboarded_accounts[later] = accounts
        self._onboarded_now = accounts

    def _screen(self, active: np.ndarray, columns: tuple[np.ndarray, ...], day: int) -> Screened:
        """Times, days and what `handle_need` takes for a block of needs, in numpy.

        `active` is each need's arrival in active time (days); `day` is the day of the need
        before the block. A need passes when a venue where its interest is listed is open at its
        time and its account may trade there (only onboarded accounts use tokenized venues).
        The arithmetic is the scalar arithmetic of a need-by-need loop, element by element, so
        every time and draw is the same float.
        """
        _, gain_draws, side_draws, size_draws, account_draws, choice_draws, instrument_draws = columns
        start_hour, end_hour = self.params.active_hours
        days = active.astype(np.int64)
        times = days + start_hour / 24.0 + (active - days) * ((end_hour - start_hour) / 24.0)
        interests = np.searchsorted(self._cumulative_array, instrument_draws, side="right")
        accounts = (account_draws * self.params.accounts).astype(np.int64)
        onboarded = accounts < self._onboarded_array[np.minimum(days, len(self._onboarded_array) - 1)]
        fraction = times - np.trunc(times)
        open_bits = np.zeros(len(times), dtype=np.int64)  # bit `venue.index`: open to the need's account
        for venue in self._venues:
            usable_here = venue.open_at(fraction)
            if venue.form == "tokenized":
                usable_here = usable_here & onboarded
            open_bits |= np.where(usable_here, np.int64(1 << venue.index), np.int64(0))
        usable = self._usable(interests, open_bits)
        new_day = days != np.concatenate(([day], days[:-1]))
        passed = np.flatnonzero(usable)
        cumulative = self._cumulative_array
        k = interests[passed]
        low = np.where(k > 0, cumulative[k - 1], 0.0)
        needs = map(_tuple_new, repeat(Need), zip(
            times[passed].tolist(),
            days[passed].tolist(),
            k.tolist(),
            ((instrument_draws[passed] - low) / (cumulative[k] - low)).tolist(),
            accounts[passed].tolist(),
            open_bits[passed].tolist(),
            np.where(side_draws[passed] < 0.5, BUY, SELL).tolist(),
            size_draws[passed].tolist(),
            (gain_draws[passed] * self.params.gain_mean_bps).tolist(),
            choice_draws[passed].tolist(),
        ))
        visits = np.flatnonzero(usable | new_day)
        return Screened(times, usable, visits.tolist(), days[visits].tolist(), usable[visits].tolist(), needs)

    def _usable(self, interests: np.ndarray, open_bits: np.ndarray) -> np.ndarray:
        """Needs with a venue open to them where their interest is listed: those worth a visit."""
        usable = np.zeros(len(interests), dtype=bool)
        for k, bits in enumerate(self._interest_bits):
            usable |= (interests == k) & ((open_bits & bits) != 0)
        return usable

    def handle_need(self, need: Need) -> bool:
        """Decide whether and where the need trades, then send the order; True if anything filled.

        A need for an exposure weighs every open listing of every wrapper, each at its own fair
        value, with its own quantity for the need's HK$ size and its tracking cost, and picks by
        the nested logit of `_choose`. (Inline, not a method per line: this runs once per need.)"""
        t, day, k, line_draw, local_account, open_bits, side, size_draw, gain, choice_draw = need
        params = self.params
        if self.adoption is not None and local_account >= self._onboarded_now:
            open_bits &= ~self._tokenized_bits  # not onboarded (yet): the screen let it through to be checked here
        interest = self.interests[k]
        lines = interest.wrappers
        if lines is None:
            line = interest.always or interest.pick(line_draw)
            if line is None:
                return False
            lines = (line,)
        if self._lead_days:  # informed: the side and the gain come from where the value is going
            value = lines[0].value
            now, later = value.at(t), value.at(t + self._lead_days)
            if now > 0 and later != now:
                move = (later / now - 1.0) * 10_000.0
                side = BUY if move > 0 else SELL
                if self._signal_draws is not None:  # a noisy signal: wrong 1 - accuracy of the time
                    if next(self._signal_draws) >= self._accuracy:
                        side = -side
                    gain += abs(move) * (2.0 * self._accuracy - 1.0)  # the expected edge, not the move
                else:
                    gain += abs(move)
        if day != self._terms_day:
            self._terms_on(day)
        terms = self._terms
        account = self.first_account + local_account
        size_hkd = self._size_medians[k] * math.exp(params.trade_size_sigma * size_draw)
        options = []
        for nest, line in enumerate(lines):
            open_listings = line.open_listings.get(open_bits)
            if open_listings is None:
                open_listings = [listing for listing, bit in line.venue_bits if open_bits & bit]
                line.open_listings[open_bits] = open_listings
            if not open_listings:
                continue
            fair = line.value.at(t)
            if fair <= 0:
                continue
            lot = line.min_units
            tracking = line.tracking_bps
            wanted = size_hkd / fair
            wanted = max(lot, int(wanted / lot) * lot)
            for listing in open_listings:
                rate, charges, waiting, network_fee_cents, prefund_bps_per_day, prefund_lead, later = terms[listing]
                quantity = self._feasible_quantity(listing, account, side, wanted, fair, gain, rate, lot, later)
                if quantity <= 0:
                    continue
                if prefund_bps_per_day and side == BUY:  # the cash waits idle from `lead` before the day until t
                    waiting += prefund_bps_per_day * (prefund_lead + t - day)
                # the premium over fair value at the touch (the dealer's quote for the size), bps; inline: per option
                price = listing.provider.touch(side, quantity, fair, day) if listing.active else None
                if price is None:
                    continue
                crossing = side * (price * listing.tick_cents / 100.0 / fair - 1.0) * 10_000.0
                if network_fee_cents and side == SELL:  # a flat fee per transfer, paid by the seller
                    charges += network_fee_cents / (quantity * fair * 100.0) * 10_000.0
                charges += waiting
                if tracking:  # a wrapper of an exposure: the cost of holding the exposure through it
                    charges += tracking
                if gain > charges + crossing:
                    options.append((gain - charges - crossing, charges, listing, quantity, fair, nest))
        if not options:
            return False
        net, charges, listing, quantity, fair, _ = (options[0] if len(options) == 1
                                                    else self._choose(options, choice_draw, interest.wrappers is not None))
        room = (gain - charges) / 10_000.0
        if side == BUY:
            limit = math.floor(listing.ticks(fair) * (1.0 + room))
        else:
            limit = max(1, math.ceil(listing.ticks(fair) * (1.0 - room)))
        filled = self.market.take(listing, account, side, quantity, limit, t, fair)
        if filled > 0 and self.adoption is not None:  # what the trade cost, as the need weighed it (charges and
            self.adoption.record(listing.venue.form, gain - net, filled * fair)  # the crossing at the touch)
        return filled > 0

    def _terms_on(self, day: int) -> None:
        """Per listing, the terms a need's decision reads on `day`: the investor's rate of duty and
        fees per side; that rate in bps with the group's brokerage added on an exchange (a cost the
        need weighs, paid outside the ledger, so not in the rate that sizes the cash an order needs); the
        group's cost of waiting for the listing's settlement cycle in bps; the network fee on a sale
        in cents; the cost of prefunded cash in bps per day held and how long before the day it
        must be there (both 0 when the trade settles later, not prefunded); and whether the trade
        settles later. Looked up once a day rather than once per need: the levers change by day only."""
        delay_cost = self.params.settlement_delay_cost_bps_per_day
        brokerage = self.params.brokerage_bps
        self._terms_day = day
        for listing in self._listings:
            rate = listing.costs.rate_for(self.payer, day)
            venue = listing.venue
            cycle = venue.cycle_on(day)
            lead = venue.prefunding_lead_on(day)
            prefund_bps_per_day = 0.0 if lead is None else prefunding_cost_bps_per_day(venue.spec.funding_rate_per_year)
            broker = brokerage if venue.kind == "exchange" else 0.0  # a platform's fee, a dealer's spread: their own
            self._terms[listing] = (rate, rate * 10_000.0 + broker, cycle * delay_cost,
                                    listing.costs.network_fee_cents,
                                    prefund_bps_per_day, lead or 0.0, cycle > 0)

    def _feasible_quantity(
        self, listing: Listing, account: int, side: int, wanted: int, fair: float, gain: float, rate: float, lot: int,
        later: bool = False,
    ) -> int:
        """No short selling (unless allowed) and no credit: cap the order by the units or cash the
        account may use (at the investor's `rate` of duty and fees), in whole lots. A trade that
        settles `later` may use what pending trades bring in; one that settles at the trade only
        what is held free."""
        ledger = self.ledger
        if side == SELL:
            if self.params.short_selling:
                return wanted // lot * lot
            units = ledger.sellable_units(listing.asset, account) if later else ledger.free_units(listing.asset, account)
            quantity = min(wanted, units)
        else:
            worst_unit_cents = fair * 100.0 * (1.0 + gain / 10_000.0) * (1.0 + rate) + 1.0
            cash = ledger.spendable_cash(account) if later else ledger.free_cash(account)
            quantity = min(wanted, int((cash - CASH_MARGIN_CENTS) // worst_unit_cents))
        return quantity // lot * lot

    def _choose(self, options: list[tuple], draw: float, nested: bool = False) -> tuple:
        """Logit choice on net gain among the channels worth using. For an exposure (`nested`), a
        nested logit: the wrapper is chosen at `wrapper_logit_scale_bps` on the best its listings
        offer (their logsum), then the listing within it at the channel scale."""
        if len(options) == 1:
            return options[0]
        scale = self.params.channel_logit_scale_bps
        best = max(option[0] for option in options)
        weights = [math.exp((option[0] - best) / scale) for option in options]
        if nested and self.params.wrapper_logit_scale_bps != scale:
            # P(listing) = P(wrapper) P(listing | wrapper): a wrapper's listings' weights sum to S, and
            # the wrapper's own weight is S ** (channel scale / wrapper scale)
            sums: dict[int, float] = {}
            for option, weight in zip(options, weights):
                sums[option[5]] = sums.get(option[5], 0.0) + weight
            power = scale / self.params.wrapper_logit_scale_bps
            weights = [weight * sums[option[5]] ** (power - 1.0) for option, weight in zip(options, weights)]
        threshold = draw * sum(weights)
        for option, weight in zip(options, weights):
            threshold -= weight
            if threshold <= 0:
                return option
        return options[-1]
