"""The tables of a run, built once from the recorded columns when the run ends.

`trades` is the trade table with names and values attached; `daily` has one row per business
day and listing (instrument on a venue); `groups` one row per day and investor group;
`issuance` one row per issue, creation or redemption; `settlement` the exposure, margin and
funding per day and venue; `payments` one row per payment to holders. KPIs (`sim.kpis`) and
output files read these tables, never the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.market.orderbook import BUY
from sim.money_tables import money_tables
from sim.price_discovery import QuotedPair, discovery_table
from sim.recorder import Recorder
from sim.scenario.schema import Scenario
from sim.settlement_economics import (
    BuyInTerms, FundingTerms, MarginTerms, settlement_economics, venue_settlement_terms,
)

if TYPE_CHECKING:
    from sim.engine import Model


def listing_frame(model: Model) -> pd.DataFrame:
    """One row per listing: its instrument, type, venue, venue kind and form."""
    return pd.DataFrame(
        {
            "instrument": [l.instrument for l in model.listings],
            "instrument_type": [l.instrument_type for l in model.listings],
            "venue_name": [l.venue.name for l in model.listings],
            "venue_kind": [l.venue.kind for l in model.listings],
            "form": [l.venue.form for l in model.listings],
        }
    )


def trades_table(recorder: Recorder, listings: pd.DataFrame, groups: np.ndarray) -> pd.DataFrame:
    """Recorded trades with listing names, investor groups, HKD values and the taker's costs."""
    trades = recorder.trades.frame()
    described = listings.iloc[trades["listing"]].reset_index(drop=True)
    for position, column in enumerate(described.columns):
        trades.insert(3 + position, column, _strings(described[column]))
    names = pd.Series(pd.unique(groups))  # each group's name once, typed as pandas types any column of them
    codes = pd.Index(names).get_indexer(groups)  # account -> its group's row in `names`
    buyer_codes, seller_codes = codes[trades["buyer"]], codes[trades["seller"]]
    trades["buyer_group"] = _strings(names, buyer_codes)
    trades["seller_group"] = _strings(names, seller_codes)
    trades["value_hkd"] = trades["price_cents"] * trades["quantity"] / 100.0
    trades["premium_bps"] = (trades["price_cents"] / 100.0 / trades["fair_value_hkd"] - 1.0) * 10_000.0
    taker_buys = trades["taker_side"] == BUY
    trades["taker_group"] = _strings(names, np.where(taker_buys, buyer_codes, seller_codes))
    trades["taker_duty_hkd"] = np.where(taker_buys, trades["buyer_duty_cents"], trades["seller_duty_cents"]) / 100.0
    trades["taker_fees_hkd"] = np.where(taker_buys, trades["buyer_fees_cents"], trades["seller_fees_cents"]) / 100.0
    trades["taker_spread_hkd"] = trades["taker_side"] * trades["premium_bps"] / 10_000.0 * trades["value_hkd"] / (
        1.0 + trades["premium_bps"] / 10_000.0
    )
    return trades


def _strings(names: pd.Series, codes: np.ndarray | None = None):
    """The column of `names` taken at `codes` (all of `names` if None), for a table's name column.

    A run's trades name a handful of listings and groups, so the column is taken from those few
    names in pandas' own typed array (one Arrow take) rather than built from one Python string per
    row and typed again: the same values and dtype, in a fraction of the time. Without rows pandas
    has nothing to infer a string dtype from and makes the column `object`, so an empty column is
    an empty object array, as it always was.
    """
    taken = names.array if codes is None else names.array.take(codes)
    return taken if len(taken) else np.array([], dtype=object)


