"""Issuers in the run: bookbuilding, allocation, settlement and minting, payments, redemption.

Each planned issue is one SimPy process that tells its life as a story: announce, wait for the
book to close, take the orders (each inflated for the scale-back its investor expects from the
programme's previous book), price and allocate, lock the investors' cash, wait exactly the
primary settlement cycle (T+0 with tokenized cash), then pay the issuer, book its costs and any
grant, mint the units to the allocated accounts and open the issue's secondary listing; then
pay each payment (a coupon, a revenue distribution) to the holders of record (after the form's
payment lag) and, at maturity, pay the last one and cancel every unit. What the units are worth
and what they pay comes from the issue's terms (`securities`), so the story is the same for any
issued security.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

import numpy as np

from sim.market.calendar import BusinessCalendar
from sim.market.issuance import Order, allocate, clearing_yield, grant, inflated_units
from sim.market.ledger import Ledger
from sim.market.levers import Dated
from sim.market.securities import BondTerms, offered_value_hkd
from sim.market.specs import FormCostsSpec, GrantSpec, InvestorSpec, ProgrammeSpec
from sim.market.venue import Listing
from sim.recorder import Recorder

BOOK_CLOSE_HOUR = 16.0


@dataclass
class PlannedIssue:
    """One issue of a programme, wired to its ledger asset and secondary listing."""

    number: int
    name: str
    programme_name: str
    programme: ProgrammeSpec
    issuer_account: int
    affiliated_venues: list[str]
    announce_day: int
    form: str
    listing: Listing
    terms: BondTerms  # or any terms with the same interface (sim.market.securities)
    price_cents: int = 0  # price per unit at which the issue cleared (set at the close of the book)

    @property
    def provider_account(self) -> int:
        return self.listing.provider.account


@dataclass(frozen=True)
class Subscriber:
    """What the desk needs to know of an investor group to take its orders."""

    index: int
    name: str
    first_account: int
    accounts: int
    params: InvestorSpec  # its subscription terms and access
    onboarded: list[int]  # accounts onboarded to tokenized channels, by day


class IssuanceDesk:
    """Runs every planned issue; one process per issue."""

    def __init__(
        self,
        issues: list[PlannedIssue],
        subscribers: list[Subscriber],
        yields: dict[str, np.ndarray],
        grid_years: np.ndarray,
        steps_per_day: int,
        ledger: Ledger,
        recorder: Recorder,
        calendar: BusinessCalendar,
        tokenized_cash: Dated[bool],
        grants: GrantSpec,
        services: int,
        grant_scheme: int,
        rngs: dict[str, np.random.Generator],
    ) -> None:
        self.issues = issues
        self.subscribers = subscribers
        self.yields = yields
        self.grid_years = grid_years
        self.steps_per_day = steps_per_day
        self.ledger = ledger
        self.recorder = recorder
        self.calendar = calendar
        self.tokenized_cash = tokenized_cash
        self.grants = grants
        self.services = services
        self.grant_scheme = grant_scheme
        self.rngs = rngs
        self.grants_by_issuer: dict[int, int] = {}
        # programme -> true cover ratio (wanted / offered) of its last closed issue: the scale-back investors expect
        self.expected_cover: dict[str, float] = {}

    def start(self, env) -> None:
        for issue in self.issues:
            env.process(self.life(env, issue))

    def life(self, env, issue: PlannedIssue):
        """Announce, build the book, allocate, settle and mint; then coupons and redemption."""
        programme = issue.programme
        close = issue.announce_day + programme.bookbuilding_days + BOOK_CLOSE_HOUR / 24.0
        yield env.timeout(close - env.now)
        market_yield = self._market_yield(issue.programme_name, close)
        offer = market_yield + programme.new_issue_premium_bps / 10_000.0
        costs = programme.costs[issue.form]
        cycle = 0 if issue.form == "tokenized" and self.tokenized_cash.value_on(int(close)) else costs.settlement_days
        settle_day = int(close) + cycle
        start = self.calendar.date_of(settle_day)
        lot = costs.min_denomination_units
        size = issue.terms.units_offered(lot)
        maker_share = int(size * programme.market_maker_share) // lot * lot
        tender = costs.allocation == "tender"  # lowest yields filled in full: no scale-back to expect, no inflation
        inflation = 1.0 if tender else self.expected_cover.get(issue.programme_name, 1.0)
        offered_hkd = size * issue.terms.unit_price_hkd(market_yield, start)
        orders = self._take_orders(issue, int(close), market_yield, costs, start, offered_hkd, inflation)
        wanted = sum(o.wanted for o in orders)
        self.expected_cover[issue.programme_name] = wanted / size if size else 1.0
        coupon = clearing_yield(orders, size - maker_share, offer, floor_yield=market_yield)
        issue.price_cents = price = round(issue.terms.unit_price_hkd(coupon, start) * 100)
        # the market maker takes its share only as far as its free cash pays for it; the rest is not issued
        maker_units = min(maker_share, self.ledger.free_cash(issue.provider_account) // price // lot * lot)
        accepted = [order for order in orders if order.reservation_yield <= coupon]
        retail = {s.index for s in self.subscribers if s.params.retail}
        units = allocate(accepted, size - maker_share, lot, retail, programme.retail_priority_share, tender)
        holdings = [(issue.provider_account, -1, maker_units)] + [
            (order.account, order.group, u) for order, u in zip(accepted, units) if u > 0
        ]
        for account, _, u in holdings:
            self.ledger.lock_cash(account, u * price)
        yield env.timeout(cycle)  # settled the same hour `cycle` business days later: cash locked that long, no longer
        self._settle(issue, holdings, coupon, start, env.now)
        proceeds = sum(u for _, _, u in holdings)
        fixed, proportional, grant_cents = self._pay_costs(issue, costs, proceeds, len(holdings) - 1, settle_day)
        locked_days = env.now - close
        self.recorder.issues.add(
            issue.number, issue.announce_day, int(close), settle_day, size, proceeds, len(orders),
            sum(o.units for o in orders), wanted, max(1.0, inflation), market_yield, coupon,
            len({a for a, _, u in holdings if u > 0}), fixed, proportional, grant_cents,
            sum(u for _, _, u in holdings[1:]) * price / 100.0 * locked_days,
        )
        for group, units_of_group in _by_group(holdings).items():
            self.recorder.allocations.add(issue.number, group, units_of_group)
        yield from self._service(env, issue, coupon, start, costs)

    def _market_yield(self, programme_name: str, t: float) -> float:
        path = self.yields[programme_name]
        return float(path[min(int(t * self.steps_per_day), len(path) - 1)])

    def _take_orders(self, issue: PlannedIssue, day: int, market_yield: float, costs: FormCostsSpec,
                     start: datetime.date, offered_hkd: float, expected_cover: float) -> list[Order]:
        """Orders from every group the issue reaches: tokenized issues reach onboarded accounts only.

        Each order wants a lognormal amount (a share of the value offered, or HKD); a group that
        inflates its orders scales that by the cover it expects, the book's true cover at the
        programme's previous issue. Both are bounded by the account's cash at the price at the
        order's own lowest yield (the issue clears at that yield or above, so never at a higher
        price), counting the account's earlier orders: no account orders more than it could pay for.
        """
        rng = self.rngs[issue.programme_name]
        orders = []
        ordered: dict[int, int] = {}  # cents already ordered per account: one account may send several orders
        for subscriber in self.subscribers:
            params = subscriber.params
            reach = subscriber.onboarded[min(day, len(subscriber.onboarded) - 1)] if issue.form == "tokenized" else (
                subscriber.accounts if params.conventional_access else 0
            )
            wish = params.subscription
            count = int(rng.poisson(wish.orders_per_issue)) if reach and wish.orders_per_issue else 0
            accounts = rng.integers(0, max(reach, 1), count)
            share = wish.order_size_median_share_of_issue
            median = share * offered_hkd if share is not None else wish.order_size_median_hkd
            sizes = median * np.exp(wish.order_size_sigma * rng.standard_normal(count))
            inflation = expected_cover if wish.inflate_orders else 1.0
            spreads = wish.reservation_spread_bps_mean + wish.reservation_spread_bps_sd * rng.standard_normal(count)
            for local, size_hkd, spread in zip(accounts.tolist(), sizes.tolist(), spreads.tolist()):
                account = subscriber.first_account + local
                lot = costs.min_denomination_units
                reservation = market_yield + spread / 10_000.0
                price = round(issue.terms.unit_price_hkd(reservation, start) * 100)
                affordable = max(0, (self.ledger.free_cash(account) - ordered.get(account, 0) - 100) // price)
                wants = size_hkd / (price / 100)
                units = inflated_units(wants, inflation, affordable, lot)
                if units > 0:
                    ordered[account] = ordered.get(account, 0) + units * price
                    orders.append(Order(subscriber.index, account, units, reservation, min(int(wants), affordable) // lot * lot))
        return orders

    def _settle(self, issue: PlannedIssue, holdings, coupon: float, start: datetime.date, now: float) -> None:
        """Delivery versus payment of the new issue: cash to the issuer, units minted to holders."""
        cents_per_unit = issue.price_cents
        for account, _, units in holdings:
            self.ledger.pay_locked(account, issue.issuer_account, units * cents_per_unit)
            self.ledger.create_units(issue.listing.asset, account, units)
        issue.listing.value.reprice(self._price_path(issue, coupon, now, start))
        issue.listing.provider.target_units = holdings[0][2]
        issue.listing.active = True

    def _price_path(self, issue: PlannedIssue, coupon: float, settled_at: float, start: datetime.date) -> np.ndarray:
        """Value per unit along the run, from the terms, at the market yield and remaining life."""
        yields = self.yields[issue.programme_name]
        settled_years = self.grid_years[min(int(settled_at * self.steps_per_day), len(self.grid_years) - 1)]
        remaining = issue.programme.tenor_years - np.maximum(self.grid_years - settled_years, 0.0)
        return issue.terms.value_path(yields, remaining, coupon, start)

    def _pay_costs(self, issue: PlannedIssue, costs: FormCostsSpec, units: int, investors: int, day: int):
        size_hkd = units * issue.price_cents / 100.0
        fixed = round(costs.fixed_cost_hkd * 100)
        proportional = round(size_hkd * costs.proportional_cost_bps / 100.0)  # bps of size, in cents
        self.ledger.pay(issue.issuer_account, self.services, fixed + proportional)
        grant_cents = 0
        if issue.form == "tokenized":
            so_far = self.grants_by_issuer.get(issue.issuer_account, 0)
            affiliated = issue.listing.venue.name in issue.affiliated_venues
            # eligible: the fixed fees (named categories), not underwriting and distribution (proportional)
            amount = grant(self.grants, day, fixed / 100.0, size_hkd, investors, so_far, affiliated,
                           issue.programme.issuer_kind)
            grant_cents = min(round(amount * 100), self.ledger.free_cash(self.grant_scheme))
            if grant_cents > 0:
                self.ledger.pay(self.grant_scheme, issue.issuer_account, grant_cents)
                self.grants_by_issuer[issue.issuer_account] = so_far + 1
        return fixed, proportional, grant_cents

    def _service(self, env, issue: PlannedIssue, coupon: float, start: datetime.date, costs: FormCostsSpec):
        """Payments to holders of record, the last at maturity; each payment after the form's lag."""
        frequency = issue.programme.coupon_frequency_per_year
        n_coupons = round(issue.programme.tenor_years * frequency)
        for k in range(1, n_coupons + 1):
            record_day = self._business_day(start + datetime.timedelta(days=round(k / frequency * 365)))
            if record_day is None:
                return
            yield env.timeout(max(0.0, record_day + 1.0 - env.now))
            final = k == n_coupons
            if final:
                issue.listing.active = False
                while any(self.ledger.units_pending_out[issue.listing.asset]):
                    yield env.timeout(1.0)
            record = [(a, u) for a, u in enumerate(self.ledger.units[issue.listing.asset]) if u > 0]
            if costs.payment_lag_days:
                yield env.timeout(costs.payment_lag_days)
            per_unit = issue.terms.payment_per_unit_hkd(k, n_coupons, coupon, start)
            self._pay_holders(issue, record, per_unit, final, costs, int(env.now))

    def _pay_holders(self, issue: PlannedIssue, record, per_unit_hkd: float, final: bool, costs: FormCostsSpec, day: int):
        total = 0
        for account, units in record:
            cents = round(units * per_unit_hkd * 100)
            self.ledger.pay(issue.issuer_account, account, cents)
            total += cents
            if final:
                self.ledger.redeem_units(issue.listing.asset, account, units)
        self.ledger.pay(issue.issuer_account, self.services, round(costs.servicing_cost_hkd_per_payment * 100))
        self.recorder.payments.add(day, issue.number, int(final), len(record), sum(u for _, u in record), total)

    def _business_day(self, when: datetime.date) -> int | None:
        try:
            return self.calendar.day_on_or_after(when)
        except (IndexError, ValueError):
            return None


def _by_group(holdings) -> dict[int, int]:
    totals: dict[int, int] = {}
    for _, group, units in holdings:
        totals[group] = totals.get(group, 0) + units
    return totals


def issue_cost_hkd(programme: ProgrammeSpec, form: str) -> float:
    """The issuer's cost of one issue in a form, before grants."""
    costs = programme.costs[form]
    return costs.fixed_cost_hkd + offered_value_hkd(programme) * costs.proportional_cost_bps / 10_000.0


def expected_grant_hkd(grants: GrantSpec, programme: ProgrammeSpec, day: int, grants_so_far: int) -> float:
    """The grant a tokenized issue would get if widely placed (used to choose the cheaper form)."""
    return grant(grants, day, programme.costs["tokenized"].fixed_cost_hkd, offered_value_hkd(programme), math.inf,
                 grants_so_far, False, programme.issuer_kind)
