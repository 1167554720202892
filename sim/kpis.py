"""The KPIs of a run, declared in one table and computed from the run's tables.

Each KPI has a name, unit, meaning and formula (`declared_kpis`), so outputs, reports and
documentation read the same list. Some KPIs exist once per instrument, listing, form or group;
the settlement-economics KPIs follow the declared ones.

Totals and rates stand side by side: a total (investors' cost in HKD) moves with the value
traded, a rate (cost in bps of value traded) does not. Means over quote samples pool every
listing of a form, so a new wide listing moves them; per-listing and value-weighted spreads
say which. Turnover splits a fixed stream of needs over instruments by interest weights, so a
new instrument's turnover is substitution by construction (see `SUBSTITUTION`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.kpi_record import Kpi
from sim.market.values import TRADING_DAYS_PER_YEAR
from sim.money_kpis import money_kpis
from sim.market.venue_kinds import PROVIDERS
from sim.scenario.schema import FORMS, Scenario
from sim.settlement_economics import settlement_kpis, settlement_scaling
from sim.tables import RunTables


FISCAL_KPIS = ("stamp_duty_hkd", "grants_paid_hkd", "net_fiscal_hkd")
"""The KPIs that are money the government collects or pays: the report shows them as the policy's fiscal cost."""

SUBSTITUTION = ("; each investor group's needs are split over its interests by fixed weights, so a new "
                "instrument's turnover is drawn from the others' by construction (substitution, not new demand); "
                "only within an exposure (`exposures`) do needs choose the instrument by cost")
"""Said of every turnover KPI: needs choose among an exposure's wrappers by cost, but the split over interests is fixed."""

POOLED_SPREAD = ("mean over quote samples of every listing in that form; a new wide listing raises it: see the "
                 "per-listing and value-weighted spreads")
"""Said of each form's mean quoted spread: it pools listings, so the mix of listings moves it."""

COST_PARTS = {"duty": "taker_duty_hkd", "fees": "taker_fees_hkd", "spread": "taker_spread_hkd"}
"""Investors' all-in cost, by part: the trade table's column of each."""


def _where(trades: pd.DataFrame, **where: str) -> np.ndarray:
    """Which trades have the values given in their columns, as a mask.

    KPIs filter the trade table dozens of times and each sums a column or two of what is left, so
    they take the column and then the rows (the same values, in the same order, so the same sums):
    filtering the whole table would copy every column, its names among them, each time."""
    mask = np.ones(len(trades), dtype=bool)
    for column, wanted in where.items():
        mask &= (trades[column] == wanted).to_numpy()
    return mask


def _value(trades: pd.DataFrame, mask: np.ndarray | None = None, **where: str) -> float:
    """Value traded in the trades matching `where` (among those in `mask`, if given)."""
    selected = _where(trades, **where)
    return float(trades["value_hkd"][selected if mask is None else selected & mask].sum())


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _investor_trades(r: RunTables) -> np.ndarray:
    """Which trades an investor group took, as a mask (see `_where`)."""
    return r.trades["taker_group"].isin(list(r.scenario.investors)).to_numpy()


def _cost_bps(parts: tuple[str, ...], **where: str) -> Callable[[RunTables], float]:
    """Investors' cost in these parts per HK$ they traded (of the trades matching `where`), in bps; NaN without trades."""
    def compute(r: RunTables) -> float:
        trades = r.trades
        mask = _investor_trades(r) & _where(trades, **where)
        value = float(trades["value_hkd"][mask].sum())
        cost = sum(float(trades[COST_PARTS[part]][mask].sum()) for part in parts)
        return cost / value * 10_000.0 if value > 0 else float("nan")
    return compute


def _mean_spread(r: RunTables, form: str) -> float:
    spreads = r.quotes.loc[r.quotes["form"] == form, "spread_bps"]
    return float(spreads.mean()) if len(spreads) else float("nan")


def _listing_names(r: RunTables, frame: pd.DataFrame) -> pd.DataFrame:
    """Per listing index in `frame`: its name as KPIs give it (the instrument, or for an issue of a
    programme the programme, so that a programme's issues pool), its venue and its form."""
    issues = r.issuance
    programme_of = {} if "programme" not in issues else dict(
        issues.loc[issues["programme"].notna(), ["name", "programme"]].itertuples(index=False))
    listings = frame.drop_duplicates("listing").set_index("listing")[["instrument", "venue_name", "form"]]
    return listings.assign(name=[programme_of.get(i, i) for i in listings["instrument"]])


