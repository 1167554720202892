"""The primary market's arithmetic: issue dates, the book's clearing yield, allocation, grants.

Pure functions, so that each rule can be checked by hand. A programme's issues are announced
on fixed days or by a regular rule. During bookbuilding, orders arrive with the lowest yield
each accepts; at the close the issuer sets the lowest yield at which the book still covers the
issue (never above the yield it offered), every order at or below that yield is allocated
pro-rata (after any priority share), and the coupon is set at that yield so the bond prices at
par. The issuer does not price through the market yield: however large the book, the clearing
yield is at least the market's, so a large book is scaled back pro-rata rather than filled at the
few lowest yields. Because orders are scaled back, investors inflate them: an order is what its
investor wants times the scale-back it expects (the true cover ratio of the programme's previous
issue), bounded by what the account could pay for if it were filled in full; so the book's cover
ratio is larger than true demand. A tender (an HKMA-style institutional tender) instead fills
the lowest yields in full and scales back only the marginal one, so its bidders do not inflate;
it clears at one yield for all (the HKMA's tenders are multiple-price: each pays its own bid;
a uniform price keeps one coupon and one price per issue). Grants follow the Digital Bond Grant Scheme's shape: for market issuers only (the government's
own issues would be paid from its own purse), a share of the eligible costs (the named fee
categories: arranger, legal, audit, rating, listing or CMU lodging, DLT platform; not
underwriting and distribution), a full grant with a higher cap for large, widely placed issues
on an unaffiliated platform, a half grant otherwise, at most a few grants per issuer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.market.specs import GrantSpec, ProgrammeSpec

FACE_HKD_PER_UNIT = 100.0


def announcement_days(programme: ProgrammeSpec, horizon_days: int) -> list[int]:
    """Business days on which the programme announces an issue within the horizon."""
    if programme.issue_days:
        return sorted(day for day in set(programme.issue_days) if day < horizon_days)
    days = range(programme.first_day, horizon_days, programme.every_days)
    return list(days)[: programme.count] if programme.count else list(days)


@dataclass(frozen=True)
class Order:
    """A subscription order: who, how many units, and the lowest yield accepted."""

    group: int
    account: int
    units: int
    reservation_yield: float
    wanted: int = 0  # units its investor wants before inflating the order for the expected scale-back


def inflated_units(wanted_units: float, expected_cover: float, affordable_units: int, lot: int) -> int:
    """Units ordered by an investor who wants `wanted_units` and expects the book to be covered
    `expected_cover` times: the want scaled by the scale-back expected under pro-rata allocation
    (never scaled down), bounded by the units the account could pay for if filled in full, in whole lots."""
    return min(int(wanted_units * max(1.0, expected_cover)), affordable_units) // lot * lot


def clearing_yield(orders: list[Order], size_units: int, offer_yield: float, floor_yield: float = -math.inf) -> float:
    """The lowest yield, at most the offer and at least `floor_yield` (the market's), at which orders
    accepting it cover the issue.

    If even the offer does not cover it, the issue clears at the offer, undersubscribed.
    """
    covered = 0
    for order in sorted(orders, key=lambda o: o.reservation_yield):
        if order.reservation_yield > offer_yield:
            break
        covered += order.units
        if covered >= size_units:
            return min(max(order.reservation_yield, floor_yield), offer_yield)
    return offer_yield


def pro_rata(requests: list[int], available: int, lot: int) -> list[int]:
    """Allocate `available` units over `requests` in proportion, in whole lots, summing exactly.

    Each request gets at most what it asked for; lots left over by rounding go to the largest
    remainders (ties to the earlier request), so the result is deterministic.
    """
    wanted = [request // lot for request in requests]
    lots = min(available // lot, sum(wanted))
    total = sum(wanted)
    if total == 0 or lots == 0:
        return [0] * len(requests)
    shares = [w * lots / total for w in wanted]
    given = [int(share) for share in shares]
    leftover = lots - sum(given)
    order = sorted(range(len(requests)), key=lambda i: (-(shares[i] - given[i]), i))
    for i in order[:leftover]:
        given[i] += 1
    return [g * lot for g in given]


def by_yield(orders: list[Order], requests: list[int], available: int, lot: int) -> list[int]:
    """A tender's allocation of `available` units over `requests`: the orders at the lowest
    reservation yields (the highest prices) are filled in full first; only the orders at the
    marginal yield are scaled back, pro-rata among themselves."""
    given = [0] * len(requests)
    left = available // lot * lot
    ranked = sorted(range(len(requests)), key=lambda i: (orders[i].reservation_yield, i))
    start = 0
    while start < len(ranked) and left > 0:
        end = start
        while end < len(ranked) and orders[ranked[end]].reservation_yield == orders[ranked[start]].reservation_yield:
            end += 1
        tier = ranked[start:end]
        for i, units in zip(tier, pro_rata([requests[i] for i in tier], left, lot)):
            given[i] = units
            left -= units
        start = end
    return given


def allocate(
    orders: list[Order], size_units: int, lot: int, priority_groups: set[int], priority_share: float,
    tender: bool = False,
) -> list[int]:
    """Units allocated to each order: the priority groups' orders first up to their share, then all
    of them; pro-rata (a syndicated book) or lowest yields first (`tender`)."""
    def share_out(indices: list[int], requests: list[int], available: int) -> list[int]:
        if tender:
            return by_yield([orders[i] for i in indices], requests, available, lot)
        return pro_rata(requests, available, lot)

    priority = [i for i, order in enumerate(orders) if order.group in priority_groups]
    first = share_out(priority, [orders[i].units for i in priority], int(size_units * priority_share))
    allocation = [0] * len(orders)
    for i, units in zip(priority, first):
        allocation[i] = units
    everyone = list(range(len(orders)))
    rest = share_out(everyone, [order.units - allocation[i] for i, order in enumerate(orders)], size_units - sum(first))
    return [a + b for a, b in zip(allocation, rest)]


def grant(
    scheme: GrantSpec, day: int, eligible_cost_hkd: float, size_hkd: float, distinct_investors: int,
    grants_so_far: int, affiliated_platform: bool, issuer_kind: str,
) -> float:
    """The grant for one tokenized issue: min(share of eligible cost, cap), or 0 when ineligible."""
    if (not scheme.open.value_on(day) or issuer_kind not in scheme.eligible_issuers or affiliated_platform
            or grants_so_far >= scheme.max_grants_per_issuer):
        return 0.0
    full = size_hkd >= scheme.full_grant_min_size_hkd and distinct_investors >= scheme.min_unaffiliated_investors
    cap = scheme.full_grant_cap_hkd if full else scheme.half_grant_cap_hkd
    return min(scheme.share_of_eligible_cost * eligible_cost_hkd, cap)
