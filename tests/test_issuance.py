"""The primary market: hand-computable allocation and grants, the life of an issue in a run,
conservation through issuance, coupons and redemption, and the direction of policy effects."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, quick
from sim.engine import build
from sim.invariants import check_invariants
from sim.market.issuance import Order, allocate, announcement_days, clearing_yield, grant, pro_rata
from sim.compile import compile_market, programme_spec
from sim.runs import run
from sim.tables import RunTables
from sim.scenario.schema import Programme

PROGRAMME = "issuers.hksar_government.programmes.green_tokenized"
# Monthly issues of a 3-month bill-like bond with monthly coupons: a whole life cycle in 80 days.
SHORT_LIFE = [
    "horizon_days=80", f"{PROGRAMME}.every_days=20", f"{PROGRAMME}.tenor_years=0.25",
    f"{PROGRAMME}.coupon_frequency_per_year=12", f"{PROGRAMME}.size_hkd=500000000",
]


def test_pro_rata_is_exact_and_sums_to_what_is_available():
    assert pro_rata([300, 100], 200, 1) == [150, 50]
    assert pro_rata([100, 100, 100], 200, 1) == [67, 67, 66]  # the leftover unit goes to the earliest
    assert pro_rata([1000, 500], 600, 100) == [400, 200]
    assert pro_rata([100, 50], 1000, 1) == [100, 50]  # undersubscribed: everyone is filled
    assert sum(pro_rata([7, 13, 29, 51], 61, 1)) == 61


def test_priority_share_goes_first_then_pro_rata():
    orders = [Order(0, 1, 100, 0.02), Order(1, 2, 300, 0.02)]
    # 50 units first to group 0; the other 150 pro-rata over what is still wanted (50 and 300)
    assert allocate(orders, 200, 1, priority_groups={0}, priority_share=0.25) == [50 + 21, 129]
    assert sum(allocate(orders, 200, 1, {0}, 0.25)) == 200


def test_clearing_yield_is_the_lowest_that_covers_the_book():
    orders = [Order(0, 1, 100, 0.030), Order(0, 2, 100, 0.020), Order(0, 3, 100, 0.025)]
    assert clearing_yield(orders, 150, offer_yield=0.031) == 0.025
    assert clearing_yield(orders, 400, offer_yield=0.031) == 0.031  # undersubscribed: clears at the offer
    assert clearing_yield(orders, 150, offer_yield=0.022) == 0.022  # the 2.5% order is outside the offer


def test_grant_is_half_of_eligible_cost_capped_and_zero_when_ineligible():
    lever = scheme(enabled=True)
    full = dict(size_hkd=2e9, distinct_investors=10, grants_so_far=0, affiliated_platform=False, issuer_kind="market")
    assert grant(lever, 0, 3_000_000, **full) == 1_500_000
    assert grant(lever, 0, 8_000_000, **full) == 2_500_000  # full cap
    assert grant(lever, 0, 8_000_000, **{**full, "size_hkd": 5e8}) == 1_250_000  # half grant: below HK$1bn
    assert grant(lever, 0, 8_000_000, **{**full, "distinct_investors": 3}) == 1_250_000
    assert grant(lever, 0, 3_000_000, **{**full, "affiliated_platform": True}) == 0
    assert grant(lever, 0, 3_000_000, **{**full, "grants_so_far": 2}) == 0
    assert grant(scheme(enabled=False), 0, 3_000_000, **full) == 0
    assert grant(scheme(enabled=True, from_day=10), 5, 3_000_000, **full) == 0
    assert grant(scheme(enabled=True, from_day=10, to_day=20), 20, 3_000_000, **full) == 0
    assert grant(lever, 0, 3_000_000, **{**full, "issuer_kind": "government"}) == 0  # it would pay itself
    counterfactual = scheme(enabled=True, eligible_issuers=["market", "government"])
    assert grant(counterfactual, 0, 3_000_000, **{**full, "issuer_kind": "government"}) == 1_500_000


def scheme(**lever):
    """The market's grant spec for a grant lever written as in a scenario."""
    return compile_market(quick("baseline", "horizon_days=5", f"policy.issuance_grant={lever}".replace("'", ""))).grants


def spec(**programme):
    return programme_spec("issuer", "programme", Programme(**programme))


def test_announcement_days_follow_the_rule():
    base = dict(form="tokenized", size_hkd=1e9, tenor_years=2, venue={"tokenized": "platform"})
    assert announcement_days(spec(every_days=60, first_day=5, **base), 250) == [5, 65, 125, 185, 245]
    assert announcement_days(spec(every_days=60, first_day=5, count=2, **base), 250) == [5, 65]
    assert announcement_days(spec(issue_days=[30, 10, 300], **base), 250) == [10, 30]