def _pooled(r: RunTables, frame: pd.DataFrame, values: pd.Series) -> pd.DataFrame:
    """Sum and count of `values` (rows of `frame`) per KPI listing (name, venue), with its form."""
    per_listing = values.groupby(frame["listing"]).agg(["sum", "count"])
    names = _listing_names(r, frame).reindex(per_listing.index)
    pooled = per_listing.groupby([names["name"], names["venue_name"]]).sum()
    return pooled.assign(form=names.groupby([names["name"], names["venue_name"]])["form"].first())


QUOTE_MEASURES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "spread_bps": lambda quotes: quotes["spread_bps"],
    "depth_hkd": lambda quotes: quotes["depth_units"] * quotes["fair_value_hkd"],
    "discovery_bps": lambda quotes: quotes["discovery_bps"],
}
"""What a quote sample shows, by KPI name prefix: its spread, and its depth at the touch valued at fair value."""


def _pooled_mean(r: RunTables, frame: pd.DataFrame, values: pd.Series, name: str, venue: str) -> float:
    """Mean of `values` (rows of `frame`) on one listing (a programme's issues pooled); NaN if it has no rows."""
    if not len(frame):
        return float("nan")
    pooled = _pooled(r, frame, values)
    if (name, venue) not in pooled.index:
        return float("nan")
    total, count = pooled.loc[(name, venue), ["sum", "count"]]
    return float(total / count)


MARKOUTS = {
    "price_impact_bps": "Price impact: twice how far fair value moved the taker's way over the next hour, in bps of "
                        "fair value (the part of the effective spread that informed takers win back; about 0 for "
                        "uninformed flow)",
    "realized_spread_bps": "Realized spread: the effective spread less the price impact, in bps (what the liquidity "
                           "provider kept once the value had moved; the two add up to `effective_spread_bps`)",
}
"""A trade's markout against the fair value an hour later (`sim.tables.trade_markouts`), by KPI name prefix."""


def _markout(r: RunTables, part: str, name: str, venue: str) -> float:
    """Value-weighted mean of a markout over the trades investors took on one listing (programmes pooled)."""
    trades = r.trades
    if not len(trades):
        return float("nan")
    taken = _investor_trades(r)
    value = trades["value_hkd"].where(taken, 0.0)
    weighted = _pooled(r, trades, r.markouts[part] * value)
    weights = _pooled(r, trades, value)
    if (name, venue) not in weights.index or not weights.loc[(name, venue), "sum"] > 0:
        return float("nan")
    return float(weighted.loc[(name, venue), "sum"] / weights.loc[(name, venue), "sum"])


def _listing_mean(measure: str, name: str, venue: str) -> Callable[[RunTables], float]:
    """Mean of a quote-sample measure on one listing (a programme's issues pooled); NaN if never quoted."""
    return lambda r: _pooled_mean(r, r.quotes, QUOTE_MEASURES[measure](r.quotes), name, venue)


def _listing_trades(r: RunTables, name: str, venue: str) -> float:
    """Trades on one listing (a programme's issues pooled)."""
    if not len(r.trades):
        return 0.0
    per_listing = _pooled(r, r.trades, pd.Series(1.0, index=r.trades.index))
    return float(per_listing.loc[(name, venue), "sum"]) if (name, venue) in per_listing.index else 0.0


def _value_weighted_spread(r: RunTables, form: str) -> float:
    """Each quoted listing's mean spread in this form, weighted by the value traded on it; NaN if none traded."""
    quoted = _pooled(r, r.quotes, r.quotes["spread_bps"])
    quoted = quoted[quoted["form"] == form]
    weights = _pooled(r, r.trades, r.trades["value_hkd"])["sum"].reindex(quoted.index, fill_value=0.0)
    total = float(weights.sum())
    return float((quoted["sum"] / quoted["count"] * weights).sum() / total) if total > 0 else float("nan")


def book_listings(scenario: Scenario) -> list[tuple[str, str]]:
    """(instrument or programme, venue) of every order-book listing, in declaration order: the listings
    with quote samples (a dealer answers requests for quote and shows none)."""
    listed = [(name, venue_name) for venue_name, venue in scenario.venues.items() for name in venue.listings]
    listed += [(name, venue_name) for name, programme in scenario.programmes().items()
               for venue_name in dict.fromkeys(programme.venue.values())]
    return [(name, venue) for name, venue in listed if PROVIDERS[scenario.venues[venue].kind].order_book]


