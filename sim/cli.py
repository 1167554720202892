"""The `tokensim` command line: run, validate and show scenarios, and print the key reference.

A user's mistake (a bad file, key or value) is reported in one short paragraph on stderr with
exit status 2 and no traceback, and nothing is written to the output folder: every scenario
named on the command line is validated, its output folder checked and its memory estimated
before any is run. A folder already holding the same run (scenario, seed and code) is skipped
as up to date; one holding another run is replaced only with `--overwrite`, also when another
process wrote it while this run ran (`sim.outputs.write_run`: that run is then refused, status 2).
An output folder that is a file, read-only or not writable is a user's mistake (status 2); an OS
fault while writing (a full disk) exits with status 1; both name the path, and nothing half-written
is kept. A run whose accounting invariants break exits with status 1, naming the invariant,
instrument and day.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from sim import __version__
from sim.experiment.commands import add_commands, add_execution_options, command_run_experiment, wants_experiment
from sim.engine import RunDidNotEnd
from sim.experiment.executors import WorkerLost, start_worker, worker_start_context
from sim.explore.commands import add_parser as add_explore_parser
from sim.invariant_replay import locate
from sim.invariants import InvariantError
from sim.market.ledger import AccountingError
from sim.ranges.commands import add_parser as add_ranges_parser
from sim.outputs import (
    PLACE_ERRORS, TRADE_FORMATS, TRADE_ROWS, TRADE_SAMPLE_EVERY, OutputError, TradeOutput, output_folder, run_status,
    terminate_as_interrupt, write_run,
)
from sim.report.commands import add_parsers as add_report_parsers
from sim.report.sweep_figures import sensitivity_figures, sweep_figures
from sim.run_progress import progress_every, run_with_progress
from sim.run_size import TooLarge, check_fits, estimate
from sim.runs import RunResult, run
from sim.scenario import Scenario, ScenarioError, load_scenario, render_reference, resolve_scenario_dict
from sim.scenario_files import scenario_files
from sim.validation.calibrate_command import add_parser as add_calibrate_parser
from sim.validation.commands import add_parser as add_validate_parser

USER_ERROR = 2


def _sources(path: Path, overrides: list[str]) -> list[str]:
    """The files that contributed to a scenario, in the order met (the named file first)."""
    _, provenance = resolve_scenario_dict(path, overrides)
    return list(dict.fromkeys([str(path), *(s for s in provenance.values() if s != "--set")]))


def command_run(args: argparse.Namespace) -> int:
    """Validate every scenario, check the output folders and the memory, then run what is not up to date."""
    files = scenario_files(args.files)
    if wants_experiment(args):
        return command_run_experiment(args, files)
    scenarios: list[tuple[Path, Scenario]] = [(f, load_scenario(f, args.set)) for f in files]
    names = [scenario.name for _, scenario in scenarios]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ScenarioError(str(files[0]), "name", "two scenarios share this name; names must be unique", duplicated[0])
    out = output_folder(args.out)
    _trade_output(args).check_available()
    plans = [_plan(out, path, scenario, args) for path, scenario in scenarios]
    to_run = [plan for plan in plans if plan.status != UP_TO_DATE]
    workers = _workers(args.workers, len(to_run))
    check_fits([estimate(plan.scenario) for plan in to_run], concurrent=workers, allow_large=args.allow_large)
    for plan in to_run:
        if plan.status != "missing":
            print(f"{plan.scenario.name}: replacing {plan.folder} ({plan.status})")
    rows = []
    with terminate_as_interrupt():
        if workers > 1:
            with ProcessPoolExecutor(workers, mp_context=worker_start_context(), initializer=start_worker) as pool:
                done = [pool.submit(_run_plan, plan, out, args) for plan in plans]
                for plan, future in zip(plans, done):
                    rows.append(_report(plan, *future.result()))
        else:
            rows = [_report(plan, *_run_plan(plan, out, args)) for plan in plans]
    if len(rows) > 1:
        _print_comparison(rows)
    return 0


UP_TO_DATE = "up to date"


def _workers(requested: int | None, runs: int) -> int:
    """Worker processes for `runs` independent runs: `--workers`, else one per core, never more than runs."""
    if requested is not None and requested < 1:
        raise ScenarioError("--workers", "", "must be at least 1", requested)
    return max(1, min(requested or os.cpu_count() or 1, runs))


@dataclass(frozen=True)
class _Plan:
    """One scenario of `tokensim run`: what to run and what its folder holds now."""

    path: Path
    scenario: Scenario
    seed: int
    folder: Path
    status: str


def _trade_output(args: argparse.Namespace) -> TradeOutput:
    return TradeOutput(getattr(args, "trades", "all"), getattr(args, "trades_format", "csv"))


def _plan(out: Path, path: Path, scenario: Scenario, args: argparse.Namespace) -> _Plan:
    """Refuse (before anything runs) to replace a folder silently, or one that is not a run's."""
    seed = scenario.seed if args.seed is None else args.seed
    folder = out / scenario.name
    status = run_status(folder, scenario, seed, _trade_output(args))
    if status == "not a run folder":
        raise ScenarioError(str(folder), "", "exists and is not a tokensim run folder; choose another --out or move it away")
    if status not in ("missing", UP_TO_DATE) and not args.overwrite:
        raise ScenarioError(str(folder), "", f"holds an earlier run ({status}); pass --overwrite to replace it")
    return _Plan(path, scenario, seed, folder, status)


