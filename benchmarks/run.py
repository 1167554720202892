"""Performance benchmark: the model against a bare SimPy baseline measured in the same run.

Machines here are shared and noisy, so every figure that matters is a ratio against a baseline
timed in the same process minutes apart:
- baseline: one SimPy process feeding a pre-drawn Poisson stream of limit, market and cancel
  orders into the project's price-time order book (no model around it), orders per second;
- model: the baseline scenario (secondary trading only: it has no issuers), trading needs per
  second, and its ratio to the baseline;
- scaling: the same scenario at three sizes, seconds per need at each (should stay flat);
- memory: peak resident memory of the process, and bytes per recorded trade in the columns;
- parallel: 8 replications on 1 and 2 worker processes, and the speed-up.
Run: `python benchmarks/run.py [--quick]`; prints a table and writes benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import simpy

from sim import experiment
from sim.engine import build
from sim.market.orderbook import BUY, SELL, OrderBook
from sim.recorder import TRADE_COLUMNS
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def bare_simpy_orders_per_second(n_orders: int, seed: int = 1) -> float:
    """A pre-drawn Poisson order stream through SimPy into the order book: the floor to beat."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0, n_orders).tolist()
    kinds = rng.choice(3, n_orders, p=[0.6, 0.2, 0.2]).tolist()  # limit, market, cancel
    sides = rng.choice([BUY, SELL], n_orders).tolist()
    prices = rng.integers(990, 1011, n_orders).tolist()
    sizes = rng.integers(1, 100, n_orders).tolist()
    book = OrderBook()
    resting: list[int] = []

    def source(env):
        for gap, kind, side, price, size in zip(gaps, kinds, sides, prices, sizes):
            yield env.timeout(gap)
            if kind == 0:
                resting.append(book.submit_limit(side, price, size, 1)[0])
            elif kind == 1:
                book.submit_market(side, size, 2)
            elif resting:
                book.cancel(resting.pop())

    env = simpy.Environment()
    env.process(source(env))
    start = time.perf_counter()
    env.run()
    return n_orders / (time.perf_counter() - start)


def model_needs_per_second(needs_scale: float, days: int) -> tuple[float, int, int]:
    """(needs per second, needs, trades) for the baseline scenario with needs scaled."""
    base = load_scenario(BASELINE)
    overrides = [f"horizon_days={days}"] + [
        f"investors.{name}.needs_per_day={group.needs_per_day * needs_scale}" for name, group in base.investors.items()
    ]
    model = build(load_scenario(BASELINE, overrides), seed=1)
    start = time.perf_counter()
    model.env.run()
    elapsed = time.perf_counter() - start
    needs = int(sum(model.recorder.groups.columns["needs"]))
    return needs / elapsed, needs, len(model.recorder.trades)


def bytes_per_trade() -> int:
    """Bytes the trade table's typed columns hold per recorded trade."""
    return sum(np.dtype({"d": "f8", "i": "i4", "b": "i1", "q": "i8"}[code]).itemsize for code in TRADE_COLUMNS.values())


def parallel_speedup(reps: int, days: int) -> dict[str, float]:
    """Wall time of `reps` replications on 1 and 2 workers."""
    times = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            experiment.run([BASELINE], reps=reps, overrides=[f"horizon_days={days}"], out=out, workers=workers, quiet=True)
            times[workers] = time.perf_counter() - start
    return {"seconds_1_worker": times[1], "seconds_2_workers": times[2], "speedup": times[1] / times[2]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test (about a minute)")
    args = parser.parse_args(argv)
    days, sizes, reps, bare_orders = (5, (0.5, 1, 2), 4, 100_000) if args.quick else (20, (1, 4, 12), 8, 500_000)
    results: dict[str, object] = {}
    bare = bare_simpy_orders_per_second(bare_orders)
    rate, needs, trades = model_needs_per_second(1, days)
    results["baseline_orders_per_second"] = bare
    results["model_needs_per_second"] = rate
    results["model_to_baseline_ratio"] = rate / bare
    results["scaling"] = [
        {"needs": n, "trades": t, "microseconds_per_need": 1e6 / r}
        for r, n, t in (model_needs_per_second(scale, days) for scale in sizes)
    ]
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["bytes_per_recorded_trade"] = bytes_per_trade()
    results["parallel"] = parallel_speedup(reps, days * 2)
    print(f"bare SimPy + order book   {bare:12,.0f} orders/s")
    print(f"model (baseline scenario) {rate:12,.0f} needs/s   ratio {rate / bare:.3f}")
    for row in results["scaling"]:
        print(f"  {row['needs']:>10,} needs  {row['microseconds_per_need']:7.2f} us/need")
    print(f"peak RSS {results['peak_rss_mb']:.0f} MB; {results['bytes_per_recorded_trade']} bytes per recorded trade")
    parallel = results["parallel"]
    print(f"{reps} replications: {parallel['seconds_1_worker']:.1f} s on 1 worker, "
          f"{parallel['seconds_2_workers']:.1f} s on 2, speed-up {parallel['speedup']:.2f}x")
    if not args.quick:
        (ROOT / "benchmarks" / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