def daily_table(
    recorder: Recorder, trades: pd.DataFrame, quotes: pd.DataFrame, listings: pd.DataFrame, horizon_days: int
) -> pd.DataFrame:
    """One row per business day and listing: flows, spreads, depth, value, premium, settlement."""
    index = pd.MultiIndex.from_product([range(horizon_days), range(len(listings))], names=["day", "listing"])
    trades = trades.assign(effective_value=2.0 * trades["taker_side"] * trades["premium_bps"] * trades["value_hkd"])
    by_day = trades.groupby(["day", "listing"])
    volume_hkd = by_day["value_hkd"].sum()
    daily = pd.DataFrame(
        {
            "volume_units": by_day["quantity"].sum(),
            "volume_hkd": volume_hkd,
            "trades": by_day["quantity"].size(),
            "last_price_hkd": by_day["price_cents"].last() / 100.0,
            "effective_spread_bps": by_day["effective_value"].sum() / volume_hkd,
        }
    ).reindex(index)
    for column in ("volume_units", "volume_hkd", "trades"):
        daily[column] = daily[column].fillna(0).astype("int64" if column != "volume_hkd" else "float64")
    quotes = quotes.groupby(["day", "listing"])
    daily["quoted_spread_bps"] = quotes["spread_bps"].mean().reindex(index)
    daily["premium_bps"] = quotes["premium_bps"].mean().reindex(index)
    daily["depth_at_best_units"] = quotes["depth_units"].mean().reindex(index)
    settlement = recorder.settlement.frame().set_index(["day", "listing"]).reindex(index)
    daily["unsettled_hkd"] = settlement["unsettled_cents"].to_numpy() / 100.0
    daily["fails"] = settlement["fails"].to_numpy()
    daily["failed_hkd"] = settlement["failed_cents"].to_numpy() / 100.0
    flows = recorder.creations.frame().groupby(["day", "listing"])["created_units"].sum().reindex(index)
    daily["created_units"] = flows.fillna(0).astype("int64").to_numpy()
    daily = daily.reset_index()
    described = listings.iloc[daily["listing"]].reset_index(drop=True)
    for position, column in enumerate(described.columns):
        daily.insert(2 + position, column, described[column].to_numpy())
    return daily


def settlement_table(model: Model, trades: pd.DataFrame) -> pd.DataFrame:
    """Exposure, CCP margin, gross and netted funding need, funding cost and fails per day and venue.

    Clearing members are brokers: each investor group clears through one, so its clients'
    purchases and sales net against each other; each liquidity provider's desk clears for itself.
    """
    scenario = model.scenario
    codes, _ = pd.factorize(pd.concat([trades["buyer_group"], trades["seller_group"]]), sort=True)
    trades = trades.assign(buyer=codes[: len(trades)], seller=codes[len(trades):])
    market_venues = {listing.venue.name: listing.venue for listing in model.listings}
    venues = venue_settlement_terms({name: market_venues[name] for name in scenario.venues},
                                    {name: venue.central_counterparty for name, venue in scenario.venues.items()},
                                    scenario.horizon_days)
    terms = scenario.settlement
    ends = [day + 1 - 1e-9 for day in range(scenario.horizon_days)]
    values = {l.instrument: l.value for l in model.listings}
    fair_close = pd.DataFrame({name: [value.at(t) for t in ends] for name, value in values.items()})
    return settlement_economics(
        trades, fair_close, venues,
        MarginTerms(terms.margin_confidence, terms.margin_lookback_days),
        FundingTerms(rate_per_year=terms.funding_rate_per_year, prefunding_lead_days=terms.prefunding_lead_days),
        BuyInTerms(terms.buy_in_after_fails, terms.buy_in_cost_bps),
    )


def fair_value_table(model: Model, horizon_days: int) -> pd.DataFrame:
    """Fair value per instrument at each day's end, to attach to the daily rows."""
    ends = [day + 1 - 1e-9 for day in range(horizon_days)]
    return pd.DataFrame({l.index: [l.value.at(t) for t in ends] for l in model.listings})


