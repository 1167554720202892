"""What a settlement asset did, hour by hour, and how the trading clock reads it.

A path is worked out before the trades (it depends on its own inputs and the calendar only, not
on the securities traded in it: the coupling is one way; see `docs/settlement-assets.md`). The
venues settling in the asset read three things from it at their own times: whether the money can
move at all (a failed bank's deposit tokens cannot), what converting between it and Hong Kong
dollars costs a side of a trade (the coin market's half-spread), and the extra margin a market
maker quoting in the coin adds for the same conversion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.market.money_clock import HOURS_PER_DAY, MoneyClock


@dataclass(frozen=True)
class HolderOutcome:
    """What one holder group of a settlement asset sold, redeemed and lost over the path, HKD."""

    group: str
    held_hkd: float  # at the start
    sold_hkd: float  # face value sold on the secondary market
    redeemed_hkd: float  # face value paid out by the issuer (before the fee)
    frozen_hkd_days: float  # balances frozen, times the calendar days they stayed frozen
    loss_hkd: float  # sales below par, fees, what is still lost at the end, and a frozen balance's lost use


@dataclass(frozen=True)
class MoneyBooks:
    """A stablecoin's balances at the start and the end of its path, from which it must add up: coins in
    issue less those burned are those held (by each holder group, queued or not, by arbitrageurs and by
    those who never run); reserves less the cash paid out and what was lost are those left."""

    in_issue_start_hkd: float
    reserves_start_hkd: float
    burned_hkd: float  # face value redeemed
    paid_hkd: float  # cash paid for it (face less fees)
    reserves_end_hkd: float  # cash, reserves, sales under way and frozen reserves, at face
    coins_end_hkd: dict[str, float]  # by owner, queued or not


@dataclass(frozen=True)
class MoneyPath:
    """A settlement asset's hours: price, value, half-spread and usability, and the issuer's flows."""

    name: str
    kind: str
    clock: MoneyClock
    price: np.ndarray  # HKD per unit on its secondary market (par 1; a deposit token has no market: 1)
    value: np.ndarray  # what a unit is expected to be paid by its issuer, for a holder not yet in the queue
    half_spread: np.ndarray  # of the coin market, a fraction of its mid: the cost of one conversion
    usable: np.ndarray  # can the money move this hour (False while a failed bank's tokens are frozen)
    supply_hkd: np.ndarray  # units in issue at the hour's end
    queue_hkd: np.ndarray  # redemption requests waiting at the hour's end
    overdue_hkd: np.ndarray  # of them, those past the redemption deadline (`redemption_deadline_days`)
    redeemed_hkd: np.ndarray  # paid out by the issuer in the hour (face value)
    sold_hkd: np.ndarray  # sold on the secondary market in the hour (face value)
    liquid_hkd: np.ndarray  # reserves the issuer could pay out at once at the hour's end
    frozen_hkd: np.ndarray  # reserves (or deposits) frozen at the hour's end
    holders: tuple[HolderOutcome, ...]
    arbitrage_profit_hkd: float = 0.0  # arbitrageurs' gain from coins bought below par (marked at the end)
    reserves_lost_hkd: float = 0.0  # frozen reserves that did not come back
    books: MoneyBooks | None = None  # the issuer's and the holders' balances, for the end-of-run checks

    def frozen_at(self, t: float) -> bool:
        """Is the money frozen at business time `t`?"""
        return not self.usable[self.clock.hour_of_trading_time(t)]

    @property
    def freezes(self) -> bool:
        """Is the money ever frozen on the path?"""
        return not bool(self.usable.all())

    @property
    def conversion_cost(self) -> np.ndarray:
        """What converting between Hong Kong dollars and the money costs one side, a fraction, hour by hour:
        the coin market's half-spread beyond its normal one. At par the issuer's ramps mint and burn at par
        (its fee, default 0, falls on holders who redeem), so in normal times conversion costs nothing more
        than settling in tokenized cash does."""
        return np.maximum(0.0, self.value - self.price) / np.maximum(self.value + self.price, 1e-12)

    def daily_conversion_cost(self) -> tuple[float, ...]:
        """`conversion_cost` averaged over each business day's 24 hours: a conversion's cost that day."""
        starts = self.clock.day_starts[: self.clock.business_days]
        cost = self.conversion_cost
        return tuple(float(cost[s:s + HOURS_PER_DAY].mean()) for s in starts)

    def at_steps(self, values: np.ndarray, steps_per_day: int) -> np.ndarray:
        """`values` (hourly) read at each value step of the trading clock, the last one included."""
        n_steps = self.clock.business_days * steps_per_day + 1
        step = np.arange(n_steps)
        day = np.minimum(step // steps_per_day, self.clock.business_days - 1)
        fraction = (step - day * steps_per_day) / steps_per_day
        hours = np.asarray(self.clock.day_starts)[day] + (fraction * HOURS_PER_DAY).astype(np.int64)
        return values[np.minimum(hours, self.clock.hours - 1)]


@dataclass(frozen=True, slots=True)
class DailyRate:
    """A rate that may change every business day (a conversion's cost): `value_on(day)` as `Dated` has it."""

    values: tuple[float, ...]

    def value_on(self, day: int) -> float:
        values = self.values
        return values[day] if day < len(values) else values[-1]

    def in_force(self, day: int) -> bool:
        return True


def at_par(name: str, kind: str, clock: MoneyClock, usable: np.ndarray | None = None,
           holders: tuple[HolderOutcome, ...] = (), frozen_hkd: np.ndarray | None = None) -> MoneyPath:
    """A path at par throughout (central-bank money; a deposit token, frozen where `usable` is False)."""
    hours = clock.hours
    ones, zeros = np.ones(hours), np.zeros(hours)
    return MoneyPath(name, kind, clock, ones, ones.copy(), zeros, np.ones(hours, dtype=bool) if usable is None else usable,
                     zeros, zeros, zeros, zeros, zeros, zeros, zeros if frozen_hkd is None else frozen_hkd, holders)
