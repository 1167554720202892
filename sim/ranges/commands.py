"""`tokensim ranges`: every policy against its comparator under each named assumption set.

    tokensim ranges scenarios/scale/hk_2025.yaml scenarios/scale/hk_2025_stamp_duty_waiver.yaml \\
        --assumptions assumptions/hk_2025.yaml --reps 2 --horizon-days 60

writes `<out>/<name>/`: one comparison folder per set (`central/`, then the alternatives, each
resumable and readable by `tokensim report`), `ranges.csv` (each effect's seed interval beside
its range over the sets), `ranges_by_set.csv`, and, when the sets are refitted,
`fit_targets.csv` and `fit_parameters.csv`. Every mistake in the assumption file, the
calibration spec or the scenarios is found before anything runs (exit status 2, nothing
written); a failed run makes the exit status 1; Ctrl-C or SIGTERM keeps the finished runs
(the same command resumes them; the refits run again) and exits with status 130.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from sim.experiment.commands import INTERRUPTED, add_execution_options
from sim.experiment.api import scenario_targets, with_comparators
from sim.outputs import output_folder
from sim.ranges.assumption_sets import load_assumption_sets
from sim.ranges.runner import RangesResult, run_ranges, stderr
from sim.scenario import ScenarioError

RANGES_REPS = 2
SHOWN = 12


def add_parser(commands: Any, add_overrides) -> None:
    """Register `ranges` on the `tokensim` subcommand parser."""
    ranges = commands.add_parser(
        "ranges", help="compare each policy with its comparator under each named set of the unsourced assumptions, "
        "each refitted to the same published figures, and give each effect's range over the sets")
    ranges.add_argument("baseline", metavar="BASELINE", help="the baseline scenario file")
    ranges.add_argument("policies", nargs="+", metavar="POLICY", help="policy scenario files")
    ranges.add_argument("--assumptions", required=True, metavar="FILE",
                        help="the assumption file: named sets of keys and values (docs/ranges.md)")
    ranges.add_argument("--horizon-days", type=int, default=None, metavar="DAYS",
                        help="horizon of the policy runs (default: the scenarios'); the refits keep the spec's")
    ranges.add_argument("--seed", type=int, default=None,
                        help="base seed of the replication seeds and of the refits (default: the baseline's own)")
    ranges.add_argument("--out", default="outputs", help="output folder (default: outputs)")
    add_overrides(ranges)
    add_execution_options(ranges, reps=RANGES_REPS, until_ci=False)
    ranges.set_defaults(handler=command_ranges)


def prepare(baseline: str | Path, policies: list[str | Path], assumptions: str | Path, overrides: list[str],
            horizon_days: int | None):
    """The checked inputs: the assumption sets (validated against every scenario that will run)
    and the overrides of the policy runs only. ScenarioErrors name the file, key and value."""
    if horizon_days is not None and horizon_days < 1:
        raise ScenarioError("--horizon-days", "", "must be at least 1", horizon_days)
    named = scenario_targets([baseline, *policies], overrides)
    targets, _ = with_comparators(named, overrides)
    sets = load_assumption_sets(assumptions, [t.path for t in targets], tuple(overrides))
    return sets, [f"horizon_days={horizon_days}"] if horizon_days is not None else []


def command_ranges(args: argparse.Namespace) -> int:
    sets, run_overrides = prepare(args.baseline, args.policies, args.assumptions, list(args.set), args.horizon_days)
    name = args.name or ranges_name(Path(args.baseline))
    folder = output_folder(args.out) / name
    if folder.exists() and not folder.is_dir():
        raise ScenarioError("--name", "", "names a file, not a folder", str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    quiet = bool(args.quiet)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = run_ranges(sets, Path(args.baseline), [Path(p) for p in args.policies], reps=args.reps,
                            folder=folder, seed=args.seed, overrides=list(args.set), run_overrides=run_overrides,
                            say=(lambda text: None) if quiet else stderr, workers=args.workers, dask=args.dask,
                            quiet=quiet, allow_large=args.allow_large)
    except KeyboardInterrupt:
        print("interrupted: finished runs are kept; run the same command again to resume (the refits run again)",
              file=sys.stderr)
        return INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    show(result)
    if result.failed:
        print(f"error: {result.failed} runs failed; see failures.csv in each set's folder under {folder}",
              file=sys.stderr)
        return 1
    return 0


def ranges_name(baseline: Path) -> str:
    """The experiment folder's default name: `ranges-<baseline file's stem>`."""
    return f"ranges-{baseline.stem}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def show(result: RangesResult) -> None:
    """Each effect's central difference and seed interval beside its range over the sets."""
    table = result.ranges
    sets = ", ".join(o.assumptions.name for o in result.outcomes)
    print(f"{len(result.outcomes)} assumption sets ({sets}), {len(result.seeds)} replications each -> {result.folder}")
    kpis = list(dict.fromkeys(table["kpi"]))[:SHOWN]
    width = max((len(k) for k in kpis), default=3)
    print(f"\n{'KPI':<{width}}  {'policy':<24} {'central':>11} {'95% seed interval':>25} {'range over sets':>25}  verdict")
    for row in table[table["kpi"].isin(kpis)].itertuples():
        print(f"{row.kpi:<{width}}  {row.policy:<24} {row.difference:>11,.4g} "
              f"{f'{row.ci_low:,.4g} to {row.ci_high:,.4g}':>25} {f'{row.range_low:,.4g} to {row.range_high:,.4g}':>25}"
              f"  {row.verdict}")
    if table["kpi"].nunique() > SHOWN:
        print(f"... and {table['kpi'].nunique() - SHOWN} more KPIs in {result.folder / 'ranges.csv'}")
