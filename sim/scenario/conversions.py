"""Conversion between an instrument's forms (`conversions`): the custodian's terms and its arbitrageur's."""

from __future__ import annotations

from pydantic import Field

from sim.scenario.base import Form, NonNegativeBps, Strict


class Conversion(Strict):
    """Tokenizing and de-tokenizing one instrument through its custodian (or the CMU), and the trading firm
    that arbitrages the two forms' order books."""

    fee_bps: NonNegativeBps = Field(
        2.0, description="The custodian's fee per conversion, bps of the value converted (assumption: "
        "docs/calibration.md).")
    days: int = Field(1, ge=0, le=30, description="Business days from a request until the units arrive in the other "
                      "form (assumption).")
    check_minutes: float = Field(5.0, gt=0.0, le=1440.0, description="Minutes between the arbitrageur's checks.")
    max_units_per_check: int = Field(20_000, gt=0, le=10**9, description="Most units it trades or converts at a check.")
    initial_units: dict[Form, int] = Field(
        default_factory=lambda: {"conventional": 100_000, "tokenized": 100_000},
        description="Units it holds in each form at the start, and keeps converting back towards.")
    initial_cash_hkd: float = Field(20_000_000.0, ge=0.0, lt=1e13, description="Its cash at the start, HKD.")
