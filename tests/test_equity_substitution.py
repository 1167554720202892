"""Duty moves equity exposure between wrappers: the share and the ETF in equity_channels.yaml."""

from __future__ import annotations

import math

import pytest

from sim import engine
from sim.invariants import check_invariants
from sim.runs import run
from sim.scenario import ScenarioError
from tests.conftest import quick

SHORT = "horizon_days=20"


def _levers(rate: float) -> list[str]:
    return [f"policy.stamp_duty.{form}_stock.rate_per_side={rate}" for form in ("conventional", "tokenized")]


def _at_stock_duty(rate: float) -> dict[str, float]:
    return run(quick("equity_channels", SHORT, *_levers(rate)), seed=3).kpis


# Published response of trading volume to total transaction cost: mostly -0.5 to -1.5, the UK's long
# run -1.65 (Matheson, IMF WP/11/54, 2011); docs/calibration.md. The share's all-in cost per side is
# its duty, fees and the spread paid; its turnover falls both as needs go untraded and as exposure
# needs move to the ETF.
PUBLISHED_ELASTICITY = (-1.65, -0.5)


def _investors_in_the_share(rate: float, seed: int) -> tuple[float, float, float]:
    """HK$ the investors trade in the share, their all-in cost per HK$ and side, and the ETF's share of
    the exposure's value traded, at a stock duty of `rate` per side (40 days)."""
    result = run(quick("equity_channels", "horizon_days=40", *_levers(rate)), seed=seed)
    trades = result.trades
    ours = trades[(trades["instrument"] == "hk_stocks")
                  & ~trades["taker_group"].isin(["authorised_participant", "market_maker"])]
    value = ours["value_hkd"].sum()
    cost = (ours["taker_duty_hkd"] + ours["taker_fees_hkd"] + ours["taker_spread_hkd"]).sum() / value
    return value, cost, result.kpis["exposure_share_hk_equity_hk_tracker"]


def test_the_2021_stock_duty_rise_moves_exposure_to_the_etf_and_cuts_share_turnover_within_the_published_range():
    """0.1% to 0.13% per side (Hong Kong, 1 Aug 2021): the share's turnover falls with an elasticity
    against its all-in cost inside the published range, and the ETF's share of the exposure rises."""
    for seed in (1, 2):
        (before, cost_before, etf_before), (after, cost_after, etf_after) = (
            _investors_in_the_share(rate, seed) for rate in (0.001, 0.0013))
        elasticity = math.log(after / before) / math.log(cost_after / cost_before)
        assert PUBLISHED_ELASTICITY[0] < elasticity < PUBLISHED_ELASTICITY[1], (seed, elasticity)
        assert etf_after > etf_before + 0.01


def test_investors_who_switch_wrapper_less_readily_move_less_of_the_exposure_to_the_cheaper_etf():
    def etf_share(scale: float) -> float:
        sticky = [f"investors.{group}.wrapper_logit_scale_bps={scale}" for group in ("retail", "institutional")]
        return run(quick("equity_channels", SHORT, *sticky), seed=3).kpis["exposure_share_hk_equity_hk_tracker"]
    shares = [etf_share(scale) for scale in (2.0, 10.0, 200.0)]
    assert shares == sorted(shares, reverse=True) and shares[0] > shares[-1] + 0.03


def test_the_wrapper_choice_must_nest_the_channel_choice():
    with pytest.raises(ScenarioError, match="wrapper_logit_scale_bps: 1.0 is below channel_logit_scale_bps 2.0"):
        quick("equity_channels", "investors.retail.wrapper_logit_scale_bps=1")


def test_a_stock_duty_rise_moves_exposure_trading_towards_the_etf():
    """Hanke et al. (2010), Mannaro et al. (2008): a tax on one channel moves volume to the untaxed one."""
    shares = [_at_stock_duty(rate)["exposure_share_hk_equity_hk_tracker"] for rate in (0.0005, 0.001, 0.002)]
    assert shares == sorted(shares) and shares[-1] > shares[0] + 0.05
    low, high = _at_stock_duty(0.0005), _at_stock_duty(0.002)
    assert high["turnover_hkd_hk_stocks_conventional"] < low["turnover_hkd_hk_stocks_conventional"]
    assert high["stamp_duty_hkd_stock"] > 0


def test_units_and_cash_are_conserved_across_wrappers():
    model = engine.build(quick("equity_channels", "horizon_days=8"), seed=5)
    engine.simulate(model)
    check_invariants(model)
    trades = model.recorder.trades.frame()
    stock = [listing.index for listing in model.listings if listing.instrument == "hk_stocks"]
    etf = [listing.index for listing in model.listings if listing.instrument == "hk_tracker"]
    assert trades["listing"].isin(stock).any() and trades["listing"].isin(etf).any()
