"""The settlement assets' KPIs: the money's own path, its holders' losses, and the trading it settled.

The money's path is worked out at its own scale (its coins or deposits in issue), not the
simulated market's sample of accounts, so its HKD figures are not scaled by a sample's weight;
the trades settled in it are the simulated market's, and are. Spreads and depth "in stress" are
the means over the business days on which the money was below par or frozen at any hour, so they
read against the same listing's means over the other days.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.kpi_record import Kpi
from sim.money_tables import BELOW_PAR
from sim.scenario.schema import Scenario


def _path(r, asset: str) -> pd.DataFrame:
    return r.money[r.money["asset"] == asset]


def _low(r, asset: str) -> float:
    path = _path(r, asset)
    return float(path["price"].min()) if len(path) else math.nan


def _hours_below(r, asset: str) -> float:
    return float((_path(r, asset)["price"] < BELOW_PAR).sum())


def _back_to_par_hours(r, asset: str) -> float:
    """Hours from the low back to par (within half a cent); NaN if it never left par, inf if it never came back."""
    price = _path(r, asset)["price"].to_numpy()
    if not len(price) or price.min() >= BELOW_PAR:
        return math.nan
    low = int(np.argmin(price))
    back = np.nonzero(price[low:] >= BELOW_PAR)[0]
    return float(back[0]) if len(back) else math.inf


def _stressed_days(r, asset: str) -> set[int]:
    path = _path(r, asset)
    stressed = path[((path["price"] < BELOW_PAR) | ~path["usable"].astype(bool))]
    days = set(stressed["day"].tolist())
    # a weekend's stress shows on the business days either side of it
    hours = stressed["hour"].to_numpy()
    if len(hours):
        all_days = path["day"].to_numpy()
        before = all_days[: hours.min() + 1][all_days[: hours.min() + 1] >= 0]
        after = all_days[hours.max():][all_days[hours.max():] >= 0]
        days |= {int(before[-1])} if len(before) else set()
        days |= {int(after[0])} if len(after) else set()
    return {d for d in days if d >= 0}


def _venue_mean(r, asset: str, column: str, stressed: bool) -> float:
    venues = r.money_venues.loc[r.money_venues["asset"] == asset, "venue"].tolist()
    days = _stressed_days(r, asset)
    rows = r.daily[r.daily["venue_name"].isin(venues)]
    rows = rows[rows["day"].isin(days) == stressed]
    if column == "depth_hkd":
        values = (rows["depth_at_best_units"] * rows["fair_value_hkd"]).dropna()
    else:
        values = rows[column].dropna()
    return float(values.mean()) if len(values) else math.nan


def _holder_loss(r, asset: str, group: str) -> float:
    rows = r.money_holders[(r.money_holders["asset"] == asset) & (r.money_holders["group"] == group)]
    return float(rows["loss_hkd"].sum())


def _venue_total(r, asset: str, column: str) -> float:
    return float(r.money_venues.loc[r.money_venues["asset"] == asset, column].sum())


def money_kpis(scenario: Scenario) -> list[Kpi]:
    """The KPIs of every settlement asset of `scenario`."""
    found = []
    for asset, spec in scenario.settlement_assets.items():
        found += [
            Kpi(f"money_low_{asset}", "fraction", f"Lowest hourly price of {asset} on its secondary market, HKD per "
                "HK$1 at par (1 for money that has no market to fall on: deposits, central-bank money)",
                lambda r, a=asset: _low(r, a), is_total=False),
            Kpi(f"money_hours_below_par_{asset}", "hours", f"Calendar hours {asset} traded below HK$0.995",
                lambda r, a=asset: _hours_below(r, a)),
            Kpi(f"money_back_to_par_hours_{asset}", "hours", f"Hours from {asset}'s low back to HK$0.995 or more; NaN "
                "if it never fell below, inf if it had not come back by the run's end", lambda r, a=asset: _back_to_par_hours(r, a)),
            Kpi(f"money_redeemed_hkd_{asset}", "HKD", f"{asset} paid out at par by its issuer (face value), at the "
                "asset's own scale (not a sample's)",
                lambda r, a=asset: float(_path(r, a)["redeemed_hkd"].sum()), is_total=False),
            Kpi(f"money_queue_peak_hkd_{asset}", "HKD", f"Largest redemption queue of {asset} at an hour's end, face value",
                lambda r, a=asset: float(_path(r, a)["queue_hkd"].max()) if len(_path(r, a)) else math.nan, is_total=False),
            Kpi(f"money_overdue_peak_hkd_{asset}", "HKD", f"Largest value of {asset}'s redemption requests still unpaid "
                "past the redemption deadline (`redemption_deadline_days`) at an hour's end; 0 when every request was "
                "paid in time", lambda r, a=asset: float(_path(r, a)["overdue_hkd"].max()) if len(_path(r, a)) else math.nan,
                is_total=False),
            Kpi(f"money_sold_hkd_{asset}", "HKD", f"{asset} sold by its holders on its secondary market, face value",
                lambda r, a=asset: float(_path(r, a)["sold_hkd"].sum()), is_total=False),
            Kpi(f"money_frozen_hours_{asset}", "hours", f"Calendar hours {asset} could not move (a failed bank's "
                "deposit tokens)", lambda r, a=asset: float((~_path(r, a)["usable"].astype(bool)).sum())),
            Kpi(f"trades_settled_{asset}", "count", f"Trades settled in {asset} (every venue settling in it)",
                lambda r, a=asset: _venue_total(r, a, "trades")),
            Kpi(f"value_settled_below_par_hkd_{asset}", "HKD", f"Value of trades settled in {asset} while it traded "
                "below HK$0.995: settlement that was final, in money worth less than par",
                lambda r, a=asset: _venue_total(r, a, "value_below_par_hkd")),
            Kpi(f"orders_blocked_{asset}", "count", f"Orders refused because {asset} was frozen (no trade could settle "
                "in it); the investor did not trade", lambda r, a=asset: _venue_total(r, a, "orders_blocked")),
        ]
        for stressed, when in ((True, "stress"), (False, "calm")):
            words = ("on the business days on which it was below par or frozen at any hour (and those either side "
                     "of a weekend's stress; a Monday's quotes carry the weekend's off-hours margin in any scenario, so "
                     "read them against the comparator's on the same days, as the report's figure does)"
                     ) if stressed else "on the other business days"
            found += [
                Kpi(f"spread_bps_{when}_{asset}", "bps", f"Mean daily quoted spread of the listings settling in {asset} "
                    f"{words}; NaN if there were none", lambda r, a=asset, s=stressed: _venue_mean(r, a, "quoted_spread_bps", s)),
                Kpi(f"depth_hkd_{when}_{asset}", "HKD", f"Mean daily depth at the best quotes of the listings settling "
                    f"in {asset} (units at fair value) {words}; the market makers quote a fixed size, so a stress moves "
                    "their prices, not this depth", lambda r, a=asset, s=stressed: _venue_mean(r, a, "depth_hkd", s),
                    is_total=False),
                Kpi(f"volume_hkd_per_day_{when}_{asset}", "HKD", f"Mean daily value traded per listing settling in "
                    f"{asset} {words}", lambda r, a=asset, s=stressed: _venue_mean(r, a, "volume_hkd", s)),
            ]
        for group in _holder_groups(spec):
            found.append(Kpi(
                f"money_holder_loss_hkd_{asset}_{group}", "HKD", f"What {group} holders of {asset} lost: sales below "
                "par, redemption fees, what is still lost at the end, and frozen balances' lost use (at the asset's "
                "own scale)", lambda r, a=asset, g=group: _holder_loss(r, a, g), is_total=False))
    return found


def _holder_groups(spec) -> list[str]:
    return list(getattr(spec, "holders", {}) or {})
