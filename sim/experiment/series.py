"""A run's compact series record: what the report's figures need beyond the run's KPIs.

KPIs are one number per run; fan charts, distributions and per-issue figures need the days and
the issues behind them. `run_series(result)` condenses a `RunResult`'s tables once, after the
run, into plain JSON data (lists of rounded floats, a few kilobytes), so a report can be drawn
from the experiment's folder alone, on another machine, without the scenario files:

* `turnover_hkd`: daily value traded per form; `tokenized_share`: its daily tokenized share;
* `exposure_hkd`: daily replacement-cost exposure outstanding per settlement venue;
* `books`: per order-book venue (with its form), every listing-day's quoted spread (bps) and
  depth at best (HKD): the distributions of liquidity;
* `etf_premium`: per order-book listing of an ETF (or other instrument backed by creations and
  redemptions), the daily premium of the quote mid to NAV and the authorised participant's
  arbitrage band on the same day (bps);
* `issues`: per bond issue, its form, size, gross and net cost (bps of size), days to settle,
  and units allocated to each investor group;
* `duty`: per channel (instrument type and form), the mean statutory rate per side over the
  horizon, the value traded and the duty collected: what a waiver break-even needs;
* `money` (only for a scenario with settlement assets, so other records are unchanged): per
  asset, its kind and lowest hourly price, and, if it was ever stressed (below HK$0.995 or
  unusable), its stress window: from `WINDOW_BEFORE_DAYS` calendar days before the first
  stressed hour to `WINDOW_AFTER_DAYS` after the last (clipped to the run), the hourly price,
  expected value, redemption queue, usability and business day (-1 on weekends and holidays);
  and over the window's business days, the daily quoted spread (mean over the listings
  settling in the asset) and value traded on the venues settling in it. `form` names the
  venues' form when they are every venue of that form, so a comparator's `turnover_hkd` of
  that form is the same venues' value traded.

The record also names its scenario, the scenario's hash and the seed, so a report matches it
to the manifest's scenarios and replications. Rounding keeps the files small and the JSON
byte-identical for equal runs; a missing value (a day with no quote) is null.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from sim.creation_band import backed_book_listings, band_bps
from sim.market.money_clock import HOURS_PER_DAY
from sim.money_tables import BELOW_PAR
from sim.provenance import scenario_hash
from sim.runs import RunResult
from sim.scenario.base import FORMS

HKD_DIGITS, BPS_DIGITS, SHARE_DIGITS, PRICE_DIGITS = 0, 2, 5, 6
WINDOW_BEFORE_DAYS, WINDOW_AFTER_DAYS = 2, 4  # calendar days shown before and after a settlement asset's stress


def rounded(values: Iterable[float], digits: int) -> list[float | None]:
    """Plain floats rounded to `digits` decimals; NaN becomes None (JSON null)."""
    return [None if math.isnan(v) else round(float(v), digits) + 0.0 for v in values]


def _daily(frame: pd.DataFrame, days: int, column: str) -> np.ndarray:
    """`column` summed per business day 0..days-1 (zero on days without rows)."""
    return frame.groupby("day")[column].sum().reindex(range(days), fill_value=0.0).to_numpy(dtype=float)


def _turnover(daily: pd.DataFrame, days: int) -> dict[str, Any]:
    by_form = {form: _daily(daily[daily["form"] == form], days, "volume_hkd") for form in FORMS}
    total = by_form["conventional"] + by_form["tokenized"]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, by_form["tokenized"] / total, np.nan)
    return {"turnover_hkd": {form: rounded(values, HKD_DIGITS) for form, values in by_form.items()},
            "tokenized_share": rounded(share, SHARE_DIGITS)}


def _exposure(settlement: pd.DataFrame, days: int) -> dict[str, list[float | None]]:
    venues = dict.fromkeys(settlement["venue_name"])
    return {venue: rounded(_daily(settlement[settlement["venue_name"] == venue], days, "exposure_hkd"), HKD_DIGITS)
            for venue in venues}


def _books(daily: pd.DataFrame) -> list[dict[str, Any]]:
    quoted = daily.dropna(subset=["quoted_spread_bps"])
    books = []
    for (venue, form), rows in quoted.groupby(["venue_name", "form"], sort=False):
        depth = rows["depth_at_best_units"].to_numpy(dtype=float) * rows["fair_value_hkd"].to_numpy(dtype=float)
        books.append({"venue": venue, "form": form,
                      "spread_bps": rounded(rows["quoted_spread_bps"], BPS_DIGITS),
                      "depth_hkd": rounded(depth, HKD_DIGITS)})
    return books


def _etf_premium(result: RunResult) -> list[dict[str, Any]]:
    daily, listings = result.daily, []
    for instrument, venue in backed_book_listings(result.scenario):
        days = daily[(daily["instrument"] == instrument) & (daily["venue_name"] == venue)].dropna(subset=["premium_bps"])
        listings.append({"instrument": instrument, "venue": venue, "form": result.scenario.venues[venue].form,
                         "premium_bps": rounded(days["premium_bps"], BPS_DIGITS),
                         "band_bps": rounded(band_bps(result.scenario, instrument, venue, days), BPS_DIGITS)})
    return listings


def _units(value: Any) -> int:
    return 0 if pd.isna(value) else int(value)


def _issues(issuance: pd.DataFrame) -> list[dict[str, Any]]:
    if "kind" not in issuance.columns:
        return []
    bonds = issuance[issuance["kind"] == "bond issue"]
    groups = [c.removeprefix("allocated_units_") for c in issuance.columns if c.startswith("allocated_units_")]
    issues = []
    for row in bonds.itertuples(index=False):
        size = float(row.size_hkd)
        issues.append({
            "name": str(row.name), "form": str(row.form), "size_hkd": rounded([size], HKD_DIGITS)[0],
            "cost_bps": rounded([1e4 * float(row.cost_hkd) / size if size else math.nan], BPS_DIGITS)[0],
            "net_cost_bps": rounded([float(row.net_cost_bps)], BPS_DIGITS)[0],
            "days_to_settle": None if pd.isna(row.days_to_settle) else int(row.days_to_settle),
            "allocated_units": {g: _units(getattr(row, f"allocated_units_{g}")) for g in groups},
        })
    return issues


def _duty(result: RunResult) -> list[dict[str, Any]]:
    trades, scenario = result.trades, result.scenario
    duty = (trades["buyer_duty_cents"] + trades["seller_duty_cents"]) / 100.0
    totals = pd.DataFrame({"type": trades["instrument_type"], "form": trades["form"], "value": trades["value_hkd"],
                           "duty": duty}).groupby(["type", "form"])[["value", "duty"]].sum()
    channels = []
    for instrument_type in dict.fromkeys(i.type for i in scenario.instruments.values()):
        for form in FORMS:
            lever = scenario.policy.stamp_duty.lever(instrument_type, form)
            rate = float(np.mean([lever.value_on(day) for day in range(scenario.horizon_days)]))
            value, collected = totals.loc[(instrument_type, form)] if (instrument_type, form) in totals.index else (0, 0)
            channels.append({"instrument_type": instrument_type, "form": form, "rate_per_side": round(rate, 8),
                             "turnover_hkd": round(float(value), HKD_DIGITS), "duty_hkd": round(float(collected), 2)})
    return channels


def _stress_window(path: pd.DataFrame) -> slice | None:
    """The rows of an asset's hourly path around its stress (below par or unusable), or None if never stressed."""
    stressed = np.flatnonzero((path["price"].to_numpy(dtype=float) < BELOW_PAR)
                              | ~path["usable"].to_numpy(dtype=bool))
    if not len(stressed):
        return None
    start = max(0, int(stressed[0]) - WINDOW_BEFORE_DAYS * HOURS_PER_DAY)
    return slice(start, min(len(path), int(stressed[-1]) + 1 + WINDOW_AFTER_DAYS * HOURS_PER_DAY))


