"""KPIs that do not mislead: rates beside totals, per-listing and value-weighted spreads beside
pooled means, and turnover and scenario descriptions that name substitution by construction."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from conftest import SCENARIOS, quick
from sim.kpis import book_listings, declared_kpis
from sim.runs import run
from sim.scenario import load_scenario
from sim.tables import RunTables


def kpi(scenario, tables: RunTables, name: str) -> float:
    return next(k for k in declared_kpis(scenario) if k.name == name).compute(tables)


@pytest.fixture(scope="module")
def retail_run():
    """Both groups trade in both forms, so every rate has trades under it."""
    return run(quick("retail_access", "horizon_days=8", "investors.retail.adoption.initial_share=0.5"), seed=4)


def investor_trades(result) -> pd.DataFrame:
    return result.trades[result.trades["taker_group"].isin(list(result.scenario.investors))]


def test_investor_cost_bps_is_the_total_over_investors_value_traded(retail_run):
    kpis, value = retail_run.kpis, investor_trades(retail_run)["value_hkd"].sum()
    assert kpis["investor_cost_bps"] == pytest.approx(kpis["investor_cost_hkd"] / value * 10_000, rel=1e-12)
    for part in ("duty", "fees", "spread"):
        assert kpis[f"investor_{part}_bps"] == pytest.approx(kpis[f"investor_{part}_hkd"] / value * 10_000, rel=1e-12)
    parts = kpis["investor_duty_bps"] + kpis["investor_fees_bps"] + kpis["investor_spread_bps"]
    assert parts == pytest.approx(kpis["investor_cost_bps"], rel=1e-12)


@pytest.mark.parametrize("column, values", [("form", ("conventional", "tokenized")),
                                            ("taker_group", ("retail", "institutional"))])
def test_investor_cost_bps_by_form_and_group_weighted_by_value_give_the_whole(retail_run, column, values):
    trades = investor_trades(retail_run)
    weighted = 0.0
    for value in values:
        mine = trades[trades[column] == value]
        cost = mine[["taker_duty_hkd", "taker_fees_hkd", "taker_spread_hkd"]].to_numpy().sum()
        rate = retail_run.kpis[f"investor_cost_bps_{value}"]
        assert mine["value_hkd"].sum() > 0
        assert rate == pytest.approx(cost / mine["value_hkd"].sum() * 10_000, rel=1e-9)
        weighted += rate * mine["value_hkd"].sum()
    assert weighted / trades["value_hkd"].sum() == pytest.approx(retail_run.kpis["investor_cost_bps"], rel=1e-9)


def test_investor_cost_bps_is_nan_where_investors_traded_nothing():
    """Retail investors without tokenized access trade nothing there: a rate of nothing is not zero."""
    result = run(quick("baseline", "horizon_days=3"), seed=2)
    retail = investor_trades(result)
    assert not ((retail["taker_group"] == "retail") & (retail["form"] == "tokenized")).any()
    scenario = result.scenario
    tables = RunTables(result.trades.iloc[:0], result.daily, result.groups, result.issuance, result.settlement,
                       pd.DataFrame(), scenario, result.payments)
    assert math.isnan(kpi(scenario, tables, "investor_cost_bps"))
    assert math.isnan(kpi(scenario, tables, "investor_cost_bps_retail"))


LISTINGS = ["hk_tracker@exchange", "hk_tracker@platform", "green_bond@platform", "gold_token@platform"]


def listed(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with their listing's index, as the run's tables number listings."""
    return frame.assign(listing=[LISTINGS.index(f"{i}@{v}") for i, v in zip(frame["instrument"], frame["venue_name"])])


