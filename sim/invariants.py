"""Accounting invariants of a run, and finding where a broken one first broke.

Every run ends with `check_invariants`: units of every asset and cash are conserved, nothing is
left pending, nothing is negative (but short sellers' units), every trade settled or failed.
A broken invariant is a bug in the model, never in the user's scenario, so the error must say
enough to find it: which invariant, which instrument, which day. The end-of-run check knows the
first two; `locate` finds the day (and the ledger operation) by replaying the same scenario and
seed, which give the same run: day by day to the first day that ends with conservation broken,
then operation by operation within that day. Only a failing run pays for the replay.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.market.ledger import AccountingError, Ledger

if TYPE_CHECKING:
    from sim.engine import Model
    from sim.scenario.schema import Scenario

UNITS_CONSERVED = "units conserved"
CASH_CONSERVED = "cash conserved"
NOTHING_PENDING = "nothing left pending"
NO_NEGATIVE_UNITS = "no negative holdings"
NO_NEGATIVE_CASH = "no negative cash"
ALL_SETTLED = "every trade settled or failed"

EACH_TRADE = "each trade"  # the operation takes a batch of trades, each with its `asset`
# Ledger operations that change holdings, with the position of their asset argument (or None).
OPERATIONS: dict[str, int | str | None] = {
    "settle": EACH_TRADE, "create_units": 0, "redeem_units": 0, "commit": 0,
    "pay": None, "pay_locked": None, "lock_cash": None, "open_account": None,
}
_JUST_AFTER = 1e-9  # a day's settlement runs at the day's end, time day + 1


class InvariantError(AccountingError):
    """A broken invariant, with the instrument and the day when they are known."""

    def __init__(self, invariant: str, detail: str, instrument: str | None = None,
                 day: int | None = None, date: str | None = None, operation: str | None = None) -> None:
        self.invariant, self.detail, self.instrument = invariant, detail, instrument
        self.day, self.date, self.operation = day, date, operation
        where = [f"instrument {instrument}" if instrument else "", _day_text(day, date),
                 f"in ledger.{operation}" if operation else ""]
        where_text = "; ".join(part for part in where if part)
        super().__init__(f"accounting check failed: {invariant}: {detail}" + (f" ({where_text})" if where_text else ""))

    def __reduce__(self) -> tuple[Any, ...]:
        return (InvariantError, (self.invariant, self.detail, self.instrument, self.day, self.date, self.operation))


def _day_text(day: int | None, date: str | None) -> str:
    if day is None:
        return ""
    return f"first broken on day {day}" + (f" ({date})" if date else "")


def check_invariants(model: Model) -> None:
    """Units and cash conserved, nothing pending or negative, every trade settled: else InvariantError."""
    broken = _conservation(model) or _end_state(model)
    if broken is not None:
        raise broken


def _instruments(model: Model) -> dict[int, str]:
    """Ledger asset index -> `instrument (form)`."""
    return {listing.asset: f"{listing.instrument} ({listing.venue.form})" for listing in model.listings}


def _conservation(model: Model, assets: range | list[int] | None = None) -> InvariantError | None:
    """Conservation of each asset's units (all, or `assets`) and of cash: these hold at every instant."""
    ledger, names = model.ledger, _instruments(model)
    for asset in range(ledger.n_assets) if assets is None else assets:
        held = sum(ledger.units[asset])
        outstanding = ledger.issued_units[asset] + ledger.created_units[asset] - ledger.redeemed_units[asset]
        if held != outstanding:
            return InvariantError(UNITS_CONSERVED, f"{held:,} units held but {outstanding:,} outstanding",
                                  names.get(asset, f"asset {asset}"))
    total = sum(ledger.cash)
    if total != ledger.issued_cash:
        return InvariantError(CASH_CONSERVED, f"{total:,} cents held but {ledger.issued_cash:,} issued "
                              f"({total - ledger.issued_cash:+,} cents)")
    return None


def _negatives(model: Model, assets: range | list[int] | None = None) -> InvariantError | None:
    """No negative cash, and no negative units but short sellers': these too hold at every instant."""
    ledger, names = model.ledger, _instruments(model)
    short_sellers = {name for name, group in model.scenario.investors.items() if group.short_selling}
    for asset in range(ledger.n_assets) if assets is None else assets:
        if min(ledger.units[asset], default=0) >= 0:
            continue
        negative = [account for account, units in enumerate(ledger.units[asset])
                    if units < 0 and ledger.accounts[account].group not in short_sellers]
        if negative:
            return InvariantError(NO_NEGATIVE_UNITS, f"negative holdings in {_accounts(ledger, negative)}",
                                  names.get(asset, f"asset {asset}"))
    if min(ledger.cash, default=0) < 0:
        negative = [account for account, cents in enumerate(ledger.cash) if cents < 0]
        return InvariantError(NO_NEGATIVE_CASH, f"negative cash in {_accounts(ledger, negative)}")
    return None


