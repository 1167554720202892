"""Settlement economics: what a settlement cycle costs in exposure, margin, liquidity and fails.

Shortening the settlement cycle, down to atomic delivery versus payment at the trade, swaps one
cost for another. A trade that settles later leaves both sides exposed until it does: if one
side defaulted, the other would have to replace the trade at the day's price (the replacement
cost). A central counterparty (CCP) takes that exposure over by novation and covers it with
margin sized for the price move over the settlement cycle. Margin grows with the square root of
that horizon, so the same positions need sqrt(1/2) of the margin at T+1 that they need at T+2,
29% less. The US move from T+2 to T+1 cut the NSCC clearing fund by 29% (DTCC statement of
30 May 2024; SIFMA/ICI/DTCC T+1 After Action Report). Under continuous trading the book a
member carries overnight also shrinks with the cycle, so a run's margin can fall by more than
29%. How much more depends on how persistent members' daily net flows are. A CCP also nets: on each settlement day a
member pays or delivers only its net over all the trades settling that day. CCP netting cuts
payment values by about 98-99% (DTCC FAQ), and CLS netting cuts liquidity needs by about 96%.
Atomic settlement removes the exposure and the margin. In return every trade settles gross, and
the buyer's cash must be on the ledger before the trade (prefunding), so the liquidity that
netting saved must be found again. US CNS fails hardly depended on the cycle: 2.01% of settlements at T+2 (May 2024 average)
and 1.90% at T+1 (T+1 After Action Report). `sim.market.settlement.fail_probability_for_cycle`
turns that into a residual operational fail rate for any cycle, when a venue sets one; by
default fails have causes in positions instead (`sim.market.settlement`). A trade still failing
after `buy_in_after_fails` attempts is bought in (HKSCC buys in on T+3 a position still short at
T+2): the settlement queue delivers it at the next attempt, and the failing seller pays the
buy-in agent's premium and fees plus any rise of the price since the trade.

A trade that settles at the trade (a book entry on a platform holding its clients' assets on
trust, atomic settlement against tokenized cash, or DvP at T+0) needs the buyer's cash in place
beforehand. It is prefunded from a lead time before the start of its business day (the venue's
`book_entry_lead_days`, or `settlement.prefunding_lead_days` for tokenized cash and T+0) until
the trade, and costs the funding rate over that time. Investors price the same cost, at the same
rate and over the same time, when they choose where to trade
(`sim.market.settlement.prefunding_cost_bps_per_day`), so it is a cost of trading in the model,
not only a measure after the run.

The module reads a run's trade table and the fair values after the run and measures both sides
of the trade-off per business day and venue (`settlement_economics`). `settlement_kpis` sums
them up per venue and per form. Fails and buy-ins come from the run's settlement queue, where a
DvP trade fails when the seller's units or the buyer's cash are not there. Margin and the
exposure measures do not feed back into trading. Every account counts as a clearing member, and
each CCP venue has its own CCP: positions are netted across a member's trades on that venue
only. A buy-in's cost is measured, not booked on the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from sim.market.settlement import prefunding_cost_bps_per_day
from sim.market.venue import Venue
from sim.scenario.schema import FORMS, Form

TABLE_COLUMNS = (
    "unsettled_hkd",
    "exposure_hkd",
    "margin_hkd",
    "margin_cost_hkd",
    "gross_funding_hkd",
    "net_funding_hkd",
    "net_delivery_hkd",
    "funding_cost_hkd",
    "settlement_attempts",
    "fails",
    "failed_hkd",
    "buy_ins",
    "buy_in_cost_hkd",
)


@dataclass(frozen=True)
class VenueSettlementTerms:
    """How one venue's trades settle."""

    form: Form  # the form the venue trades, so a venue without trades still has its rows
    central_counterparty: bool  # does a CCP novate and net this venue's trades?
    cycle_days: int  # the settlement cycle L (T+L); 0 settles at the trade (book entry, atomic)
    # Per trade day, how long before the day's start the cash of a trade settled at the trade was
    # prefunded (`Venue.prefunding_lead_on`); None: `FundingTerms.prefunding_lead_days` every day.
    prefunding_lead_days: tuple[float, ...] | None = None


