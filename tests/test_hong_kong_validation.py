"""Hong Kong's duty changes as out-of-sample validation rows (sim/validation/hong_kong.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from sim.published import figure
from sim.scenario import load_scenario
from sim.runs import run
from sim.validation.hong_kong import (
    ETF_DUTIABLE_SHARE_2014, FITTED_TURNOVER, FITTED_TURNOVER_2014, SCENARIO_2014, STRUCTURED_SHARE_2014, Channel,
    HongKong, hong_kong_checks, scenario_2014, share_channel,
)
from sim.validation.runs import ModelRuns
from sim.validation.kinds import CALIBRATION_TARGET, OUT_OF_SAMPLE
from tests.conftest import SCENARIOS
from tests.test_experiment_cli import tokensim

HK_2025 = SCENARIOS / "scale" / "hk_2025.yaml"
HK_2014 = SCENARIOS / "scale" / SCENARIO_2014
DAYS = 10


def _runs(share_turnover: list[float], duty_per_year: list[float], etf_turnover: float = 3.3e11) -> list:
    return [SimpleNamespace(kpis={"turnover_hkd_shares_conventional": value, "stamp_duty_hkd_per_year": duty,
                                  "turnover_hkd_etfs_conventional": etf_turnover, "turnover_hkd_big_etf_conventional": 1e11})
            for value, duty in zip(share_turnover, duty_per_year)]


@pytest.fixture
def checks() -> dict:
    hk = HongKong(
        Channel("shares", ("etfs", "big_etf")), DAYS,
        at_low=_runs([1.5e12, 1.4e12], [70e9, 66e9]), at_high=_runs([1.35e12, 1.33e12], [84e9, 82e9]),
        etf_dutiable=_runs([1.5e12, 1.4e12], [71e9, 67e9]), etf_free=_runs([1.5e12, 1.4e12], [70e9, 66e9]),
    )
    return {check.name: check for check in hong_kong_checks(hk)}


def test_the_turnover_rows_are_the_paired_change_against_hkex_months_around_the_change(checks):
    rise = checks["hk_2021_duty_rise_share_turnover_change"]
    assert rise.measured == pytest.approx(((1.35 / 1.5 - 1) + (1.33 / 1.4 - 1)) / 2)
    august, june, july = (figure("hkex_securities_adt", m).value for m in ("2021-08", "2021-06", "2021-07"))
    assert (rise.low, rise.high) == pytest.approx(sorted((august / june - 1, august / july - 1)))
    cut = checks["hk_2023_duty_cut_share_turnover_change"]
    assert cut.measured == pytest.approx(((1.5 / 1.35 - 1) + (1.4 / 1.33 - 1)) / 2)


def test_the_revenue_rows_scale_the_models_year_to_the_year_of_the_estimate(checks):
    scale_2021 = figure("hkex_securities_adt", "2021").value / figure("hkex_securities_adt", "2025").value
    rise = checks["hk_2021_duty_rise_revenue_per_year_hkd"]
    assert rise.measured == pytest.approx(((84 - 70) + (82 - 66)) / 2 * 1e9 * scale_2021)
    assert rise.low < 12e9 < rise.high  # about the government's HK$12bn
    waiver = checks["hk_2015_etf_waiver_revenue_per_year_hkd"]  # no 2014 scenario: scaled, and the note says so
    scale_2014 = figure("hkex_etf_adt", "2014").value / figure("hkex_etf_adt", "2025").value
    assert waiver.measured == pytest.approx(-1e9 * scale_2014)  # forgone: negative
    assert waiver.low < -200e6 < waiver.high
    assert f"{ETF_DUTIABLE_SHARE_2014:.0%} of the 0.1% rate" in waiver.note and "average-rate approximation" in waiver.note
    assert f"no {SCENARIO_2014}" in waiver.note and "scaled to 2014" in waiver.note
    assert not any(name in checks for name in FITTED_TURNOVER_2014)


def _runs_2014(duty_per_year: list[float], etf_turnover: float, share_turnover: float) -> list:
    return [SimpleNamespace(kpis={"turnover_hkd_shares_conventional": share_turnover, "stamp_duty_hkd_per_year": duty,
                                  "turnover_hkd_etfs_conventional": etf_turnover * 0.75,
                                  "turnover_hkd_big_etf_conventional": etf_turnover * 0.25})
            for duty in duty_per_year]


def test_the_waiver_row_uses_the_2014_scenarios_runs_unscaled_with_its_two_fitted_turnovers_beside_it():
    hk = HongKong(
        Channel("shares", ("etfs", "big_etf")), DAYS,
        at_low=_runs([1.5e12, 1.4e12], [70e9, 66e9]), at_high=_runs([1.35e12, 1.33e12], [84e9, 82e9]),
        etf_dutiable=_runs_2014([25.3e9, 25.1e9], 47e9, 5.1e11), etf_free=_runs_2014([25.1e9, 24.9e9], 47e9, 5.1e11),
        etf_scenario=SCENARIO_2014)
    checks = {check.name: check for check in hong_kong_checks(hk)}
    waiver = checks["hk_2015_etf_waiver_revenue_per_year_hkd"]
    assert waiver.measured == pytest.approx(-200e6)  # the 2014 runs' difference, no scaling by turnover
    assert SCENARIO_2014 in waiver.note and "no scaling" in waiver.note and "average-rate approximation" in waiver.note
    assert waiver.kind == OUT_OF_SAMPLE and {d.fitted_to for d in waiver.drivers if d.fitted_to} == {
        "volume_elasticity_ttc", *FITTED_TURNOVER_2014}
    assert not any("market size" in d.key for d in waiver.drivers)
    etf, share = (checks[name] for name in FITTED_TURNOVER_2014)
    assert etf.kind == share.kind == CALIBRATION_TARGET
    assert etf.measured == pytest.approx(4.7e9)  # every ETF's turnover a day on the 2014 runs
    assert etf.low < figure("hkex_etf_adt", "2014").value * 1e9 < etf.high
    assert share.measured == pytest.approx(5.1e10)
    dutiable = figure("hkex_securities_adt", "2014").value * (1 - STRUCTURED_SHARE_2014) - figure("hkex_etf_adt", "2014").value
    assert share.low < dutiable * 1e9 < share.high


def test_the_dutiable_share_of_2014_etf_turnover_is_a_quarter_as_fund_selector_asia_reported():
    assert ETF_DUTIABLE_SHARE_2014 == 0.25
    assert "about a quarter of ETF turnover" in figure("hkex_etf_adt", "2014").note
    assert "Fund Selector Asia" in figure("hkex_etf_adt", "2014").source


def test_hk_2014_lies_beside_hk_2025_and_runs_on_the_validations_overrides_and_seeds():
    scenario = load_scenario(HK_2014)
    assert share_channel(scenario) == share_channel(load_scenario(HK_2025))
    duty = scenario.policy.stamp_duty
    assert duty.conventional_stock.rate_per_side == 0.001 and duty.conventional_etf.rate_per_side == 0.0
    assert not any(group.tokenized_access for group in scenario.investors.values())  # no platform in 2014
    runs = ModelRuns(HK_2025, ("horizon_days=2",), (1, 2))
    runs_2014 = scenario_2014(runs, share_channel(load_scenario(HK_2025)))
    assert runs_2014 is not None and runs_2014.path == HK_2014
    assert (runs_2014.overrides, runs_2014.seeds) == (runs.overrides, runs.seeds)
    assert scenario_2014(ModelRuns(SCENARIOS / "baseline.yaml", (), (1,)), Channel("x", ("y",))) is None


def test_hk_2014_reproduces_2014s_etf_and_dutiable_share_turnover_within_15_percent():
    days = 3
    scenario = load_scenario(HK_2014, [f"horizon_days={days}"])
    kpis = run(scenario, scenario.seed).kpis
    etf = sum(kpis[f"turnover_hkd_{name}_conventional"] for name in ("hk_tracker", "tracker_fund")) / days
    assert etf == pytest.approx(figure("hkex_etf_adt", "2014").value * 1e9, rel=0.15)
    dutiable = (figure("hkex_securities_adt", "2014").value * (1 - STRUCTURED_SHARE_2014)
                - figure("hkex_etf_adt", "2014").value) * 1e9
    assert kpis["turnover_hkd_hk_stocks_conventional"] / days == pytest.approx(dutiable, rel=0.15)
    assert kpis["turnover_hkd_tokenized"] == 0


def test_every_hong_kong_row_is_out_of_sample_with_drivers_fitted_elsewhere_and_the_fits_are_targets(checks):
    out = [c for c in checks.values() if c.kind == OUT_OF_SAMPLE]
    assert len(out) == 4
    for check in out:
        fitted = {d.fitted_to for d in check.drivers if d.fitted_to}
        assert fitted and check.name not in fitted and fitted <= {"volume_elasticity_ttc", *FITTED_TURNOVER,
                                                                  *FITTED_TURNOVER_2014}
    assert all(checks[name].kind == CALIBRATION_TARGET for name in FITTED_TURNOVER)
    assert checks[FITTED_TURNOVER[0]].measured == pytest.approx((3.3e11 + 1e11) / DAYS)  # every ETF's turnover


def test_a_scenario_without_a_taxed_share_channel_has_no_hong_kong_rows():
    assert share_channel(load_scenario(SCENARIOS / "baseline.yaml")) is None
    assert share_channel(load_scenario(HK_2025)) == Channel("hk_stocks", ("hk_tracker", "tracker_fund"))


def test_validate_model_on_hk_2025_writes_the_hong_kong_rows_with_sources_intervals_and_a_verdict(tmp_path):
    out = tmp_path / "validation"
    done = tokensim("validate-model", str(HK_2025), "--quick", "--seeds", "2", "--set", "horizon_days=3", "--out", str(out))
    assert done.returncode == 0, done.stderr  # only identity rows set the exit status
    table = pd.read_csv(out / "validation.csv").set_index("name")
    hong_kong = table[table.index.str.startswith("hk_") & (table["kind"] == OUT_OF_SAMPLE)]
    assert len(hong_kong) >= 4
    assert hong_kong["status"].isin(["pass", "OUTSIDE"]).all()
    assert hong_kong["ci_low"].notna().all() and (hong_kong["ci_low"] <= hong_kong["ci_high"]).all()
    assert hong_kong["target"].str.contains("HKEX|China Daily|The TRADE").all()
    assert hong_kong["drivers"].str.contains("fitted to hk_2025_|fitted to hk_2014_").all()
    waiver = table.loc["hk_2015_etf_waiver_revenue_per_year_hkd"]
    assert SCENARIO_2014 in waiver["note"] and "no scaling" in waiver["note"]
    assert (table.loc[list(FITTED_TURNOVER_2014), "kind"] == CALIBRATION_TARGET).all()
    assert "Out-of-sample checks" in (out / "validation.md").read_text()
