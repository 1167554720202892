"""An ETF whose basket is a share of the run: the authorised participant's basket trades are stock trades.

In equity_channels.yaml the ETF's basket is the share `hk_stocks`: the NAV moves with its price,
the fund holds it, and the participant buys it on the exchange after a creation and sells it
there after a redemption, so the basket's duty is paid on stock trades and lands in the stock
channel rather than on a duty line of the participant's own.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import engine
from sim.compile import compile_market
from sim.invariants import check_invariants
from sim.market.calendar import BusinessCalendar
from sim.market.values import fair_values
from sim.runs import run
from sim.scenario import ScenarioError
from tests.conftest import quick

# A market maker in the ETF that leans hard at a small limit, and a participant holding one creation
# unit: investors' flows push the ETF's quotes beyond the participant's band, so it creates and redeems.
def arbitrage(skew_bps: float = 40) -> tuple[str, ...]:
    return (
        "horizon_days=30",
        "venues.exchange.listings.hk_tracker.market_maker.inventory_limit_units=60000",
        f"venues.exchange.listings.hk_tracker.market_maker.skew_bps_at_limit={skew_bps}",
        "instruments.hk_tracker.authorised_participant.initial_units={conventional: 100000, tokenized: 0}",
    )


ARBITRAGE = arbitrage()
RATE = 0.001  # the stock rate per side in equity_channels


def _model(*extra: str, skew_bps: float = 40) -> engine.Model:
    model = engine.build(quick("equity_channels", *arbitrage(skew_bps), *extra), seed=1)
    engine.simulate(model)
    check_invariants(model)
    return model


@pytest.fixture(scope="module")
def arbitraged() -> engine.Model:
    return _model()


def _participant_stock_trades(model: engine.Model):
    trades = model.recorder.trades.frame()
    participant = model.participants[0].account
    stock = {listing.index for listing in model.listings if listing.instrument == "hk_stocks"}
    in_stock = trades[trades["listing"].isin(stock)]
    return in_stock, in_stock[(in_stock["buyer"] == participant) | (in_stock["seller"] == participant)]


def test_the_participants_basket_purchases_and_sales_are_stock_trades_that_pay_stock_duty(arbitraged):
    creations = arbitraged.recorder.creations.frame()
    assert (creations["created_units"] > 0).any() and (creations["created_units"] < 0).any()  # it created and redeemed
    _, basket = _participant_stock_trades(arbitraged)
    participant = arbitraged.participants[0].account
    bought, sold = basket[basket["buyer"] == participant], basket[basket["seller"] == participant]
    assert len(bought) and len(sold)
    value = bought["price_cents"] * bought["quantity"]
    assert (bought["buyer_duty_cents"] == (value * RATE).round()).all()  # the stock rate on its side
    assert (creations["stamp_duty_cents"] == 0).all()  # the transfer into the fund is relieved: no duty line


def test_the_basket_duty_lands_in_the_stock_channel_and_nowhere_twice():
    result = run(quick("equity_channels", *ARBITRAGE), seed=1)
    trades, kpis = result.trades, result.kpis
    stock = trades[(trades["instrument"] == "hk_stocks") & (trades["form"] == "conventional")]
    participant = (stock["buyer_group"] == "authorised_participant") | (stock["seller_group"] == "authorised_participant")
    assert participant.any()
    duty = (stock["buyer_duty_cents"] + stock["seller_duty_cents"]).sum() / 100.0
    assert kpis["stamp_duty_hkd_stock_conventional"] == pytest.approx(duty)
    assert kpis["basket_stamp_duty_hkd"] == 0.0
    channels = sum(v for k, v in kpis.items() if k.startswith("stamp_duty_hkd_") and k.count("_") == 4 and not k.endswith("_per_year"))
    assert kpis["stamp_duty_hkd"] == pytest.approx(channels)


def test_the_fund_holds_the_basket_and_the_participant_restores_its_stock_of_it(arbitraged):
    model = arbitraged
    participant = model.participants[0]
    asset = participant.basket.asset
    ledger = model.ledger
    fresh = engine.build(quick("equity_channels", *ARBITRAGE), seed=1).ledger  # the same accounts at the open
    assert fresh.cash[participant.fund] == 0 and fresh.units[asset][participant.fund] > 0  # backing in kind
    creations = model.recorder.creations.frame()
    baskets = np.sign(creations["created_units"]) * np.round(
        creations["nav_hkd"] * 100_000 / creations["time"].map(participant.basket.value.at))
    assert ledger.units[asset][participant.fund] == fresh.units[asset][participant.fund] + baskets.sum()
    position = ledger.standing(asset, participant.account)[0]  # held, plus bought and not yet settled
    assert position == fresh.units[asset][participant.account] - participant.basket_due
    assert abs(participant.basket_due) <= 100_000  # at most a basket still to restore at the end


def test_without_the_transfer_relief_the_participant_pays_the_transfer_on_a_duty_line_as_well():
    model = _model("policy.stamp_duty.creation_redemption_relief.enabled=false", skew_bps=80)  # a band 20 bp wider
    creations = model.recorder.creations.frame()
    assert len(creations)
    value = (creations["nav_hkd"] * 100 * 100_000).round()
    assert (creations["stamp_duty_cents"] == (value * 2 * RATE).round()).all()  # both sides of the transfer
    _, basket = _participant_stock_trades(model)
    assert (basket["buyer_duty_cents"] + basket["seller_duty_cents"]).sum() > 0  # and the stock trades pay theirs


def test_the_nav_is_the_basket_share_scaled_less_the_fee():
    scenario = quick("equity_channels", "horizon_days=20")
    spec = compile_market(scenario)
    calendar = BusinessCalendar(scenario.calendar.start_date, scenario.calendar.holidays, scenario.horizon_days)
    values = fair_values(spec.instruments, spec.correlation, scenario.horizon_days, scenario.value_steps_per_day,
                         calendar, seed=4)
    times = np.linspace(0.0, 19.9, 97)
    ratio = np.array([values["hk_tracker"].at(t) / values["hk_stocks"].at(t) for t in times])
    assert ratio[0] == pytest.approx(1.0)  # both start at HK$25
    assert np.all(np.diff(ratio) <= 1e-15) and ratio[-1] == pytest.approx(np.exp(-10e-4 * 28 / 365), rel=1e-3)
    moved = np.array([values["hk_stocks"].at(t) for t in times])
    assert moved.std() > 0.1  # the share moves, and the ETF with it


@pytest.mark.parametrize("setting, words", [
    ("instruments.hk_tracker.basket=green_bond", "'green_bond' is a bond; a basket is a `stock` instrument"),
    ("instruments.hk_tracker.basket=hk_stock", "unknown instrument 'hk_stock'"),
    ("instruments.hk_tracker.underlying.volatility_per_year=0.3",
     "underlying.volatility_per_year: 0.3, but the NAV moves with its basket 'hk_stocks'"),
    ("instruments.hk_tracker.basket_pays_stamp_duty=false", "the basket 'hk_stocks' is a Hong Kong share"),
    ("correlations=[{between: [hk_tracker, green_bond], coefficient: 0.2}]",
     "hk_tracker moves with its basket 'hk_stocks'; correlate 'hk_stocks' instead"),
    ("venues.exchange.listings={hk_tracker: {}}", "'hk_stocks' is listed on no exchange"),
])
def test_a_basket_that_cannot_be_traded_as_one_is_refused_with_its_key(setting, words):
    with pytest.raises(ScenarioError, match=words.replace("(", r"\(").replace(")", r"\)")):
        quick("equity_channels", setting)
