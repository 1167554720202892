"""Tokenized real-world assets: a gold-backed commodity token and a solar revenue token.

Each test checks what the asset promises: conservation with the asset in the run, the token's
premium held inside its creation/redemption band, distributions equal to output x tariff x
holdings to the cent, fair value equal to discounted expected flows, clear schema errors.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from conftest import SCENARIOS, quick
from sim.engine import build
from sim.market.issuer import BOOK_CLOSE_HOUR, IssuanceDesk
from sim.market.random_streams import stream
from sim.market.securities import RevenueTerms
from sim.market.value_processes import revenue_share_value
from sim.runs import run
from sim.scenario import ScenarioError, load_scenario
from sim.compile import listing_costs
from sim.invariants import check_invariants
from sim.market.payers import Payer

REVENUE = "issuers.solar_project_co.programmes.solar_revenue"
SHORT_REVENUE = ["horizon_days=50", f"{REVENUE}.issue_days=[1]", f"{REVENUE}.bookbuilding_days=1"]


def _run_checked(scenario):
    """Build and run a model, then check conservation against the opening balances directly."""
    model = build(scenario, scenario.seed)
    opening_cash = sum(model.ledger.cash)
    model.env.run()
    check_invariants(model)
    assert sum(model.ledger.cash) == opening_cash
    return model


# --- tokenized gold ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gold():
    return run(quick("tokenized_gold", "horizon_days=30"))


def test_gold_run_conserves_units_and_cash_and_creates_tokens() -> None:
    model = _run_checked(quick("tokenized_gold", "horizon_days=12"))
    gold_assets = [l.asset for l in model.listings if l.instrument == "gold_token"]
    for asset in gold_assets:  # every token outstanding is held by someone
        assert sum(model.ledger.units[asset]) == (model.ledger.issued_units[asset] + model.ledger.created_units[asset]
                                                  - model.ledger.redeemed_units[asset])
    flows = model.recorder.creations.frame()
    created = flows[flows["listing"].isin([l.index for l in model.listings if l.instrument == "gold_token"])]
    assert sum(model.ledger.created_units[a] - model.ledger.redeemed_units[a] for a in gold_assets) == created["created_units"].sum()


def test_etf_units_created_counts_etf_creations_only_not_gold_token_creations() -> None:
    # makers that lean hard on small inventories push both prices past their bands, so both are created
    lean = "{skew_bps_at_limit: 150, inventory_limit_units: %d}"
    result = run(quick("tokenized_gold", "horizon_days=20",
                       "venues.exchange.listings.hk_tracker.market_maker=" + lean % 100_000,
                       "venues.exchange.listings.gold_token.market_maker=" + lean % 20_000), seed=1)
    created = result.daily.groupby("instrument_type")["created_units"].sum()
    assert created["commodity_token"] != 0 and created["etf"] != 0  # both kinds of creation happened
    assert result.kpis["etf_units_created"] == created["etf"]
    assert result.kpis["commodity_token_units_created"] == created["commodity_token"]


def test_gold_value_is_spot_times_backing_less_custody_fee(gold) -> None:
    token = gold.scenario.instruments["gold_token"]
    days = gold.daily[(gold.daily["instrument"] == "gold_token") & (gold.daily["venue_name"] == "platform")]
    first = days["fair_value_hkd"].iloc[0]
    assert first == pytest.approx(token.spot.initial_price_hkd * token.backing_per_token, rel=0.05)
    # with the spot's shocks switched off only the fee moves the value: 30 bp a year over the calendar
    flat = run(quick("tokenized_gold", "horizon_days=6", "instruments.gold_token.spot.volatility_per_year=0.0"))
    values = flat.daily.loc[flat.daily["instrument"] == "gold_token", "fair_value_hkd"].to_numpy()
    assert np.all(np.diff(values[::2]) <= 0) and values[-1] < 310.0
    assert values[-1] == pytest.approx(310.0 * math.exp(-0.003 * 9 / 365), rel=1e-4)


def test_gold_premium_stays_inside_the_creation_redemption_band_on_most_days(gold) -> None:
    scenario = gold.scenario
    token = scenario.instruments["gold_token"]
    participant = token.authorised_participant
    shares = {}
    for venue in ("exchange", "platform"):
        days = gold.daily[(gold.daily["instrument"] == "gold_token") & (gold.daily["venue_name"] == venue)].dropna(
            subset=["premium_bps"])
        charges = listing_costs(scenario, venue, "commodity_token")
        fee = participant.creation_fee_hkd / (token.creation_unit_units * days["fair_value_hkd"].to_numpy())
        provider = np.array([charges.rate_for(Payer.AUTHORISED_PARTICIPANT, int(day)) for day in days["day"]])
        band_bps = participant.basket_cost_bps + (fee + provider) * 10_000.0
        shares[venue] = float(np.mean(np.abs(days["premium_bps"].to_numpy()) <= band_bps))
        assert len(days) >= 25
    assert min(shares.values()) >= 0.9, shares
    assert gold.kpis["commodity_token_mean_abs_premium_bps"] < 15.0


def test_gold_stamp_duty_lever_applies_to_commodity_tokens_only_when_set(gold) -> None:
    assert gold.kpis["stamp_duty_hkd_commodity_token"] == 0.0
    taxed = run(quick("tokenized_gold", "policy.stamp_duty.tokenized_commodity_token.rate_per_side=0.001"))
    trades = taxed.trades[(taxed.trades["instrument"] == "gold_token") & (taxed.trades["form"] == "tokenized")]
    assert taxed.kpis["stamp_duty_hkd_commodity_token"] == pytest.approx(
        (trades["buyer_duty_cents"].sum() + trades["seller_duty_cents"].sum()) / 100.0)
    assert taxed.kpis["stamp_duty_hkd_commodity_token"] > 0


# --- solar revenue token -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def revenue_run():
    """A short run in which the tokens are issued on day 1 and pay two monthly distributions.

    Every call of the desk's `_pay_holders` is captured with each holder's cash before and after.
    """
    scenario = quick("renewable_revenue_token", *SHORT_REVENUE)
    model = build(scenario, scenario.seed)
    opening_cash = sum(model.ledger.cash)
    captured = []
    original = IssuanceDesk._pay_holders

    def spy(desk, issue, record, per_unit_hkd, final, costs, day):
        before = [model.ledger.cash[a] for a, _ in record] + [model.ledger.cash[issue.issuer_account]]
        original(desk, issue, record, per_unit_hkd, final, costs, day)
        after = [model.ledger.cash[a] for a, _ in record] + [model.ledger.cash[issue.issuer_account]]
        captured.append((issue, list(record), before, after, day))

    IssuanceDesk._pay_holders = spy
    try:
        model.env.run()
    finally:
        IssuanceDesk._pay_holders = original
    check_invariants(model)
    assert sum(model.ledger.cash) == opening_cash
    return model, captured


def test_revenue_distributions_equal_output_times_tariff_times_holdings_to_the_cent(revenue_run) -> None:
    model, captured = revenue_run
    project = model.scenario.programmes()["solar_revenue"].revenue
    g = project.generation
    issue = model.issues[0]
    start = model.calendar.date_of(int(model.recorder.issues.frame()["settle_day"].iloc[0]))
    shocks = stream(model.scenario.seed, "generation:solar_revenue_1").standard_normal(93)
    assert len(captured) >= 2
    for k, (paid_issue, record, before, after, _) in enumerate(captured, start=1):
        assert paid_issue is issue
        assert sum(units for _, units in record) == project.tokens  # every token outstanding is of record
        # output recomputed from the schema's parameters and the named stream, independently of the model
        middle = start.month - 1 + (start.day - 1) / 31.0 + (k - 0.5)
        mean_kwh = g.capacity_kw * 8760 / 12 * g.capacity_factor * (
            1 + g.seasonal_amplitude * math.cos(2 * math.pi * (middle - (g.peak_month - 0.5)) / 12))
        kwh = mean_kwh * math.exp(g.noise_sd * shocks[k - 1] - g.noise_sd ** 2 / 2)
        assert issue.terms.output_kwh(k, start) == pytest.approx(kwh, rel=1e-12)
        per_token = kwh * project.tariff_hkd_per_kwh / project.tokens
        expected = [round(units * per_token * 100) for _, units in record]
        assert [a - b for a, b in zip(after[:-1], before[:-1])] == expected
        servicing = round(model.scenario.programmes()["solar_revenue"].costs["tokenized"].servicing_cost_hkd_per_payment * 100)
        assert before[-1] - after[-1] == sum(expected) + servicing  # paid from the project's account
    payments = model.recorder.payments.frame()
    assert payments["cents"].tolist() == [sum(round(u * issue.terms.output_kwh(k, start) * 3.0 / 100_000 * 100) for _, u in r)
                                          for k, (_, r, _, _, _) in enumerate(captured, start=1)]


def test_revenue_kpis_report_distributions_and_issue(revenue_run) -> None:
    result = run(quick("renewable_revenue_token", *SHORT_REVENUE))
    model, captured = revenue_run
    paid = sum(sum(a - b for a, b in zip(after[:-1], before[:-1])) for _, _, before, after, day in captured if day < 50)
    assert paid > 0
    assert result.kpis["distributions_paid_hkd"] == pytest.approx(paid / 100.0)
    issue_row = result.issuance[result.issuance["kind"] == "revenue token issue"].iloc[0]
    assert issue_row["allocated_units"] == 100_000
    assert result.kpis["revenue_tokens_issued_hkd"] == pytest.approx(issue_row["size_hkd"])
    assert result.kpis["distributed_output_kwh"] > 0
    assert "solar_revenue_1" in set(result.daily["instrument"])
    distributions = result.payments[(result.payments["kind"] == "distribution") & (result.payments["day"] < 50)]
    assert distributions["paid_hkd"].sum() == pytest.approx(paid / 100.0)
    assert distributions["output_kwh"].sum() == pytest.approx(result.kpis["distributed_output_kwh"])


def test_revenue_issue_price_and_fair_value_are_discounted_expected_flows() -> None:
    """With no season every period's expected flow is c, so the value is an annuity in closed form."""
    scenario = quick("renewable_revenue_token", *SHORT_REVENUE, "horizon_days=30",
                     f"{REVENUE}.revenue.generation.seasonal_amplitude=0.0")
    model = build(scenario, scenario.seed)
    model.env.run()
    issue = model.issues[0]
    c = 1000 * 8760 / 12 * 0.12 * 3.0 / 100_000  # HKD per token per month
    row = model.recorder.issues.frame().iloc[0]

    def annuity(y: float, n: int, w: float = 1.0) -> float:
        g = 1 + y / 12
        return c * g ** -w * (1 - g ** -n) / (1 - 1 / g)

    assert issue.price_cents == round(annuity(row["clearing_yield"], 93) * 100)
    settled = row["close_day"] + BOOK_CLOSE_HOUR / 24.0 + (row["settle_day"] - row["close_day"])  # the close's hour, T+n
    for t in (settled + 3.25, settled + 17.5):
        years_since = (model.calendar.calendar_days_before(int(t)) - model.calendar.calendar_days_before(int(settled))
                       + (t - int(t)) - (settled - int(settled))) / 365.0
        periods = 93 - years_since * 12
        n = math.ceil(periods)
        step = int(t * scenario.value_steps_per_day)
        market = model_yield(model, step)
        assert issue.listing.value.at(t) == pytest.approx(annuity(market, n, periods - (n - 1)), rel=1e-9)


