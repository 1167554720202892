"""The all-in cost of a trade in one listing, by payer class, under the policy in force on the day.

Charges and reliefs are data (`Charge`, `Relief`): a charge is a rate per side that a set of
payer classes pays to a collector (stamp duty to the government, a venue's fees, the SFC and
AFRC levies); a relief waives a share of named charges for a set of payer classes (a duty
exemption, a fee rebate). Each is a dated lever and may be scoped to venues, venue kinds,
instrument types and forms; the engine hands a listing's schedule only the ones that cover it.

One place holds the rates behind two questions: what a trade is expected to cost a payer before
a channel is chosen (`rate_for`: duty, fees and levies per side, to which an investor adds the
quoted crossing cost and the cost of waiting for settlement), and what each side is actually
charged, in cents, with each charge credited to its collector (`trade_charges`). Both use the
same per-day, per-class tables, so decisions and accounting cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from sim.market.levers import Dated
from sim.market.payers import EVERYONE, Payer

_tuple_new = tuple.__new__  # builds a named record without NamedTuple.__new__'s Python frame (hot path)


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a charge or relief applies; None in a field means everywhere."""

    venues: frozenset[str] | None = None
    venue_kinds: frozenset[str] | None = None
    instrument_types: frozenset[str] | None = None
    forms: frozenset[str] | None = None

    def covers(self, venue: str, venue_kind: str, instrument_type: str, form: str) -> bool:
        return all(allowed is None or value in allowed for allowed, value in (
            (self.venues, venue), (self.venue_kinds, venue_kind), (self.instrument_types, instrument_type),
            (self.forms, form),
        ))


EVERYWHERE = Scope()


@dataclass(frozen=True, slots=True)
class Charge:
    """A charge per side of a trade: `rate` of its value, paid by each payer class in `payers`."""

    name: str
    collector: str  # who is credited: a collector's name, resolved to its ledger account by the schedule
    rate: Dated[float]
    payers: frozenset[Payer] = EVERYONE
    duty: bool = False  # recorded as stamp duty rather than as a fee
    scope: Scope = EVERYWHERE


@dataclass(frozen=True, slots=True)
class Relief:
    """A `share` of the named charges waived for the payer classes in `payers` (1.0: exempt)."""

    charges: frozenset[str]
    payers: frozenset[Payer]
    share: Dated[float]
    scope: Scope = EVERYWHERE


class TradeCharges(NamedTuple):
    """Both sides' charges on one trade, in cents, and the credits to the collectors."""

    buyer_duty: int
    seller_duty: int
    buyer_fees: int
    seller_fees: int
    credits: list[tuple[int, int]]  # (collector, cents): each fee of both sides together, then network, then duty


class _Side(NamedTuple):
    """What one payer class pays per side on one day (the per-day cache's entry)."""

    duty_rate: float  # stamp duty after reliefs, fraction of value
    fees: tuple[tuple[int, float, float], ...]  # (collector, rate, share kept after reliefs) of each fee charged
    rate: float  # duty and fees together, fraction of value


class _FeeLine(NamedTuple):
    """One collector's fee on both sides of a trade whose sides owe fees to the same collectors in the
    same order (a `_fee_lines` entry): the buyer's rate and share kept, and the seller's, None when
    the seller's are the buyer's."""

    collector: int
    buyer_rate: float
    buyer_kept: float
    seller_rate: float | None
    seller_kept: float | None


def _fee_lines(buyer_fees: tuple, seller_fees: tuple) -> tuple[_FeeLine, ...] | bool:
    """Both sides' fees collector by collector, when each side owes each collector one fee and the
    collectors come in the same order (an investor against a market maker whose fees are rebated:
    the same fees at other shares); False otherwise.

    Then `trade_charges` credits each collector the buyer's cents plus the seller's, in the buyer's
    order, just as its by-collector sum does, without the dict; and it rounds a fee once for both
    sides where they pay it at the same rate and share (the same product, so the same cents).
    """
    collectors = [collector for collector, _, _ in buyer_fees]
    if collectors != [collector for collector, _, _ in seller_fees] or len(set(collectors)) != len(collectors):
        return False
    return tuple(
        _FeeLine(collector, rate, kept, *((None, None) if (rate, kept) == (seller_rate, seller_kept)
                                          else (seller_rate, seller_kept)))
        for (collector, rate, kept), (_, seller_rate, seller_kept) in zip(buyer_fees, seller_fees)
    )