def venue_settlement_terms(venues: dict[str, Venue], central_counterparty: dict[str, bool],
                           horizon: int) -> dict[str, VenueSettlementTerms]:
    """Each venue's terms as its market venue settles them: a book-entry or atomic venue's cycle is 0,
    and each day's prefunding lead is the one investors priced in when they chose the venue."""
    terms = {}
    for name, venue in venues.items():
        cycle = 0 if venue.settlement_model in ("book_entry", "atomic") else venue.settlement_cycle_days
        leads = tuple(venue.prefunding_lead_on(day) or 0.0 for day in range(horizon))
        terms[name] = VenueSettlementTerms(venue.form, central_counterparty[name], cycle, leads)
    return terms


@dataclass(frozen=True)
class MarginTerms:
    """The CCP's margin model: a one-sided value at risk over the settlement cycle."""

    confidence: float = 0.99
    lookback_days: int = 60  # daily returns in the volatility window (fewer while history is short)


@dataclass(frozen=True)
class FundingTerms:
    """The cost of the liquidity that settlement ties up.

    Costs accrue at `rate_per_year / 365` per day held. Deferred settlement (netted or
    bilateral) needs its cash for `settlement_holding_days` on the settlement day. Settlement at
    the trade needs each buyer's cash in place before the trade. The assumption is that it
    arrives a lead time before the start of the trade's business day and waits until the trade:
    the venue's own lead per day (`VenueSettlementTerms.prefunding_lead_days`) or, where a venue
    gives none, `prefunding_lead_days`. With a lead of 0 the cash arrives at the previous day's
    end, the last batch of the conventional payment system, and is held for the trade's time of
    day: half a day on average for a platform trading evenly around the clock. Margin stays posted from one
    day's end to the next, `margin_holding_days` calendar days per business day (7/5 on
    average, because of weekends).
    """

    rate_per_year: float = 0.04
    settlement_holding_days: float = 1.0
    prefunding_lead_days: float = 0.0
    margin_holding_days: float = 7.0 / 5.0


@dataclass(frozen=True)
class BuyInTerms:
    """When a failing trade is bought in, and what the buy-in costs beyond the price move."""

    after_fails: int | None = 1  # None: retried until it settles, never bought in
    cost_bps: float = 25.0  # the buy-in agent's premium and fees, bps of the trade's value


def daily_volatility(fair_close: pd.DataFrame, lookback_days: int) -> pd.DataFrame:
    """Daily volatility per instrument at each day's end, from fair-value log returns.

    The root mean square of the daily log returns in the `lookback_days` ending that day (zero
    mean, as in RiskMetrics-style value at risk). The window is shorter while the history is
    shorter, and the volatility is 0 until two returns exist (days 0 and 1). Days without a
    positive value (a bond not yet issued, or redeemed) give no return.
    """
    returns = np.log(fair_close.where(fair_close > 0)).diff().iloc[1:]
    rms = (returns**2).rolling(lookback_days, min_periods=2).mean() ** 0.5
    return pd.concat([fair_close.iloc[:1] * 0.0, rms.fillna(0.0)])