def model_yield(model, step: int) -> float:
    from sim.market.values import programme_yields
    scenario = model.scenario
    yields = programme_yields(model.spec.programmes, scenario.horizon_days, scenario.value_steps_per_day, scenario.seed)
    return float(yields["solar_revenue"][step])


def test_revenue_share_value_with_seasonal_flows_is_the_sum_of_discounted_flows() -> None:
    flows = np.array([3.0, 5.0, 4.0, 1.0])
    value = revenue_share_value(np.array([0.08, 0.08]), flows, 4, np.array([1.0, 0.6]))
    assert value[0] == pytest.approx(sum(f / 1.02 ** (i + 1) for i, f in enumerate(flows)))
    # 0.6 years left: 2.4 periods, so the last three flows remain, the next in 0.4 of a period
    assert value[1] == pytest.approx(sum(f / 1.02 ** (0.4 + i) for i, f in enumerate(flows[1:])))


def test_revenue_terms_price_falls_as_the_discount_rate_rises() -> None:
    programme = quick("renewable_revenue_token").programmes()["solar_revenue"]
    terms = RevenueTerms(programme, np.zeros(93))
    prices = [terms.unit_price_hkd(y, None) for y in (0.03, 0.06, 0.09)]
    assert prices[0] > prices[1] > prices[2] > 0
    assert terms.expected_flows_hkd(None).sum() == pytest.approx(1000 * 8760 * 0.12 * 3.0 / 100_000 * 93 / 12)


