"""Settlement economics: exposure, margin, funding and fails on hand-computable and synthetic trades."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from sim.market.settlement import fail_probability_for_cycle
from sim.settlement_economics import (
    BuyInTerms,
    FundingTerms,
    MarginTerms,
    VenueSettlementTerms,
    settlement_economics,
    settlement_kpis,
)

Z99 = NormalDist().inv_cdf(0.99)
SIGMA = math.log(1.1)  # the alternating path below moves +-10% in log terms every day
FUNDING = FundingTerms(rate_per_year=0.0365, settlement_holding_days=1.0, prefunding_lead_days=0.0)
DAILY_RATE = 0.0365 / 365.0


def alternating_fair_close(horizon: int) -> pd.DataFrame:
    """A constant-volatility path: 100 on even days, 110 on odd days (|log return| = ln 1.1)."""
    return pd.DataFrame({"bond": [100.0 if day % 2 == 0 else 110.0 for day in range(horizon)]})


def make_trades(rows: list[tuple], venue_forms: dict[str, str]) -> pd.DataFrame:
    """Trades from (venue, time, buyer, seller, quantity, price_cents, settled_day, fails) tuples."""
    trades = pd.DataFrame(
        rows, columns=["venue_name", "time", "buyer", "seller", "quantity", "price_cents", "settled_day", "fails"]
    )
    trades["day"] = trades["time"].astype(int)
    trades["listing"] = pd.factorize(trades["venue_name"])[0]
    trades["instrument"] = "bond"
    trades["form"] = trades["venue_name"].map(venue_forms)
    trades["value_hkd"] = trades["price_cents"] * trades["quantity"] / 100.0
    return trades


TINY_VENUES = {
    "hkex": VenueSettlementTerms("conventional", central_counterparty=True, cycle_days=2),
    "otc": VenueSettlementTerms("conventional", central_counterparty=False, cycle_days=1),
    "chain": VenueSettlementTerms("tokenized", central_counterparty=False, cycle_days=0),
}


@pytest.fixture
def tiny() -> pd.DataFrame:
    """Seven days on the alternating path; the values in the tests below are worked out by hand."""
    trades = make_trades(
        [
            ("hkex", 2.25, 1, 2, 10, 10_500, 4, 0),  # A: 1050 HKD, settles T+2
            ("hkex", 3.50, 2, 1, 4, 10_800, 5, 0),  # B: 432, nets against D on day 5
            ("hkex", 3.60, 1, 2, 4, 10_750, 5, 0),  # D: 430
            ("hkex", 3.75, 3, 1, 6, 10_700, 6, 1),  # C: 642, fails on day 5, settles day 6
            ("otc", 2.50, 4, 5, 5, 10_200, 3, 0),  # E: 510, bilateral T+1
            ("otc", 2.70, 5, 4, 5, 10_100, 3, 0),  # F: 505
            ("chain", 4.25, 6, 7, 2, 10_050, 4, 0),  # G: 201, atomic
            ("chain", 4.75, 7, 6, 2, 10_000, 4, 0),  # H: 200, atomic
        ],
        {name: terms.form for name, terms in TINY_VENUES.items()},
    )
    return settlement_economics(trades, alternating_fair_close(7), TINY_VENUES, MarginTerms(), FUNDING)


def column(table: pd.DataFrame, venue: str, name: str) -> list[float]:
    return table.loc[table["venue_name"] == venue, name].tolist()


def test_tiny_case_by_hand(tiny: pd.DataFrame) -> None:
    assert list(tiny[["day", "venue_name"]].head(4).itertuples(index=False)) == [
        (0, "hkex"), (0, "otc"), (0, "chain"), (1, "hkex")
    ]
    # hkex: A outstanding on days 2-3; B, D on 3-4; C on 3-5 (one fail). Fair value 100 / 110.
    assert column(tiny, "hkex", "unsettled_hkd") == pytest.approx([0, 0, 1050, 2554, 1504, 642, 0])
    assert column(tiny, "hkex", "exposure_hkd") == pytest.approx([0, 0, 50, 50 + 8 + 10 + 18, 32 + 30 + 42, 18, 0])
    # net units outstanding: day 2 (+10, -10); day 3 (+4, -10, +6); day 4 (-6, 0, +6); day 5 (-6, +6)
    unit_margin = Z99 * SIGMA * math.sqrt(2)
    expected_margin = [0, 0, 20 * 100 * unit_margin, 20 * 110 * unit_margin, 12 * 100 * unit_margin, 12 * 110 * unit_margin, 0]
    assert column(tiny, "hkex", "margin_hkd") == pytest.approx(expected_margin)
    # day 4: A alone; day 5: B and D net to 2 HKD of cash and no units; day 6: C
    assert column(tiny, "hkex", "gross_funding_hkd") == pytest.approx([0, 0, 0, 0, 1050, 862, 642])
    assert column(tiny, "hkex", "net_funding_hkd") == pytest.approx([0, 0, 0, 0, 1050, 2, 642])
    assert column(tiny, "hkex", "net_delivery_hkd") == pytest.approx([0, 0, 0, 0, 1050, 0, 642])
    assert column(tiny, "hkex", "funding_cost_hkd") == pytest.approx([0, 0, 0, 0, 1050 * DAILY_RATE, 2 * DAILY_RATE, 642 * DAILY_RATE])
    assert column(tiny, "hkex", "fails") == [0, 0, 0, 0, 0, 1, 0]
    assert column(tiny, "hkex", "failed_hkd") == pytest.approx([0, 0, 0, 0, 0, 642, 0])
    assert column(tiny, "hkex", "settlement_attempts") == [0, 0, 0, 0, 1, 3, 1]
    # C is bought in after its one fail and settles on day 6, when the fair close (100) is below its
    # price (107): the failing seller pays only the buy-in agent's 25 bp of its 642 HKD
    assert column(tiny, "hkex", "buy_ins") == [0, 0, 0, 0, 0, 0, 1]
    assert column(tiny, "hkex", "buy_in_cost_hkd") == pytest.approx([0, 0, 0, 0, 0, 0, 642 * 0.0025])
    # otc: no CCP, so no margin and no netting, but the exposure of day 2 is there
    assert column(tiny, "otc", "exposure_hkd") == pytest.approx([0, 0, 2 * 5 + 1 * 5, 0, 0, 0, 0])
    assert column(tiny, "otc", "margin_hkd") == [0.0] * 7
    assert column(tiny, "otc", "net_funding_hkd") == pytest.approx([0, 0, 0, 1015, 0, 0, 0])
    # chain: atomic, prefunded from the day's start to the trade time (0.25 and 0.75 of a day)
    assert column(tiny, "chain", "exposure_hkd") == [0.0] * 7
    assert column(tiny, "chain", "net_funding_hkd") == pytest.approx([0, 0, 0, 0, 401, 0, 0])
    assert column(tiny, "chain", "funding_cost_hkd")[4] == pytest.approx((201 * 0.25 + 200 * 0.75) * DAILY_RATE)


def test_kpis_on_the_tiny_case(tiny: pd.DataFrame) -> None:
    kpis = settlement_kpis(tiny)
    metrics = ["exposure_mean_hkd", "exposure_peak_hkd", "margin_mean_hkd", "margin_peak_hkd", "funding_gross_mean_hkd",
               "funding_net_mean_hkd", "netting_ratio", "funding_cost_hkd", "margin_cost_hkd", "fail_rate", "failed_hkd",
               "buy_ins", "buy_in_cost_hkd"]
    scopes = ["hkex", "otc", "chain", "conventional", "tokenized"]
    assert list(kpis) == [f"{metric}_{scope}" for scope in scopes for metric in metrics]
    assert kpis["exposure_mean_hkd_hkex"] == pytest.approx((50 + 86 + 104 + 18) / 7)
    assert kpis["exposure_peak_hkd_conventional"] == pytest.approx(104)  # otc's 15 falls on day 2, hkex's 86 on day 3
    assert kpis["margin_peak_hkd_hkex"] == pytest.approx(2200 * Z99 * SIGMA * math.sqrt(2))
    assert kpis["funding_gross_mean_hkd_conventional"] == pytest.approx((1050 + 862 + 642 + 1015) / 7)
    assert kpis["netting_ratio_hkex"] == pytest.approx(1 - (1050 + 2 + 642) / (1050 + 862 + 642))
    assert kpis["netting_ratio_otc"] == pytest.approx(0.0)
    assert kpis["fail_rate_hkex"] == pytest.approx(1 / 5)
    assert kpis["fail_rate_tokenized"] == 0.0
    assert kpis["failed_hkd_conventional"] == pytest.approx(642)
    assert kpis["margin_cost_hkd_hkex"] == pytest.approx(sum(tiny["margin_hkd"]) * DAILY_RATE * 7 / 5)
    assert kpis["buy_ins_conventional"] == 1 and kpis["buy_in_cost_hkd_tokenized"] == 0


def test_a_buy_in_charges_the_price_rise_and_none_happen_without_the_rule() -> None:
    # bought on day 1 at 105, fails on days 3 and 4, settles day 5 when the fair close is 110
    trades = make_trades([("otc", 1.5, 1, 2, 10, 10_500, 5, 2)], {"otc": "conventional"})
    venues = {"otc": VenueSettlementTerms("conventional", central_counterparty=False, cycle_days=2)}
    table = settlement_economics(trades, alternating_fair_close(7), venues, MarginTerms(), FUNDING, BuyInTerms(2, 10.0))
    assert column(table, "otc", "buy_in_cost_hkd") == pytest.approx([0, 0, 0, 0, 0, 1050 * 0.001 + 5 * 10, 0])
    assert column(table, "otc", "buy_ins") == [0, 0, 0, 0, 0, 1, 0]
    for terms in (BuyInTerms(3, 10.0), BuyInTerms(None, 10.0)):
        table = settlement_economics(trades, alternating_fair_close(7), venues, MarginTerms(), FUNDING, terms)
        assert table["buy_ins"].sum() == 0 and table["buy_in_cost_hkd"].sum() == 0


def busy_market(seed: int, n_trades: int, horizon: int, members: int = 40) -> pd.DataFrame:
    """Random two-sided trades among `members` accounts, priced near a 100 HKD fair value."""
    rng = np.random.default_rng(seed)
    buyer = rng.integers(0, members, n_trades)
    seller = (buyer + rng.integers(1, members, n_trades)) % members
    time = np.sort(rng.uniform(0, horizon - 3, n_trades))
    return pd.DataFrame(
        {
            "venue_name": "venue",
            "time": time,
            "day": time.astype(int),
            "instrument": "bond",
            "form": "conventional",
            "buyer": buyer,
            "seller": seller,
            "quantity": rng.integers(1, 100, n_trades),
            "price_cents": rng.integers(9_900, 10_100, n_trades),
            "fails": 0,
        }
    ).assign(value_hkd=lambda t: t["price_cents"] * t["quantity"] / 100.0)


def run_venue(trades: pd.DataFrame, fair_close: pd.DataFrame, ccp: bool, cycle: int, form: str = "conventional") -> pd.DataFrame:
    trades = trades.assign(settled_day=trades["day"] + cycle + trades["fails"], form=form)
    venues = {"venue": VenueSettlementTerms(form, central_counterparty=ccp, cycle_days=cycle)}
    return settlement_economics(trades, fair_close, venues, MarginTerms(), FUNDING)


def test_margin_at_t1_is_sqrt_half_of_t2_for_the_same_positions() -> None:
    """The same trades, all agreed on day 10 of a constant-volatility market: on day 10 each
    member carries the same book overnight at T+1 and T+2, so margin falls by 1 - sqrt(1/2), 29%."""
    trades = busy_market(seed=1, n_trades=500, horizon=14).assign(time=lambda t: 10 + t["time"] % 1, day=10)
    fair_close = alternating_fair_close(20)
    t1, t2 = (run_venue(trades, fair_close, ccp=True, cycle=cycle)["margin_hkd"] for cycle in (1, 2))
    assert t1[10] > 0
    assert t1[10] / t2[10] == pytest.approx(math.sqrt(0.5), rel=1e-9)
    # T+2 carries the book a second night; the volatility is the same, the fair value 110 / 100
    assert t1.index[t1 > 0].tolist() == [10] and t2.index[t2 > 0].tolist() == [10, 11]
    assert t2[11] / t2[10] == pytest.approx(1.1)


def test_atomic_settlement_has_no_exposure_or_margin_and_settles_gross() -> None:
    trades = busy_market(seed=2, n_trades=2_000, horizon=30)
    table = run_venue(trades, alternating_fair_close(30), ccp=True, cycle=0, form="tokenized")
    assert table["exposure_hkd"].eq(0).all() and table["margin_hkd"].eq(0).all() and table["unsettled_hkd"].eq(0).all()
    assert table["gross_funding_hkd"].sum() == pytest.approx(trades["value_hkd"].sum())
    assert np.allclose(table["net_funding_hkd"], table["gross_funding_hkd"])
    assert settlement_kpis(table)["netting_ratio_venue"] == pytest.approx(0.0)


def test_ccp_nets_a_busy_two_sided_market() -> None:
    trades = busy_market(seed=3, n_trades=30_000, horizon=30, members=8)
    table = run_venue(trades, alternating_fair_close(30), ccp=True, cycle=1)
    assert table["gross_funding_hkd"].sum() == pytest.approx(trades["value_hkd"].sum())
    assert settlement_kpis(table)["netting_ratio_venue"] > 0.9
    assert (table["net_delivery_hkd"] < 0.1 * table["gross_funding_hkd"] + 1e-9).all()


def test_without_a_ccp_there_is_no_netting_and_no_margin() -> None:
    trades = busy_market(seed=4, n_trades=2_000, horizon=30)
    table = run_venue(trades, alternating_fair_close(30), ccp=False, cycle=2)
    assert table["margin_hkd"].eq(0).all()
    assert np.allclose(table["net_funding_hkd"], table["gross_funding_hkd"])
    assert np.allclose(table["net_delivery_hkd"], table["gross_funding_hkd"])
    assert table["exposure_hkd"].sum() > 0


def test_a_trade_failing_twice_stays_outstanding_two_more_days() -> None:
    trades = make_trades([("otc", 2.5, 1, 2, 10, 10_000, 5, 2)], {"otc": "conventional"})
    table = settlement_economics(trades, alternating_fair_close(8), {"otc": TINY_VENUES["otc"]}, MarginTerms(), FUNDING)
    assert table["unsettled_hkd"].tolist() == [0, 0, 1000, 1000, 1000, 0, 0, 0]  # due day 3, fails 3 and 4
    assert table["fails"].tolist() == [0, 0, 0, 1, 1, 0, 0, 0]
    assert table["failed_hkd"].tolist() == [0, 0, 0, 1000, 1000, 0, 0, 0]
    assert table["settlement_attempts"].tolist() == [0, 0, 0, 1, 1, 1, 0, 0]
    assert table["gross_funding_hkd"].tolist() == [0, 0, 0, 0, 0, 1000, 0, 0]
    assert settlement_kpis(table)["fail_rate_otc"] == pytest.approx(2 / 3)


def test_trades_inconsistent_with_their_venue_terms_are_rejected() -> None:
    trades = make_trades([("otc", 2.5, 1, 2, 10, 10_000, 5, 0)], {"otc": "conventional"})  # due T+3 on a T+1 venue
    with pytest.raises(ValueError, match="cycle"):
        settlement_economics(trades, alternating_fair_close(8), {"otc": TINY_VENUES["otc"]})


def test_fail_probability_moves_little_with_the_cycle() -> None:
    assert fail_probability_for_cycle(0.0201, 2, 1) == pytest.approx(0.0190, abs=1e-12)
    assert fail_probability_for_cycle(0.0201, 2, 2) == pytest.approx(0.0201)
    assert fail_probability_for_cycle(0.0201, 2, 0) == 0.0
    assert 0.0201 < fail_probability_for_cycle(0.0201, 2, 3) < 0.0210


def test_the_settlement_queue_buys_in_after_the_set_number_of_fails() -> None:
    from conftest import quick
    from sim.runs import run

    often = "venues.exchange.fail_probability_at_t2=0.5"
    bought_in = run(quick("baseline", often, "settlement.buy_in_after_fails=1"), 5)
    exchange = bought_in.trades[bought_in.trades["venue_name"] == "exchange"]
    assert exchange["fails"].max() == 1, "a trade failed again after its buy-in"
    in_horizon = exchange["settled_day"] < bought_in.scenario.horizon_days
    assert bought_in.kpis["buy_ins_exchange"] == ((exchange["fails"] == 1) & in_horizon).sum() > 0
    retried = run(quick("baseline", often, "settlement.buy_in_after_fails=null"), 5)
    assert retried.trades["fails"].max() > 1 and retried.kpis["buy_ins_exchange"] == 0