def settlement_economics(
    trades: pd.DataFrame,
    fair_close: pd.DataFrame,
    venues: dict[str, VenueSettlementTerms],
    margin: MarginTerms = MarginTerms(),
    funding: FundingTerms = FundingTerms(),
    buy_in: BuyInTerms = BuyInTerms(),
) -> pd.DataFrame:
    """One row per business day 0..H-1 and venue (days outer, venues in `venues` order).

    A trade agreed on day d and due at d + L, which settled at the end of `settled_day` after
    `fails` failed attempts, is outstanding at the ends of days d .. settled_day - 1. It is
    atomic when settled_day == d: it settled at the trade and is never outstanding. Its due
    day, settled_day - fails, must be d or d + cycle_days of its venue (a policy window can make
    some trades atomic). Days at or after H fall outside the table. Columns, all HKD except the
    counts:

    - `unsettled_hkd`: value of the trades outstanding at the day's end.
    - `exposure_hkd`: their replacement cost, |fair close - trade price| * quantity per trade,
      summed. One side of each trade is in the money by that amount. Without a CCP the
      counterparties bear it; with one, the CCP bears it and margin covers it.
    - `margin_hkd` (CCP venues only, else 0): per member and instrument the net position in the
      outstanding trades (units bought less units sold), margined at
      z(confidence) * daily volatility * sqrt(cycle_days) * |net units| * fair close, summed
      over members and instruments. The volatility comes from `daily_volatility`.
    - `margin_cost_hkd`: the cost of funding that margin for `margin_holding_days`.
    - `gross_funding_hkd`: the cash leg of the trades that settle that day (settled_day == day,
      including the atomic trades of that day). The securities legs have the same gross value.
    - `net_funding_hkd`: the cash that must be paid in. With a CCP, deferred trades are netted
      multilaterally: the sum over members of max(0, cash owed). Without one, and for every
      atomic trade, each trade settles gross and the need equals the gross value.
    - `net_delivery_hkd`: the same for the securities legs. With a CCP, per member and
      instrument, max(0, units owed) at the day's volume-weighted settlement price.
    - `funding_cost_hkd`: the cost of the cash need, deferred net cash for
      `settlement_holding_days` plus each atomic trade's prefunded cash from
      `prefunding_lead_days` before its day's start until its time (see `FundingTerms`).
    - `settlement_attempts`, `fails`, `failed_hkd`: a trade with k fails due on day D failed on
      days D .. D + k - 1 and settled on D + k. Each attempt counts, including the single
      attempt of an atomic trade. Failed value counts once per failed attempt.
    - `buy_ins`, `buy_in_cost_hkd`: trades with at least `buy_in.after_fails` fails were bought
      in and settled on `settled_day`; the cost is `cost_bps` of the value plus
      max(0, fair close that day - trade price) * quantity, owed by the failing seller. The
      trade table does not say which side failed, so a trade that failed for late funding (the
      buyer's cash) is measured the same way.
    """
    horizon = len(fair_close)
    if not fair_close.index.equals(pd.RangeIndex(horizon)):
        raise ValueError("fair_close must be indexed by business day 0..H-1")
    t = _TradeArrays.build(trades, fair_close, venues, funding.prefunding_lead_days)
    n_venues = len(venues)
    ccp = np.array([terms.central_counterparty for terms in venues.values()])
    cycles = np.array([terms.cycle_days for terms in venues.values()], dtype=float)

    table = {column: np.zeros(n_venues * horizon) for column in TABLE_COLUMNS}
    _add_outstanding(table, t, fair_close, horizon)
    table["margin_hkd"] = _margin(t, fair_close, horizon, margin, ccp, cycles).ravel()
    table["margin_cost_hkd"] = table["margin_hkd"] * funding.rate_per_year / 365.0 * funding.margin_holding_days
    _add_funding(table, t, horizon, fair_close.shape[1], ccp, funding)
    _add_fails(table, t, horizon)
    _add_buy_ins(table, t, fair_close, horizon, buy_in)

    frame = pd.DataFrame(
        {
            "day": np.repeat(np.arange(horizon), n_venues),
            "venue_name": np.tile(list(venues), horizon),
            "form": np.tile([terms.form for terms in venues.values()], horizon),
            "central_counterparty": np.tile(ccp, horizon),
            "cycle_days": np.tile(cycles.astype(np.int64), horizon),
            **{column: values.reshape(n_venues, horizon).T.ravel() for column, values in table.items()},
        }
    )
    for column in ("settlement_attempts", "fails", "buy_ins"):
        frame[column] = frame[column].round().astype("int64")
    return frame


def settlement_kpis(table: pd.DataFrame) -> dict[str, float]:
    """KPIs per venue (in table order), then per form, from `settlement_economics`'s table.

    For each scope `<s>` (venue name or form), with the scope's venues summed per day:
    `exposure_mean_hkd_<s>`, `exposure_peak_hkd_<s>`, `margin_mean_hkd_<s>`,
    `margin_peak_hkd_<s>`, `funding_gross_mean_hkd_<s>`, `funding_net_mean_hkd_<s>` (means over
    all days, settling or not), `netting_ratio_<s>` (1 - total net / total gross cash need),
    `funding_cost_hkd_<s>` and `margin_cost_hkd_<s>` (totals), `fail_rate_<s>` (failed
    attempts / attempts), `failed_hkd_<s>`, `buy_ins_<s>` and `buy_in_cost_hkd_<s>` (totals). A
    ratio without a denominator is NaN.
    """
    if set(table["venue_name"]) & set(FORMS):
        raise ValueError("a venue named like a form would share its KPI names")
    scopes = [("venue_name", venue) for venue in table["venue_name"].unique()]
    scopes += [("form", form) for form in FORMS if (table["form"] == form).any()]
    kpis: dict[str, float] = {}
    for column, scope in scopes:
        daily = table[table[column] == scope].groupby("day")[list(TABLE_COLUMNS)].sum()
        kpis[f"exposure_mean_hkd_{scope}"] = float(daily["exposure_hkd"].mean())
        kpis[f"exposure_peak_hkd_{scope}"] = float(daily["exposure_hkd"].max())
        kpis[f"margin_mean_hkd_{scope}"] = float(daily["margin_hkd"].mean())
        kpis[f"margin_peak_hkd_{scope}"] = float(daily["margin_hkd"].max())
        kpis[f"funding_gross_mean_hkd_{scope}"] = float(daily["gross_funding_hkd"].mean())
        kpis[f"funding_net_mean_hkd_{scope}"] = float(daily["net_funding_hkd"].mean())
        kpis[f"netting_ratio_{scope}"] = 1.0 - _ratio(daily["net_funding_hkd"].sum(), daily["gross_funding_hkd"].sum())
        kpis[f"funding_cost_hkd_{scope}"] = float(daily["funding_cost_hkd"].sum())
        kpis[f"margin_cost_hkd_{scope}"] = float(daily["margin_cost_hkd"].sum())
        kpis[f"fail_rate_{scope}"] = _ratio(daily["fails"].sum(), daily["settlement_attempts"].sum())
        kpis[f"failed_hkd_{scope}"] = float(daily["failed_hkd"].sum())
        kpis[f"buy_ins_{scope}"] = float(daily["buy_ins"].sum())
        kpis[f"buy_in_cost_hkd_{scope}"] = float(daily["buy_in_cost_hkd"].sum())
    return kpis


