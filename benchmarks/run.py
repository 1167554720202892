"""Performance benchmark: the model against a bare SimPy baseline measured in the same run.

Machines here are shared and noisy, so every figure that matters is a ratio against a baseline
timed in the same process and interleaved with the model (a business day of the model, then a
slice of the baseline, and so on; the median over several rounds), and single-process times
are CPU seconds of this process (time.process_time: waiting for a core shared with other jobs
does not count; the parallel speed-up, which spans processes, is wall time):
- baseline: one SimPy process feeding a pre-drawn Poisson stream of limit, market and cancel
  orders into the project's price-time order book (no model around it), orders per second;
- model: the baseline scenario (secondary trading only: it has no issuers), then a scenario
  with bond issuance as well, in orders and in trading needs per second, with ratios;
- scaling by run length: the baseline market held steady (the bond outlives the run, adoption
  stays at its first day's share) for about 100k, 1M and 4M orders, time per order and per
  need at each, with and without the one-off build: the order mix stays the same, so this is
  how the code's cost grows with the size of a run;
- scaling by population: needs, accounts and liquidity providers' inventories scaled together
  (each need meets the same market; about 100k, 1M and 4M needs). Market makers' quotes
  follow the clock and the fair value, so a day holds the same number of them at every size,
  the share of taker orders grows with the size, and time per need is the measure here
  (in both series the smallest size is timed before and after the others, and averaged);
- memory: peak resident memory of the process, and bytes per recorded trade in the trade table;
- parallel: 8 replications on 1 and 2 worker processes, and the speed-up;
- market scale: `scenarios/scale/hk_2025.yaml` (a 1/100 weighted sample of Hong Kong's 2025
  market) over a year (full size; fewer days otherwise), CPU seconds against the 2 minutes the
  market-scale work aims for, the trades simulated and the whole market's they stand for, and
  the size on disk of its outputs with every trade as Parquet and with none; and the same at
  1/200, the coarser sample the whole-market check validates as well (docs/model.md).

What counts as an order. The baseline's orders are the messages a venue receives: limit
orders, market orders and cancellations. The model's orders are counted the same way: every
limit order a market maker sends (its quotes), every cancellation it sends, and every
immediate-or-cancel order or request for quote a taker (investor or authorised participant)
sends. A trading need is not an order: most needs never reach a venue (their gain does not
cover the cost, or no venue they may use is open), so needs per second is reported alongside.
Run: `python benchmarks/run.py [--size quick|tiny]`; prints a table; a full run writes benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import simpy

from sim import experiment
from sim.engine import Model, build, deferred_collection, simulate
from sim.market.orderbook import BUY, SELL, OrderBook
from sim.recorder import TRADE_COLUMNS, Table
from sim.scenario import load_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
WITH_ISSUANCE = ROOT / "scenarios" / "regular_bond_issuance.yaml"
MARKET_SCALE = ROOT / "scenarios" / "scale" / "hk_2025.yaml"
MARKET_SCALE_DAYS = {"full": 250, "quick": 20, "tiny": 2}
COARSER_WEIGHT = 200
MARKET_SCALE_AIM_SECONDS = 120.0  # a year of the market-scale scenario on 2 cores, as the market-scale work aims
PROVIDER_AMOUNTS = ("quote_size_units", "inventory_limit_units", "initial_units", "initial_cash_hkd")


class BareBaseline:
    """The floor to beat: one SimPy process feeding a pre-drawn Poisson stream of limit, market and
    cancel orders into the project's price-time order book, with no model around it.

    It runs in slices (`run_orders`), so that its timing can be interleaved with the model's;
    `seconds` adds up the CPU time of the slices run so far and `sent` the orders they fed.
    """

    def __init__(self, n_orders: int, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        gaps = rng.exponential(1.0, n_orders)
        kinds = rng.choice(3, n_orders, p=[0.6, 0.2, 0.2]).tolist()  # limit, market, cancel
        sides = rng.choice([BUY, SELL], n_orders).tolist()
        prices = rng.integers(990, 1011, n_orders).tolist()
        sizes = rng.integers(1, 100, n_orders).tolist()
        self.n_orders = n_orders
        self._arrivals = np.cumsum(gaps)
        self.book = OrderBook()
        self.env = simpy.Environment()
        self.env.process(self._source(gaps.tolist(), kinds, sides, prices, sizes))
        self.sent, self.seconds = 0, 0.0

    def _source(self, gaps, kinds, sides, prices, sizes):
        env, book, resting = self.env, self.book, []
        for gap, kind, side, price, size in zip(gaps, kinds, sides, prices, sizes):
            yield env.timeout(gap)
            if kind == 0:
                resting.append(book.submit_limit(side, price, size, 1)[0])
            elif kind == 1:
                book.submit_market(side, size, 2)
            elif resting:
                book.cancel(resting.pop())

    def run_orders(self, n: int) -> None:
        """Feed the stream's next `n` orders (those left, at its end)."""
        target = min(self.sent + n, self.n_orders)
        if target == self.sent:
            return
        start = time.process_time()
        if target == self.n_orders:
            self.env.run()
        else:  # stop between the last order of the slice and the next one
            self.env.run(until=float(self._arrivals[target - 1] + self._arrivals[target]) / 2)
        self.seconds += time.process_time() - start
        self.sent = target

    def orders_per_second(self) -> float:
        return self.sent / self.seconds