def _abs_premium(r: RunTables, kind: str = "etf") -> float:
    premiums = r.quotes.loc[r.quotes["instrument_type"] == kind, "premium_bps"]
    return float(premiums.abs().mean()) if len(premiums) else float("nan")


def _created(r: RunTables, kind: str) -> float:
    """Units of instruments of this type created less units redeemed."""
    return float(r.daily.loc[r.daily["instrument_type"] == kind, "created_units"].sum())


def _duty(trades: pd.DataFrame, **where: str) -> float:
    """Stamp duty on both sides of the trades matching `where` (all trades without it), HKD."""
    if not where:
        return float((trades["buyer_duty_cents"].sum() + trades["seller_duty_cents"].sum()) / 100.0)
    mask = _where(trades, **where)
    return float((trades["buyer_duty_cents"][mask].sum() + trades["seller_duty_cents"][mask].sum()) / 100.0)


def _basket_duty(r: RunTables) -> float:
    """Duty on the baskets of creations and redemptions (rows of the issuance table that carry it)."""
    column = r.issuance.get("basket_stamp_duty_hkd")
    return 0.0 if column is None else float(column.fillna(0).sum())


def _total(column: str) -> Callable[[RunTables], float]:
    return lambda r: float(r.trades[column][_investor_trades(r)].sum())


