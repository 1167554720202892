"""Settlement assets: a licensed stablecoin's issuer, queue, run and price; tokenized deposits; how venues settle in them.

Component tests build a stablecoin's spec and a calendar by hand (business day 4 of a calendar
starting Monday 5 Jan 2026 is a Friday, so day 4 at hour 66 is the Sunday evening after it).
Engine tests run the shipped scenarios, shortened, with the stress moved to that Friday.
"""

from __future__ import annotations

import dataclasses
import datetime
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import quick
from sim.experiment.stats import paired_comparison
from sim.invariants import money_broken
from sim.market.calendar import BusinessCalendar
from sim.market.deposit_token import run_deposit_token
from sim.market.money_clock import MoneyClock
from sim.market.money_specs import (
    BankFailureSpec, CoinHolderSpec, DepositHolderSpec, DepositTokenSpec, ImpairmentSpec, Moment, ReserveSpec,
    StablecoinSpec, WindowSpec,
)
from sim.market.stablecoin import run_stablecoin
from sim.runs import run
from sim.scenario import ScenarioError

MONDAY = datetime.date(2026, 1, 5)
ALONE = "measured_against=null"  # a changed asset would not load in the comparator (which has none): leave it out
FRIDAY = 4  # business day 4
COIN = "licensed_coin"


@pytest.fixture(scope="module")
def clock() -> MoneyClock:
    return MoneyClock(BusinessCalendar(MONDAY, [], 10), 10)


def coin(frozen_share_of_reserves: float = 0.0825, cash_share: float = 0.25, expected_recovery: float = 0.5,
         fee_bps: float = 0.0, pauses: tuple = (), threshold_bps_max: float = 3000.0, **changes) -> StablecoinSpec:
    """A HK$10bn coin; a bank holding `frozen_share_of_reserves` of its reserves (in its cash class) fails on the
    Friday at noon, a guarantee comes on Sunday at 18:00 and the money is back on Monday at 09:00."""
    impairments = ()
    if frozen_share_of_reserves:
        impairments = (ImpairmentSpec("bank_deposits", frozen_share_of_reserves / cash_share, Moment(FRIDAY, 12.0),
                                      Moment(FRIDAY + 1, 9.0), expected_recovery, 1.0, Moment(FRIDAY, 66.0)),)
    spec = StablecoinSpec(
        name=COIN, in_issue_hkd=10e9, reserve_ratio=1.0,
        reserves={"bank_deposits": ReserveSpec(cash_share, 0), "government_bills": ReserveSpec(1.0 - cash_share, 1)},
        redemption_fee_bps=fee_bps, ramp_hours=(9.0, 17.0),
        holders={"retail": CoinHolderSpec(0.2, threshold_bps_max, 0.05, 0.9),
                 "institutional": CoinHolderSpec(0.6, threshold_bps_max, 0.05, 0.5)},
        arbitrage_depth_share=0.02, half_spread_bps=1.0,
        impairments=impairments, pauses=pauses)
    return dataclasses.replace(spec, **changes)


def test_the_clock_keeps_the_weekend_that_business_days_skip(clock):
    monday = clock.day_starts[FRIDAY + 1]
    assert monday - clock.day_starts[FRIDAY] == 3 * 24  # Friday to Monday: three calendar days
    assert clock.hour_of(Moment(FRIDAY, 66.0)) == clock.day_starts[FRIDAY] + 66.0  # Sunday 18:00
    assert clock.day_of_hour[clock.day_starts[FRIDAY] + 30] == -1  # Saturday 06:00 is no business day
    assert clock.hour_of_trading_time(FRIDAY + 1.5) == monday + 12
    assert clock.later_by_business_days(clock.day_starts[FRIDAY] + 10, 1) == monday + 10  # T+1 of a Friday


def test_a_coin_without_stress_stays_at_par_and_nobody_runs(clock):
    path = run_stablecoin(coin(frozen_share_of_reserves=0.0), clock)
    assert (path.price == 1.0).all() and (path.value == 1.0).all()
    assert path.redeemed_hkd.sum() == 0.0 and path.sold_hkd.sum() == 0.0
    assert (path.conversion_cost == 0.0).all()
    assert money_broken([path]) is None


def test_par_redemption_conserves_cash_and_coins(clock):
    """Every request is paid at par less the fee and burns its coins: coins in issue less those burned are
    exactly those still held, and reserves less the cash paid are exactly those left."""
    path = run_stablecoin(coin(fee_bps=10.0), clock)
    books = path.books
    assert books.burned_hkd > 1e9  # the run reached the issuer
    assert books.paid_hkd == pytest.approx(books.burned_hkd * (1.0 - 10.0 / 10_000.0), rel=1e-12)
    assert books.in_issue_start_hkd - books.burned_hkd == pytest.approx(sum(books.coins_end_hkd.values()), rel=1e-12)
    assert books.in_issue_start_hkd - books.burned_hkd == pytest.approx(path.supply_hkd[-1], rel=1e-12)
    assert books.reserves_start_hkd - books.paid_hkd - path.reserves_lost_hkd == pytest.approx(
        books.reserves_end_hkd, rel=1e-12)
    assert path.redeemed_hkd.sum() == pytest.approx(books.burned_hkd)
    assert money_broken([path]) is None


