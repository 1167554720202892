"""The settlement assets of a run: each one's path over the calendar, by its kind's model."""

from __future__ import annotations

from sim.market.calendar import BusinessCalendar
from sim.market.deposit_token import run_deposit_token
from sim.market.money_clock import MoneyClock
from sim.market.money_path import MoneyPath, at_par
from sim.market.money_specs import CentralBankMoneySpec, DepositTokenSpec, MoneySpec, StablecoinSpec
from sim.market.stablecoin import run_stablecoin


def money_path(spec: MoneySpec, clock: MoneyClock) -> MoneyPath:
    """One settlement asset's path."""
    if isinstance(spec, StablecoinSpec):
        return run_stablecoin(spec, clock)
    if isinstance(spec, DepositTokenSpec):
        return run_deposit_token(spec, clock)
    if isinstance(spec, CentralBankMoneySpec):
        return at_par(spec.name, spec.kind, clock)
    raise TypeError(f"not a settlement asset's spec: {spec!r}")


def money_paths(specs: dict[str, MoneySpec], calendar: BusinessCalendar, business_days: int) -> dict[str, MoneyPath]:
    """Every settlement asset's path over the run's business days (and the calendar days between them)."""
    if not specs:
        return {}
    clock = MoneyClock(calendar, business_days)
    return {name: money_path(spec, clock) for name, spec in specs.items()}