def declared_kpis(scenario: Scenario) -> list[Kpi]:
    """Every KPI of a run of this scenario, in report order."""
    kpis = [
        Kpi("turnover_hkd_tokenized", "HKD", f"Value traded in tokenized form{SUBSTITUTION}",
            lambda r: _value(r.trades, form="tokenized")),
        Kpi("turnover_hkd_conventional", "HKD", f"Value traded in conventional form{SUBSTITUTION}",
            lambda r: _value(r.trades, form="conventional")),
        Kpi("tokenized_share", "fraction", "Tokenized share of all value traded",
            lambda r: _share(_value(r.trades, form="tokenized"), float(r.trades["value_hkd"].sum()))),
        Kpi("stamp_duty_hkd", "HKD", "Stamp duty collected: both sides of every simulated trade (an authorised "
            "participant's trades in a basket share among them), plus the participants' duty lines "
            "(`basket_stamp_duty_hkd`)",
            lambda r: _duty(r.trades) + _basket_duty(r)),
        Kpi("basket_stamp_duty_hkd", "HKD", "Stamp duty the authorised participants pay on a duty line of their own: "
            "on buying and selling the basket stocks of creations and redemptions where the basket is not a share of "
            "the run (those stock trades are not simulated), and on the basket's transfer into or out of the fund "
            "when that is not relieved; a basket share's trades pay theirs in the stock channel",
            _basket_duty),
        Kpi("investor_cost_hkd", "HKD", "Investors' duty, fees and spread paid against fair value, a total: it grows "
            "with the value traded even when each trade costs less (see `investor_cost_bps`)",
            lambda r: _total("taker_duty_hkd")(r) + _total("taker_fees_hkd")(r) + _total("taker_spread_hkd")(r)),
        Kpi("investor_duty_hkd", "HKD", "Stamp duty paid by investors", _total("taker_duty_hkd")),
        Kpi("investor_fees_hkd", "HKD", "Fees and levies paid by investors", _total("taker_fees_hkd")),
        Kpi("investor_spread_hkd", "HKD", "Spread paid by investors against fair value", _total("taker_spread_hkd")),
        Kpi("investor_cost_bps", "bps", "Investors' duty, fees and spread paid against fair value per HK$ they traded "
            "(`investor_cost_hkd` over their value traded); NaN when they traded nothing", _cost_bps(tuple(COST_PARTS))),
        *(Kpi(f"investor_{part}_bps", "bps", f"Investors' {words} per HK$ they traded; NaN when they traded nothing",
              _cost_bps((part,)))
          for part, words in (("duty", "stamp duty"), ("fees", "fees and levies"), ("spread", "spread against fair value"))),
        *(Kpi(f"investor_cost_bps_{form}", "bps", f"Investors' duty, fees and spread per HK$ they traded in {form} form; "
              "NaN when they traded nothing there", _cost_bps(tuple(COST_PARTS), form=form)) for form in FORMS),
        *(Kpi(f"avg_spread_bps_{form}", "bps", f"Mean quoted spread on {form} order books: {POOLED_SPREAD}",
              lambda r, f=form: _mean_spread(r, f)) for form in ("tokenized", "conventional")),
        *(Kpi(f"spread_bps_vw_{form}", "bps", f"Mean quoted spread of each {form} order-book listing, weighted by the "
              "value traded on it (it moves when trading shifts between listings); NaN when nothing traded on a "
              "quoted listing", lambda r, f=form: _value_weighted_spread(r, f))
          for form in ("tokenized", "conventional")),
        Kpi("trades", "count", "Number of trades", lambda r: float(len(r.trades))),
        Kpi("needs", "count", "Trading needs that arose", lambda r: float(r.groups["needs"].sum())),
        Kpi("needs_traded_share", "fraction", "Share of needs that traded at all",
            lambda r: _share(float(r.groups["traded"].sum()), float(r.groups["needs"].sum()))),
        Kpi("etf_mean_abs_premium_bps", "bps", "Mean absolute premium of ETF mid quotes to NAV", _abs_premium),
        Kpi("etf_units_created", "units", "ETF units created less units redeemed", lambda r: _created(r, "etf")),
        Kpi("avg_unsettled_hkd", "HKD", "Mean end-of-day value awaiting settlement, all venues",
            lambda r: float(r.daily.groupby("day")["unsettled_hkd"].sum().mean())),
        Kpi("settlement_fails", "count", "Failed settlement attempts", lambda r: float(r.daily["fails"].sum())),
        Kpi("settlement_failed_hkd", "HKD", "Value of failed settlement attempts", lambda r: float(r.daily["failed_hkd"].sum())),
    ]
    types = sorted({i.type for i in scenario.instruments.values()} | {p.instrument_type for p in scenario.programmes().values()})
    for kind in types:
        kpis.append(Kpi(f"tokenized_share_{kind}", "fraction", f"Tokenized share of {kind} value traded",
                        lambda r, k=kind: _share(_value(r.trades, form="tokenized", instrument_type=k), _value(r.trades, instrument_type=k))))
        kpis.append(Kpi(f"stamp_duty_hkd_{kind}", "HKD", f"Stamp duty collected on {kind} transfers",
                        lambda r, k=kind: _duty(r.trades, instrument_type=k)))
        for form in FORMS:  # the duty of each channel: a waiver of one form shows where the duty went
            kpis.append(Kpi(f"stamp_duty_hkd_{kind}_{form}", "HKD", f"Stamp duty collected on {form} {kind} "
                            "transfers, both sides of every simulated trade, an authorised participant's trades in a "
                            "basket share among them (its duty lines are `basket_stamp_duty_hkd`)",
                            lambda r, k=kind, f=form: _duty(r.trades, instrument_type=k, form=f)))
    for name in scenario.instruments:
        for form in FORMS:
            kpis.append(Kpi(f"turnover_hkd_{name}_{form}", "HKD", f"Value traded in {name}, {form} form{SUBSTITUTION}",
                            lambda r, n=name, f=form: _value(r.trades, instrument=n, form=f)))
    for name, venue in book_listings(scenario):
        kpis.append(Kpi(f"trades_{name}_{venue}", "count", f"Trades in {name} on {venue} (a programme's issues pooled)",
                        lambda r, n=name, v=venue: _listing_trades(r, n, v)))
        kpis.append(Kpi(f"trade_size_hkd_{name}_{venue}", "HKD", f"Mean value of a trade in {name} on {venue}, every "
                        "trade on its book (a programme's issues pooled); NaN if none traded",
                        lambda r, n=name, v=venue: _pooled_mean(r, r.trades, r.trades["value_hkd"], n, v),
                        is_total=False))
        kpis.append(Kpi(f"spread_bps_{name}_{venue}", "bps", f"Mean quoted spread of {name} on {venue} over its quote "
                        "samples (a programme's issues pooled); NaN if never quoted",
                        _listing_mean("spread_bps", name, venue)))
        kpis.append(Kpi(f"depth_hkd_{name}_{venue}", "HKD", f"Mean depth at the best quotes of {name} on {venue} (mean "
                        "of the bid and ask sides, valued at fair value); NaN if never quoted",
                        _listing_mean("depth_hkd", name, venue), is_total=False))
        for part, meaning in MARKOUTS.items():
            kpis.append(Kpi(f"{part}_{name}_{venue}", "bps", f"{meaning} of the trades investors took on {name} on "
                            f"{venue}, weighted by value (a programme's issues pooled); NaN if they took none",
                            lambda r, n=name, v=venue, p=part: _markout(r, p, n, v)))
        kpis.append(Kpi(f"discovery_bps_{name}_{venue}", "bps", f"Price discovery of {name} on {venue}: how far its "
                        "quote mid stood from fair value towards where fair value went over the next hour, mean over "
                        "quote samples where it moved (bps; 0 for quotes that do not anticipate it, above 0 where they "
                        "lean towards it, as they do after informed flow; compare venues to see which leads)",
                        _listing_mean("discovery_bps", name, venue)))
    if "commodity_token" in types:
        kpis += [
            Kpi("commodity_token_mean_abs_premium_bps", "bps", "Mean absolute premium of commodity token mid quotes to their backing",
                lambda r: _abs_premium(r, "commodity_token")),
            Kpi("commodity_token_units_created", "units", "Commodity tokens created less tokens redeemed",
                lambda r: _created(r, "commodity_token")),
        ]
    kpis.extend(_grant_kpis())  # fiscal: a world without issuers pays no grants (0, not unknown)
    kpis.append(Kpi("net_fiscal_hkd", "HKD", "Net fiscal take of one run over its horizon: all stamp duty collected "
                    "(`stamp_duty_hkd`: every simulated trade's both sides and the authorised participants' duty "
                    "lines) less issuance grants paid out of government to market issuers (`grants_paid_hkd`); "
                    "levies go to the SFC and AFRC, not the government, and are left out",
                    lambda r: _duty(r.trades) + _basket_duty(r) - _grants(r, government=False)))
    if scenario.issuers:
        kpis.extend(_issuance_kpis())
    if "revenue_token" in types:
        kpis.extend(_revenue_kpis())
    exchanges = tuple(name for name, venue in scenario.venues.items() if venue.kind == "exchange")
    for group in scenario.investors:
        kpis.append(Kpi(f"turnover_hkd_tokenized_{group}", "HKD", f"Tokenized value traded by {group} investors{SUBSTITUTION}",
                        lambda r, g=group: _value(r.trades, form="tokenized", taker_group=g)))
        kpis.append(Kpi(f"investor_cost_bps_{group}", "bps", f"Duty, fees and spread paid by {group} investors per HK$ "
                        "they traded; NaN when they traded nothing", _cost_bps(tuple(COST_PARTS), taker_group=group)))
        kpis.append(Kpi(f"adoption_share_{group}", "fraction", f"Share of {group} accounts onboarded at the end",
                        lambda r, g=group: float(r.groups.loc[r.groups["group_name"] == g, "onboarded_share"].iloc[-1])))
        if exchanges:
            kpis.append(Kpi(
                f"exchange_turnover_share_{group}", "fraction", f"Share of the exchange's trading value that {group} "
                "investors traded, both sides of every trade counted (as HKEX's Cash Market Transaction Survey counts, "
                "so the groups and the liquidity providers sum to 1); 0 when the exchange traded nothing",
                lambda r, g=group, e=exchanges: _exchange_share(r, g, e)))
    for exposure, params in scenario.exposures.items():
        wrappers = tuple(params.wrappers)
        for wrapper in wrappers:
            kpis.append(Kpi(
                f"exposure_share_{exposure}_{wrapper}", "fraction",
                f"Share of the value investors traded in the {exposure} exposure's wrappers ({', '.join(wrappers)}) that "
                f"went through {wrapper}: where the choice of wrapper put the volume (investors' trades in these "
                "instruments, whatever the interest behind them); 0 when they traded none",
                lambda r, w=wrapper, ws=wrappers: _exposure_share(r, w, ws)))
    kpis.extend(_venue_kpis(scenario))
    kpis.extend(_discovery_kpis(scenario))
    kpis.extend(_conversion_kpis(scenario))
    kpis.extend(money_kpis(scenario))
    kpis.extend(_per_year(kpis, scenario.horizon_days))
    _check_unique(kpis)
    return kpis


