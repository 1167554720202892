"""How many trade rows a run writes and in what format (`tokensim run --trades`, `--trades-format`)."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest

from sim.outputs import TRADE_SAMPLE_EVERY, TradeOutput, write_run
from sim.runs import run
from sim.scenario import ScenarioError
from tests.conftest import quick
from tests.test_experiment_cli import tokensim

BASELINE = "scenarios/baseline.yaml"


@pytest.fixture(scope="module")
def result():
    return run(quick("baseline"), seed=3)


def _write(result, folder, rows="all", format="csv"):
    return write_run(result, folder, [BASELINE], [], ["test"], trades=TradeOutput(rows, format))


def test_all_sample_and_none_write_every_row_every_hundredth_and_no_trade_file(result, tmp_path):
    every = pd.read_csv(_write(result, tmp_path / "all") / "trades.csv")
    assert len(every) == len(result.trades)
    sample = pd.read_csv(_write(result, tmp_path / "sample", "sample") / "trades_sample.csv")
    pd.testing.assert_frame_equal(sample, every.iloc[::TRADE_SAMPLE_EVERY].reset_index(drop=True))
    nothing = _write(result, tmp_path / "none", "none")
    assert not list(nothing.glob("trades*"))
    manifest = json.loads((nothing / "manifest.json").read_text())
    assert manifest["trades"] == {"rows": "none", "format": "csv"} and not any("trades" in f for f in manifest["files"])
    assert pd.read_csv(nothing / "kpis.csv")["trades"].iloc[0] == len(result.trades)  # KPIs still cover every trade


def test_parquet_holds_the_same_table_in_fewer_bytes_and_the_same_bytes_every_time(result, tmp_path):
    csv = pd.read_csv(_write(result, tmp_path / "csv") / "trades.csv")
    first, second = (_write(result, tmp_path / name, format="parquet") / "trades.parquet" for name in ("a", "b"))
    parquet = pd.read_parquet(first)
    pd.testing.assert_frame_equal(parquet, csv, check_dtype=False, check_exact=False, rtol=1e-12)
    assert first.read_bytes() == second.read_bytes()
    assert first.stat().st_size < (tmp_path / "csv" / "baseline" / "trades.csv").stat().st_size / 2


def test_a_folder_written_with_other_trade_options_is_not_up_to_date(tmp_path):
    args = ("run", BASELINE, "--set", "horizon_days=2", "--out", str(tmp_path), "--quiet")
    assert tokensim(*args).returncode == 0
    assert "up to date" in tokensim(*args).stdout
    refused = tokensim(*args, "--trades", "none")
    assert refused.returncode == 2 and "written with other trade output options" in refused.stderr
    assert tokensim(*args, "--trades", "none", "--overwrite").returncode == 0
    assert not (tmp_path / "baseline" / "trades.csv").exists()


def test_parquet_without_pyarrow_is_refused_before_anything_runs(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # an import of it now fails
    with pytest.raises(ScenarioError, match=r"parquet needs pyarrow"):
        TradeOutput("all", "parquet").check_available()
    with pytest.raises(ScenarioError, match="--trades"):
        TradeOutput("some")