def _instant(model: Model, assets: range | list[int] | None = None) -> InvariantError | None:
    return _conservation(model, assets) or _negatives(model, assets)


def _end_state(model: Model) -> InvariantError | None:
    """What must hold once the last trade has settled: nothing pending, negative or unsettled."""
    ledger, names = model.ledger, _instruments(model)
    for asset in range(ledger.n_assets):
        if any(ledger.units_pending_out[asset]) or any(ledger.units_pending_in[asset]):
            return InvariantError(NOTHING_PENDING, "units still pending after the last settlement",
                                  names.get(asset, f"asset {asset}"))
    if any(ledger.cash_pending_out):
        return InvariantError(NOTHING_PENDING, "cash still pending after the last settlement")
    return _negatives(model) or _unsettled(model)


def _unsettled(model: Model) -> InvariantError | None:
    columns = model.recorder.trades.columns
    unsettled = [trade for trade, day in enumerate(columns["settled_day"]) if day < 0]
    if not unsettled:
        return None
    first = unsettled[0]
    listing = model.listings[columns["listing"][first]]
    day = columns["day"][first]
    return InvariantError(ALL_SETTLED, f"{len(unsettled)} trades neither settled nor failed",
                          f"{listing.instrument} ({listing.venue.form})", day, _date(model, day))


def _accounts(ledger: Ledger, accounts: list[int]) -> str:
    names = [ledger.accounts[account].name for account in accounts]
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _date(model: Model, day: int) -> str | None:
    try:
        return model.calendar.date_of(day).isoformat()
    except (IndexError, ValueError):
        return None


class _Found(Exception):
    """Stops the replay at the operation that broke conservation."""


def locate(scenario: Scenario, seed: int) -> InvariantError | None:
    """Replay the run to find the day, and the ledger operation, that first broke conservation
    or made a holding negative.

    None when those hold throughout (the broken invariant is one only the end state can
    show, such as a trade left unsettled: its error already names the trade's day)."""
    from sim.engine import build  # the engine imports this module

    day = _first_bad_day(build(scenario, seed))
    if day is None:
        return None
    model = build(scenario, seed)
    if day > 0:
        model.env.run(until=day + _JUST_AFTER)
    found: list[InvariantError] = []
    for name, asset_at in OPERATIONS.items():
        setattr(model.ledger, name, _watched(model, getattr(model.ledger, name), name, asset_at, found))
    try:
        model.env.run(until=day + 1 + _JUST_AFTER)
    except _Found:
        pass
    error = found[0] if found else _instant(model)
    if error is None:  # not reproduced: the fault depends on more than the scenario and seed
        return None
    return InvariantError(error.invariant, error.detail, error.instrument, day, _date(model, day), error.operation)


def _first_bad_day(model: Model) -> int | None:
    """The first day at whose end (its settlement included) units or cash are not conserved, or negative."""
    day = 0
    while model.env.peek() < math.inf:
        model.env.run(until=day + 1 + _JUST_AFTER)
        if _instant(model) is not None:
            return day
        day += 1
    return None


def _watched(model: Model, operation: Callable[..., Any], name: str, asset_at: int | str | None,
             found: list[InvariantError]) -> Callable[..., Any]:
    """`operation`, checking conservation after each call (after each trade of a batch) and
    stopping at the first that breaks it."""

    def check(assets: list[int]) -> None:
        broken = _instant(model, assets)
        if broken is not None:
            instrument = broken.instrument or (_instruments(model).get(assets[0]) if assets else None)
            found.append(InvariantError(broken.invariant, broken.detail, instrument, operation=name))
            raise _Found

    def call(*args: Any, **kwargs: Any) -> Any:
        if asset_at == EACH_TRADE:
            for trade in args[0]:
                operation((trade,))
                check([trade.asset])
            return None
        result = operation(*args, **kwargs)
        check([args[asset_at]] if asset_at is not None and len(args) > asset_at else [])
        return result

    return call