def yearly(name: str) -> bool:
    """Is the KPI a fiscal, turnover or trade-count total that also has a `_per_year` form?"""
    return name in FISCAL_KPIS or name.startswith(("turnover_hkd_", "stamp_duty_hkd_", "basket_stamp_duty_hkd",
                                                   "grants_", "trades_"))


def _per_year(kpis: list[Kpi], horizon_days: int) -> list[Kpi]:
    """Each fiscal and turnover total, and each listing's trade count, over a year: its value over
    the horizon times 250 business days over the horizon's (a year is TRADING_DAYS_PER_YEAR
    business days, as in the model's annual rates, whatever the calendar's count)."""
    factor = TRADING_DAYS_PER_YEAR / horizon_days
    return [Kpi(f"{kpi.name}_per_year", f"{kpi.unit} a year", f"{kpi.meaning}; a year of it (times "
                f"{TRADING_DAYS_PER_YEAR} business days over the {horizon_days} simulated)",
                lambda r, k=kpi: k.compute(r) * factor, scales=(kpi.name, factor))
            for kpi in kpis if yearly(kpi.name) and kpi.unit in ("HKD", "count")]


def _exchange_share(r: RunTables, group: str, exchanges: tuple[str, ...]) -> float:
    """The group's share of the exchanges' trading value, both sides counted: what it bought and
    sold there over twice the value traded there."""
    trades = r.trades
    on_exchange = trades["venue_name"].isin(list(exchanges)).to_numpy()
    value = trades["value_hkd"].to_numpy()
    both_sides = ((trades["buyer_group"] == group).to_numpy().astype(float)
                  + (trades["seller_group"] == group).to_numpy())
    return _share(float((value * both_sides)[on_exchange].sum()), 2.0 * float(value[on_exchange].sum()))