def test_revenue_token_levers_tokenized_cash_and_grant() -> None:
    base = run(quick("renewable_revenue_token", *SHORT_REVENUE, "horizon_days=10"))
    cash = run(quick("renewable_revenue_token", *SHORT_REVENUE, "horizon_days=10", "policy.tokenized_cash.enabled=true",
                     "policy.issuance_grant.enabled=true"))
    issue = lambda r: r.issuance[r.issuance["kind"] == "revenue token issue"].iloc[0]  # noqa: E731
    assert issue(base)["days_to_settle"] == 1 and issue(cash)["days_to_settle"] == 0
    assert issue(base)["grant_hkd"] == 0 and issue(cash)["grant_hkd"] > 0


# --- schema errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, override, phrase",
    [
        ("tokenized_gold", "instruments.gold_token.custody_fee_bps_per_year=-5", "custody_fee_bps_per_year"),
        ("tokenized_gold", "instruments.gold_token.backing_per_token=0", "backing_per_token"),
        ("tokenized_gold", "instruments.gold_token.spot.volatility_per_year=7", "volatility_per_year"),
        ("renewable_revenue_token", f"{REVENUE}.revenue.tokens=0", "tokens"),
        ("renewable_revenue_token", f"{REVENUE}.revenue.generation.capacity_factor=1.5", "capacity_factor"),
        ("renewable_revenue_token", f"{REVENUE}.revenue.generation.peak_month=13", "peak_month"),
        ("renewable_revenue_token", f"{REVENUE}.size_hkd=1000000", "give either size_hkd"),
        ("renewable_revenue_token", f"{REVENUE}.revenue=null", "give either size_hkd"),
    ],
)
def test_bad_asset_parameters_give_a_clear_error(name: str, override: str, phrase: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        quick(name, override)
    message = str(caught.value)
    assert message.startswith("--set: ") and override.split("=")[0].rsplit(".", 1)[0] in message and phrase in message


def test_bad_asset_parameter_in_a_file_names_the_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "baseline.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())
    text = (SCENARIOS / "tokenized_gold.yaml").read_text().replace("custody_fee_bps_per_year: 30", "custody_fee_bps_per_year: -30")
    (tmp_path / "gold.yaml").write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "gold.yaml")
    message = str(caught.value)
    assert "gold.yaml" in message and "instruments.gold_token.custody_fee_bps_per_year" in message and "-30" in message