def scaled(path: Path, scale: float, days: int) -> Scenario:
    """The scenario over `days` with `scale` times the needs, accounts and providers' inventories.

    Scaling accounts and inventories with the needs keeps the market each need meets the same
    (the same share of sellers holding units, the same depth per need), so that time per order
    measures the code's scaling rather than a market drying up.
    """
    data = load_scenario(path, [f"horizon_days={days}"]).model_dump(mode="json", exclude_none=True)
    for group in data["investors"].values():
        group["needs_per_day"] *= scale
        group["accounts"] = max(1, round(group["accounts"] * scale))
    for venue in data["venues"].values():
        role = "dealer" if venue["kind"] == "dealer" else "market_maker"
        for name, listing in venue["listings"].items():
            provider = listing[role]
            for key in PROVIDER_AMOUNTS:
                if key in provider:
                    provider[key] = type(provider[key])(provider[key] * scale)
            venue["listings"][name] = {role: provider}  # a dump holds both roles; a venue takes one
    for instrument in data["instruments"].values():
        participant = instrument.get("authorised_participant")
        if participant:
            participant["initial_units"] = {form: int(n * scale) for form, n in participant["initial_units"].items()}
            participant["initial_cash_hkd"] *= scale
    return Scenario.model_validate(data)


def longer(path: Path, days: int) -> Scenario:
    """The scenario's market run for `days`, kept as it is on its first day.

    Time per order should not grow with the length of a run (tables, ledger and settlement
    queues grow, the work per order should not). So that a long run repeats the same market
    rather than a changing one, the bond outlives the run (tenor 30 years) and the adoption of
    tokenized channels stays at its initial share; the order mix then stays the same.
    """
    overrides = [f"horizon_days={days}", "instruments.green_bond.tenor_years=30"]
    for group in load_scenario(path).investors:
        overrides += [f"investors.{group}.adoption.{rate}=0" for rate in ("innovation_per_year", "imitation_per_year")]
    return load_scenario(path, overrides)


def orders_received(model: Model) -> int:
    """Limit orders, cancellations and taker orders (IOC or request for quote) the venues received."""
    books = [listing.book for listing in model.listings if listing.book is not None]
    takers = model.market.taker_orders
    return takers + sum(book.limit_orders() + book.cancels for book in books)


def counts(model: Model, build_seconds: float, run_seconds: float) -> dict[str, float]:
    """What one run took and produced: build and run seconds, needs, orders and trades."""
    return {
        "build_seconds": build_seconds,
        "run_seconds": run_seconds,
        "needs": int(sum(model.recorder.groups.columns["needs"])),
        "orders": orders_received(model),
        "trades": len(model.recorder.trades),
        "trade_bytes": model.recorder.trades.nbytes(),
    }


def measure_model(scenario: Scenario, seed: int = 1) -> dict[str, float]:
    """Build and run one scenario; build seconds, run seconds, needs, orders and trades."""
    start = time.process_time()
    model = build(scenario, seed)
    built = time.process_time()
    simulate(model)
    return counts(model, built - start, time.process_time() - built)