def _run_plan(plan: _Plan, out: Path, args: argparse.Namespace) -> tuple[dict[str, float], str]:
    """Run one scenario into its folder (or skip it, up to date): its KPIs and a line saying what
    happened (returned, not printed, so that runs in worker processes report through the parent)."""
    name = plan.scenario.name
    if plan.scenario.counterfactual:  # its numbers are labelled wherever they appear
        name = f"{name} (counterfactual: {plan.scenario.counterfactual})"
    if plan.status == UP_TO_DATE:
        kpis = pd.read_csv(plan.folder / "kpis.csv").iloc[0].to_dict()
        kpis = {key: value for key, value in kpis.items() if key not in ("scenario", "seed")}
        return kpis, f"{name}: up to date in {plan.folder} (same scenario, seed and code); skipped"
    result = run_checked(plan.scenario, plan.seed, quiet=bool(args.quiet))
    folder = write_run(result, out, _sources(plan.path, args.set), list(args.set), ["tokensim", *args.argv],
                       overwrite=args.overwrite, trades=_trade_output(args))
    weight = plan.scenario.sample.weight
    sampled = "" if weight == 1 else f" (a 1/{weight:,} sample of accounts: tables are the sample's, KPI totals the market's)"
    return result.kpis, (f"{name}: {len(result.trades):,} trades over {plan.scenario.horizon_days} days{sampled} "
                         f"-> {folder}")


def _report(plan: _Plan, kpis: dict[str, float], line: str) -> tuple[str, dict[str, float]]:
    print(line, flush=True)
    return plan.scenario.name, kpis


def run_checked(scenario: Scenario, seed: int, quiet: bool = False) -> RunResult:
    """One run, with progress lines if it is expected to be long; a broken invariant is
    reported with the day it first broke (found by replaying the run)."""
    every = None if quiet else progress_every(estimate(scenario), scenario.horizon_days)
    try:
        return run(scenario, seed=seed) if every is None else run_with_progress(scenario, seed, every)
    except InvariantError as error:
        raise (locate(scenario, seed) or error) from None


def _print_comparison(results: list[tuple[str, dict[str, float]]]) -> None:
    """KPIs side by side; a KPI a scenario does not have (another instrument, say) shows as '-'."""
    names = list(dict.fromkeys(name for _, kpis in results for name in kpis))
    width = max(len(name) for name in names)
    print()
    print(f"{'KPI':<{width}}  " + "  ".join(f"{scenario:>22}" for scenario, _ in results))
    for name in names:
        values = "  ".join(f"{kpis[name]:>22,.4g}" if name in kpis else f"{'-':>22}" for _, kpis in results)
        print(f"{name:<{width}}  {values}")