def test_redemptions_are_paid_only_in_the_ramp_hours_of_business_days(clock):
    path = run_stablecoin(coin(), clock)
    paid_hours = np.nonzero(path.redeemed_hkd > 0)[0]
    assert len(paid_hours)
    assert (clock.day_of_hour[paid_hours] >= 0).all()  # never at a weekend
    hour_of_day = paid_hours - np.asarray(clock.day_starts)[clock.day_of_hour[paid_hours]]
    assert ((hour_of_day >= 9) & (hour_of_day < 17)).all()


def test_a_frozen_share_above_the_liquid_buffer_makes_a_queue_and_a_discount(clock):
    """With 10% of reserves in cash and 15% of reserves frozen (in the bills), requests outgrow the cash
    at once: they wait for bill sales (T+1) and over the weekend, and the coin trades below par; the
    same coin with only 5% frozen inside a larger buffer queues less and falls less."""
    def frozen_in_bills(share: float) -> StablecoinSpec:
        spec = coin(frozen_share_of_reserves=0.0, cash_share=0.10)
        bills = ImpairmentSpec("government_bills", share / 0.9, Moment(FRIDAY, 12.0), Moment(FRIDAY + 1, 9.0),
                               0.5, 1.0, Moment(FRIDAY, 66.0))
        return dataclasses.replace(spec, impairments=(bills,))

    big, small = run_stablecoin(frozen_in_bills(0.15), clock), run_stablecoin(frozen_in_bills(0.05), clock)
    peak = int(np.argmax(big.queue_hkd))
    assert big.queue_hkd[peak] > big.liquid_hkd[peak] and big.queue_hkd[peak] > 1e9  # the queue outgrew the cash
    peak = int(np.argmax(small.queue_hkd))
    assert small.queue_hkd[peak] < small.liquid_hkd[peak]  # inside the buffer: it waits only for Monday
    assert big.price.min() < 0.95  # a discount, below the loss the market expects (7.5%)
    assert small.price.min() > big.price.min() and small.queue_hkd.max() < big.queue_hkd.max()
    assert money_broken([big, small]) is None


def test_the_guarantee_and_redemptions_on_monday_bring_the_coin_back_to_par(clock):
    path = run_stablecoin(coin(), clock)
    guarantee = int(clock.hour_of(Moment(FRIDAY, 66.0)))
    low = int(np.argmin(path.price))
    assert low < guarantee  # the low comes before the guarantee
    assert path.value[guarantee] == pytest.approx(1.0) and path.value[guarantee - 1] < 0.99
    back = low + int(np.nonzero(path.price[low:] >= 0.995)[0][0])
    assert clock.day_starts[FRIDAY + 1] + 9 <= back < clock.day_starts[FRIDAY + 2]  # on Monday, once redemptions open


def test_a_pause_of_redemptions_deepens_and_lengthens_the_de_peg(clock):
    monday = Moment(FRIDAY + 1, 0.0)
    paused = run_stablecoin(coin(pauses=(WindowSpec(monday, Moment(FRIDAY + 2, 24.0)),)), clock)
    plain = run_stablecoin(coin(), clock)
    assert paused.price.min() <= plain.price.min()
    assert (paused.price < 0.995).sum() > (plain.price < 0.995).sum()
    assert paused.redeemed_hkd[: clock.day_starts[FRIDAY + 3]].sum() < plain.redeemed_hkd[: clock.day_starts[FRIDAY + 3]].sum()


def test_requests_are_paid_within_the_ordinances_business_day_unless_redemptions_pause(clock):
    """Weekend requests are due a business day after Monday opens; paid on Monday they are on time. A pause
    over Monday and Tuesday leaves them owed past the deadline."""
    on_time = run_stablecoin(coin(), clock)
    assert on_time.queue_hkd.max() > 1e8 and on_time.overdue_hkd.max() == 0.0
    pause = WindowSpec(Moment(FRIDAY + 1, 0.0), Moment(FRIDAY + 2, 24.0))
    paused = run_stablecoin(coin(pauses=(pause,)), clock)
    assert paused.overdue_hkd.max() > 1e8
    assert paused.overdue_hkd[clock.day_starts[FRIDAY + 3] + 20] == 0.0  # paid once the pause ends
    strict = run_stablecoin(dataclasses.replace(coin(), redemption_deadline_days=0), clock)
    assert strict.overdue_hkd.max() > 0.0  # a same-day deadline cannot be met for a weekend's requests


