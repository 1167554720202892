"""Validation across venues: a duty on the tokenized venue moves volume to the exchange (direction only,
out of sample), and the bonds' spreads by form are reported as the calibration targets they are."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SCENARIOS
from sim.scenario import load_scenario
from sim.validation.kinds import CALIBRATION_TARGET, OUT_OF_SAMPLE
from sim.validation.runs import ModelRuns
from sim.validation.venue_shift import (
    SHIFT, TAX_PER_SIDE, BondSpreads, FormPair, VenueShift, Venues, form_pairs, measure_venues, tokenized_share,
    venue_checks,
)

BASELINE = SCENARIOS / "baseline.yaml"


@pytest.fixture(scope="module")
def runs() -> ModelRuns:
    return ModelRuns.of(BASELINE, ["horizon_days=8"], 3, 5)


@pytest.fixture(scope="module")
def own(runs):
    return runs.results()


@pytest.fixture(scope="module")
def venues(runs, own) -> Venues:
    return measure_venues(runs, own)


def test_the_pairs_are_the_instruments_quoted_in_both_forms():
    scenario = load_scenario(BASELINE)
    assert form_pairs(scenario, "etf") == [FormPair("hk_tracker", "exchange", "platform")]
    assert form_pairs(scenario, "bond") == [FormPair("green_bond", "otc", "platform")]
    conventional_only = scenario.model_copy(
        update={"venues": {name: venue for name, venue in scenario.venues.items() if venue.form == "conventional"}})
    assert form_pairs(conventional_only, "etf") == form_pairs(conventional_only, "bond") == []


def test_a_duty_on_the_tokenized_venue_moves_the_volume_to_the_exchange(venues):
    shift = venues.shift
    assert shift.rate_after == pytest.approx(shift.rate_before + TAX_PER_SIDE)
    changes = shift.seed_share_changes
    assert (changes < 0).all(), changes  # every seed: the taxed venue loses share
    # the platform's maker pays the duty and prices it into its half-spread: the quoted spread widens by
    # about two duties (one each side), less what the thinner flow does to its inventory
    assert shift.spread_change_bps > 0.8 * 2 * TAX_PER_SIDE * 10_000


def test_the_share_is_the_tokenized_venues_part_of_what_investors_took(own):
    result = own[0]
    pair = FormPair("hk_tracker", "exchange", "platform")
    trades = result.trades
    taken = trades[(trades["instrument"] == "hk_tracker") & trades["taker_group"].isin(["retail", "institutional"])]
    by_venue = taken.groupby("venue_name")["value_hkd"].sum()
    assert tokenized_share(result, pair) == pytest.approx(by_venue["platform"] / by_venue.sum())
    assert 0.0 < tokenized_share(result, pair) < 1.0


def test_the_shift_is_an_out_of_sample_direction_and_the_bond_spreads_are_fitted(venues):
    checks = {check.name: check for check in venue_checks(venues)}
    shift = checks[SHIFT]
    assert shift.kind == OUT_OF_SAMPLE and shift.status == "pass" and shift.high < 0
    assert shift.ci_high < 0  # three seeds, paired: the fall is not noise
    assert "counterfactual" in shift.note and "Hanke" in shift.target
    assert any(driver.fitted_to == "volume_elasticity_ttc" for driver in shift.drivers)
    for form, published in (("tokenized", 19.0), ("conventional", 30.0)):
        row = checks[f"bis_2025_{form}_bond_spread_bps"]
        assert row.kind == CALIBRATION_TARGET and row.status == "pass"
        assert row.low == pytest.approx(0.75 * published) and row.high == pytest.approx(1.25 * published)
        assert all(driver.fitted_to == row.name for driver in row.drivers)
    assert "effective spread" in checks["bis_2025_conventional_bond_spread_bps"].note


def test_a_share_that_does_not_move_is_outside_the_published_direction():
    pair = FormPair("x", "exchange", "platform")
    still = VenueShift(pair, 0.0, TAX_PER_SIDE, (0.1, 0.2), (0.1, 0.2), (30.0, 31.0), (50.0, 51.0))
    rising = VenueShift(pair, 0.0, TAX_PER_SIDE, (0.1, 0.2), (0.12, 0.25), (30.0, 31.0), (50.0, 51.0))
    for shift in (still, rising):
        (row,) = venue_checks(Venues(shift, None))
        assert row.status == "OUTSIDE"
    falling = VenueShift(pair, 0.0, TAX_PER_SIDE, (0.1, 0.2), (0.08, 0.15), (30.0, 31.0), (50.0, 51.0))
    (row,) = venue_checks(Venues(falling, None))
    assert row.status == "pass" and row.measured == pytest.approx(-0.035)


def test_bond_spreads_outside_a_quarter_of_the_bis_figures_are_outside():
    pair = FormPair("b", "otc", "platform")
    rows = venue_checks(Venues(None, BondSpreads(pair, True, (13.0, 14.0), (30.0, 31.0))))
    assert [row.status for row in rows] == ["OUTSIDE", "pass"]
    assert np.isclose(rows[0].measured, 13.5)