def command_validate(args: argparse.Namespace) -> int:
    for path in scenario_files(args.files):
        scenario = load_scenario(path, args.set)
        print(f"{path}: ok ({scenario.name})")
    return 0


def command_show(args: argparse.Namespace) -> int:
    scenario = load_scenario(Path(args.file), args.set)
    print(yaml.safe_dump(scenario.document(), sort_keys=False, default_flow_style=None), end="")
    return 0


def command_reference(args: argparse.Namespace) -> int:
    print(render_reference(), end="")
    return 0


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="tokensim",
        description="Simulate tokenized and conventional ETF markets under Hong Kong's LEAP policy levers.",
    )
    main_parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_overrides(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--set", action="append", default=[], metavar="KEY=VALUE",
            help="override a scenario key, e.g. policy.stamp_duty.tokenized_etf.rate_per_side=0 (repeatable)",
        )

    run_parser = commands.add_parser("run", help="run scenarios and write their outputs")
    run_parser.add_argument("files", nargs="+", metavar="FILE", help="scenario files or folders of them")
    run_parser.add_argument("--seed", type=int, default=None, help="seed (default: each scenario's own)")
    run_parser.add_argument("--out", default="outputs", help="output folder (default: outputs)")
    run_parser.add_argument("--overwrite", action="store_true",
                            help="replace output folders holding an earlier run (otherwise refused; identical runs are skipped)")
    run_parser.add_argument("--trades", choices=TRADE_ROWS, default="all",
                            help=f"trade rows to write: all (default), sample (every {TRADE_SAMPLE_EVERY}th, as "
                            "trades_sample.*) or none; the other tables and the KPIs always cover every trade")
    run_parser.add_argument("--trades-format", choices=TRADE_FORMATS, default="csv",
                            help="the trade table's format: csv (default) or parquet (pip install -e \".[parquet]\")")
    add_overrides(run_parser)
    add_execution_options(run_parser, reps=None)
    run_parser.set_defaults(handler=command_run)

    validate_parser = commands.add_parser("validate", help="check scenario files without running them")
    validate_parser.add_argument("files", nargs="+", metavar="FILE", help="scenario files or folders of them")
    add_overrides(validate_parser)
    validate_parser.set_defaults(handler=command_validate)

    show_parser = commands.add_parser(
        "show", help="print a scenario with inheritance and defaults resolved, as a file that loads back to it (its "
        "relative paths, such as measured_against, still relative to FILE's folder)")
    show_parser.add_argument("file", metavar="FILE")
    add_overrides(show_parser)
    show_parser.set_defaults(handler=command_show)

    reference_parser = commands.add_parser("reference", help="print the scenario key reference (Markdown)")
    reference_parser.set_defaults(handler=command_reference)

    add_commands(commands, add_overrides, sweep_figures, sensitivity_figures)
    add_report_parsers(commands)
    add_validate_parser(commands)
    add_calibrate_parser(commands)
    add_ranges_parser(commands, add_overrides)
    add_explore_parser(commands, add_overrides)
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in each run's manifest
    try:
        return args.handler(args)
    except ScenarioError as error:
        print(f"error: {error}", file=sys.stderr)
        return USER_ERROR
    except TooLarge as error:
        print(f"error: {error}", file=sys.stderr)
        return USER_ERROR
    except OutputError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.status
    except OSError as error:  # outside the writers that name their folder: a read, or an experiment's store
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{error.strerror or error}", file=sys.stderr)
        return USER_ERROR if error.errno in PLACE_ERRORS else 1
    except AccountingError as error:
        print(f"error: {error} (a model bug: please report it with the scenario and seed)", file=sys.stderr)
        return 1
    except (RunDidNotEnd, WorkerLost) as error:  # a run or the workers failed, not the user's input
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: no partial output was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