def two_sided_quotes(recorder: Recorder) -> pd.DataFrame:
    """Quote samples with both sides present, with the quoted spread in bps of the mid."""
    quotes = recorder.quotes.frame()
    quotes = quotes[(quotes["bid_cents"] > 0) & (quotes["ask_cents"] > 0)].copy()
    mid = (quotes["bid_cents"] + quotes["ask_cents"]) / 2.0
    quotes["spread_bps"] = (quotes["ask_cents"] - quotes["bid_cents"]) / mid * 10_000.0
    quotes["premium_bps"] = (mid / 100.0 / quotes["fair_value_hkd"] - 1.0) * 10_000.0
    quotes["depth_units"] = (quotes["bid_depth"] + quotes["ask_depth"]) / 2.0
    return quotes


DISCOVERY_LEAD_DAYS = 1.0 / 24.0  # how far ahead a quote's lean towards the coming value is measured: an hour


def value_ahead(rows: pd.DataFrame, model: Model) -> np.ndarray:
    """Fair value of each row's listing `DISCOVERY_LEAD_DAYS` after the row's time (quote samples, trades)."""
    ahead = np.full(len(rows), np.nan)
    listing_of = rows["listing"].to_numpy()
    times = rows["time"].to_numpy()
    for listing in np.unique(listing_of):
        mine = listing_of == listing
        ahead[mine] = model.listings[listing].value.at_times(times[mine] + DISCOVERY_LEAD_DAYS)
    return ahead


def with_value_ahead(quotes: pd.DataFrame, model: Model) -> pd.DataFrame:
    """The quote samples with the move of fair value over the next hour (bps), and how far each quote's mid
    leaned the same way (`discovery_bps`: its premium signed by that move; NaN where the value does not move):
    quotes that anticipate where the value goes discover it, as a venue with informed flow does."""
    move = (value_ahead(quotes, model) / quotes["fair_value_hkd"].to_numpy() - 1.0) * 10_000.0
    quotes["value_move_bps"] = move
    quotes["discovery_bps"] = np.where(move != 0.0, np.sign(move) * quotes["premium_bps"].to_numpy(), np.nan)
    return quotes


def trade_markouts(trades: pd.DataFrame, model: Model) -> pd.DataFrame:
    """Per trade (aligned with `trades`): how far fair value moved the taker's way over the next hour, and what
    the liquidity provider kept after that move, both as spreads in bps of fair value (both sides, as the
    effective spread is): `price_impact_bps` = 2 x side x move, `realized_spread_bps` = effective less impact.
    Informed takers leave a large impact and a small or negative realized spread behind them."""
    move = value_ahead(trades, model) / trades["fair_value_hkd"].to_numpy() - 1.0
    side = trades["taker_side"].to_numpy()
    impact = 2.0 * side * move * 10_000.0
    effective = 2.0 * side * trades["premium_bps"].to_numpy()
    return pd.DataFrame({"price_impact_bps": impact, "realized_spread_bps": effective - impact}, index=trades.index)


def quoted_pairs(model: Model) -> list[QuotedPair]:
    """Each instrument quoted by market makers on exactly two venues, in the makers' order, read on the slower
    of their two requote clocks (an instrument on three or more venues has no single pair and is left out)."""
    makers: dict[str, list] = {}
    for maker in model.market_makers:
        makers.setdefault(maker.listing.instrument, []).append(maker)
    pairs = []
    for instrument, (a, *rest) in makers.items():
        if len(rest) != 1 or rest[0].listing.venue.name == a.listing.venue.name:
            continue
        b = rest[0]
        pairs.append(QuotedPair(instrument, a.listing.venue.name, a.listing.index, b.listing.venue.name,
                                b.listing.index, max(a.params.requote_minutes, b.params.requote_minutes)))
    return pairs


def group_table(recorder: Recorder, names: list[str]) -> pd.DataFrame:
    """One row per business day and investor group: needs, needs traded, share onboarded."""
    groups = recorder.groups.frame()
    groups.insert(2, "group_name", np.array(names, dtype=object)[groups["group"]])
    return groups


