"""The settlement money's stress in the report: the series record's stress window (and its absence
for a scenario without settlement assets), the figure drawn from an experiment folder, and the
figure in `tokensim report`'s HTML.

The shipped de-peg is on business day 124; these tests move it to the first Friday (business day
4, 9 Jan 2026) so that a ten-day run of a small market shows it."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import SCENARIOS, quick
from test_report import QUICK, html_of
from sim.cli import main
from sim.experiment.series import WINDOW_AFTER_DAYS, WINDOW_BEFORE_DAYS, run_series
from sim.figures import plt
from sim.money_tables import BELOW_PAR
from sim.report.inputs import load_inputs
from sim.report.money_figures import stress_figure
from sim.report.sections import MONEY_CAPTION
from sim.runs import run
from sim.scenario import load_scenario

FRIDAY = 4  # business day 4 is Friday 9 Jan 2026
HORIZON = ["horizon_days=10", *QUICK[1:]]
EXPERIMENT = "compare-baseline-vs-stablecoin_depeg"
COIN = "licensed_coin"


def early_impairments() -> list[dict]:
    """The shipped de-peg's impairment, moved from business day 124 to `FRIDAY` (same hours)."""
    shipped = yaml.safe_load((SCENARIOS / "stablecoin_depeg.yaml").read_text(encoding="utf-8"))
    moved = []
    for impairment in shipped["settlement_assets"][COIN]["impairments"]:
        shift = {"day": FRIDAY - impairment["start"]["day"]}
        moved.append({**impairment, **{key: {**impairment[key], "day": impairment[key]["day"] + shift["day"]}
                                       for key in ("start", "guarantee", "end")}})
    return moved


def depeg(*overrides: str):
    """stablecoin_depeg, ten days of a small market, its stress on `FRIDAY` (loaded on its own)."""
    impairments = json.dumps(early_impairments())
    return load_scenario(SCENARIOS / "stablecoin_depeg.yaml",
                         [*HORIZON, "measured_against=", f"settlement_assets.{COIN}.impairments={impairments}",
                          *overrides])


