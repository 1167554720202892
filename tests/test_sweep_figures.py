"""Figures of sweeps and sensitivity analyses: drawn from the saved tables, showing their numbers."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from sim import cli, experiment
from sim.cli import main
from sim.report.sweep_figures import (
    heatmap,
    load_tables,
    name_unit,
    plt,
    response_curve,
    response_panels,
    scenario_labels,
    sensitivity_figures,
    sweep_figures,
    tornado,
)
from sim.report.text import number
from sim.scenario import ScenarioError, load_scenario

PNG = b"\x89PNG\r\n\x1a\n"


def plane(params: dict, seed: int) -> dict[str, float]:
    """A KPI that differs at every grid point, a share around 10%, and seed noise."""
    noise = float(np.random.default_rng(seed).normal())
    return {"y": 10 * params["a"] + params.get("b", 0) + 0.1 * noise, "tokenized_share": 0.1 + 0.01 * noise}


def linear(params: dict, seed: int) -> dict[str, float]:
    return {"y": 1 * params["a"] + 10 * params["b"] + 3 * params["c"]}


def figures_of(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "figures").iterdir())}


def test_one_key_sweep_draws_response_curves_of_the_summary_means(tmp_path):
    result = experiment.sweep(plane, ["a=1,0,0.5"], reps=3, out=tmp_path, workers=1)
    drawn = sweep_figures(result.folder)
    assert [p.name for p in drawn] == ["response_tokenized_share.png"]  # the report's headline KPIs, when measured
    drawn = sweep_figures(result.folder, kpis=["y", "tokenized_share"])
    assert [p.name for p in drawn] == ["response_y.png", "response_tokenized_share.png"]
    assert all(p.read_bytes().startswith(PNG) for p in drawn)

    tables = load_tables(result.folder, "sweep")
    summary = result.summary.set_index(["kpi", "a"])["mean"]
    fig = response_curve(tables, "tokenized_share")
    ax = fig.axes[0]
    line = ax.lines[0]
    assert list(line.get_xdata()) == [0, 0.5, 1]  # in the key's order, not the design's
    assert list(line.get_ydata()) == pytest.approx([100 * summary[("tokenized_share", a)] for a in (0, 0.5, 1)])
    assert ax.get_xlabel() == "a" and ax.get_ylabel() == "Tokenized share of turnover (%)"
    source = fig.texts[-1].get_text().replace("\n", " ")
    assert source.startswith("Source: LEAP tokenization simulator ")
    assert "function test_sweep_figures.plane; grid design, 3 points; base seed 0, replications 0\u20132." in source
    plt.close(fig)


def flagged(params: dict, seed: int) -> dict[str, float]:
    return {"y": 1.0 if params["flag"] else 2.0}


def test_separate_values_are_points_with_whiskers_not_a_curve(tmp_path):
    result = experiment.sweep(flagged, ["flag=true,false"], reps=2, out=tmp_path, workers=1)
    fig = response_curve(load_tables(result.folder, "sweep"), "y")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["true", "false"]
    markers = ax.containers[0].lines[0]
    assert markers.get_linestyle() == "None" and list(markers.get_ydata()) == [1.0, 2.0]
    plt.close(fig)


def test_two_key_heatmap_annotates_each_cell_with_its_mean(tmp_path):
    result = experiment.sweep(plane, ["a=0,1,0.5", "b=2,1"], reps=2, out=tmp_path, workers=1)
    tables = load_tables(result.folder, "sweep")
    means = result.summary[result.summary["kpi"] == "y"].set_index(["a", "b"])["mean"]
    fig = heatmap(tables, "y")
    ax = fig.axes[0]
    across = [float(t.get_text()) for t in ax.get_xticklabels()]
    up = [float(t.get_text()) for t in ax.get_yticklabels()]
    assert across == [0, 0.5, 1] and up == [1, 2] and ax.get_xlabel() == "a" and ax.get_ylabel() == "b"
    cells = {(across[round(t.get_position()[0])], up[round(t.get_position()[1])]): t.get_text() for t in ax.texts}
    assert cells == {cell: number(mean) for cell, mean in means.items()}
    assert len(set(cells.values())) == 6
    plt.close(fig)
    assert [p.name for p in sweep_figures(result.folder, kpis=["y"])] == ["heatmap_y.png"]


def test_redrawing_from_a_copied_folder_gives_identical_pngs(tmp_path):
    result = experiment.sweep(plane, ["a=0,0.5,1", "b=1,2"], reps=2, out=tmp_path / "here", workers=1)
    sweep_figures(result.folder, kpis=["y", "tokenized_share"])
    copy = tmp_path / "elsewhere" / "copied"
    shutil.copytree(result.folder, copy)
    shutil.rmtree(copy / "runs")
    shutil.rmtree(copy / "figures")
    sweep_figures(copy, kpis=["y", "tokenized_share"])
    assert figures_of(copy) == figures_of(result.folder) and len(figures_of(copy)) == 2


def test_three_keys_draw_nothing_and_stale_figures_go(tmp_path):
    result = experiment.sweep(plane, ["a=0,1"], reps=1, out=tmp_path, name="same", workers=1)
    assert len(sweep_figures(result.folder)) == 1
    result = experiment.sweep(plane, ["a=0,1", "b=0,1", "c=0,1"], reps=1, out=tmp_path, name="same", workers=1)
    assert sweep_figures(result.folder) == [] and list((result.folder / "figures").iterdir()) == []


def test_tornado_orders_keys_by_morris_mu_star(tmp_path):
    pytest.importorskip("SALib")
    result = experiment.sensitivity(linear, ["a=0:1", "b=0:1", "c=0:2"], method="morris", samples=6,
                                    out=tmp_path, workers=1)
    indices = pd.read_csv(result.folder / "sensitivity.csv").set_index("parameter")
    fig = tornado(load_tables(result.folder, "sensitivity"), "y")
    ax = fig.axes[0]
    order = [t.get_text() for t in ax.get_yticklabels()]
    assert order == list(indices["mu_star"].sort_values(ascending=False).index) == ["b", "c", "a"]
    assert [bar.get_width() for bar in ax.patches] == pytest.approx(list(indices.loc[order, "mu_star"]))
    plt.close(fig)
    assert [p.name for p in sensitivity_figures(result.folder)] == ["tornado_y.png"]


def test_tornado_orders_keys_by_sobol_total_index(tmp_path):
    pytest.importorskip("SALib")
    result = experiment.sensitivity(linear, ["a=0:1", "b=0:1", "c=0:2"], method="sobol", samples=32,
                                    out=tmp_path, workers=1)
    indices = pd.read_csv(result.folder / "sensitivity.csv").set_index("parameter")
    fig = tornado(load_tables(result.folder, "sensitivity"), "y")
    ax = fig.axes[0]
    order = [t.get_text() for t in ax.get_yticklabels()]
    assert order == list(indices["ST"].sort_values(ascending=False).index) == ["b", "c", "a"]
    total_bars = ax.patches[:3]  # ST bars are drawn first, S1 bars second
    assert [bar.get_width() for bar in total_bars] == pytest.approx(list(indices.loc[order, "ST"]))
    plt.close(fig)


def test_wrong_folder_or_kpi_is_a_clear_error(tmp_path):
    result = experiment.sweep(plane, ["a=0,1"], reps=1, out=tmp_path, workers=1)
    with pytest.raises(ScenarioError, match="need a `sensitivity` experiment"):
        sensitivity_figures(result.folder)
    with pytest.raises(ScenarioError, match="did you mean 'tokenized_share'"):
        sweep_figures(result.folder, kpis=["tokenized_shar"])
    with pytest.raises(ScenarioError, match="manifest.json is missing"):
        sweep_figures(tmp_path)
    assert [p.name for p in sweep_figures(result.folder, kpis=["y"])] == ["response_y.png"]


@pytest.mark.parametrize("name, unit", [
    ("venues.exchange.settlement_cycle_days", "days"),
    ("policy.stamp_duty.tokenized_etf.rate_per_side", "fraction per side"),
    ("costs.network_fee_hkd_per_transfer", "HKD per transfer"),
    ("investors.institutional.reservation_spread_bps_mean", "bps"),
    ("market_maker.size_impact_bps_per_million_hkd", "bps per million HKD"),
    ("investors.retail.accounts", None),
])
def test_units_come_from_key_names(name, unit):
    assert name_unit(name) == unit


TINY = ["horizon_days=3", "investors.retail.accounts=100", "investors.institutional.accounts=20"]
RATE = "policy.stamp_duty.tokenized_etf.rate_per_side"


def test_sweep_command_draws_figures_after_the_tables(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    args = ["sweep", "scenarios/baseline.yaml", "--param", f"{RATE}=0,0.002", "--reps", "1", "--workers", "1",
            "--quiet", "--out", str(tmp_path), *(a for item in TINY for a in ("--set", item))]
    assert main(args) == 0
    folder = tmp_path / "sweep-baseline"
    assert f"figures: 12 -> {folder / 'figures'}" in capsys.readouterr().out  # the measured headline KPIs
    assert "response_stamp_duty_hkd.png" in {p.name for p in (folder / "figures").iterdir()}

    def broken(folder):
        raise ValueError("no ink")

    monkeypatch.setattr(cli, "sweep_figures", broken)  # the command line hands it to the sweep
    assert main(args) == 1
    output = capsys.readouterr()
    assert output.err == f"error: figures: ValueError: no ink; the tables in {folder} are complete\n"
    assert (folder / "summary.csv").exists() and (folder / "manifest.json").exists()


def test_panels_are_titled_in_words_and_under_the_figure_title(tmp_path):
    """A sweep's panels name a listing's measure in words, with its instrument and venue split where the
    scenario knows them (a venue name with an underscore stays whole), and the figure's title sits above them."""
    scenario = load_scenario(ROOT / "scenarios" / "liquidity_migration.yaml",
                             ["venues.platform_b={kind: platform, form: tokenized, listings: {hk_tracker: {}}}"])
    kpis = ["spread_bps_hk_tracker_platform_b", "venue_share_platform_b", "tokenized_share_etf",
            "adoption_share_retail", "y"]
    assert scenario_labels(kpis, scenario) == {
        "spread_bps_hk_tracker_platform_b": "Quoted spread, hk_tracker on platform_b",
        "venue_share_platform_b": "Share of investors' value on platform_b",
        "tokenized_share_etf": "Tokenized share of ETF value",
    }  # the retail adoption share is a headline, with its own label; `y` is nobody's
    result = experiment.sweep(plane, ["a=1,0,0.5"], reps=3, out=tmp_path, workers=1)
    tables = load_tables(result.folder, "sweep")
    fig = response_panels(tables, ["y", "tokenized_share"], "A sweep", {"y": "Quoted spread, x on platform_b"})
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    assert titles[0] == "Quoted spread, x on platform_b" and titles[1].startswith("Tokenized share of turnover")
    plt.close(fig)
    fig = response_panels(tables, ["y", "tokenized_share"] * 5, "A sweep")  # as tall as the report's
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    top_of_panels = max(ax.title.get_window_extent(renderer).y1 for ax in fig.axes if ax.get_visible())
    # a clear gap (a quarter of an inch) between the figure's title and the first row's titles
    assert fig._suptitle.get_window_extent(renderer).y0 - top_of_panels >= 0.25 * fig.dpi
    plt.close(fig)
