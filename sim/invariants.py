"""Accounting invariants of a run: what must hold at every instant and at the end.

Every run ends with `check_invariants`: units of every asset and cash are conserved, nothing is
left pending, nothing is negative (but short sellers' units), every trade settled or failed.
A broken invariant is a bug in the model, never in the user's scenario, so the error must say
enough to find it: which invariant, which instrument, which day. The end-of-run check knows the
first two; `sim.invariant_replay` finds the day by replaying the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.market.ledger import AccountingError, Ledger

if TYPE_CHECKING:
    from sim.engine import Model

UNITS_CONSERVED = "units conserved"
CASH_CONSERVED = "cash conserved"
NOTHING_PENDING = "nothing left pending"
NO_NEGATIVE_UNITS = "no negative holdings"
NO_NEGATIVE_CASH = "no negative cash"
ALL_SETTLED = "every trade settled or failed"
MONEY_CONSERVED = "settlement money conserved"
MONEY_TOLERANCE = 1e-6  # relative: a stablecoin's path is worked out in floating point, HKD at its own scale


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
    broken = _conservation(model) or _end_state(model) or money_broken(model.money.values())
    if broken is not None:
        raise broken


def money_broken(paths) -> InvariantError | None:
    """A stablecoin's coins and reserves add up (`MoneyBooks`), its price lies in [0, its value] and its
    value in [0, 1]: else the first broken check."""
    for path in paths:
        books = path.books
        if books is None:
            continue
        scale = max(books.in_issue_start_hkd, books.reserves_start_hkd)
        coins = books.in_issue_start_hkd - books.burned_hkd
        held = sum(books.coins_end_hkd.values())
        if abs(coins - held) > MONEY_TOLERANCE * scale or abs(coins - float(path.supply_hkd[-1])) > MONEY_TOLERANCE * scale:
            return InvariantError(MONEY_CONSERVED, f"{path.name}: {coins:,.2f} coins in issue at the end, but "
                                  f"{held:,.2f} held and {float(path.supply_hkd[-1]):,.2f} on the path")
        reserves = books.reserves_start_hkd - books.paid_hkd - path.reserves_lost_hkd
        if abs(reserves - books.reserves_end_hkd) > MONEY_TOLERANCE * scale:
            return InvariantError(MONEY_CONSERVED, f"{path.name}: reserves less payments and losses are "
                                  f"{reserves:,.2f}, but the issuer holds {books.reserves_end_hkd:,.2f}")
        if (path.price < -1e-12).any() or (path.price > path.value + 1e-12).any() or (path.value > 1.0 + 1e-12).any():
            return InvariantError(MONEY_CONSERVED, f"{path.name}: a price outside [0, value] or a value above par")
    return None


def instrument_names(model: Model) -> dict[int, str]:
    """Ledger asset index -> `instrument (form)`."""
    return {listing.asset: f"{listing.instrument} ({listing.venue.form})" for listing in model.listings}


def _conservation(model: Model, assets: range | list[int] | None = None) -> InvariantError | None:
    """Conservation of each asset's units (all, or `assets`) and of cash: these hold at every instant."""
    ledger, names = model.ledger, instrument_names(model)
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
    ledger, names = model.ledger, instrument_names(model)
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


def broken_at_instant(model: Model, assets: range | list[int] | None = None) -> InvariantError | None:
    """The first invariant that must hold at every instant (of `assets`, or all) found broken now, or None."""
    return _conservation(model, assets) or _negatives(model, assets)


def _end_state(model: Model) -> InvariantError | None:
    """What must hold once the last trade has settled: nothing pending, negative or unsettled."""
    ledger, names = model.ledger, instrument_names(model)
    for asset in range(ledger.n_assets):
        if any(ledger.units_pending_out[asset]) or any(ledger.units_pending_in[asset]):
            return InvariantError(NOTHING_PENDING, "units still pending after the last settlement",
                                  names.get(asset, f"asset {asset}"))
    if any(ledger.cash_pending_out) or any(ledger.cash_pending_in) or any(ledger.cash_locked):
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
                          f"{listing.instrument} ({listing.venue.form})", day, iso_date(model, day))


def _accounts(ledger: Ledger, accounts: list[int]) -> str:
    names = [ledger.accounts[account].name for account in accounts]
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def iso_date(model: Model, day: int) -> str | None:
    """The day's date as YYYY-MM-DD, or None for a day outside the calendar."""
    try:
        return model.calendar.date_of(day).isoformat()
    except (IndexError, ValueError):
        return None
