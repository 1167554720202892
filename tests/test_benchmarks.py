"""The benchmark harness's own measures (its timings are reported, never asserted)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from conftest import ROOT

from sim.engine import build
from sim.market.orderbook import BUY
from sim.scenario import load_scenario


def load_harness():
    spec = importlib.util.spec_from_file_location("benchmark_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recorded_trades_stay_under_100_bytes_each():
    assert load_harness().bytes_per_trade() <= 100


def test_bare_baseline_in_slices_feeds_the_whole_stream_exactly_as_in_one_go():
    harness = load_harness()
    whole, sliced = harness.BareBaseline(2_000), harness.BareBaseline(2_000)
    whole.run_orders(5_000)
    for sent in (700, 1_400, 2_000):
        sliced.run_orders(700)
        assert sliced.sent == sent
    assert whole.sent == 2_000 and whole.env.now == sliced.env.now
    state = [(book.limit_orders(), book.cancels, book.taken, book.top()) for book in (whole.book, sliced.book)]
    assert state[0] == state[1] and state[0][0] > 0 and state[0][1] > 0


def test_the_model_interleaved_with_the_baseline_runs_as_in_one_go():
    harness = load_harness()
    scenario = harness.scaled(harness.BASELINE, 0.2, 3)
    alone, interleaved = harness.measure_model(scenario), harness.measure_against(scenario, harness.BareBaseline(400))
    keys = ("needs", "orders", "trades", "trade_bytes")
    assert [alone[key] for key in keys] == [interleaved[key] for key in keys] and alone["orders"] > 0


def test_scaled_scenario_at_scale_one_is_the_scenario_itself():
    harness = load_harness()
    assert harness.scaled(harness.BASELINE, 1, 5) == load_scenario(harness.BASELINE, ["horizon_days=5"])


def test_scaling_multiplies_needs_accounts_and_provider_inventories_together():
    harness = load_harness()
    one, three = harness.scaled(harness.BASELINE, 1, 5), harness.scaled(harness.BASELINE, 3, 5)
    for name, group in one.investors.items():
        assert three.investors[name].needs_per_day == 3 * group.needs_per_day
        assert three.investors[name].accounts == 3 * group.accounts
    maker = one.venues["exchange"].listings["hk_tracker"].market_maker
    scaled_maker = three.venues["exchange"].listings["hk_tracker"].market_maker
    assert scaled_maker.inventory_limit_units == 3 * maker.inventory_limit_units
    assert scaled_maker.quote_size_units == 3 * maker.quote_size_units
    assert scaled_maker.base_half_spread_bps == maker.base_half_spread_bps  # prices are not scaled
    dealer, scaled_dealer = (s.venues["otc"].listings["green_bond"].dealer for s in (one, three))
    assert scaled_dealer.initial_cash_hkd == 3 * dealer.initial_cash_hkd


def test_every_trade_comes_from_a_counted_taker_order_and_every_quote_is_counted(baseline):
    harness = load_harness()
    model = build(baseline, seed=3)
    model.env.run()
    trades = model.recorder.trades.frame()
    takers = trades["buyer"].where(trades["taker_side"] == BUY, trades["seller"])
    taker_orders = model.groups[0].market.taker_orders
    assert 0 < trades.assign(taker=takers).groupby(["time", "taker"]).ngroups <= taker_orders
    books = [listing.book for listing in model.listings if listing.book is not None]
    quotes = sum(book.limit_orders() for book in books)
    assert quotes > 0
    assert harness.orders_received(model) == taker_orders + quotes + sum(book.cancels for book in books)


def test_a_longer_run_holds_the_market_steady_and_changes_nothing_else():
    harness = load_harness()
    steady = harness.longer(harness.BASELINE, 40)
    plain = load_scenario(harness.BASELINE, ["horizon_days=40"])
    assert steady.instruments["green_bond"].tenor_years == 30
    assert all(g.adoption.innovation_per_year == g.adoption.imitation_per_year == 0 for g in steady.investors.values())
    restored = steady.model_dump()
    restored["instruments"]["green_bond"]["tenor_years"] = plain.instruments["green_bond"].tenor_years
    for name, group in plain.investors.items():
        restored["investors"][name]["adoption"] = group.adoption.model_dump()
    assert restored == plain.model_dump()


def test_the_harness_runs_end_to_end_at_a_tiny_size_without_writing_results():
    results = ROOT / "benchmarks" / "results.json"
    before = results.read_bytes() if results.exists() else None
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--size", "tiny"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for line in ("bare SimPy + order book", "model, secondary trading", "scaling by run length",
                 "scaling by population", "bytes per recorded trade", "replications (medians"):
        assert line in done.stdout
    assert (results.read_bytes() if results.exists() else None) == before


def test_the_market_scale_benchmarks_run_at_tiny_size(capsys):
    spec = importlib.util.spec_from_file_location("market_scale", ROOT / "benchmarks" / "market_scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--size", "tiny", "--only", "report", "--only", "dask"]) == 0
    printed = capsys.readouterr().out
    assert "market-scale report: hk_2025 and 2 policies" in printed and "(exit status 0)" in printed
    assert "Dask: 2 replications of 1 days of hk_2025" in printed