def _venue_share(r: RunTables, venue: str, days: tuple[float, float] = (0.0, 1.0)) -> float:
    """The venue's share of the value investors took on every venue, over the days in the fraction `days`
    of the horizon (the whole of it by default); 0 when they took nothing there."""
    trades = r.trades
    horizon = r.scenario.horizon_days
    day = trades["day"].to_numpy()
    within = _investor_trades(r) & (day >= days[0] * horizon) & (day < days[1] * horizon)
    value = trades["value_hkd"].to_numpy()
    here = (trades["venue_name"] == venue).to_numpy()
    return _share(float(value[within & here].sum()), float(value[within].sum()))


def _converted(r: RunTables, instrument: str, to_form: str) -> float:
    rows = r.conversions
    return float(rows.loc[(rows["instrument"] == instrument) & (rows["to_form"] == to_form), "units"].sum())


def _conversion_kpis(scenario: Scenario) -> list[Kpi]:
    """Units converted between forms, each way, and the custodian's fees (scenarios with `conversions`)."""
    kpis = []
    for instrument in scenario.conversions:
        for form in FORMS:
            kpis.append(Kpi(f"units_converted_{instrument}_to_{form}", "units", f"Units of {instrument} converted "
                            f"into {form} form through the custodian by the arbitrageur across forms",
                            lambda r, i=instrument, f=form: _converted(r, i, f)))
    if scenario.conversions:
        kpis.append(Kpi("conversion_fees_hkd", "HKD", "Fees paid to the custodian for converting units between forms",
                        lambda r: float(r.conversions["fee_hkd"].sum())))
    return kpis


QUARTERS = {"first_quarter": (0.0, 0.25), "last_quarter": (0.75, 1.0)}
"""The parts of the horizon over which a venue's share is also measured: where the volume went over time."""


def _venue_kpis(scenario: Scenario) -> list[Kpi]:
    """Each venue's share of what investors traded, over the horizon and in its first and last quarters."""
    kpis = []
    for venue in scenario.venues:
        kpis.append(Kpi(f"venue_share_{venue}", "fraction", f"Share of the value investors took (as takers) that went "
                        f"through {venue}, of what they took on every venue; 0 when they took nothing",
                        lambda r, v=venue: _venue_share(r, v)))
        for part, days in QUARTERS.items():
            kpis.append(Kpi(f"venue_share_{venue}_{part}", "fraction", f"`venue_share_{venue}` over the {part.replace('_', ' ')} "
                            "of the horizon's business days: with the other quarter, where the volume moved over time",
                            lambda r, v=venue, d=days: _venue_share(r, v, d)))
    return kpis