NET_POSITION_KPIS = ("margin_mean_hkd_", "margin_peak_hkd_", "margin_cost_hkd_", "funding_net_mean_hkd_",
                     "funding_cost_hkd_", "netting_ratio_")
"""Settlement KPIs set on net positions: netting across many accounts makes them grow more slowly
than the accounts (a 1/10 sample of equity_channels times 10 gave 2.8 times the whole market's
margin), so a sample of accounts cannot give them; a sampled run reports them as NaN."""


def settlement_scaling(name: str) -> str:
    """How a sampled run reports a settlement KPI: "total" (the sample's times the weight: gross
    values, fails, buy-ins), "rate" (the sample's own: the fail rate) or "net" (NaN: not measurable
    on a sample, see NET_POSITION_KPIS)."""
    if name.startswith(NET_POSITION_KPIS):
        return "net"
    return "rate" if name.startswith("fail_rate_") else "total"


def _ratio(part: float, whole: float) -> float:
    return float(part / whole) if whole > 0 else float("nan")


@dataclass(frozen=True)
class _TradeArrays:
    """The trade columns the measures need, as arrays, with venues, instruments and members coded."""

    venue: np.ndarray
    instrument: np.ndarray
    buyer: np.ndarray
    seller: np.ndarray
    n_members: int
    day: np.ndarray
    settled: np.ndarray
    fails: np.ndarray
    time_of_day: np.ndarray
    prefunding_lead: np.ndarray  # days before its day's start that a trade settled at the trade was prefunded
    quantity: np.ndarray
    price: np.ndarray
    value: np.ndarray

    @classmethod
    def build(cls, trades: pd.DataFrame, fair_close: pd.DataFrame, venues: dict[str, VenueSettlementTerms],
              default_lead_days: float = 0.0) -> _TradeArrays:
        venue = pd.Index(list(venues)).get_indexer(trades["venue_name"])
        instrument = fair_close.columns.get_indexer(trades["instrument"])
        if (venue < 0).any() or (instrument < 0).any():
            raise ValueError("every trade's venue needs settlement terms and its instrument a fair-value column")
        forms = np.array([terms.form for terms in venues.values()], dtype=object)
        if (forms[venue] != trades["form"].to_numpy()).any():
            raise ValueError("a trade's form differs from its venue's settlement terms")
        members, accounts = pd.factorize(pd.concat([trades["buyer"], trades["seller"]]), sort=True)
        day = trades["day"].to_numpy(np.int64)
        settled = trades["settled_day"].to_numpy(np.int64)
        fails = trades["fails"].to_numpy(np.int64)
        cycle = settled - fails - day
        venue_cycle = np.array([terms.cycle_days for terms in venues.values()], dtype=np.int64)[venue]
        if (day < 0).any() or (day >= len(fair_close)).any() or (fails < 0).any():
            raise ValueError("trade days must lie in 0..H-1 and fails be >= 0")
        if ((cycle != 0) & (cycle != venue_cycle)).any():
            raise ValueError("a trade was due neither at the trade nor after its venue's cycle")
        horizon = len(fair_close)
        leads = np.zeros((len(venues), horizon))
        for row, terms in enumerate(venues.values()):
            lead = terms.prefunding_lead_days
            if lead is not None and len(lead) != horizon:
                raise ValueError("a venue's prefunding_lead_days needs one value per business day 0..H-1")
            leads[row] = default_lead_days if lead is None else lead
        return cls(
            venue=venue,
            instrument=instrument,
            buyer=members[: len(trades)],
            seller=members[len(trades) :],
            n_members=len(accounts),
            day=day,
            settled=settled,
            fails=fails,
            time_of_day=trades["time"].to_numpy(float) - day,
            prefunding_lead=leads[venue, day],
            quantity=trades["quantity"].to_numpy(float),
            price=trades["price_cents"].to_numpy(float) / 100.0,
            value=trades["value_hkd"].to_numpy(float),
        )


