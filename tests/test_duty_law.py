"""Stamp duty as Hong Kong charges it: who pays, on what, and which reliefs the law names."""

from __future__ import annotations

import pytest

from sim.compile import STAMP_DUTY, compile_market, listing_costs
from sim.engine import build
from sim.market.payers import Payer
from sim.runs import run
from tests.conftest import quick

STOCK_RATE = 0.001


def _participant_and_government(scenario):
    model = build(scenario, seed=3)
    participant = model.participants[0]
    government = next(i for i, account in enumerate(model.ledger.accounts) if account.name == "government")
    return model, participant, government


def test_baseline_follows_the_law_no_duty_on_any_etf_unit():
    result = run(quick("baseline", "horizon_days=10"), seed=4)
    etf = result.trades[result.trades["instrument_type"] == "etf"]
    assert len(etf) > 0
    assert (etf["buyer_duty_cents"] == 0).all() and (etf["seller_duty_cents"] == 0).all()
    # what the government collects is the participants' duty on basket stocks, nothing else
    assert result.kpis["stamp_duty_hkd"] == pytest.approx(result.kpis["basket_stamp_duty_hkd"])


@pytest.mark.parametrize("operation, units", [("_create", 1), ("_redeem", -1)])
def test_a_creation_or_redemption_pays_duty_on_the_basket_trade_not_on_the_unit_transfer(operation, units):
    """A creation's basket is bought, a redemption's sold: one side of a stock trade each; the
    transfer of the basket into or out of the fund is relieved."""
    model, participant, government = _participant_and_government(quick("baseline"))
    nav = participant.value.at(0.0)
    value = round(nav * 100 * participant.creation_unit)
    before = model.ledger.cash[government]
    getattr(participant, operation)(participant.listings[0], nav, 0.5)
    assert model.ledger.cash[government] - before == round(value * STOCK_RATE)  # one side of the stock trade
    flow = model.recorder.creations.frame().iloc[-1]
    assert flow["created_units"] == units * participant.creation_unit
    assert flow["stamp_duty_cents"] == round(value * STOCK_RATE)


def test_without_the_creation_relief_the_transfer_into_the_fund_pays_both_sides_too():
    model, participant, government = _participant_and_government(
        quick("baseline", "policy.stamp_duty.creation_redemption_relief.enabled=false"))
    nav = participant.value.at(0.0)
    value = round(nav * 100 * participant.creation_unit)
    before = model.ledger.cash[government]
    participant._create(participant.listings[0], nav, 0.5)
    assert model.ledger.cash[government] - before == round(value * 3 * STOCK_RATE)


def test_a_gold_basket_pays_no_stock_duty():
    model = build(quick("tokenized_gold"), seed=3)
    gold = next(p for p in model.participants if p.listings[0].instrument == "gold_token")
    etf = next(p for p in model.participants if p.listings[0].instrument == "hk_tracker")
    assert gold.duty_rate(0) == 0.0 and etf.duty_rate(0) == STOCK_RATE


def test_the_participants_band_covers_the_basket_duty():
    model, participant, _ = _participant_and_government(quick("baseline"))
    listing = participant.listings[0]
    nav = participant.value.at(0.0)
    without_duty = participant.params.basket_cost_bps / 10_000 + participant.params.creation_fee_hkd / (
        participant.creation_unit * nav) + listing.costs.rate_for(Payer.AUTHORISED_PARTICIPANT, 0)
    assert participant.band(listing, 0, nav) == pytest.approx(without_duty + STOCK_RATE)


@pytest.mark.parametrize("payer", [Payer.MARKET_MAKER, Payer.DEALER, Payer.AUTHORISED_PARTICIPANT, Payer.INVESTOR])
def test_a_market_makers_trade_pays_duty_unless_a_relief_names_it(payer):
    scenario = quick("tokenized_etf_duty")
    charged = listing_costs(scenario, "platform", "etf")
    assert charged.duty_rate_for(payer, 0) == STOCK_RATE
    exempt = listing_costs(quick("tokenized_etf_duty", "policy.stamp_duty.market_maker_exempt=true"), "platform", "etf")
    assert exempt.duty_rate_for(payer, 0) == (STOCK_RATE if payer == Payer.INVESTOR else 0.0)


def test_the_default_reliefs_name_no_duty():
    """Out of the box no relief waives stamp duty: only the exchange's fee rebate for market makers."""
    reliefs = compile_market(quick("baseline")).reliefs
    assert all(STAMP_DUTY not in relief.charges for relief in reliefs)


def test_the_fee_rebate_is_half_the_trading_fee_for_exchange_market_makers_only():
    scenario = quick("baseline")
    fees = scenario.venues["exchange"].fees
    per_side = (fees.trading_fee_bps + fees.sfc_levy_bps + fees.afrc_levy_bps + fees.settlement_fee_bps) / 10_000
    exchange = listing_costs(scenario, "exchange", "etf")
    assert exchange.rate_for(Payer.INVESTOR, 0) == pytest.approx(per_side)
    assert exchange.rate_for(Payer.AUTHORISED_PARTICIPANT, 0) == pytest.approx(per_side)
    assert exchange.rate_for(Payer.MARKET_MAKER, 0) == pytest.approx(per_side - 0.5 * fees.trading_fee_bps / 10_000)
    platform = listing_costs(scenario, "platform", "etf")
    assert platform.rate_for(Payer.MARKET_MAKER, 0) == pytest.approx(platform.rate_for(Payer.INVESTOR, 0))


def test_the_rebates_fee_names_are_the_venues_per_side_fees():
    from typing import get_args

    from sim.compile import PER_SIDE_FEES
    from sim.scenario.base import FeeName
    assert set(get_args(FeeName)) == set(PER_SIDE_FEES)
