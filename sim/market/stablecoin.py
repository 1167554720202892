"""A licensed stablecoin under stress: its issuer's reserves and redemption queue, its holders' run,
and the price its secondary market discovers, hour by hour over the calendar.

The issuer. Its reserves are classes of assets (cash at banks, Treasury bills, ...) that turn
into cash within so many business days. It pays redemption requests in the order they came, at
par less its fee, during its ramp hours on business days (its banks' hours) outside any pause;
when the queue outgrows the cash it holds it sells its next reserve class, whose proceeds arrive
that many business days later. A paid request burns its coins. An impairment freezes a share of
one reserve class (a bank's failure) until it ends, when the share recovered comes back.

What a coin is worth. A holder who waits is paid after the queue ahead of it: first come, first
served, so once reserves fall short the loss falls on those who wait. Its value per coin is what
the reserves are expected to pay after the queue, over the coins not yet in the queue, at most
par: `(reserves - queue) / (supply - queue)`, with frozen reserves counted at their expected
recovery (at the recovery itself once a guarantee is known). A run therefore feeds itself: each
request paid at par leaves less for the rest.

The holders. Each group's holders have thresholds of expected loss spread evenly from 0 to its
`threshold_bps_max`; those whose threshold the expected loss passes decide to leave, for good,
and leave at `leave_share_per_hour` of what they still hold each hour, part by selling on the
secondary market (immediacy), the rest by joining the queue (requests are taken at any hour).

The secondary market. Arbitrageurs buy coins below their value and redeem them. How much they
will hold grows with the discount: `arbitrage_depth_share` of the coins in issue (at cost) for
each percentage point the price stands below the value. Each hour the
price clears the holders' sales against that demand, given what arbitrageurs already hold; their
coins leave their books only when the issuer pays their requests, so while redemptions are closed
(a weekend, a pause) their holdings pile up and each hour's sales push the price further below the
value. The coin market's half-spread is its normal half-spread plus half the gap between value
and price.

Everything is deterministic: a path depends on the asset's inputs and the calendar only.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from sim.market.money_clock import MoneyClock
from sim.market.money_path import HolderOutcome, MoneyBooks, MoneyPath
from sim.market.money_specs import StablecoinSpec

ARBITRAGE = "arbitrageurs"  # the queue's owner name for arbitrageurs' requests
CENT = 0.01  # HKD: a request's remainder below this is rounding, not money owed
PASSIVE = "passive"  # the holders who never run (coins not given to a holder group)


def _clearing_price(sold: float, held_cost: float, depth_hkd: float, value: float) -> float:
    """The price at which arbitrageurs, who hold `held_cost` in coins already, buy the hour's `sold` coins
    of `value` each (with nothing sold: their bid).

    At a discount of x percentage points below the value they want to hold coins costing
    `depth_hkd` times x. Buying the `sold` coins at a price p brings what they hold to
    held_cost + p sold, at a discount of 100 (value - p) / value points, so
    p = value (100 depth - held_cost) / (100 depth + value sold): 0 once they hold 100 times the depth."""
    room = 100.0 * depth_hkd
    return max(0.0, value * (room - held_cost) / (room + value * sold))


class _Issuer:
    """The issuer's reserves by class, the frozen shares, the queue and the sales of reserves under way."""

    def __init__(self, spec: StablecoinSpec, clock: MoneyClock) -> None:
        self.spec = spec
        self.clock = clock
        total = spec.in_issue_hkd * spec.reserve_ratio
        self.classes = list(spec.reserves)  # most liquid first
        self.amount = {name: total * reserve.share for name, reserve in spec.reserves.items()}
        self.cash = sum(self.amount[n] for n, r in spec.reserves.items() if r.liquid_within_days == 0)
        for name, reserve in spec.reserves.items():
            if reserve.liquid_within_days == 0:
                self.amount[name] = 0.0  # held as `cash`
        self.arriving: list[tuple[int, float]] = []  # (hour, cash) from reserve sales
        self.frozen = [0.0] * len(spec.impairments)
        self.queue: deque[list] = deque()  # [owner, face value still to pay, hour due], first come first served
        self.queued = 0.0
        self.lost = 0.0

    def request(self, owner: str, face: float, hour: int) -> None:
        """A redemption request, due within the deadline's business days of its hour."""
        self.queue.append([owner, face, self.clock.later_by_business_days(hour, self.spec.redemption_deadline_days)])
        self.queued += face

    def overdue(self, hour: int) -> float:
        """Face value still queued at `hour` whose deadline has passed (requests of at least a cent)."""
        return sum(entry[1] for entry in self.queue if entry[2] <= hour and entry[1] >= CENT)

    def at_face(self) -> float:
        """Every reserve the issuer has, frozen ones at face."""
        return self.cash + sum(self.amount.values()) + sum(c for _, c in self.arriving) + sum(self.frozen)

    def reserves(self, expected: list[float]) -> float:
        """Reserves the holders can expect, frozen ones at `expected` recovery."""
        return (self.cash + sum(self.amount.values()) + sum(c for _, c in self.arriving)
                + sum(f * e for f, e in zip(self.frozen, expected)))

    def impair(self, hour: int, recovered: list[bool]) -> None:
        """Freeze and release the impaired reserves whose moments fall at `hour`."""
        for k, impairment in enumerate(self.spec.impairments):
            if hour == math.floor(self.clock.hour_of(impairment.start)):
                source = impairment.reserve
                held = self.cash if self.spec.reserves[source].liquid_within_days == 0 else self.amount[source]
                frozen = held * impairment.share_frozen
                if self.spec.reserves[source].liquid_within_days == 0:
                    self.cash -= frozen
                else:
                    self.amount[source] -= frozen
                self.frozen[k] += frozen
            if hour == math.floor(self.clock.hour_of(impairment.end)) and not recovered[k]:
                recovered[k] = True
                back = self.frozen[k] * impairment.recovery
                self.lost += self.frozen[k] - back
                self.cash += back
                self.frozen[k] = 0.0

    def pay(self, hour: int, fee: float) -> list[tuple[str, float]]:
        """Pay the queue from cash in order, selling reserves for what cash does not cover; return (owner, face) paid."""
        while self.arriving and self.arriving[0][0] <= hour:
            self.cash += self.arriving.pop(0)[1]
        paid = []
        while self.queue and self.cash > 1e-9:
            entry = self.queue[0]
            face = min(entry[1], self.cash / (1.0 - fee))
            self.cash -= face * (1.0 - fee)
            entry[1] -= face
            self.queued -= face
            paid.append((entry[0], face))
            if entry[1] <= 1e-9:
                self.queue.popleft()
            else:
                break
        short = self.queued * (1.0 - fee) - self.cash - sum(c for _, c in self.arriving)
        for name in self.classes:  # sell reserves, most liquid first, for what the queue still needs
            if short <= 0.0:
                break
            sale = min(self.amount[name], short)
            if sale > 0.0:
                self.amount[name] -= sale
                days = self.spec.reserves[name].liquid_within_days
                self.arriving.append((self.clock.later_by_business_days(hour, days), sale))
                self.arriving.sort()
                short -= sale
        return paid