def _discovery(r: RunTables, instrument: str, venue: str, measure: str) -> float:
    """Venue's information-share bound (`low` or `high`) or lead-lag ratio against the instrument's other venue,
    from the run's discovery table (venue b's bounds are 1 less venue a's, swapped; its ratio the inverse)."""
    table = r.discovery
    rows = table[table["instrument"] == instrument] if len(table) else table
    if not len(rows):
        return math.nan
    row = rows.iloc[0]
    if measure == "lead_lag":
        ratio = float(row["lead_lag_ratio"])
        return ratio if venue == row["venue_a"] else (1.0 / ratio if ratio > 0 else math.nan)
    if venue == row["venue_a"]:
        return float(row[f"hasbrouck_{measure}_a"])
    return 1.0 - float(row["hasbrouck_high_a" if measure == "low" else "hasbrouck_low_a"])


def _discovery_kpis(scenario: Scenario) -> list[Kpi]:
    """For an instrument quoted on two venues' order books: each venue's Hasbrouck information-share bounds and
    lead-lag ratio against the other (`sim.price_discovery`)."""
    venues_of: dict[str, list[str]] = {}
    for name, venue in book_listings(scenario):
        if name in scenario.instruments:
            venues_of.setdefault(name, []).append(venue)
    kpis = []
    for name, venues in venues_of.items():
        if len(venues) != 2:
            continue
        for venue, other in (venues, venues[::-1]):
            for bound in ("low", "high"):
                kpis.append(Kpi(f"information_share_{bound}_{name}_{venue}", "fraction", f"Hasbrouck (1995) information "
                                f"share of {name}'s quotes on {venue} against {other}, {bound}er bound: the share of the "
                                "permanent price's moves that show first in its mid, on a grid of the slower maker's "
                                "requote clock. The bounds are wide (near 0 and 1) when both venues' quotes move within "
                                "one sampling interval, as they do when both makers price off the same fair value; "
                                "`discovery_bps_*` measures against the fair value itself",
                                lambda r, n=name, v=venue, b=bound: _discovery(r, n, v, b)))
            kpis.append(Kpi(f"lead_lag_ratio_{name}_{venue}", "ratio", f"Lead-lag ratio (Huth and Abergel 2014) of "
                            f"{name}'s mid on {venue} against {other}: how much its moves foreshadow the other's over "
                            "the next two grid intervals, over the reverse; above 1 when it leads, noisy where neither "
                            "does", lambda r, n=name, v=venue: _discovery(r, n, v, "lead_lag")))
    return kpis


def _exposure_share(r: RunTables, wrapper: str, wrappers: tuple[str, ...]) -> float:
    trades = r.trades
    mask = _investor_trades(r) & trades["instrument"].isin(list(wrappers)).to_numpy()
    return _share(_value(trades, mask, instrument=wrapper), float(trades["value_hkd"][mask].sum()))


def _check_unique(kpis: list[Kpi]) -> None:
    """Names built from instrument, venue and group names could coincide; one would overwrite the other."""
    names = [kpi.name for kpi in kpis]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"KPI names given twice (rename an instrument, venue or investor group): {', '.join(twice)}")


def _bond_issues(r: RunTables) -> pd.DataFrame:
    return r.issuance[r.issuance["kind"] == "bond issue"]


def _issued(r: RunTables, form: str) -> pd.DataFrame:
    issues = _bond_issues(r)
    return issues[issues["form"] == form]


