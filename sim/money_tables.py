"""The settlement assets' tables: each asset's hours, its holders' outcomes, and the trades settled in it.

`money` has one row per asset and calendar hour (price, value, the conversion cost, the issuer's
queue and flows); `money_holders` one row per asset and holder group; `money_venues` one row per
venue settling in an asset (trades settled, the value settled while the coin was below par, and
orders refused because the money was frozen). All are empty for a scenario without settlement assets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.market.money_clock import HOURS_PER_DAY
from sim.market.money_path import MoneyPath

if TYPE_CHECKING:
    from sim.engine import Model

BELOW_PAR = 0.995  # a price below this is "below par" (half a cent on the dollar: beyond normal noise)

MONEY_COLUMNS = ("asset", "kind", "hour", "day", "hour_of_day", "date", "price", "value", "half_spread_bps",
                 "conversion_cost_bps", "usable", "supply_hkd", "queue_hkd", "overdue_hkd", "redeemed_hkd", "sold_hkd", "liquid_hkd",
                 "frozen_hkd")
HOLDER_COLUMNS = ("asset", "group", "held_hkd", "sold_hkd", "redeemed_hkd", "frozen_hkd_days", "loss_hkd")
VENUE_COLUMNS = ("asset", "venue", "trades", "value_hkd", "value_below_par_hkd", "orders_blocked")


def money_frame(path: MoneyPath, start: np.datetime64) -> pd.DataFrame:
    """One asset's hours."""
    hours = np.arange(path.clock.hours)
    return pd.DataFrame({
        "asset": path.name, "kind": path.kind, "hour": hours, "day": path.clock.day_of_hour,
        "hour_of_day": hours % HOURS_PER_DAY,
        "date": np.datetime_as_string(start + (hours // HOURS_PER_DAY).astype("timedelta64[D]"), unit="D"),
        "price": path.price, "value": path.value, "half_spread_bps": path.half_spread * 10_000.0,
        "conversion_cost_bps": path.conversion_cost * 10_000.0, "usable": path.usable,
        "supply_hkd": path.supply_hkd, "queue_hkd": path.queue_hkd, "overdue_hkd": path.overdue_hkd,
        "redeemed_hkd": path.redeemed_hkd,
        "sold_hkd": path.sold_hkd, "liquid_hkd": path.liquid_hkd, "frozen_hkd": path.frozen_hkd,
    }, columns=list(MONEY_COLUMNS))


def money_tables(model: Model, trades: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The run's `money`, `money_holders` and `money_venues` tables."""
    if not model.money:
        return (pd.DataFrame(columns=list(MONEY_COLUMNS)), pd.DataFrame(columns=list(HOLDER_COLUMNS)),
                pd.DataFrame(columns=list(VENUE_COLUMNS)))
    start = np.datetime64(model.calendar.date_of(0).isoformat())
    money = pd.concat([money_frame(path, start) for path in model.money.values()], ignore_index=True)
    holders = pd.DataFrame(
        [(path.name, h.group, h.held_hkd, h.sold_hkd, h.redeemed_hkd, h.frozen_hkd_days, h.loss_hkd)
         for path in model.money.values() for h in path.holders], columns=list(HOLDER_COLUMNS))
    rows = []
    blocked = model.market.blocked
    for venue_name, venue in model.scenario.venues.items():
        asset = venue.settlement_asset
        if asset is None:
            continue
        path = model.money[asset]
        mine = (trades["venue_name"] == venue_name).to_numpy()
        times = trades["time"].to_numpy()[mine]
        hours = [path.clock.hour_of_trading_time(t) for t in times]
        below = path.price[hours] < BELOW_PAR if len(hours) else np.zeros(0, dtype=bool)
        values = trades["value_hkd"].to_numpy()[mine]
        refused = sum(n for listing, n in blocked.items() if model.listings[listing].venue.name == venue_name)
        rows.append((asset, venue_name, int(mine.sum()), float(values.sum()), float(values[below].sum()), refused))
    return money, holders, pd.DataFrame(rows, columns=list(VENUE_COLUMNS))
