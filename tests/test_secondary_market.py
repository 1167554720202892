"""The secondary market: direction of policy effects (on common random numbers), ETF arbitrage,
settlement, dealers, adoption, and conservation over random small scenarios."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import quick
from sim.engine import build
from sim.invariants import check_invariants
from sim.market.dealer import Dealer
from sim.market.orderbook import BUY, SELL
from sim.runs import run
from sim.scenario import load_scenario
from conftest import SCENARIOS

SHORT = "horizon_days=10"
# The ETF's basket moving around the clock, as before off-hours values (tests/test_off_hours.py):
# off-hours margins change which quotes are two-sided, and the day's variance packed into HKEX
# hours brings more duty-exempt churn between the authorised participant and the maker, either of
# which can blur the small differences these direction tests look for over ten days.
ROUND_THE_CLOCK = "instruments.hk_tracker.underlying.sessions_hours=[[0, 24]]"


def tokenized_etf_turnover(rate: float) -> float:
    scenario = quick("baseline", SHORT, f"policy.stamp_duty.tokenized_etf.rate_per_side={rate}", ROUND_THE_CLOCK)
    return run(scenario, seed=3).kpis["turnover_hkd_hk_tracker_tokenized"]


def test_higher_duty_never_raises_that_forms_turnover():
    turnovers = [tokenized_etf_turnover(rate) for rate in (0.0, 0.0005, 0.001, 0.002, 0.005)]
    assert turnovers == sorted(turnovers, reverse=True)
    assert turnovers[0] > 1.2 * turnovers[2]


def test_duty_on_bonds_moves_bond_trading_to_the_untaxed_form():
    base = run(quick("baseline", SHORT), seed=4).kpis
    # 2 bp a side: market makers pay it too, so at 0.1% the tokenized bond stops trading altogether
    taxed = run(quick("baseline", SHORT, "policy.stamp_duty.tokenized_bond.rate_per_side=0.0002"), seed=4).kpis
    assert taxed["turnover_hkd_green_bond_tokenized"] < base["turnover_hkd_green_bond_tokenized"]
    assert taxed["stamp_duty_hkd_bond"] > 0 == base["stamp_duty_hkd_bond"]
    assert taxed["turnover_hkd_green_bond_conventional"] >= base["turnover_hkd_green_bond_conventional"]


def test_tokenized_cash_settles_tokenized_venues_atomically():
    dvp = "venues.platform.settlement_model=dvp"  # the baseline platform settles by book entry, at the trade anyway
    base = run(quick("baseline", SHORT, dvp), seed=5)
    atomic = run(quick("stablecoin_settlement", SHORT, dvp), seed=5)
    platform = atomic.daily[atomic.daily["venue_name"] == "platform"]
    assert (platform["unsettled_hkd"] == 0).all() and (platform["fails"] == 0).all()
    assert (base.daily.loc[base.daily["venue_name"] == "platform", "unsettled_hkd"] > 0).any()
    tokenized = atomic.trades[atomic.trades["form"] == "tokenized"]
    assert (tokenized["settled_day"] == tokenized["day"]).all()
    exchange = atomic.daily[atomic.daily["venue_name"] == "exchange"]
    assert (exchange["unsettled_hkd"] > 0).any(), "conventional venues keep their cycle"


def test_tokenized_cash_can_start_mid_run():
    scenario = quick("baseline", SHORT, "policy.tokenized_cash={enabled: true, from_day: 5}",
                     "venues.platform.settlement_model=dvp")
    trades = run(scenario, seed=5).trades
    tokenized = trades[trades["form"] == "tokenized"]
    early, late = tokenized[tokenized["day"] < 5], tokenized[tokenized["day"] >= 5]
    assert (early["settled_day"] > early["day"]).all()
    assert (late["settled_day"] == late["day"]).all()


def test_retail_access_raises_retail_tokenized_turnover():
    base = run(quick("baseline", SHORT), seed=6).kpis
    opened = run(quick("retail_access", SHORT), seed=6).kpis
    assert base["turnover_hkd_tokenized_retail"] == 0
    assert opened["turnover_hkd_tokenized_retail"] > 0
    faster = run(quick("retail_access", SHORT, "investors.retail.adoption.initial_share=0.5"), seed=6).kpis
    assert faster["turnover_hkd_tokenized_retail"] > opened["turnover_hkd_tokenized_retail"]


def test_adoption_follows_bass_diffusion():
    groups = run(quick("retail_access", "horizon_days=40"), seed=6).groups
    retail = groups[groups["group_name"] == "retail"]["onboarded_share"].to_numpy()
    assert retail[0] == pytest.approx(0.05)
    assert (retail[1:] >= retail[:-1]).all() and retail[-1] > retail[0]


@pytest.mark.parametrize("form", ["conventional", "tokenized"])
def test_larger_inventory_limit_does_not_widen_spreads(form):
    venue = "exchange" if form == "conventional" else "platform"
    spreads = []
    for limit in (20_000, 100_000, 1_000_000):
        scenario = quick("baseline", SHORT, f"venues.{venue}.listings.hk_tracker.market_maker.inventory_limit_units={limit}",
                         ROUND_THE_CLOCK)
        spreads.append(run(scenario, seed=3).kpis[f"avg_spread_bps_{form}"])
    assert spreads == sorted(spreads, reverse=True)


def test_etf_price_stays_within_the_arbitrage_band():
    """A market maker that leans hard on its inventory pushes quotes away from NAV; the
    authorised participant creates or redeems until the mid is back inside its cost band."""
    stressed = "venues.exchange.listings.hk_tracker.market_maker={skew_bps_at_limit: 150, inventory_limit_units: 100000}"
    scenario = quick("baseline", "horizon_days=20", stressed)
    model = build(scenario, seed=3)
    model.env.run()
    check_invariants(model)
    result = run(scenario, seed=3)
    participant = model.participants[0]
    exchange = result.daily[(result.daily["instrument"] == "hk_tracker") & (result.daily["venue_name"] == "exchange")]
    listing = next(l for l in model.listings if l.instrument == "hk_tracker" and l.venue.name == "exchange")
    band_bps = participant.band(listing, 0, 25.0) * 10_000
    assert (exchange["created_units"] != 0).any(), "the participant acted"
    inside = (exchange["premium_bps"].abs() <= band_bps).mean()
    assert inside >= 0.9
    assert sum(model.ledger.created_units) - sum(model.ledger.redeemed_units) == result.kpis["etf_units_created"]


def test_dealer_quotes_widen_with_size_and_refuse_beyond_the_limit(baseline):
    model = build(baseline, seed=1)
    dealer = next(l.provider for l in model.listings if isinstance(l.provider, Dealer))
    listing = dealer.listing
    fair = listing.value.at(0.0)
    small, large = dealer.quote(BUY, 1_000, fair, 0), dealer.quote(BUY, 1_000_000, fair, 0)
    assert large > small > listing.ticks(fair)
    assert dealer.quote(SELL, 1_000, fair, 0) < listing.ticks(fair)
    too_big = dealer.params.inventory_limit_units + 1
    assert dealer.quote(SELL, too_big, fair, 0) is None
    assert dealer.fills(SELL, 1, too_big, 0, fair, 0) == []


def test_calendar_skips_weekends_and_holidays():
    daily = run(quick("baseline", "horizon_days=40"), seed=2).daily
    dates = [datetime.date.fromisoformat(d) for d in daily["date"].unique()]
    assert all(d.weekday() < 5 for d in dates)
    assert datetime.date(2026, 1, 1) not in dates and datetime.date(2026, 2, 17) not in dates
    assert dates[0] == datetime.date(2026, 1, 5)


def test_fails_delay_settlement_and_are_counted():
    scenario = quick("baseline", SHORT, "venues.exchange.fail_probability_at_t2=0.3")
    result = run(scenario, seed=7)
    exchange = result.trades[result.trades["venue_name"] == "exchange"]
    assert 0.2 < (exchange["fails"] > 0).mean() < 0.4
    assert result.kpis["settlement_fails"] == result.daily["fails"].sum() > 0


FORMS_AND_TYPES = ["conventional_etf", "tokenized_etf", "conventional_bond", "tokenized_bond", "conventional_stock"]


@st.composite
def small_scenarios(draw):
    """Random small variants of the baseline: levers, cycles, fails, access and sizes."""
    overrides = ["horizon_days=%d" % draw(st.integers(2, 4))]
    overrides.append("investors.retail.accounts=%d" % draw(st.integers(1, 30)))
    overrides.append("investors.institutional.accounts=%d" % draw(st.integers(1, 10)))
    for lever in FORMS_AND_TYPES:
        rate = draw(st.sampled_from([0.0, 0.0005, 0.001, 0.003]))
        overrides.append(f"policy.stamp_duty.{lever}.rate_per_side={rate}")
    overrides.append(f"policy.stamp_duty.market_maker_exempt={str(draw(st.booleans())).lower()}")
    overrides.append(f"policy.stamp_duty.creation_redemption_relief.enabled={str(draw(st.booleans())).lower()}")
    overrides.append(f"policy.tokenized_cash.enabled={str(draw(st.booleans())).lower()}")
    overrides.append(f"policy.market_maker_fee_rebate.share={draw(st.sampled_from([0.0, 0.5, 1.0]))}")
    for venue in ("exchange", "otc", "platform"):
        overrides.append(f"venues.{venue}.settlement_cycle_days={draw(st.integers(0, 3))}")
        overrides.append(f"venues.{venue}.fail_probability_at_t2={draw(st.sampled_from([0.0, 0.1, 0.5]))}")
    overrides.append(f"investors.retail.tokenized_access={str(draw(st.booleans())).lower()}")
    overrides.append(f"investors.retail.initial_cash_hkd={draw(st.sampled_from([0, 10_000, 500_000]))}")
    overrides.append(f"investors.institutional.gain_mean_bps={draw(st.sampled_from([2, 15, 80]))}")
    overrides.append(f"investors.retail.needs_per_day={draw(st.sampled_from([50, 400]))}")
    return load_scenario(SCENARIOS / "baseline.yaml", overrides), draw(st.integers(0, 2**32))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_scenarios())
def test_conservation_holds_in_random_small_markets(case):
    scenario, seed = case
    model = build(scenario, seed)
    model.env.run()
    check_invariants(model)  # units, tokens and cash conserved; nothing negative or pending; all settled
    trades = model.recorder.trades.frame()
    ledger = model.ledger
    government = next(i for i, a in enumerate(ledger.accounts) if a.name == "government")
    basket_duty = model.recorder.creations.frame()["stamp_duty_cents"].sum()
    assert ledger.cash[government] == trades["buyer_duty_cents"].sum() + trades["seller_duty_cents"].sum() + basket_duty
    collectors = [i for i, a in enumerate(ledger.accounts) if a.group == "collector" and a.name not in ("government", "basket_costs")]
    assert sum(ledger.cash[i] for i in collectors) == trades["buyer_fees_cents"].sum() + trades["seller_fees_cents"].sum()
    assert (trades["settled_day"] >= trades["day"]).all()
    assert (trades["quantity"] > 0).all() and (trades["price_cents"] > 0).all()


def test_short_selling_only_where_the_scenario_allows_it():
    no_holdings = "investors.retail.holdings={}"
    base = run(quick("baseline", SHORT, no_holdings), seed=8).trades
    retail_sales = base[base["seller_group"] == "retail"]
    sold = retail_sales.groupby(["seller", "instrument"])["quantity"].sum()
    bought = base[base["buyer_group"] == "retail"].groupby(["buyer", "instrument"])["quantity"].sum()
    assert len(sold) > 0 and (sold <= bought.reindex(sold.index, fill_value=0)).all(), \
        "retail sells only units it has bought (settled or, under DvP, still due)"
    shorting = quick("baseline", SHORT, no_holdings, "investors.retail.short_selling=true")
    model = build(shorting, seed=8)
    model.env.run()
    check_invariants(model)  # negative holdings allowed for the short sellers only
    asset = model.listings[0].asset
    retail = [i for i, a in enumerate(model.ledger.accounts) if a.group == "retail"]
    assert min(model.ledger.units[asset][i] for i in retail) < 0


def test_investors_use_only_the_venues_they_may():
    result = run(quick("baseline", SHORT, "investors.institutional.venues=[exchange, otc]"), seed=8)
    institutional = result.trades[result.trades["taker_group"] == "institutional"]
    assert set(institutional["venue_name"]) == {"exchange", "otc"}


def test_value_shocks_follow_the_scenario_correlation():
    import numpy as np

    from sim.market.calendar import BusinessCalendar
    from sim.compile import compile_market
    from sim.market.values import fair_values

    def step_returns(coefficient: float) -> np.ndarray:
        scenario = quick("baseline", "horizon_days=200", f"correlations=[{{between: [hk_tracker, green_bond], coefficient: {coefficient}}}]",
                         "instruments.hk_tracker.underlying.sessions_hours=[[0, 24]]")  # every step moves the basket
        calendar = BusinessCalendar(scenario.calendar.start_date, scenario.calendar.holidays, scenario.horizon_days)
        spec = compile_market(scenario)
        values = fair_values(spec.instruments, spec.correlation, scenario.horizon_days, scenario.value_steps_per_day,
                             calendar, seed=1)
        return np.corrcoef(np.diff(np.log(values["hk_tracker"]._values)), np.diff(np.log(values["green_bond"]._values)))[0, 1]

    # a higher yield lowers the bond's price: a positive shock correlation is a negative price correlation
    assert step_returns(0.8) == pytest.approx(-0.8, abs=0.05)
    assert abs(step_returns(0.0)) < 0.05


def test_etf_creations_and_redemptions_are_in_the_primary_market_table():
    stressed = "venues.exchange.listings.hk_tracker.market_maker={skew_bps_at_limit: 150, inventory_limit_units: 100000}"
    result = run(quick("baseline", "horizon_days=20", stressed), seed=3)
    flows = result.issuance[result.issuance["kind"].str.startswith("etf")]
    signed = flows["allocated_units"].where(flows["kind"] == "etf creation", -flows["allocated_units"])
    assert len(flows) > 0 and signed.sum() == result.kpis["etf_units_created"]
    assert (flows["size_hkd"] > 0).all() and set(flows["name"]) == {"hk_tracker"}