def conversions_table(model: Model) -> pd.DataFrame:
    """One row per conversion between forms: when, which instrument, from and to which form, units and fee."""
    conversions = model.recorder.conversions.frame()
    of_asset = {listing.asset: (listing.instrument, listing.venue.form) for listing in model.listings}
    conversions["instrument"] = [of_asset[a][0] for a in conversions["from_asset"]]
    conversions["from_form"] = [of_asset[a][1] for a in conversions["from_asset"]]
    conversions["to_form"] = [of_asset[a][1] for a in conversions["to_asset"]]
    conversions["fee_hkd"] = conversions["fee_cents"] / 100.0
    return conversions


def issuance_table(model: Model) -> pd.DataFrame:
    """The primary market: one row per issue that closed, then one per creation or redemption of a backed instrument."""
    bonds, flows = bond_issues(model), creations_and_redemptions(model)
    table = pd.concat([bonds, flows], ignore_index=True)
    whole = [c for c in table.columns if pd.api.types.is_integer_dtype(bonds.get(c, flows.get(c)))]
    return table.astype({column: "Int64" for column in whole})  # blanks, not 5.0, where a row has no value


def creations_and_redemptions(model: Model) -> pd.DataFrame:
    """Units of backed instruments (ETFs, asset-backed tokens) created or redeemed, one row each, valued at NAV."""
    flows = model.recorder.creations.frame()
    listings = model.listings
    units = flows["created_units"].abs()
    dates = np.array([d.isoformat() for d in model.calendar.dates], dtype=object)
    kinds = np.array([listings[i].instrument_type.replace("_", " ") for i in flows["listing"]], dtype=object)
    return pd.DataFrame({
        "kind": kinds + np.where(flows["created_units"] > 0, " creation", " redemption"),
        "name": [listings[i].instrument for i in flows["listing"]],
        "issuer": [f"{listings[i].instrument}:fund" for i in flows["listing"]],
        "form": [listings[i].venue.form for i in flows["listing"]],
        "currency": "HKD",
        "close_day": flows["day"], "settle_day": flows["day"],
        "offered_units": units, "allocated_units": units,
        "size_hkd": units * flows["nav_hkd"], "days_to_settle": 0, "distinct_holders": 1,
        "basket_stamp_duty_hkd": flows["stamp_duty_cents"] / 100.0,
        "close_date": dates[flows["day"]], "settle_date": dates[flows["day"]],
    })


def bond_issues(model: Model) -> pd.DataFrame:
    """One row per issue that closed: terms, dates, book, allocation by group, holders, costs, grant."""
    issues = model.recorder.issues.frame()
    planned = model.issues
    issues.insert(0, "kind", [f"{planned[i].terms.instrument_type.replace('_', ' ')} issue" for i in issues["issue"]])
    issues.insert(1, "name", [planned[i].name for i in issues["issue"]])
    issues.insert(2, "programme", [planned[i].programme_name for i in issues["issue"]])
    issues.insert(3, "issuer", [model.ledger.accounts[planned[i].issuer_account].name.split(":")[0] for i in issues["issue"]])
    issues.insert(4, "issuer_kind", [planned[i].programme.issuer_kind for i in issues["issue"]])
    issues.insert(5, "form", [planned[i].form for i in issues["issue"]])
    issues.insert(6, "currency", [planned[i].programme.currency for i in issues["issue"]])
    issues["size_hkd"] = issues["allocated_units"] * np.array([planned[i].price_cents / 100.0 for i in issues["issue"]])
    issues["cover_ratio"] = issues["demand_units"] / issues["offered_units"]  # orders received / size offered
    issues["true_cover_ratio"] = issues["wanted_units"] / issues["offered_units"]  # the same before order inflation
    issues["days_to_settle"] = issues["settle_day"] - issues["close_day"]
    issues["cost_hkd"] = (issues["fixed_cost_cents"] + issues["proportional_cost_cents"]) / 100.0
    issues["grant_hkd"] = issues["grant_cents"] / 100.0
    issues["net_cost_bps"] = (issues["cost_hkd"] - issues["grant_hkd"]) / issues["size_hkd"] * 10_000.0
    allocations = model.recorder.allocations.frame()
    names = ["market_maker"] + list(model.scenario.investors)
    allocations["group_name"] = [names[g + 1] for g in allocations["group"]]
    by_group = allocations.pivot_table(index="issue", columns="group_name", values="units", aggfunc="sum", fill_value=0)
    for name in names:
        column = by_group[name] if name in by_group else pd.Series(0, index=by_group.index)
        issues[f"allocated_units_{name}"] = column.reindex(issues["issue"]).fillna(0).astype("int64").to_numpy()
    dates = [d.isoformat() for d in model.calendar.dates]
    for column in ("announce_day", "close_day", "settle_day"):
        issues[column.replace("_day", "_date")] = [dates[d] for d in issues[column]]
    return issues