def measure_against(scenario: Scenario, bare: BareBaseline, seed: int = 1) -> dict[str, float]:
    """Run the model a business day at a time, each day followed by an equal share of the bare
    baseline's stream, and time the two apart: both see the machine in the same state, so
    their ratio does not depend on which of them a drift in the machine's speed happened to hit.

    The run is the same as in one go: stopping the clock at a day's start changes no event's order.
    """
    start = time.process_time()
    model = build(scenario, seed)
    build_seconds = time.process_time() - start
    days = scenario.horizon_days
    share = -(-bare.n_orders // (days + 1))  # the model's last slice runs on from the horizon to the end
    seconds = 0.0
    with deferred_collection():
        for day in range(1, days + 2):
            start = time.process_time()
            model.env.run(until=float(day) if day <= days else None)
            seconds += time.process_time() - start
            bare.run_orders(share)
    return counts(model, build_seconds, seconds)


def bytes_per_trade() -> int:
    """Bytes the trade table holds per recorded trade: one packed row (before the buffer's over-allocation)."""
    return Table(TRADE_COLUMNS).row_bytes


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes (the pool's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def parallel_speedup(reps: int, days: int, rounds: int) -> dict[str, float]:
    """Wall time of `reps` replications on 1 and 2 workers, and the CPU time each took.

    Each round runs the replications on 1 worker, then on 2; the speed-up is the median of the
    rounds' ratios (one round's ratio swings by tenths on a shared machine). On a machine other
    jobs keep busy, the wall-time speed-up says more about them than about the pool; the CPU
    seconds show what running in parallel costs (process start, pickling, results sent back):
    with equal tasks, an idle 2-core machine would give about 2 x CPU(1 worker) / CPU(2 workers).
    """
    with tempfile.TemporaryDirectory() as out:  # warm-up, untimed: the experiment layer's first-call costs
        experiment.run([BASELINE], reps=1, overrides=["horizon_days=1"], out=out, workers=1, quiet=True)
    wall, cpu = {1: [], 2: []}, {1: [], 2: []}
    for _ in range(rounds):
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as out:
                start, start_cpu = time.perf_counter(), cpu_seconds()
                experiment.run([BASELINE], reps=reps, overrides=[f"horizon_days={days}"], out=out, workers=workers,
                               quiet=True)
                wall[workers].append(time.perf_counter() - start)
                cpu[workers].append(cpu_seconds() - start_cpu)
    median = statistics.median
    return {
        "rounds": rounds,
        "seconds_1_worker": median(wall[1]), "seconds_2_workers": median(wall[2]),
        "speedup": median(one / two for one, two in zip(wall[1], wall[2])),
        "speedups": [one / two for one, two in zip(wall[1], wall[2])],
        "cpu_seconds_1_worker": median(cpu[1]), "cpu_seconds_2_workers": median(cpu[2]),
        "idle_machine_speedup_estimate": median(2 * one / two for one, two in zip(cpu[1], cpu[2])),
    }


SIZES = {  # days of the throughput runs, rounds, run lengths, population scales, replications, bare orders
    # 20 business days of the baseline scenario hold about 34,000 needs and 68,000 orders;
    # 28, 275 and 1,100 days of the steady market (`longer`) about 100k, 1M and 4M orders
    "full": (20, 5, (28, 275, 1100), (3, 30, 120), 8, 500_000),
    "quick": (5, 3, (5, 10, 20), (0.5, 1, 2), 4, 100_000),  # about a minute
    "tiny": (2, 1, (1, 2, 3), (0.1, 0.2, 0.3), 2, 5_000),  # seconds: the test suite's check that it runs
}


def throughput(days: int, bare_orders: int, rounds: int) -> dict[str, object]:
    """Orders and needs per second of the model against the bare baseline, over `rounds` rounds.

    In each round each scenario runs interleaved with its own bare baseline (`measure_against`),
    so each ratio compares timings taken within milliseconds of each other; the figures
    reported are medians over the rounds. Counts are the same in every round: same scenario,
    same seed.
    """
    scenarios = {"secondary": scaled(BASELINE, 1, days), "with_issuance": scaled(WITH_ISSUANCE, 1, days)}
    measured = {name: [] for name in scenarios}
    for _ in range(rounds):
        for name, scenario in scenarios.items():
            bare = BareBaseline(bare_orders)
            run = measure_against(scenario, bare)
            measured[name].append((run, bare.orders_per_second()))
    median = statistics.median
    results: dict[str, object] = {
        "baseline_orders_per_second": median(rate for runs in measured.values() for _, rate in runs),
        "rounds": rounds,
    }
    for name, runs in measured.items():
        first, seconds = runs[0][0], median(run["run_seconds"] for run, _ in runs)
        results[name] = {
            **first,
            "run_seconds": seconds,
            "orders_per_second": first["orders"] / seconds,
            "needs_per_second": first["needs"] / seconds,
            **{
                f"{unit}s_to_baseline_ratio": median(first[f"{unit}s"] / run["run_seconds"] / rate for run, rate in runs)
                for unit in ("order", "need")
            },
        }
    return results


def scaling_row(size: float, run: dict[str, float]) -> dict[str, float]:
    """One size of a scaling series: counts, times and time per need and per order."""
    row = {"size": size, **{key: run[key] for key in ("needs", "orders", "trades", "build_seconds", "run_seconds")}}
    for unit in ("need", "order"):
        count = max(1, run[f"{unit}s"])
        row[f"microseconds_per_{unit}"] = 1e6 * run["run_seconds"] / count
        row[f"microseconds_per_{unit}_with_build"] = 1e6 * (run["run_seconds"] + run["build_seconds"]) / count
    row["bytes_per_recorded_trade"] = run["trade_bytes"] / max(1, run["trades"])
    return row


def scaling_series(sizes: tuple[float, ...], scenario_of) -> list[dict[str, float]]:
    """One row per size. The smallest size runs first and again last, and its row takes the mean
    of the two timings: the machine's speed drifts over the minute the series takes, and a drift
    must not pass for a cost that grows with the size of a run."""
    runs = [measure_model(scenario_of(size)) for size in sizes]
    again = measure_model(scenario_of(sizes[0]))
    for key in ("build_seconds", "run_seconds"):
        runs[0][key] = (runs[0][key] + again[key]) / 2
    return [scaling_row(size, run) for size, run in zip(sizes, runs)]


def market_scale_year(days: int, weight: int | None = None) -> dict[str, float]:
    """`days` of the market-scale scenario (at its shipped sample weight, or `weight`): CPU seconds
    to build, run and compute its KPIs, the trades simulated and the whole market's, and the bytes
    its run folder takes with every trade as Parquet and with no trade rows."""
    from sim.outputs import TradeOutput, write_run
    from sim.runs import run

    scenario = load_scenario(MARKET_SCALE, [f"horizon_days={days}", *([f"sample.weight={weight}"] if weight else [])])
    start = time.process_time()
    result = run(scenario, seed=1)
    seconds = time.process_time() - start
    sizes = {}
    with tempfile.TemporaryDirectory() as folder:
        for rows in ("all", "none"):
            written = write_run(result, Path(folder) / rows, [str(MARKET_SCALE)], [], ["benchmark"],
                                trades=TradeOutput(rows, "parquet"))
            sizes[rows] = sum(f.stat().st_size for f in written.rglob("*") if f.is_file())
    return {"days": days, "weight": scenario.sample.weight, "cpu_seconds": seconds,
            "cpu_seconds_per_year": seconds * 250 / days, "trades_simulated": len(result.trades),
            "trades_market": result.kpis["trades"], "bytes_parquet_all_trades": sizes["all"],
            "bytes_no_trade_rows": sizes["none"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="full",
                        help="full (about 2 minutes here; writes benchmarks/results.json), quick or tiny (smoke tests)")
    args = parser.parse_args(argv)
    days, rounds, lengths, scales, reps, bare_orders = SIZES[args.size]
    # first, while this process is small: a forked worker that touches a large parent heap copies it
    parallel = parallel_speedup(reps, days * 2, rounds)
    measure_model(scaled(BASELINE, 0.2, 2))  # warm-up, untimed: first-call costs (lazy imports, caches)
    results: dict[str, object] = throughput(days, bare_orders, rounds)
    series = {
        "by_length": scaling_series(lengths, lambda length: longer(BASELINE, length)),
        "by_population": scaling_series(scales, lambda scale: scaled(BASELINE, scale, days)),
    }
    for name, rows in series.items():
        results[f"scaling_{name}"] = rows
        for unit in ("need", "order"):
            results[f"scaling_{name}_largest_to_smallest_per_{unit}"] = (
                rows[-1][f"microseconds_per_{unit}"] / rows[0][f"microseconds_per_{unit}"]
            )
    results["market_scale"] = market_scale_year(MARKET_SCALE_DAYS[args.size])
    # the coarser sample the whole-market check validates as well (docs/model.md, Market scale)
    results["market_scale_coarser"] = market_scale_year(MARKET_SCALE_DAYS[args.size], COARSER_WEIGHT)
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["bytes_per_recorded_trade"] = bytes_per_trade()
    results["parallel"] = parallel
    report(results, reps)
    if args.size == "full":
        (ROOT / "benchmarks" / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def _print_market_scale(scale: dict) -> None:
    print(f"market scale: {scale['days']} days of hk_2025 (a 1/{scale['weight']} sample) in {scale['cpu_seconds']:.1f} CPU s,"
          f" {scale['cpu_seconds_per_year']:.0f} s a year (aim {MARKET_SCALE_AIM_SECONDS:.0f} s);"
          f" {scale['trades_simulated']:,} trades simulated for {scale['trades_market']:,.0f} in the market;"
          f" outputs {scale['bytes_parquet_all_trades'] / 1e6:.1f} MB with every trade as Parquet,"
          f" {scale['bytes_no_trade_rows'] / 1e6:.2f} MB with none")


def report(results: dict, reps: int) -> None:
    """The table printed at the end of a run."""
    bare = results["baseline_orders_per_second"]
    print("orders = limit orders + cancellations + taker orders (IOC or request for quote) a venue receives")
    print(f"medians of {results['rounds']} rounds (each: the model a day at a time, interleaved with slices of the bare"
          " baseline), ratios taken round by round")
    print(f"bare SimPy + order book        {bare:12,.0f} orders/s")
    for name, label in (("secondary", "model, secondary trading"), ("with_issuance", "model, with bond issuance")):
        run = results[name]
        print(f"{label:30} {run['orders_per_second']:12,.0f} orders/s  ratio {run['orders_to_baseline_ratio']:.3f}"
              f"   {run['needs_per_second']:9,.0f} needs/s  ratio {run['needs_to_baseline_ratio']:.3f}"
              f"   ({run['orders']:,} orders, {run['needs']:,} needs, {run['trades']:,} trades)")
    for name, title, size in (
        ("by_length", "scaling by run length (the baseline market held steady; business days):", "{:g} days"),
        ("by_population", "scaling by population (needs, accounts and providers' inventories x):", "x{:g}"),
    ):
        print(title)
        for row in results[f"scaling_{name}"]:
            print(f"  {size.format(row['size']):>10} {row['orders']:>10,} orders {row['needs']:>10,} needs"
                  f" {row['trades']:>9,} trades  build {row['build_seconds']:6.2f} s  run {row['run_seconds']:7.2f} s"
                  f"  {row['microseconds_per_order']:6.2f} us/order ({row['microseconds_per_order_with_build']:6.2f}"
                  f" with build)  {row['microseconds_per_need']:6.2f} us/need"
                  f" ({row['microseconds_per_need_with_build']:6.2f})  {row['bytes_per_recorded_trade']:.0f} B/trade")
        print(f"  largest / smallest: time per order {results[f'scaling_{name}_largest_to_smallest_per_order']:.2f},"
              f" per need {results[f'scaling_{name}_largest_to_smallest_per_need']:.2f}")
    print("  (by population, quotes per day stay fixed while needs grow: the mix shifts to taker orders,"
          " each a whole decision and trade, so time per need is the measure there)")
    print(f"peak RSS {results['peak_rss_mb']:.0f} MB; {results['bytes_per_recorded_trade']} bytes per recorded trade"
          " (one packed row; the measured figures above include the buffer's over-allocation)")
    for key in ("market_scale", "market_scale_coarser"):
        _print_market_scale(results[key])
    parallel = results["parallel"]
    speedups = ", ".join(f"{x:.2f}x" for x in parallel["speedups"])
    print(f"{reps} replications (medians of {parallel['rounds']} rounds): {parallel['seconds_1_worker']:.1f} s on 1 worker,"
          f" {parallel['seconds_2_workers']:.1f} s on 2, speed-up {parallel['speedup']:.2f}x (wall; rounds {speedups}); CPU "
          f"{parallel['cpu_seconds_1_worker']:.1f} s and {parallel['cpu_seconds_2_workers']:.1f} s, so about "
          f"{parallel['idle_machine_speedup_estimate']:.2f}x on an idle machine")


if __name__ == "__main__":
    sys.exit(main())