def test_a_deeper_arbitrage_market_holds_the_price_closer_to_value(clock):
    thin = run_stablecoin(coin(arbitrage_depth_share=0.01), clock)
    deep = run_stablecoin(coin(arbitrage_depth_share=0.06), clock)
    assert deep.price.min() > thin.price.min()


@settings(max_examples=25, deadline=None)
@given(frozen=st.floats(0.01, 0.25), cash=st.floats(0.26, 0.9), expected=st.floats(0.0, 1.0),
       recovery=st.floats(0.0, 1.0), fee=st.floats(0.0, 50.0), depth=st.floats(0.001, 1.0),
       threshold=st.floats(50.0, 10_000.0))
def test_a_stablecoin_conserves_coins_and_reserves_under_any_stress(clock, frozen, cash, expected, recovery, fee,
                                                                      depth, threshold):
    spec = coin(frozen_share_of_reserves=frozen, cash_share=cash, expected_recovery=expected, fee_bps=fee,
                threshold_bps_max=threshold, arbitrage_depth_share=depth)
    spec = dataclasses.replace(spec, impairments=(dataclasses.replace(spec.impairments[0], recovery=recovery),))
    path = run_stablecoin(spec, clock)
    assert money_broken([path]) is None
    assert (path.price >= 0).all() and (path.price <= path.value + 1e-12).all() and (path.value <= 1.0).all()
    assert path.reserves_lost_hkd == pytest.approx(frozen * 10e9 * (1.0 - recovery), rel=1e-9, abs=1.0)


def test_a_failed_banks_deposit_tokens_are_frozen_and_lose_only_what_protection_and_recovery_leave(clock):
    spec = DepositTokenSpec(
        name="bank_tokens", bank="b", protection_hkd_per_depositor=800_000.0,
        holders={"retail": DepositHolderSpec(1e9, 10_000), "institutional": DepositHolderSpec(1e9, 10)},
        failures=(BankFailureSpec(Moment(FRIDAY, 12.0), Moment(FRIDAY + 1, 9.0), 0.6),), funding_rate_per_year=0.0)
    path = run_deposit_token(spec, clock)
    frozen = ~path.usable
    assert frozen.sum() == (clock.day_starts[FRIDAY + 1] + 9) - (clock.day_starts[FRIDAY] + 12)  # 69 hours
    assert path.frozen_at(FRIDAY + 0.75) and not path.frozen_at(FRIDAY + 0.25) and not path.frozen_at(FRIDAY + 1 + 0.5)
    losses = {h.group: h.loss_hkd for h in path.holders}
    assert losses["retail"] == 0.0  # HK$100,000 each: protected in full
    assert losses["institutional"] == pytest.approx((1e8 - 800_000.0) * 10 * 0.4)  # the unprotected part, less recovery
    assert (path.price == 1.0).all()  # at par: a deposit has no market to fall on


STRESS_ON_FRIDAY = (
    f"settlement_assets.{COIN}.impairments=[{{reserve: bank_deposits, share_frozen: 0.33, start: {{day: 4, hour: 12.0}}, "
    "guarantee: {day: 4, hour: 66.25}, end: {day: 5, hour: 9.0}, expected_recovery: 0.5, recovery: 1.0}]"
)


def test_a_depeg_thins_trading_and_widens_spreads_on_the_venue_that_settles_in_the_coin():
    stressed = run(quick("stablecoin_depeg", ALONE, STRESS_ON_FRIDAY), seed=3)
    calm = run(quick("stablecoin_depeg", ALONE, f"settlement_assets.{COIN}.impairments=[]"), seed=3)
    k, c = stressed.kpis, calm.kpis
    assert k[f"money_low_{COIN}"] < 0.95 and c[f"money_low_{COIN}"] == 1.0
    assert k[f"spread_bps_stress_{COIN}"] > k[f"spread_bps_calm_{COIN}"]
    assert k[f"volume_hkd_per_day_stress_{COIN}"] < c["turnover_hkd_tokenized"] / 6
    assert k[f"value_settled_below_par_hkd_{COIN}"] > 0
    assert k[f"money_holder_loss_hkd_{COIN}_retail"] > 0 and c[f"money_holder_loss_hkd_{COIN}_retail"] == 0
    conversion = stressed.trades[stressed.trades["venue_name"] == "platform"]
    assert (conversion["buyer_fees_cents"] > 0).any()  # investors paid to convert