def life_cycle(*overrides: str, seed: int = 3):
    """The model and its tables, with `issuance` cut to the bond issues (ETF creations are there too)."""
    model = build(quick("regular_bond_issuance", *SHORT_LIFE, *overrides), seed)
    model.env.run()
    check_invariants(model)
    tables = RunTables.from_model(model)
    bonds = tables.issuance[tables.issuance["kind"] == "bond issue"].reset_index(drop=True)
    return model, dataclasses.replace(tables, issuance=bonds)


def test_an_issue_lives_its_whole_life_and_the_books_balance():
    model, tables = life_cycle()
    issuance = tables.issuance
    assert len(issuance) == 4
    payments = model.recorder.payments.frame()
    for issue in model.issues:
        asset = issue.listing.asset
        row = issuance[issuance["issue"] == issue.number].iloc[0]
        assert model.ledger.created_units[asset] == row["allocated_units"]
        allocated = sum(row[f"allocated_units_{g}"] for g in ("market_maker", "retail", "institutional"))
        assert allocated == row["allocated_units"] <= row["offered_units"]
        mine = payments[payments["issue"] == issue.number]
        if issue.announce_day + 70 < 80:  # matured inside the run: the whole supply redeemed
            assert sum(model.ledger.units[asset]) == 0 and model.ledger.redeemed_units[asset] == row["allocated_units"]
            assert mine["principal"].sum() == 1
        coupon = row["clearing_yield"] * 100.0 / 12
        for _, payment in mine.iterrows():
            expected = payment["units"] * (coupon + (100.0 if payment["principal"] else 0.0)) * 100
            assert abs(payment["cents"] - expected) <= payment["holders"]  # per-holder rounding to the cent
    assert len(payments[payments["principal"] == 0]) > 0
    assert (tables.trades["instrument"].str.startswith("green_tokenized")).any(), "new issues trade after settling"


def test_allocation_covers_an_oversubscribed_issue_exactly():
    model, tables = life_cycle("investors.institutional.subscription.orders_per_issue=400")
    issuance = tables.issuance
    assert (issuance["cover_ratio"] > 1).all()
    assert (issuance["allocated_units"] == issuance["offered_units"]).all()


MARKET_ISSUER = "issuers.hksar_government.kind=market"  # the grant tests give the programme to a market issuer


def test_grant_lowers_issuer_net_cost_by_exactly_the_grant():
    _, with_grant = life_cycle(MARKET_ISSUER)
    _, without = life_cycle(MARKET_ISSUER, "policy.issuance_grant.enabled=false")
    a, b = with_grant.issuance, without.issuance
    assert (a["cost_hkd"].to_numpy() == b["cost_hkd"].to_numpy()).all()
    assert a["grant_hkd"].sum() > 0 == b["grant_hkd"].sum()
    saving = (b["net_cost_bps"] - a["net_cost_bps"]) * a["size_hkd"] / 10_000
    assert saving.to_numpy() == pytest.approx(a["grant_hkd"].to_numpy())


def test_shorter_primary_settlement_locks_less_investor_cash():
    slow = run(quick("regular_bond_issuance", *SHORT_LIFE, f"{PROGRAMME}.costs.tokenized.settlement_days=3"), seed=4)
    fast = run(quick("regular_bond_issuance", *SHORT_LIFE, f"{PROGRAMME}.costs.tokenized.settlement_days=1"), seed=4)
    atomic = run(quick("leap_package", *SHORT_LIFE), seed=4)
    slow_locked, fast_locked = slow.kpis["cash_locked_hkd_days_tokenized"], fast.kpis["cash_locked_hkd_days_tokenized"]
    assert slow_locked > fast_locked > 0 == atomic.kpis["cash_locked_hkd_days_tokenized"]
    assert atomic.kpis["days_to_settle_tokenized"] == 0


def test_lower_minimum_denomination_raises_retail_allocation():
    retail = ["investors.retail.tokenized_access=true", "investors.retail.adoption.initial_share=1.0"]
    high = run(quick("regular_bond_issuance", *SHORT_LIFE, *retail, f"{PROGRAMME}.costs.tokenized.min_denomination_units=1000"), seed=5)
    low = run(quick("regular_bond_issuance", *SHORT_LIFE, *retail, f"{PROGRAMME}.costs.tokenized.min_denomination_units=10"), seed=5)
    assert low.kpis["retail_allocation_share"] > high.kpis["retail_allocation_share"]