def quotes(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """Quote samples: (instrument, venue, form, spread in bps), each 1,000 units deep at HK$10."""
    frame = pd.DataFrame(rows, columns=["instrument", "venue_name", "form", "spread_bps"])
    return listed(frame.assign(depth_units=1000.0, fair_value_hkd=10.0))


def trades(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return listed(pd.DataFrame(rows, columns=["instrument", "venue_name", "form", "value_hkd"]))


def tables(scenario, quoted: pd.DataFrame, traded: pd.DataFrame) -> RunTables:
    empty = pd.DataFrame()
    return RunTables(traded, empty, empty, pd.DataFrame(columns=["name", "programme"]), empty, quoted, scenario, empty)


BASE_QUOTES = [("hk_tracker", "platform", "tokenized", 20.0), ("hk_tracker", "platform", "tokenized", 30.0),
               ("green_bond", "platform", "tokenized", 10.0), ("hk_tracker", "exchange", "conventional", 6.0)]
BASE_TRADES = [("hk_tracker", "platform", "tokenized", 3e6), ("green_bond", "platform", "tokenized", 1e6),
               ("hk_tracker", "exchange", "conventional", 5e6)]


def test_a_wide_new_listing_raises_the_pooled_spread_but_not_the_existing_listings():
    before_scenario, after_scenario = quick("baseline"), quick("tokenized_gold")
    before = tables(before_scenario, quotes(BASE_QUOTES), trades(BASE_TRADES))
    wide = [("gold_token", "platform", "tokenized", 80.0)] * 4
    after = tables(after_scenario, quotes(BASE_QUOTES + wide),
                   trades(BASE_TRADES + [("gold_token", "platform", "tokenized", 1e5)]))
    for name in ("spread_bps_hk_tracker_platform", "spread_bps_green_bond_platform", "depth_hkd_hk_tracker_platform",
                 "spread_bps_hk_tracker_exchange", "avg_spread_bps_conventional", "spread_bps_vw_conventional"):
        assert kpi(before_scenario, before, name) == kpi(after_scenario, after, name)
    assert kpi(before_scenario, before, "spread_bps_hk_tracker_platform") == 25.0
    assert kpi(before_scenario, before, "spread_bps_vw_conventional") == 6.0
    assert kpi(before_scenario, before, "depth_hkd_hk_tracker_platform") == 10_000.0
    assert kpi(after_scenario, after, "spread_bps_gold_token_platform") == 80.0
    simple = kpi(before_scenario, before, "avg_spread_bps_tokenized"), kpi(after_scenario, after, "avg_spread_bps_tokenized")
    assert simple == (20.0, pytest.approx((20 + 30 + 10 + 4 * 80) / 7))  # the wide listing has most samples
    weighted = kpi(before_scenario, before, "spread_bps_vw_tokenized"), kpi(after_scenario, after, "spread_bps_vw_tokenized")
    assert weighted == (pytest.approx((25 * 3 + 10) / 4), pytest.approx((25 * 3e6 + 10 * 1e6 + 80 * 1e5) / 4.1e6))
    assert weighted[1] - weighted[0] < (simple[1] - simple[0]) / 10  # a thinly traded listing barely moves it


def test_listing_spreads_are_nan_where_never_quoted_and_the_weighted_mean_where_nothing_traded():
    scenario = quick("baseline")
    quiet = tables(scenario, quotes(BASE_QUOTES[:1]), trades([]))
    assert math.isnan(kpi(scenario, quiet, "spread_bps_green_bond_platform"))
    assert math.isnan(kpi(scenario, quiet, "spread_bps_vw_tokenized"))
    assert kpi(scenario, quiet, "spread_bps_hk_tracker_platform") == 20.0


@pytest.mark.parametrize("name", ["tokenized_gold", "leap_package"])
def test_value_weighted_spread_lies_between_the_listings_spreads(name):
    """On a run, with a programme's issues pooled as one listing (leap_package issues on day 5)."""
    result = run(quick(name, "horizon_days=10"), seed=6)
    scenario = result.scenario
    for form in ("conventional", "tokenized"):
        spreads = [result.kpis[f"spread_bps_{listing}_{venue}"] for listing, venue in book_listings(scenario)
                   if scenario.venues[venue].form == form]
        spreads = [s for s in spreads if not math.isnan(s)]
        assert min(spreads) - 1e-9 <= result.kpis[f"spread_bps_vw_{form}"] <= max(spreads) + 1e-9
    if name == "leap_package":
        assert not math.isnan(result.kpis["spread_bps_green_tokenized_platform"])


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_kpi_names_are_unique_column_names(path):
    names = [k.name for k in declared_kpis(load_scenario(path))]
    assert len(names) == len(set(names))
    assert all(name.isidentifier() for name in names)


def test_kpi_names_that_would_coincide_are_refused():
    scenario = quick("baseline")
    renamed = scenario.model_copy(update={"investors": {"tokenized": scenario.investors["institutional"],
                                                        "retail": scenario.investors["retail"]}})
    with pytest.raises(ValueError, match="investor_cost_bps_tokenized"):
        declared_kpis(renamed)


def test_kpi_meanings_say_what_moves_them():
    kpis = {k.name: k for k in declared_kpis(quick("leap_package"))}
    turnover = [k for name, k in kpis.items() if name.startswith("turnover_hkd")]
    assert len(turnover) >= 6 and all("substitution" in k.meaning for k in turnover)
    for form in ("conventional", "tokenized"):
        assert "value-weighted" in kpis[f"avg_spread_bps_{form}"].meaning
    assert "investor_cost_bps" in kpis["investor_cost_hkd"].meaning


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_scenario_descriptions_name_changed_interest_weights(path):
    """Interest weights are not policy: a scenario that moves them says so, since turnover follows them."""
    baseline, scenario = load_scenario(SCENARIOS / "baseline.yaml"), load_scenario(path)
    moved = [g for g, group in scenario.investors.items()
             if g in baseline.investors and group.interest != baseline.investors[g].interest]
    assert not moved or "interest weights" in scenario.description


def test_a_world_without_issuers_pays_no_grants_rather_than_unknown_grants():
    kpis = run(quick("baseline", "horizon_days=3"), seed=1).kpis
    assert kpis["grants_paid_hkd"] == 0.0 and kpis["grants_to_government_hkd"] == 0.0
