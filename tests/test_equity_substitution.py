"""Duty moves equity exposure between wrappers: the share and the ETF in equity_channels.yaml."""

from __future__ import annotations

from sim import engine
from sim.invariants import check_invariants
from sim.runs import run
from tests.conftest import quick

SHORT = "horizon_days=20"


def _at_stock_duty(rate: float) -> dict[str, float]:
    levers = [f"policy.stamp_duty.{form}_stock.rate_per_side={rate}" for form in ("conventional", "tokenized")]
    return run(quick("equity_channels", SHORT, *levers), seed=3).kpis


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