def write_depeg_scenarios(folder: Path) -> tuple[Path, Path]:
    """baseline.yaml, stablecoin_settlement.yaml and stablecoin_depeg.yaml (its stress on `FRIDAY`) in
    `folder`; returns the baseline's and the de-peg's paths."""
    for name in ("baseline.yaml", "stablecoin_settlement.yaml"):
        (folder / name).write_text((SCENARIOS / name).read_text(encoding="utf-8"), encoding="utf-8")
    data = yaml.safe_load((SCENARIOS / "stablecoin_depeg.yaml").read_text(encoding="utf-8"))
    data["settlement_assets"][COIN]["impairments"] = early_impairments()
    (folder / "stablecoin_depeg.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder / "baseline.yaml", folder / "stablecoin_depeg.yaml"


def test_the_series_record_keeps_the_stress_window_whose_low_is_the_kpi():
    result = run(depeg(), seed=3)
    money = run_series(result)["money"]
    coin = money[COIN]
    assert coin["kind"] == "stablecoin"
    assert min(coin["price"]) == coin["low"] == pytest.approx(result.kpis[f"money_low_{COIN}"], abs=1e-6)
    assert coin["low"] < BELOW_PAR
    hours = len(coin["price"])
    assert all(len(coin[field]) == hours for field in ("value", "queue_hkd", "usable", "day"))
    path = result.money[result.money["asset"] == COIN]
    stressed = path.loc[path["price"] < BELOW_PAR, "hour"]
    assert coin["first_hour"] == stressed.min() - WINDOW_BEFORE_DAYS * 24  # two calendar days before
    last = min(len(path), stressed.max() + 1 + WINDOW_AFTER_DAYS * 24)  # four after, clipped to the run
    assert coin["first_hour"] + hours == last
    assert -1 in coin["day"]  # the weekend is inside the window
    assert coin["days"] == sorted({d for d in coin["day"] if d >= 0}) and FRIDAY in coin["days"]
    assert coin["venues"] == ["platform"] and coin["form"] == "tokenized"
    platform = result.daily[result.daily["venue_name"] == "platform"]
    volume = platform.groupby("day")["volume_hkd"].sum()
    assert coin["volume_hkd"] == [round(volume[d]) for d in coin["days"]]
    assert len(json.dumps(money)) < 12_000  # a few kB


def test_an_asset_never_stressed_keeps_only_its_kind_and_low():
    money = run_series(run(depeg(f"settlement_assets.{COIN}.impairments=[]"), seed=3))["money"]
    assert money == {COIN: {"kind": "stablecoin", "low": money[COIN]["low"]}} and money[COIN]["low"] >= BELOW_PAR


def test_a_scenario_without_settlement_assets_has_no_money_in_its_record():
    record = run_series(run(quick("stablecoin_settlement"), seed=3))
    assert list(record) == ["scenario", "scenario_hash", "seed", "days", "turnover_hkd", "tokenized_share",
                            "exposure_hkd", "books", "etf_premium", "issues", "duty"]


@pytest.fixture(scope="module")
def reported(tmp_path_factory) -> Path:
    """`tokensim report` on the baseline and the early de-peg (its comparator run with it)."""
    baseline, coin = write_depeg_scenarios(tmp_path_factory.mktemp("scenarios"))
    out = tmp_path_factory.mktemp("outputs")
    sets = [arg for item in HORIZON for arg in ("--set", item)]
    assert main(["report", str(baseline), str(coin), "--reps", "2", "--workers", "1", "--out", str(out), "--quiet",
                 *sets]) == 0
    return out


def test_the_figure_draws_price_queue_and_the_venues_against_the_comparator(reported):
    inputs = load_inputs(reported / EXPERIMENT)
    assert inputs.comparator("stablecoin_depeg") == "stablecoin_settlement"
    figure = stress_figure(inputs)
    try:
        price, queue, spread, volume = figure.axes[:4]
        assert len(figure.axes) == 4  # one scenario with a stressed asset: one row
        assert price.get_title(loc="left") == f"stablecoin_depeg:\n{COIN} (stablecoin)"
        assert price.get_ylabel() == "HK$ per HK$1 at par"
        assert queue.get_ylabel() == "Redemption queue (HK$ bn)"
        assert spread.get_ylabel() == "Quoted spread (bps of mid)"
        assert volume.get_ylabel() == "Value traded (HK$ million per day)"
        texts = [t.get_text() for t in price.texts]
        low = min(r["money"][COIN]["low"] for r in inputs.series["stablecoin_depeg"])
        assert any(t.startswith(f"low HK${low:.3f}, back to par ") for t in texts) and "weekend" in texts
        drawn = price.get_lines()[0].get_ydata()
        assert np.nanmin(drawn) == pytest.approx(low)
        assert [t.get_text().strip() for t in volume.texts] == ["stablecoin_depeg", "stablecoin_settlement"]
        assert any("stablecoin_settlement, median day" in t.get_text() for t in spread.texts)
    finally:
        plt.close("all")


def test_the_figure_is_absent_without_a_stressed_asset(reported, tmp_path):
    inputs = load_inputs(reported / EXPERIMENT)
    calm = {name: [{k: v for k, v in r.items() if k != "money"} for r in records]
            for name, records in inputs.series.items()}
    assert stress_figure(inputs) is not None
    assert stress_figure(type(inputs)(**{**inputs.__dict__, "series": calm})) is None


def test_the_report_shows_the_figure_with_its_caption(reported):
    page = (reported / "report.html").read_text(encoding="utf-8")
    assert html.escape(MONEY_CAPTION) in page and "HK$0.995 or was frozen, so its stress" not in page
    assert html_of(reported / EXPERIMENT) == page  # rebuilt from the folder alone
