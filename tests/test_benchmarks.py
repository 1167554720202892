"""The benchmark harness's own measures (its timings are reported, never asserted)."""

from __future__ import annotations

import importlib.util

from conftest import ROOT


def load_harness():
    spec = importlib.util.spec_from_file_location("benchmark_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recorded_trades_stay_under_100_bytes_each():
    assert load_harness().bytes_per_trade() <= 100


def test_bare_baseline_processes_every_order_of_its_stream():
    assert load_harness().bare_simpy_orders_per_second(2_000) > 0