def test_cheaper_form_is_chosen_after_grants():
    model, tables = life_cycle(MARKET_ISSUER, f"{PROGRAMME}.form=cheaper")
    forms = list(tables.issuance["form"])
    assert forms[:2] == ["tokenized", "tokenized"], "the grant makes the first two tokenized issues cheaper"
    assert forms[2:] == ["conventional", "conventional"], "without a grant the conventional issue costs less"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    every=st.integers(5, 30), tenor=st.sampled_from([0.1, 0.25, 2.0]), frequency=st.sampled_from([1, 2, 12]),
    days=st.integers(0, 4), lag=st.integers(0, 3), seed=st.integers(0, 1000), cash=st.booleans(),
)
def test_conservation_through_issuance_coupons_and_redemption(every, tenor, frequency, days, lag, seed, cash):
    overrides = [
        "horizon_days=45", "investors.retail.accounts=50", "investors.institutional.accounts=10",
        f"{PROGRAMME}.every_days={every}", f"{PROGRAMME}.tenor_years={tenor}",
        f"{PROGRAMME}.coupon_frequency_per_year={frequency}", f"{PROGRAMME}.costs.tokenized.settlement_days={days}",
        f"{PROGRAMME}.costs.tokenized.payment_lag_days={lag}", f"policy.tokenized_cash.enabled={str(cash).lower()}",
    ]
    model = build(quick("regular_bond_issuance", *overrides), seed)
    model.env.run()
    check_invariants(model)  # cash conserved, supply = holdings, nothing negative or pending
    for issue in model.issues:
        asset = issue.listing.asset
        assert sum(model.ledger.units[asset]) == model.ledger.created_units[asset] - model.ledger.redeemed_units[asset]


def test_market_maker_makes_a_two_way_market_in_new_issues():
    _, tables = life_cycle()
    new = tables.trades[tables.trades["instrument"].str.startswith("green_tokenized")]
    assert set(new["taker_side"]) == {1, -1}, "investors both bought from and sold to the market maker"


def test_retail_is_a_flag_not_a_name():
    """An issue's retail priority and the retail allocation KPI follow the `retail` flag: a retail
    group named otherwise gets them, a group named `retail` without the flag does not."""
    from sim.scenario import Scenario, resolve_scenario_dict

    def allocation(rename: str, flag: bool) -> float:
        data, _ = resolve_scenario_dict(
            ROOT / "scenarios" / "regular_bond_issuance.yaml",
            ["horizon_days=12", "investors.retail.tokenized_access=true",
             "issuers.hksar_government.programmes.green_tokenized.retail_priority_share=0.3"],
        )
        group = data["investors"].pop("retail")
        data["investors"][rename] = {**group, "retail": flag}
        return run(Scenario.model_validate(data), seed=2).kpis["retail_allocation_share"]

    # (a renamed group draws from streams of its new name, so its allocation differs, but it is retail)
    assert allocation("retail", True) > 0.0 and allocation("households", True) > 0.0
    assert allocation("retail", False) == 0.0


def test_the_governments_own_issues_get_no_grant_and_a_grant_covers_only_the_named_fees():
    """The scheme pays market issuers a share of their fixed fees (arranger, legal, audit, rating,
    listing, platform), not of underwriting and distribution; the government's issues get nothing."""
    _, government = life_cycle()
    assert government.issuance["grant_hkd"].sum() == 0
    cheap = f"{PROGRAMME}.costs.tokenized.proportional_cost_bps=0"
    _, market = life_cycle(MARKET_ISSUER)
    _, market_no_underwriting = life_cycle(MARKET_ISSUER, cheap)
    assert market.issuance["grant_hkd"].sum() > 0
    fixed = 3_000_000  # the programme's fixed fees: half of them, or the half grant's cap
    assert set(market.issuance["grant_hkd"].round(2)) <= {0.0, min(0.5 * fixed, 1_250_000), min(0.5 * fixed, 2_500_000)}
    assert list(market.issuance["grant_hkd"]) == list(market_no_underwriting.issuance["grant_hkd"])


def test_the_digital_bond_grant_scenario_pays_the_bank_and_not_the_government():
    result = run(quick("digital_bond_grant", "horizon_days=60"), seed=3)
    issues = result.issuance[result.issuance["kind"] == "bond issue"]
    bank = issues["name"].str.startswith("bank_notes")
    assert issues.loc[bank, "grant_hkd"].gt(0).all() and issues.loc[~bank, "grant_hkd"].eq(0).all()
    assert result.kpis["grants_paid_hkd"] == pytest.approx(issues.loc[bank, "grant_hkd"].sum())


def test_a_grant_to_the_governments_own_issue_is_not_counted_as_a_fiscal_cost():
    """Counterfactual: the scheme made to pay the government's own issues. The money stays in
    government, so it is reported apart from `grants_paid_hkd` (the transfer out of government)."""
    eligible = "policy.issuance_grant.eligible_issuers=[market, government]"
    result = run(quick("regular_bond_issuance", *SHORT_LIFE, eligible), seed=3)
    assert result.kpis["grants_to_government_hkd"] > 0 and result.kpis["grants_paid_hkd"] == 0
    assert set(result.issuance.loc[result.issuance["grant_hkd"] > 0, "issuer_kind"]) == {"government"}