def _expand(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For intervals [start, end), the index of each interval repeated per day, and the day."""
    lengths = np.maximum(ends - starts, 0)
    rows = np.repeat(np.arange(len(starts)), lengths)
    offsets = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return rows, starts[rows] + offsets


def _cell_sum(cells: np.ndarray, weights: np.ndarray, n_cells: int) -> np.ndarray:
    return np.bincount(cells, weights=weights, minlength=n_cells)


def _member_nets(cells: np.ndarray, members: np.ndarray, amounts: np.ndarray, n_members: int) -> tuple[np.ndarray, np.ndarray]:
    """Each member's net amount per cell: the cells with a member, and the nets."""
    keys, inverse = np.unique(cells * n_members + members, return_inverse=True)
    return keys // n_members, np.bincount(inverse, weights=amounts, minlength=len(keys))


def _add_outstanding(table: dict[str, np.ndarray], t: _TradeArrays, fair_close: pd.DataFrame, horizon: int) -> None:
    """Unsettled value and replacement cost of the trades outstanding at each day's end."""
    rows, days = _expand(t.day, np.minimum(t.settled, horizon))
    cells = t.venue[rows] * horizon + days
    fair = fair_close.to_numpy(float)[days, t.instrument[rows]]
    table["unsettled_hkd"] += _cell_sum(cells, t.value[rows], len(table["unsettled_hkd"]))
    replacement = np.abs(fair - t.price[rows]) * t.quantity[rows]
    table["exposure_hkd"] += _cell_sum(cells, replacement, len(table["exposure_hkd"]))


def _margin(
    t: _TradeArrays, fair_close: pd.DataFrame, horizon: int, terms: MarginTerms, ccp: np.ndarray, cycles: np.ndarray
) -> np.ndarray:
    """Margin per venue and day (venues x days): VaR of members' net outstanding positions."""
    n_instruments = fair_close.shape[1]
    cleared = np.flatnonzero(ccp[t.venue])
    rows, days = _expand(t.day[cleared], np.minimum(t.settled[cleared], horizon))
    rows = cleared[rows]
    cells = np.tile((t.venue[rows] * n_instruments + t.instrument[rows]) * horizon + days, 2)
    members = np.concatenate([t.buyer[rows], t.seller[rows]])
    units = np.concatenate([t.quantity[rows], -t.quantity[rows]])
    member_cells, nets = _member_nets(cells, members, units, t.n_members)
    gross_units = _cell_sum(member_cells, np.abs(nets), len(ccp) * n_instruments * horizon)
    gross_units = gross_units.reshape(len(ccp), n_instruments, horizon)
    z = NormalDist().inv_cdf(terms.confidence)
    unit_var = z * (daily_volatility(fair_close, terms.lookback_days) * fair_close).to_numpy(float).T
    return np.sqrt(cycles)[:, None] * np.einsum("vih,ih->vh", gross_units, unit_var)


def _add_funding(
    table: dict[str, np.ndarray], t: _TradeArrays, horizon: int, n_instruments: int, ccp: np.ndarray, terms: FundingTerms
) -> None:
    """Gross and net cash and securities needs of the trades settling each day, and their cost."""
    n_cells = len(table["gross_funding_hkd"])
    in_horizon = t.settled < horizon
    cells = t.venue * horizon + np.where(in_horizon, t.settled, 0)
    atomic = in_horizon & (t.settled == t.day)
    netted = in_horizon & ~atomic & ccp[t.venue]
    bilateral = in_horizon & ~atomic & ~netted
    atomic_value = _cell_sum(cells[atomic], t.value[atomic], n_cells)
    deferred_gross = _cell_sum(cells[bilateral], t.value[bilateral], n_cells)
    deferred_cash = deferred_gross + _netted_cash(t, cells, netted, n_cells)
    table["gross_funding_hkd"] += _cell_sum(cells[in_horizon], t.value[in_horizon], n_cells)
    table["net_funding_hkd"] += atomic_value + deferred_cash
    table["net_delivery_hkd"] += atomic_value + deferred_gross + _netted_delivery(t, horizon, n_instruments, netted, n_cells)
    prefunding_days = t.prefunding_lead[atomic] + t.time_of_day[atomic]
    prefunded_value_days = _cell_sum(cells[atomic], t.value[atomic] * prefunding_days, n_cells)
    daily_rate = prefunding_cost_bps_per_day(terms.rate_per_year) / 10_000.0
    table["funding_cost_hkd"] += daily_rate * (deferred_cash * terms.settlement_holding_days + prefunded_value_days)


def _netted_cash(t: _TradeArrays, cells: np.ndarray, netted: np.ndarray, n_cells: int) -> np.ndarray:
    """Per venue and day, the sum over members of max(0, net cash owed) on the netted trades."""
    members = np.concatenate([t.buyer[netted], t.seller[netted]])
    owed = np.concatenate([t.value[netted], -t.value[netted]])
    member_cells, nets = _member_nets(np.tile(cells[netted], 2), members, owed, t.n_members)
    return _cell_sum(member_cells, np.maximum(nets, 0.0), n_cells)


def _netted_delivery(t: _TradeArrays, horizon: int, n_instruments: int, netted: np.ndarray, n_cells: int) -> np.ndarray:
    """Per venue and day, max(0, net units owed) per member and instrument at the day's VWAP."""
    instrument_cells = (t.venue[netted] * n_instruments + t.instrument[netted]) * horizon + t.settled[netted]
    n_instrument_cells = n_cells * n_instruments
    settled_units = _cell_sum(instrument_cells, t.quantity[netted], n_instrument_cells)
    vwap = _cell_sum(instrument_cells, t.value[netted], n_instrument_cells) / np.maximum(settled_units, 1.0)
    members = np.concatenate([t.seller[netted], t.buyer[netted]])
    owed = np.concatenate([t.quantity[netted], -t.quantity[netted]])
    member_cells, nets = _member_nets(np.tile(instrument_cells, 2), members, owed, t.n_members)
    venue_days = (member_cells // (n_instruments * horizon)) * horizon + member_cells % horizon
    return _cell_sum(venue_days, np.maximum(nets, 0.0) * vwap[member_cells], n_cells)


def _add_fails(table: dict[str, np.ndarray], t: _TradeArrays, horizon: int) -> None:
    """Failed attempts on days due .. settled - 1, and every attempt, per venue and day."""
    n_cells = len(table["fails"])
    rows, days = _expand(t.settled - t.fails, np.minimum(t.settled, horizon))
    failed_cells = t.venue[rows] * horizon + days
    table["fails"] += _cell_sum(failed_cells, np.ones(len(rows)), n_cells)
    table["failed_hkd"] += _cell_sum(failed_cells, t.value[rows], n_cells)
    settled = t.settled < horizon
    table["settlement_attempts"] += table["fails"] + _cell_sum(
        t.venue[settled] * horizon + t.settled[settled], np.ones(int(settled.sum())), n_cells
    )


def _add_buy_ins(
    table: dict[str, np.ndarray], t: _TradeArrays, fair_close: pd.DataFrame, horizon: int, terms: BuyInTerms
) -> None:
    """Buy-ins per venue and day they settle, and their cost to the failing sellers."""
    if terms.after_fails is None:
        return
    bought = np.flatnonzero((t.fails >= terms.after_fails) & (t.settled < horizon))
    cells = t.venue[bought] * horizon + t.settled[bought]
    fair = fair_close.to_numpy(float)[t.settled[bought], t.instrument[bought]]
    cost = t.value[bought] * terms.cost_bps / 10_000.0 + np.maximum(fair - t.price[bought], 0.0) * t.quantity[bought]
    table["buy_ins"] += _cell_sum(cells, np.ones(len(bought)), len(table["buy_ins"]))
    table["buy_in_cost_hkd"] += _cell_sum(cells, cost, len(table["buy_in_cost_hkd"]))
