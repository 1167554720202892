"""Hong Kong's duty changes as out-of-sample validation rows (sim/validation/hong_kong.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from sim.published import figure
from sim.scenario import load_scenario
from sim.validation.hong_kong import (
    ETF_DUTIABLE_SHARE_2014, FITTED_TURNOVER, Channel, HongKong, hong_kong_checks, share_channel,
)
from sim.validation.kinds import CALIBRATION_TARGET, OUT_OF_SAMPLE
from tests.conftest import SCENARIOS
from tests.test_experiment_cli import tokensim

HK_2025 = SCENARIOS / "scale" / "hk_2025.yaml"
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
    waiver = checks["hk_2015_etf_waiver_revenue_per_year_hkd"]
    scale_2014 = figure("hkex_etf_adt", "2014").value / figure("hkex_etf_adt", "2025").value
    assert waiver.measured == pytest.approx(-1e9 * scale_2014)  # forgone: negative
    assert waiver.low < -200e6 < waiver.high
    assert f"{ETF_DUTIABLE_SHARE_2014:.0%} of ETF turnover" in waiver.note


def test_every_hong_kong_row_is_out_of_sample_with_drivers_fitted_elsewhere_and_the_fits_are_targets(checks):
    out = [c for c in checks.values() if c.kind == OUT_OF_SAMPLE]
    assert len(out) == 4
    for check in out:
        fitted = {d.fitted_to for d in check.drivers if d.fitted_to}
        assert fitted and check.name not in fitted and fitted <= {"volume_elasticity_ttc", *FITTED_TURNOVER}
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
    assert hong_kong["drivers"].str.contains("fitted by hand to hk_2025_").all()
    assert "Out-of-sample checks" in (out / "validation.md").read_text()