def test_without_stress_settling_in_the_coin_is_settling_in_tokenized_cash():
    """The coin at par changes nothing against the economics issue's atomic DvP in tokenized cash:
    the same trades, and every shared KPI's paired difference over seeds is zero (inside any CI)."""
    rows = []
    for seed in (1, 2, 3):
        coin_run = run(quick("stablecoin_depeg", ALONE, f"settlement_assets.{COIN}.impairments=[]"), seed=seed)
        cash_run = run(quick("stablecoin_settlement"), seed=seed)
        columns = ["time", "listing", "price_cents", "quantity", "buyer_fees_cents", "seller_fees_cents"]
        assert coin_run.trades[columns].equals(cash_run.trades[columns])
        for name, result in (("coin", coin_run), ("cash", cash_run)):
            rows.append({"scenario": name, "replication": seed, **result.kpis})
    shared = ["turnover_hkd_tokenized", "investor_cost_bps", "avg_spread_bps_tokenized", "tokenized_share"]
    table = paired_comparison(pd.DataFrame(rows), "cash", shared)
    assert len(table) == len(shared)
    for _, row in table.iterrows():
        assert row["n"] == 3 and row["difference"] == 0.0 and row["ci_low"] <= 0.0 <= row["ci_high"]


def test_a_frozen_deposit_token_blocks_the_venues_orders_and_counts_them():
    stress = ("settlement_assets.bank_tokens.failures=[{start: {day: 2, hour: 0.0}, end: {day: 4, hour: 0.0}, "
              "recovery: 1.0}]")
    result = run(quick("tokenized_deposit_settlement", ALONE, stress), seed=2)
    k = result.kpis
    assert k["orders_blocked_bank_tokens"] > 0
    platform = result.trades[result.trades["venue_name"] == "platform"]
    assert not ((platform["day"] >= 2) & (platform["day"] < 4)).any()  # nothing settled while frozen
    assert k["money_frozen_hours_bank_tokens"] == 48.0


@pytest.mark.parametrize("override, words", [
    ("venues.exchange.settlement_asset=licensed_coin", "only a tokenized venue"),
    ("venues.platform.settlement_asset=no_such_coin", "unknown settlement asset 'no_such_coin'"),
    (f"settlement_assets.{COIN}.reserves.bank_deposits.share=0.5", "sum to"),
    (f"settlement_assets.{COIN}.impairments=[{{reserve: gold, share_frozen: 0.1, start: {{day: 1}}, end: {{day: 2}}}}]",
     "unknown reserve class 'gold'"),
    (f"settlement_assets.{COIN}.impairments=[{{reserve: bank_deposits, share_frozen: 0.1, start: {{day: 3}}, "
     "end: {day: 2}}]", "end must come after start"),
])
def test_a_settlement_asset_that_makes_no_sense_is_refused_with_its_key(override, words):
    with pytest.raises(ScenarioError) as error:
        quick("stablecoin_depeg", ALONE, override)
    assert words in str(error.value)


def test_kpis_of_a_never_stressed_coin_say_so():
    result = run(quick("stablecoin_depeg", ALONE, f"settlement_assets.{COIN}.impairments=[]"), seed=1)
    assert math.isnan(result.kpis[f"money_back_to_par_hours_{COIN}"])
    assert result.kpis[f"money_hours_below_par_{COIN}"] == 0.0


def test_the_usdc_replay_fits_only_the_run_and_compares_the_low_and_the_return_to_par_untuned():
    from sim.validation.usdc_2023 import REDEEMED, replay_usdc, usdc_checks
    replay = replay_usdc()
    assert replay.redeemed_usd() == pytest.approx(6.2e9, rel=1e-3)  # the thresholds' scale fits the redemptions
    rows = {check.name: check for check in usdc_checks(replay)}
    low, par = rows["usdc_2023_low"], rows["usdc_2023_hours_to_par_after_guarantee"]
    assert low.measured == replay.low() and 0.8 < low.measured < 1.0
    assert 0.0 <= par.measured < 72.0  # the price is back at par on Monday, once redemptions are paid
    for row in (low, par):  # nothing was fitted to the compared rows themselves
        assert all(driver.fitted_to in (None, REDEEMED) for driver in row.drivers)
    frozen = replay.spec.impairments[0]
    assert frozen.share_frozen * replay.spec.reserves["bank_cash"].share == pytest.approx(3.3 / 40)


def test_the_usdc_replay_takes_the_scenarios_behaviour():
    from sim.validation.usdc_2023 import replay_usdc
    thin = replay_usdc(quick("stablecoin_depeg", ALONE, f"settlement_assets.{COIN}.arbitrage_depth_share=0.01"))
    deep = replay_usdc(quick("stablecoin_depeg", ALONE, f"settlement_assets.{COIN}.arbitrage_depth_share=0.04"))
    assert thin.low() < deep.low()
    assert thin.spec.arbitrage_depth_share == 0.01