def payments_table(model: Model) -> pd.DataFrame:
    """One row per payment to holders of an issue: coupons, principal, revenue distributions (with the output behind them)."""
    payments = model.recorder.payments.frame()
    planned = model.issues
    settled = model.recorder.issues.frame().set_index("issue")["settle_day"]
    period = payments.groupby("issue").cumcount() + 1  # the k-th payment of its issue
    kinds, output = [], []
    for issue, k, principal in zip(payments["issue"], period, payments["principal"]):
        terms = planned[issue].terms
        if terms.instrument_type == "revenue_token":
            kinds.append("distribution")
            output.append(terms.output_kwh(int(k), model.calendar.date_of(int(settled[issue]))))
        else:
            kinds.append("coupon and principal" if principal else "coupon")
            output.append(float("nan"))
    payments.insert(0, "kind", pd.Series(kinds, dtype=object))
    payments.insert(2, "name", pd.Series([planned[i].name for i in payments["issue"]], dtype=object))
    payments["paid_hkd"] = payments["cents"] / 100.0
    payments["output_kwh"] = output
    return payments


@dataclass(frozen=True)
class RunTables:
    """Everything KPI formulas read."""

    trades: pd.DataFrame
    daily: pd.DataFrame
    groups: pd.DataFrame
    issuance: pd.DataFrame
    settlement: pd.DataFrame
    quotes: pd.DataFrame
    scenario: Scenario
    payments: pd.DataFrame
    money: pd.DataFrame = field(default_factory=pd.DataFrame)  # settlement assets' hours (`sim.money_tables`)
    money_holders: pd.DataFrame = field(default_factory=pd.DataFrame)
    money_venues: pd.DataFrame = field(default_factory=pd.DataFrame)
    conversions: pd.DataFrame = field(default_factory=pd.DataFrame)  # units converted between forms
    discovery: pd.DataFrame = field(default_factory=pd.DataFrame)  # price discovery between two venues' quotes
    markouts: pd.DataFrame = field(default_factory=pd.DataFrame)  # per trade: price impact and realized spread

    @classmethod
    def from_model(cls, model: Model) -> RunTables:
        scenario = model.scenario
        listings = listing_frame(model)
        account_groups = np.array([account.group for account in model.ledger.accounts], dtype=object)
        trades = trades_table(model.recorder, listings, account_groups)
        quotes = with_value_ahead(two_sided_quotes(model.recorder), model)
        daily = daily_table(model.recorder, trades, quotes, listings, scenario.horizon_days)
        fair = fair_value_table(model, scenario.horizon_days)
        daily.insert(daily.columns.get_loc("last_price_hkd"), "fair_value_hkd", fair.to_numpy().ravel())
        quotes = quotes.merge(listings, left_on="listing", right_index=True)
        groups = group_table(model.recorder, list(scenario.investors))
        dates = np.array([d.isoformat() for d in model.calendar.dates], dtype=object)
        daily.insert(1, "date", dates[daily["day"]])
        groups.insert(1, "date", dates[groups["day"]])
        settlement = settlement_table(model, trades)
        settlement.insert(1, "date", dates[settlement["day"]])
        money, money_holders, money_venues = money_tables(model, trades)
        return cls(trades, daily, groups, issuance_table(model), settlement, quotes, scenario, payments_table(model),
                   money, money_holders, money_venues, conversions_table(model),
                   discovery_table(quotes, quoted_pairs(model)), trade_markouts(trades, model))
