"""Hong Kong shares as an instrument: the taxed stock channel, tokenized shares and their duty lever."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.compile import compile_market, listing_costs
from sim.engine import build
from sim.invariants import check_invariants
from sim.market.calendar import BusinessCalendar
from sim.market.payers import Payer
from sim.market.values import fair_values
from sim.report.text import net_fiscal_text
from sim.runs import run
from sim.scenario import ScenarioError, load_scenario
from tests.conftest import SCENARIOS, quick

STOCK_RATE = 0.001
STOCKS = "hk_stocks"


def _stock_trades(result, form: str):
    trades = result.trades
    return trades[(trades["instrument"] == STOCKS) & (trades["form"] == form)]


def _value_cents(trades) -> np.ndarray:
    return (trades["price_cents"] * trades["quantity"]).to_numpy()


@pytest.fixture(scope="module")
def channels():
    return run(quick("equity_channels", "horizon_days=10"), seed=5)


def test_a_stock_trade_pays_the_stock_rate_on_both_sides_market_maker_included(channels):
    trades = _stock_trades(channels, "conventional")
    assert len(trades) > 50
    expected = np.round(_value_cents(trades) * STOCK_RATE)
    assert (trades["buyer_duty_cents"].to_numpy() == expected).all()
    assert (trades["seller_duty_cents"].to_numpy() == expected).all()
    makers_side = (trades["buyer_group"] == "market_maker") | (trades["seller_group"] == "market_maker")
    assert makers_side.all()  # investors meet the maker: so the maker paid the duty above on its side


def test_the_government_receives_every_cent_of_stock_duty_and_units_and_cash_are_conserved():
    model = build(quick("equity_channels"), seed=2)
    government = next(i for i, account in enumerate(model.ledger.accounts) if account.name == "government")
    before = model.ledger.cash[government]
    model.env.run()
    check_invariants(model)
    trades = model.recorder.trades.frame()
    duty = int(trades["buyer_duty_cents"].sum() + trades["seller_duty_cents"].sum())
    assert duty > 0
    basket = int(model.recorder.creations.frame()["stamp_duty_cents"].sum()) if len(model.recorder.creations.frame()) else 0
    assert model.ledger.cash[government] - before == duty + basket


@pytest.mark.parametrize("payer", [Payer.MARKET_MAKER, Payer.INVESTOR, Payer.RETAIL, Payer.AUTHORISED_PARTICIPANT])
def test_tokenized_shares_pay_their_own_lever_whoever_trades(payer):
    scenario = quick("equity_channels", "policy.stamp_duty.tokenized_stock.rate_per_side=0.003")
    assert listing_costs(scenario, "platform", "stock").duty_rate_for(payer, 0) == 0.003
    assert listing_costs(scenario, "exchange", "stock").duty_rate_for(payer, 0) == STOCK_RATE
    assert listing_costs(scenario, "platform", "etf").duty_rate_for(payer, 0) == 0.0  # ETF units stay exempt


def test_by_default_a_tokenized_share_pays_the_stock_rate(channels):
    trades = _stock_trades(channels, "tokenized")
    assert len(trades) > 0
    assert (trades["buyer_duty_cents"].to_numpy() == np.round(_value_cents(trades) * STOCK_RATE)).all()
    kpis = channels.kpis
    assert kpis["stamp_duty_hkd_stock_tokenized"] == pytest.approx(
        (trades["buyer_duty_cents"].sum() + trades["seller_duty_cents"].sum()) / 100)
    by_channel = sum(kpis[f"stamp_duty_hkd_{kind}_{form}"] for kind in ("etf", "stock", "bond")
                     for form in ("conventional", "tokenized"))
    assert kpis["stamp_duty_hkd"] == pytest.approx(by_channel + kpis["basket_stamp_duty_hkd"])


def test_the_waiver_collects_nothing_on_tokenized_shares_while_the_exchange_still_pays():
    result = run(quick("tokenized_shares_duty_waiver", "horizon_days=10"), seed=5)
    tokenized, conventional = _stock_trades(result, "tokenized"), _stock_trades(result, "conventional")
    assert len(tokenized) > 0 and len(conventional) > 0
    assert (tokenized["buyer_duty_cents"] == 0).all() and (tokenized["seller_duty_cents"] == 0).all()
    assert (conventional["seller_duty_cents"].to_numpy() == np.round(_value_cents(conventional) * STOCK_RATE)).all()
    assert result.kpis["stamp_duty_hkd_stock_tokenized"] == 0.0
    assert result.kpis["stamp_duty_hkd_stock_conventional"] > 0.0


def test_the_waiver_is_measured_against_equity_channels_and_says_it_is_a_counterfactual():
    waiver = load_scenario(SCENARIOS / "tokenized_shares_duty_waiver.yaml")
    assert waiver.measured_against == "equity_channels.yaml"
    assert waiver.counterfactual and "stamp duty" in waiver.counterfactual
    channels = load_scenario(SCENARIOS / "equity_channels.yaml")
    assert "interest weights" in channels.description and "substitution" in channels.description


def test_waiving_tokenized_share_duty_draws_trading_to_the_platform(channels):
    waived = run(quick("equity_channels", "horizon_days=10", "policy.stamp_duty.tokenized_stock.rate_per_side=0"), seed=5)
    assert (waived.kpis["turnover_hkd_hk_stocks_tokenized"] > channels.kpis["turnover_hkd_hk_stocks_tokenized"])


def test_a_higher_stock_duty_lowers_stock_turnover(channels):
    higher = run(quick("equity_channels", "horizon_days=10", "policy.stamp_duty.conventional_stock.rate_per_side=0.003"),
                 seed=5)
    assert higher.kpis["turnover_hkd_hk_stocks_conventional"] < 0.9 * channels.kpis["turnover_hkd_hk_stocks_conventional"]


def test_net_fiscal_take_is_duty_less_grants_paid():
    result = run(quick("digital_bond_grant", "horizon_days=26"), seed=1)
    kpis = result.kpis
    assert kpis["grants_paid_hkd"] > 0  # the bank's day-20 issue got its grant within the horizon
    assert kpis["net_fiscal_hkd"] == pytest.approx(kpis["stamp_duty_hkd"] - kpis["grants_paid_hkd"])


def test_a_share_has_no_management_fee_and_keeps_its_value_while_hkex_is_closed():
    scenario = quick("equity_channels", "instruments.hk_stocks.price.volatility_per_year=0",
                     "instruments.hk_tracker.underlying.volatility_per_year=0")
    spec = compile_market(scenario)
    calendar = BusinessCalendar(scenario.calendar.start_date, scenario.calendar.holidays, scenario.horizon_days)
    values = fair_values(spec.instruments, spec.correlation, scenario.horizon_days, scenario.value_steps_per_day,
                         calendar, seed=1)
    end = scenario.horizon_days - 0.01
    assert values[STOCKS].at(end) == pytest.approx(25.0, abs=1e-12)  # no fee drawn from a share
    assert values["hk_tracker"].at(end) < 25.0  # the ETF's fee is
    moving = fair_values(compile_market(quick("equity_channels")).instruments, None, scenario.horizon_days,
                         scenario.value_steps_per_day, calendar, seed=1)[STOCKS]
    assert moving.at(1.17) == moving.at(1.38)  # 04:00 and 09:00: HKEX closed, the last close's price
    assert moving.at(1.17) != moving.at(1.45)  # 10:48, in session: it has moved
    assert moving.margin(1.17) > 0.0 and moving.margin(1.45) == 0.0


def test_a_share_has_no_authorised_participant():
    model = build(quick("equity_channels"), seed=1)
    assert [p.listings[0].instrument for p in model.participants] == ["hk_tracker"]
    assert compile_market(quick("equity_channels")).instruments[STOCKS].authorised_participant is None


@pytest.mark.parametrize("setting, words", [
    ("instruments.hk_stocks.tick_size_hkd=0.015", "whole number of cents"),
    ("instruments.hk_stocks.management_fee_bps_per_year=10", "management_fee_bps_per_year"),
    ("instruments.hk_stocks.min_denomination_units=0", "min_denomination_units"),
])
def test_a_bad_stock_setting_is_refused_with_its_key(setting, words):
    with pytest.raises(ScenarioError, match=words):
        quick("equity_channels", setting)


def test_the_fiscal_sentence_names_the_trading_that_moved_behind_the_duty():
    def row(kpi: str, difference: float, low: float, high: float) -> dict:
        return {"kpi": kpi, "n": 4, "difference": difference, "ci_low": low, "ci_high": high,
                "half_width": (high - low) / 2}
    rows = pd.DataFrame([
        row("net_fiscal_hkd", -254e3, -317e3, -190e3),
        row("stamp_duty_hkd_stock_conventional", -165e3, -211e3, -119e3),
        row("turnover_hkd_hk_stocks_tokenized", 110e6, 88e6, 132e6),
        row("turnover_hkd_hk_stocks_conventional", -82e6, -106e6, -59e6),
        row("turnover_hkd_hk_tracker_conventional", -7e6, -14e6, 0.2e6),  # not clear: left out
        row("exposure_share_hk_equity_hk_stocks", 0.0018, 0.0011, 0.0026),
        row("exposure_share_hk_equity_hk_tracker", -0.0018, -0.0026, -0.0011),
    ])
    text = net_fiscal_text(rows, 1.0)
    moved = text.split("behind it, trading moved: ")[1]
    assert moved.index("hk_stocks tokenized HKD +110 m") < moved.index("hk_stocks conventional HKD −82")
    assert "hk_tracker" not in moved.split("hk_stocks's share")[0]  # the unclear change is not named
    assert "hk_stocks's share of the exposure hk_equity +0.180 pp" in moved
