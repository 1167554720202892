"""Investors choosing the wrapper: a need for an exposure goes to whichever wrapper costs least all-in.

The mechanism is generic over instruments; these tests give the tokenized_gold scenario an
exposure whose wrappers are the baseline's ETF and the gold token (economically unalike, but each
with its own fair value, lot, listings and duty, which is what the choice reads).
"""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import quick
from sim.engine import build, simulate
from sim.invariants import check_invariants
from sim.runs import run
from sim.scenario import ScenarioError

EXPOSURE = ("exposures.hk_exposure.wrappers.hk_tracker.tracking_cost_bps=0",
            "exposures.hk_exposure.wrappers.gold_token.tracking_cost_bps=2",
            "investors.retail.interest={hk_exposure: 0.9, green_bond: 0.1}",
            "investors.institutional.interest={hk_exposure: 0.85, green_bond: 0.15}")
SHARE = "exposure_share_hk_exposure_gold_token"


def exposure_scenario(*overrides: str):
    return quick("tokenized_gold", "horizon_days=15", *EXPOSURE, *overrides)


def gold_duty(rate: float) -> tuple[str, ...]:
    return (f"policy.stamp_duty.conventional_commodity_token.rate_per_side={rate}",
            f"policy.stamp_duty.tokenized_commodity_token.rate_per_side={rate}")


def investor_value(trades: pd.DataFrame, instrument: str, group: str | None = None) -> float:
    mask = trades["instrument"] == instrument
    mask &= trades["taker_group"] == group if group else trades["taker_group"].isin(["retail", "institutional"])
    return float(trades.loc[mask, "value_hkd"].sum())


def test_a_duty_on_one_wrapper_moves_the_exposure_to_the_other():
    untaxed = run(exposure_scenario(*gold_duty(0.0)), 7)
    taxed = run(exposure_scenario(*gold_duty(0.005)), 7)
    assert untaxed.kpis[SHARE] > 0.1  # the token is chosen when it costs no more
    assert taxed.kpis[SHARE] < untaxed.kpis[SHARE] / 4
    assert untaxed.kpis[SHARE] + untaxed.kpis["exposure_share_hk_exposure_hk_tracker"] == pytest.approx(1.0)
    # the needs the token lost went to the ETF, not away
    assert investor_value(taxed.trades, "hk_tracker") > investor_value(untaxed.trades, "hk_tracker") * 1.1


def test_the_tracking_cost_counts_against_its_wrapper():
    cheap = run(exposure_scenario(*gold_duty(0.0)), 7)
    drag = run(exposure_scenario(*gold_duty(0.0), "exposures.hk_exposure.wrappers.gold_token.tracking_cost_bps=30"), 7)
    assert drag.kpis[SHARE] < cheap.kpis[SHARE] / 4


def test_a_wrapper_the_group_cannot_reach_is_never_used():
    """The token listed only on the platform: retail (no tokenized access) meets its exposure
    needs through the ETF alone, while institutions still use the token."""
    only_tokenized = ("venues.exchange.listings={hk_tracker: {market_maker: {base_half_spread_bps: 1.0, "
                      "quote_size_units: 20000, inventory_limit_units: 1000000, initial_units: 5000000, "
                      "initial_cash_hkd: 300000000}}}")
    scenario = exposure_scenario(*gold_duty(0.0), only_tokenized)
    assert not scenario.investors["retail"].tokenized_access
    trades = run(scenario, 7).trades
    assert investor_value(trades, "gold_token", "retail") == 0.0
    assert investor_value(trades, "hk_tracker", "retail") > 0.0
    assert investor_value(trades, "gold_token", "institutional") > 0.0


def test_a_sale_only_sells_a_wrapper_the_account_holds():
    """Retail starts without tokens: every token a retail account sells it bought first."""
    scenario = exposure_scenario(*gold_duty(0.0), "investors.retail.holdings.gold_token.conventional=0")
    trades = run(scenario, 7).trades
    token = trades[trades["instrument"] == "gold_token"].sort_values("time", kind="stable")
    bought = token[token["buyer_group"] == "retail"][["time", "buyer", "quantity"]].rename(columns={"buyer": "account"})
    sold = token[token["seller_group"] == "retail"][["time", "seller", "quantity"]].rename(columns={"seller": "account"})
    assert len(sold) > 0, "retail never sold the token: the test would prove nothing"
    sold = sold.assign(quantity=-sold["quantity"])
    flows = pd.concat([bought, sold]).sort_values("time", kind="stable")
    positions = flows.groupby("account")["quantity"].cumsum()
    assert (positions >= 0).all()


def test_units_and_cash_conserved_and_runs_repeat():
    scenario = exposure_scenario(*gold_duty(0.001))
    model = build(scenario, 3)
    simulate(model)
    check_invariants(model)
    first, second = run(scenario, 3), run(scenario, 3)
    pd.testing.assert_frame_equal(first.trades, second.trades)
    assert first.kpis == pytest.approx(second.kpis, nan_ok=True)


@pytest.mark.parametrize("overrides, message", [
    (("exposures.eq.wrappers.hk_tracker.tracking_cost_bps=1", "exposures.eq.wrappers.gold_tokn.tracking_cost_bps=1"),
     "exposures.eq.wrappers: unknown instrument 'gold_tokn'"),
    (("exposures.eq.wrappers.hk_tracker.tracking_cost_bps=1",), "give at least two instruments"),
    (("exposures.gold_token.wrappers.hk_tracker.tracking_cost_bps=1",
      "exposures.gold_token.wrappers.green_bond.tracking_cost_bps=1"), "exposures.gold_token: the name is also"),
    (("exposures.eq.wrappers.hk_tracker.tracking_cost_bps=-1", "exposures.eq.wrappers.gold_token.tracking_cost_bps=1"),
     "tracking_cost_bps"),
    (("investors.retail.interest={hk_exposur: 1}",), "unknown name 'hk_exposur'"),
])
def test_bad_exposures_are_refused_clearly(overrides, message):
    with pytest.raises(ScenarioError, match=message):
        quick("tokenized_gold", "exposures.hk_exposure.wrappers.hk_tracker.tracking_cost_bps=0",
              "exposures.hk_exposure.wrappers.gold_token.tracking_cost_bps=0", *overrides)


def test_a_programme_is_not_a_wrapper():
    with pytest.raises(ScenarioError, match="unknown instrument 'green_tokenized'"):
        quick("regular_bond_issuance", "exposures.eq.wrappers.hk_tracker.tracking_cost_bps=0",
              "exposures.eq.wrappers.green_tokenized.tracking_cost_bps=0")
    with pytest.raises(ScenarioError, match="exposures.green_tokenized: the name is also"):
        quick("regular_bond_issuance", "exposures.green_tokenized.wrappers.hk_tracker.tracking_cost_bps=0",
              "exposures.green_tokenized.wrappers.green_bond.tracking_cost_bps=0")
