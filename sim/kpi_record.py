"""A KPI's record: its name, unit, meaning and formula, and whether it adds up over accounts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.tables import RunTables


TOTAL_UNITS = ("HKD", "HKD a year", "count", "count a year", "units", "HKD-days", "kWh")
"""Units of KPIs that add up over accounts: a sampled run reports them times its weight (`Kpi.total`)."""


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str
    meaning: str
    compute: Callable[[RunTables], float]
    is_total: bool | None = None  # None: by the unit (TOTAL_UNITS); False for a mean per listing or issue in such a unit
    scales: tuple[str, float] | None = None  # (an earlier KPI, a factor): this one is that one's value times it

    @property
    def total(self) -> bool:
        """Does the KPI add up over the market's accounts, so that a sample of them gives the whole
        market's times the sample's weight? Rates, shares, spreads and depth do not."""
        return self.unit in TOTAL_UNITS if self.is_total is None else self.is_total