def _redeeming(spec: StablecoinSpec, clock: MoneyClock, hour: int) -> bool:
    """Does the issuer pay redemptions in this hour: a business day, within its ramp hours, outside a pause?"""
    day = clock.day_of_hour[hour]
    if day < 0:
        return False
    of_day = hour - clock.day_starts[day]
    open_hour, close_hour = spec.ramp_hours
    if not open_hour <= of_day < close_hour:
        return False
    return not any(clock.hour_of(p.start) <= hour < clock.hour_of(p.end) for p in spec.pauses)


def run_stablecoin(spec: StablecoinSpec, clock: MoneyClock) -> MoneyPath:
    """The coin's path over the clock's hours."""
    hours = clock.hours
    issuer = _Issuer(spec, clock)
    fee = spec.redemption_fee_bps / 10_000.0
    supply = spec.in_issue_hkd
    groups = list(spec.holders)
    start_held = {g: supply * spec.holders[g].share for g in groups}
    held = dict(start_held)
    decided = dict.fromkeys(groups, 0.0)  # share of the start holding decided to leave
    left = dict.fromkeys(groups, 0.0)  # face value already sold or queued
    sold = dict.fromkeys(groups, 0.0)
    redeemed = dict.fromkeys(groups, 0.0)
    loss = dict.fromkeys(groups, 0.0)
    depth = spec.arbitrage_depth_share * supply
    held_cost = 0.0  # what arbitrageurs paid for the coins they hold (in the queue or not yet)
    arbitrage_spent, arbitrage_paid, arbitrage_coins = 0.0, 0.0, 0.0
    recovered = [False] * len(spec.impairments)
    reserves_start, burned, paid_cash = issuer.at_face(), 0.0, 0.0
    columns = {name: np.zeros(hours) for name in
               ("price", "value", "half_spread", "supply", "queue", "overdue", "redeemed", "sold", "liquid", "frozen")}
    half_spread = spec.half_spread_bps / 10_000.0
    for hour in range(hours):
        issuer.impair(hour, recovered)
        expected = [
            imp.recovery if recovered[k] or (imp.guarantee is not None and hour >= clock.hour_of(imp.guarantee))
            else imp.expected_recovery
            for k, imp in enumerate(spec.impairments)
        ]
        paid_face = 0.0
        if _redeeming(spec, clock, hour):
            for owner, face in issuer.pay(hour, fee):
                paid_face += face
                burned += face
                paid_cash += face * (1.0 - fee)
                supply -= face
                if owner == ARBITRAGE:
                    arbitrage_paid += face * (1.0 - fee)
                    held_cost -= held_cost * face / arbitrage_coins
                    arbitrage_coins -= face
                else:
                    redeemed[owner] += face
                    loss[owner] += face * fee
        waiting = supply - issuer.queued
        reserves = issuer.reserves(expected)
        value = 1.0 if waiting <= 1e-9 else max(0.0, min(1.0, (reserves - issuer.queued) / waiting))
        selling = 0.0
        offers = {}
        for g in groups:
            holder = spec.holders[g]
            threshold = holder.threshold_bps_max / 10_000.0
            target = 1.0 if threshold <= 0.0 else min(1.0, (1.0 - value) / threshold)
            decided[g] = max(decided[g], target)
            leaving = max(0.0, min(decided[g] * start_held[g] - left[g], held[g])) * holder.leave_share_per_hour
            if leaving <= 0.0:
                continue
            left[g] += leaving
            held[g] -= leaving
            offers[g] = leaving * holder.sell_share
            selling += offers[g]
            queued = leaving - offers[g]
            if queued > 0.0:
                issuer.request(g, queued, hour)
        price = _clearing_price(selling, held_cost, depth, value)
        bought = selling if price > 0.0 else 0.0
        if bought > 0.0:
            held_cost += price * bought
            arbitrage_spent += price * bought
            arbitrage_coins += bought
            issuer.request(ARBITRAGE, bought, hour)
            for g, offer in offers.items():
                sold[g] += offer
                loss[g] += offer * (1.0 - price)
        else:  # nobody bought: the offers stay with their holders
            for g, offer in offers.items():
                held[g] += offer
                left[g] -= offer
        columns["price"][hour] = price
        columns["value"][hour] = value
        columns["half_spread"][hour] = half_spread + max(0.0, value - price) / max(value + price, 1e-12)
        columns["supply"][hour] = supply
        columns["queue"][hour] = issuer.queued
        columns["overdue"][hour] = issuer.overdue(hour + 1) if issuer.queue else 0.0
        columns["redeemed"][hour] = paid_face
        columns["sold"][hour] = selling if bought > 0.0 else 0.0
        columns["liquid"][hour] = issuer.cash
        columns["frozen"][hour] = sum(issuer.frozen)
    end_value = float(columns["value"][-1])
    outcomes = []
    for g in groups:
        in_queue = sum(entry[1] for entry in issuer.queue if entry[0] == g)
        still = held[g] + in_queue
        outcomes.append(HolderOutcome(g, start_held[g], sold[g], redeemed[g], 0.0,
                                      loss[g] + still * (1.0 - end_value)))
    profit = arbitrage_paid + arbitrage_coins * end_value - arbitrage_spent
    coins_end = {g: held[g] + sum(entry[1] for entry in issuer.queue if entry[0] == g) for g in groups}
    coins_end[ARBITRAGE] = arbitrage_coins
    coins_end[PASSIVE] = spec.in_issue_hkd * (1.0 - sum(spec.holders[g].share for g in groups))
    books = MoneyBooks(spec.in_issue_hkd, reserves_start, burned, paid_cash, issuer.at_face(), coins_end)
    return MoneyPath(spec.name, spec.kind, clock, columns["price"], columns["value"], columns["half_spread"],
                     np.ones(hours, dtype=bool), columns["supply"], columns["queue"], columns["overdue"], columns["redeemed"],
                     columns["sold"], columns["liquid"], columns["frozen"], tuple(outcomes), profit, issuer.lost, books)
