"""Benchmarks of the market-scale work, as reported lines (never asserted): how long the policy
report and the structural ranges of `scenarios/scale/hk_2025.yaml` take on this machine, and what
a second Dask worker process gains.

    python benchmarks/market_scale.py                 # full: about 1.5 hours on 2 cores
    python benchmarks/market_scale.py --size tiny     # seconds: the test suite's check that it runs

- **policy report**, central assumptions: `tokensim report` of hk_2025 with its waiver and 2021
  duty overlays (and the waiver's counterfactual comparator), 2 replications, a year each, on
  every core; wall seconds against the 15 minutes the market-scale work aims for, and the bytes
  its experiment folder takes.
- **structural ranges**: `tokensim ranges` with `assumptions/hk_2025.yaml`, each set refitted and
  then run with every policy, one set at a time, 2 replications of `RANGES_DAYS` days; wall
  seconds against the 60 minutes aimed for.
- **Dask**: the same replications on a local Dask cluster of 1, then 2 worker processes (one
  thread each, started as separate processes), wall seconds and the speed-up (aim 1.7x).

Full results go to `benchmarks/market_scale.json`. Every command runs in a temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCALE = ROOT / "scenarios" / "scale"
BASELINE = SCALE / "hk_2025.yaml"
POLICIES = (SCALE / "hk_2025_stamp_duty_waiver.yaml", SCALE / "hk_2025_stock_duty_2021.yaml")
ASSUMPTIONS = ROOT / "assumptions" / "hk_2025.yaml"
AIMS = {"report_seconds": 15 * 60, "ranges_seconds": 60 * 60, "dask_speedup": 1.7}
SIZES = {  # report days, ranges days, refit evaluations cap (None: the spec's), Dask reps and days, rounds
    "full": (250, 40, None, 8, 20, 2),
    "tiny": (2, 2, 2, 2, 1, 1),
}


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _folder(keep: Path | None, name: str):
    """Where a measure writes: a temporary folder, or `keep/name` (kept, to read its results)."""
    if keep is None:
        return tempfile.TemporaryDirectory()
    (keep / name).mkdir(parents=True, exist_ok=True)
    return contextlib.nullcontext(str(keep / name))


def policy_report(days: int, keep: Path | None = None) -> dict[str, float]:
    """Wall seconds of the market-scale report on every core, and the size of what it wrote."""
    from sim.cli import main

    with _folder(keep, "report") as out:
        start = time.perf_counter()
        status = main(["report", str(BASELINE), *map(str, POLICIES), "--baseline", str(BASELINE), "--reps", "2",
                       "--set", f"horizon_days={days}", "--out", out, "--quiet"])
        seconds = time.perf_counter() - start
        return {"days": days, "status": status, "seconds": seconds, "bytes": folder_bytes(Path(out))}


def structural_ranges(days: int, evaluations: int | None, keep: Path | None = None) -> dict[str, float]:
    """Wall seconds of the structural ranges, refits included; with `evaluations`, each refit is capped there."""
    from sim.cli import main

    with _folder(keep, "ranges") as out:
        assumptions, scenarios = ASSUMPTIONS, ROOT / "scenarios"
        if evaluations is not None:  # a copy of the assumption file, spec and scenarios with the cap (tiny size only)
            assumptions, scenarios = _capped(Path(out), evaluations), Path(out) / "scenarios"
        files = [scenarios / path.relative_to(ROOT / "scenarios") for path in (BASELINE, *POLICIES)]
        start = time.perf_counter()
        status = main(["ranges", *map(str, files), "--assumptions", str(assumptions), "--reps", "2",
                       "--horizon-days", str(days), "--out", str(Path(out) / "ranges"), "--quiet"])
        seconds = time.perf_counter() - start
        manifest = Path(out) / "ranges" / "ranges-hk_2025" / "manifest.json"
        sets = len(json.loads(manifest.read_text(encoding="utf-8"))["sets"]) if status == 0 else 0
        return {"days": days, "status": status, "seconds": seconds, "sets": sets}


def _capped(folder: Path, evaluations: int) -> Path:
    """The shipped assumption file and spec copied into `folder` beside the scenarios they name,
    with every refit capped at `evaluations` and the two cheapest sets only."""
    import shutil

    import yaml

    (folder / "assumptions").mkdir()
    (folder / "calibration").mkdir()
    shutil.copytree(ROOT / "scenarios", folder / "scenarios")
    spec = yaml.safe_load((ROOT / "calibration" / "hk_2025.yaml").read_text(encoding="utf-8"))
    spec.update(max_evaluations=evaluations, horizon_days=1)
    (folder / "calibration" / "hk_2025.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    sets = yaml.safe_load(ASSUMPTIONS.read_text(encoding="utf-8"))
    sets["sets"] = {name: sets["sets"][name] for name in ("platform_fee_high",)}
    path = folder / "assumptions" / "hk_2025.yaml"
    path.write_text(yaml.safe_dump(sets, sort_keys=False), encoding="utf-8")
    return path


def dask_speedup(reps: int, days: int, rounds: int) -> dict[str, object]:
    """Wall seconds of `reps` replications of hk_2025 on a local Dask cluster of 1, then 2 worker
    processes; the speed-up is the median of the rounds' ratios."""
    from distributed import LocalCluster

    from sim import experiment

    wall: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(rounds):
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                    tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                experiment.run([BASELINE], reps=reps, overrides=[f"horizon_days={days}"], out=out,
                               dask=cluster.scheduler_address, quiet=True)
                wall[workers].append(time.perf_counter() - start)
    ratios = [one / two for one, two in zip(wall[1], wall[2])]
    return {"reps": reps, "days": days, "rounds": rounds, "seconds_1_worker": statistics.median(wall[1]),
            "seconds_2_workers": statistics.median(wall[2]), "speedup": statistics.median(ratios), "speedups": ratios}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="full", help="full (writes benchmarks/market_scale.json) or tiny")
    parser.add_argument("--only", choices=("report", "ranges", "dask"), action="append",
                        help="run only these measures (repeatable; default all); the others keep their last results")
    parser.add_argument("--keep", type=Path, default=None, metavar="FOLDER",
                        help="write the report's and the ranges' outputs into FOLDER (default: a temporary folder)")
    args = parser.parse_args(argv)
    report_days, ranges_days, evaluations, dask_reps, dask_days, rounds = SIZES[args.size]
    only = set(args.only or ("report", "ranges", "dask"))
    results: dict[str, object] = {"size": args.size}
    if "dask" in only:  # first, while this process is small
        results["dask"] = dask_speedup(dask_reps, dask_days, rounds)
    if "report" in only:
        results["report"] = policy_report(report_days, args.keep)
    if "ranges" in only:
        results["ranges"] = structural_ranges(ranges_days, evaluations, args.keep)
    show(results)
    if args.size == "full":
        path = ROOT / "benchmarks" / "market_scale.json"
        earlier = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        path.write_text(json.dumps(earlier | results, indent=2) + "\n", encoding="utf-8")
    return 0


def show(results: dict) -> None:
    if "report" in results:
        r = results["report"]
        print(f"market-scale report: hk_2025 and {len(POLICIES)} policies (and the waiver's comparator), 2 replications of "
              f"{r['days']} days, in {r['seconds']:.0f} s (aim {AIMS['report_seconds']} s), {r['bytes'] / 1e6:.1f} MB written"
              f" (exit status {r['status']})")
    if "ranges" in results:
        r = results["ranges"]
        print(f"structural ranges: {r['sets']} assumption sets, each refitted then run with every policy, 2 replications"
              f" of {r['days']} days, in {r['seconds']:.0f} s (aim {AIMS['ranges_seconds']} s; exit status {r['status']})")
    if "dask" in results:
        r = results["dask"]
        print(f"Dask: {r['reps']} replications of {r['days']} days of hk_2025 in {r['seconds_1_worker']:.1f} s on 1 worker "
              f"process, {r['seconds_2_workers']:.1f} s on 2: speed-up {r['speedup']:.2f}x (aim {AIMS['dask_speedup']}x; "
              f"rounds {', '.join(f'{x:.2f}x' for x in r['speedups'])})")


if __name__ == "__main__":
    sys.exit(main())
