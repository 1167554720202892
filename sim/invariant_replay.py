"""Finding where a broken invariant first broke, by replaying the run.

`check_invariants` runs at the end and knows which invariant and which instrument broke, not
when. The same scenario and seed give the same run, so `locate` replays it: day by day to the
first day that ends with conservation broken (or a holding negative), then operation by
operation within that day, with each ledger operation that changes holdings watched. Only a
failing run pays for the replay. (Not to be confused with `sim.validation.replay`, which
replays a historic duty change against published data.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from sim.engine import Model, build
from sim.invariants import InvariantError, broken_at_instant, instrument_names, iso_date
from sim.scenario.schema import Scenario

EACH_TRADE = "each trade"  # the operation takes a batch of trades, each with its `asset`
# Ledger operations that change holdings, with the position of their asset argument (or None).
OPERATIONS: dict[str, int | str | None] = {
    "settle": EACH_TRADE, "create_units": 0, "redeem_units": 0, "commit": 0,
    "pay": None, "pay_locked": None, "lock_cash": None, "open_account": None,
}
_JUST_AFTER = 1e-9  # a day's settlement runs at the day's end, time day + 1


class _Found(Exception):
    """Stops the replay at the operation that broke conservation."""


def locate(scenario: Scenario, seed: int) -> InvariantError | None:
    """Replay the run to find the day, and the ledger operation, that first broke conservation
    or made a holding negative.

    None when those hold throughout (the broken invariant is one only the end state can
    show, such as a trade left unsettled: its error already names the trade's day)."""
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
    error = found[0] if found else broken_at_instant(model)
    if error is None:  # not reproduced: the fault depends on more than the scenario and seed
        return None
    return InvariantError(error.invariant, error.detail, error.instrument, day, iso_date(model, day), error.operation)


def _first_bad_day(model: Model) -> int | None:
    """The first day at whose end (its settlement included) units or cash are not conserved, or negative."""
    day = 0
    while model.env.peek() < math.inf:
        model.env.run(until=day + 1 + _JUST_AFTER)
        if broken_at_instant(model) is not None:
            return day
        day += 1
    return None


def _watched(model: Model, operation: Callable[..., Any], name: str, asset_at: int | str | None,
             found: list[InvariantError]) -> Callable[..., Any]:
    """`operation`, checking conservation after each call (after each trade of a batch) and
    stopping at the first that breaks it."""

    def check(assets: list[int]) -> None:
        broken = broken_at_instant(model, assets)
        if broken is not None:
            instrument = broken.instrument or (instrument_names(model).get(assets[0]) if assets else None)
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