class CostSchedule:
    """Charges in one listing, per payer class: per-side charges to their collectors, and the network fee."""

    def __init__(self, charges: list[Charge], reliefs: list[Relief], collectors: Mapping[str, int],
                 network_fee_cents: int = 0) -> None:
        """`charges` and `reliefs` are those that cover this listing, in the order fees are credited;
        `collectors` gives each collector's ledger account by name (the network fee's is `network`)."""
        self.charges = charges  # as declared: the per-day tables below are built from them
        self.accounts = [collectors[charge.collector] for charge in charges]
        self.network = collectors.get("network", -1)
        self.network_fee_cents = network_fee_cents
        # stamp duty is credited to its collector in one sum (the first duty charge's: duty has one collector)
        self.government = next((collectors[charge.collector] for charge in charges if charge.duty), None)
        # per payer class, each charge it pays with the reliefs that may waive part of it
        self._owed = [[(charge, account, [relief.share for relief in reliefs
                                          if charge.name in relief.charges and payer in relief.payers])
                       for charge, account in zip(charges, self.accounts) if payer in charge.payers]
                      for payer in Payer]
        self._day: int | None = None  # the day `_sides` and `_lines` are for: levers change by day only (their key)
        self._sides: list[_Side] = []
        self._lines: list[list] = []  # [buyer class][seller class]: their `_fee_lines`, None until a trade needs them

    def _sides_on(self, day: int) -> list[_Side]:
        """Each payer class's rates on `day`: looked up once per day rather than once per trade or
        need (they are on the hot path). Classes that pay alike share one `fees` tuple, which
        `trade_charges` uses to price both sides at once."""
        shared: dict[tuple, tuple] = {}
        sides = []
        for owed in self._owed:
            duty_rate, fees, by_share = 0.0, [], {}
            for charge, account, shares in owed:
                rate = charge.rate.value_on(day)
                kept = 1.0 - min(sum(share.value_on(day) for share in shares), 1.0) if shares else 1.0
                if charge.duty:
                    duty_rate += rate * kept
                elif rate > 0:
                    fees.append((account, rate, kept))
                    by_share[kept] = by_share.get(kept, 0.0) + rate
            fees = shared.setdefault(tuple(fees), tuple(fees))
            fee_rate = 0.0
            for kept, rate in by_share.items():  # a sum of rates scaled once: the same float as a single rate
                fee_rate += rate * kept
            sides.append(_Side(duty_rate, fees, duty_rate + fee_rate))
        return sides

    def _on(self, day: int) -> list[_Side]:
        if day != self._day:
            self._sides = self._sides_on(day)
            self._lines = [[None] * len(self._sides) for _ in self._sides]
            self._day = day
        return self._sides

    def rate_for(self, payer: Payer, day: int) -> float:
        """Duty plus fees per side, as a fraction of value, that `payer` pays on `day`."""
        sides = self._sides if day == self._day else self._on(day)  # the day checked inline: once per quote
        return sides[payer].rate

    def duty_rate_for(self, payer: Payer, day: int) -> float:
        """Stamp duty per side, as a fraction of value, that `payer` pays on `day`."""
        return self._on(day)[payer].duty_rate

    def trade_charges(self, value_cents: int, day: int, buyer: Payer, seller: Payer) -> TradeCharges:
        """Both sides of one trade at once: the buyer's and the seller's duty and fees, and the
        credits (each fee of both sides together, then the network's fee and the government's duty).

        One call per trade on the hot path. A fee's collector is credited once for both sides
        (settlement then makes half the credits); a side's fees are worked out once when both
        sides pay alike (the usual case: two investors), and each fee, or the duty, once when both
        sides pay it at the same rate (an investor against a market maker with a rebated fee).
        """
        sides = self._sides if day == self._day else self._on(day)
        buy, sell = sides[buyer], sides[seller]
        duty_rate = buy.duty_rate
        buyer_duty = round(value_cents * duty_rate) if duty_rate else 0
        if sell.duty_rate == duty_rate:  # the same product rounds to the same cents
            seller_duty = buyer_duty
        else:
            seller_duty = round(value_cents * sell.duty_rate) if sell.duty_rate else 0
        if buy.fees is sell.fees:  # a plain loop: a comprehension and a sum cost a third more here
            credits, buyer_total = [], 0
            for collector, rate, kept in buy.fees:
                cents = round(value_cents * rate * kept)
                buyer_total += cents
                credits.append((collector, 2 * cents))
            seller_total = buyer_total
        else:
            credits, buyer_total, seller_total = self._fees_apart(value_cents, buyer, seller, buy, sell)
        if self.network_fee_cents:
            credits.append((self.network, self.network_fee_cents))
            seller_total += self.network_fee_cents
        if buyer_duty or seller_duty:
            credits.append((self.government, buyer_duty + seller_duty))
        return _tuple_new(TradeCharges, (buyer_duty, seller_duty, buyer_total, seller_total, credits))

    def _fees_apart(self, value_cents: int, buyer: Payer, seller: Payer, buy: _Side, sell: _Side
                    ) -> tuple[list[tuple[int, int]], int, int]:
        """`trade_charges`' credits and each side's fees when the two sides pay differently: collector
        by collector when their fees line up (`_fee_lines`, looked up once a day per pair of payer
        classes), else summed by collector."""
        lines = self._lines[buyer][seller]
        if lines is None:
            lines = self._lines[buyer][seller] = _fee_lines(buy.fees, sell.fees)
        credits, buyer_total, seller_total = [], 0, 0
        if lines:
            for collector, rate, kept, seller_rate, seller_kept in lines:
                cents = round(value_cents * rate * kept)
                buyer_total += cents
                if seller_rate is None:
                    seller_total += cents
                    credits.append((collector, 2 * cents))
                else:
                    seller_cents = round(value_cents * seller_rate * seller_kept)
                    seller_total += seller_cents
                    credits.append((collector, cents + seller_cents))
            return credits, buyer_total, seller_total
        by_collector: dict[int, int] = {}
        for collector, rate, kept in buy.fees:
            cents = round(value_cents * rate * kept)
            buyer_total += cents
            by_collector[collector] = by_collector.get(collector, 0) + cents
        for collector, rate, kept in sell.fees:
            cents = round(value_cents * rate * kept)
            seller_total += cents
            by_collector[collector] = by_collector.get(collector, 0) + cents
        return list(by_collector.items()), buyer_total, seller_total