def _mean_or_nan(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else float("nan")


def _retail_allocated(r: RunTables) -> float:
    """Units allocated to the groups flagged `retail`, whatever their names."""
    issues = _bond_issues(r)
    columns = [f"allocated_units_{name}" for name, group in r.scenario.investors.items() if group.retail]
    return float(sum(issues[c].sum() for c in columns if c in issues))


def _grants(r: RunTables, government: bool) -> float:
    """Grants paid, to the government's own issues or to everyone else's (ETF flows carry none)."""
    if "grant_hkd" not in r.issuance:  # no issue closed: nothing was paid
        return 0.0
    issues = r.issuance[r.issuance["grant_hkd"] > 0]
    own = issues.get("issuer_kind", pd.Series("", index=issues.index)) == "government"
    return float(issues.loc[own if government else ~own, "grant_hkd"].sum())


def _grant_kpis() -> list[Kpi]:
    return [
        Kpi("grants_paid_hkd", "HKD", "Issuance grants paid to market issuers: the fiscal cost, a transfer out of "
            "government (a grant to the government's own issue, possible only as a counterfactual, is not one)",
            lambda r: _grants(r, government=False)),
        Kpi("grants_to_government_hkd", "HKD", "Grants paid by the scheme to the government's own issues: money "
            "moved within government (0 unless a counterfactual makes its issues eligible)",
            lambda r: _grants(r, government=True)),
    ]


def _issuance_kpis() -> list[Kpi]:
    kpis = [
        Kpi("retail_allocation_share", "fraction", "Share of all units allocated in new issues to retail groups "
            "(investor groups flagged `retail`)", lambda r: _share(_retail_allocated(r), float(_bond_issues(r)["allocated_units"].sum()))),
    ]
    for form in FORMS:
        kpis += [
            Kpi(f"issued_hkd_{form}", "HKD", f"Face value issued in {form} form", lambda r, f=form: float(_issued(r, f)["size_hkd"].sum())),
            Kpi(f"issue_cost_bps_{form}", "bps", f"Mean issuer cost net of grants, {form} issues",
                lambda r, f=form: _mean_or_nan(_issued(r, f)["net_cost_bps"])),
            Kpi(f"days_to_settle_{form}", "days", f"Mean business days from allocation to settlement, {form} issues",
                lambda r, f=form: _mean_or_nan(_issued(r, f)["days_to_settle"])),
            Kpi(f"distinct_holders_{form}", "count", f"Mean distinct holders per {form} issue",
                lambda r, f=form: _mean_or_nan(_issued(r, f)["distinct_holders"])),
            Kpi(f"cash_locked_hkd_days_{form}", "HKD-days", f"Investor cash locked from allocation to settlement, {form} issues",
                lambda r, f=form: float(_issued(r, f)["cash_locked_hkd_days"].sum())),
        ]
    return kpis


def _revenue_kpis() -> list[Kpi]:
    def issued(r: RunTables) -> pd.DataFrame:
        return r.issuance[r.issuance["kind"] == "revenue token issue"]

    def distributions(r: RunTables) -> pd.DataFrame:  # within the horizon (the desk pays on while trades settle)
        return r.payments[(r.payments["kind"] == "distribution") & (r.payments["day"] < r.scenario.horizon_days)]

    return [
        Kpi("revenue_tokens_issued_hkd", "HKD", "Value of revenue tokens sold in their issues", lambda r: float(issued(r)["size_hkd"].sum())),
        Kpi("revenue_token_discount_rate", "fraction", "Mean discount rate at which revenue token issues cleared",
            lambda r: _mean_or_nan(issued(r)["clearing_yield"])),
        Kpi("distributions_paid_hkd", "HKD", "Revenue distributed to revenue token holders within the horizon",
            lambda r: float(distributions(r)["paid_hkd"].sum())),
        Kpi("distributed_output_kwh", "kWh", "Project output behind the distributions paid",
            lambda r: float(distributions(r)["output_kwh"].sum())),
    ]


def compute_kpis(tables: RunTables) -> dict[str, float]:
    """Every declared KPI of one run, in declaration order, then the settlement-economics KPIs. For a
    sampled run (`sample.weight` above 1) totals are the whole market's, the sample's times the
    weight; rates, shares, spreads and depth are the sample's; the settlement KPIs set on net
    positions are NaN (a sample cannot give them: `NET_POSITION_KPIS`)."""
    weight = tables.scenario.sample.weight
    declared = declared_kpis(tables.scenario)
    kpis: dict[str, float] = {}
    for kpi in declared:  # a KPI that scales an earlier one takes its value rather than computing it again
        kpis[kpi.name] = kpi.compute(tables) if kpi.scales is None else kpis[kpi.scales[0]] * kpi.scales[1]
    settlement = settlement_kpis(tables.settlement)
    if weight == 1:
        return kpis | settlement
    totals = {kpi.name for kpi in declared if kpi.total}
    totals |= {name for name in settlement if settlement_scaling(name) == "total"}
    unknowable = {name for name in settlement if settlement_scaling(name) == "net"}
    return {name: math.nan if name in unknowable else value * weight if name in totals else value
            for name, value in (kpis | settlement).items()}