def _venues_form(result: RunResult, venues: list[str]) -> str | None:
    """The venues' form if they are every venue of it (their value traded is then the form's turnover)."""
    forms = {result.scenario.venues[v].form for v in venues}
    if len(forms) != 1:
        return None
    form = forms.pop()
    return form if {n for n, v in result.scenario.venues.items() if v.form == form} == set(venues) else None


def _asset_days(result: RunResult, asset: str, days: list[int]) -> dict[str, Any]:
    """The venues settling in `asset` on business `days`: mean quoted spread over their listings, value traded."""
    venues = result.money_venues.loc[result.money_venues["asset"] == asset, "venue"].tolist()
    rows = result.daily[result.daily["venue_name"].isin(venues)].groupby("day")
    return {"venues": venues, "form": _venues_form(result, venues), "days": days,
            "spread_bps": rounded(rows["quoted_spread_bps"].mean().reindex(days), BPS_DIGITS),
            "volume_hkd": rounded(rows["volume_hkd"].sum().reindex(days, fill_value=0.0), HKD_DIGITS)}


def _money(result: RunResult) -> dict[str, Any]:
    """Per settlement asset, its kind, low and (if stressed) its stress window (see the module docstring)."""
    assets = {}
    for asset, path in result.money.groupby("asset", sort=False):
        path = path.sort_values("hour")
        entry = {"kind": str(path["kind"].iloc[0]), "low": rounded([path["price"].min()], PRICE_DIGITS)[0]}
        window = _stress_window(path)
        if window is not None:
            hours = path.iloc[window]
            days = sorted(int(d) for d in set(hours["day"]) if d >= 0)
            entry |= {"first_hour": int(hours["hour"].iloc[0]), "first_date": str(hours["date"].iloc[0]),
                      "first_hour_of_day": int(hours["hour_of_day"].iloc[0]),
                      "price": rounded(hours["price"], PRICE_DIGITS), "value": rounded(hours["value"], PRICE_DIGITS),
                      "queue_hkd": rounded(hours["queue_hkd"], HKD_DIGITS),
                      "usable": [int(u) for u in hours["usable"]], "day": [int(d) for d in hours["day"]],
                      **_asset_days(result, str(asset), days)}
        assets[str(asset)] = entry
    return assets


def run_series(result: RunResult) -> dict[str, Any]:
    """The run's series record (see the module docstring)."""
    days = result.scenario.horizon_days
    money = {"money": _money(result)} if result.scenario.settlement_assets else {}
    return {
        "scenario": result.scenario.name, "scenario_hash": scenario_hash(result), "seed": result.seed, "days": days,
        **_turnover(result.daily, days),
        "exposure_hkd": _exposure(result.settlement, days),
        "books": _books(result.daily),
        "etf_premium": _etf_premium(result),
        "issues": _issues(result.issuance),
        "duty": _duty(result),
        **money,
    }
