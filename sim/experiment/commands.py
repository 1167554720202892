"""The experiment subcommands of `tokensim`: `compare`, `sweep`, `sensitivity`, and the
experiment options of `run` (`--reps`, `--until-ci`, ...), which turn it into replications.

Each command parses its options, calls the Python API (`sim.experiment.api`) and prints where
the tables went and what was computed. A user's mistake is a ScenarioError (one line, exit
status 2, before anything is written); a run that fails is listed in failures.csv and makes the
exit status 1; an interruption (Ctrl-C, SIGTERM) keeps the finished runs for the next attempt
and exits with status 130.
"""

from __future__ import annotations

import functools

import argparse
import json
import math
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.experiment import api
from sim.experiment.runner import UntilCi
from sim.experiment.sensitivity_methods import METHODS
from sim.scenario import ScenarioError, load_scenario

SWEEP_REPS = 10

INTERRUPTED = 130
RUN_EXPERIMENT_OPTIONS = ("dask", "name", "max_reps", "batch")  # --quiet and --workers serve plain runs too
SHOWN_KPIS = 12
Draw = Callable[[Path], list[Path]]  # draws an experiment's figures from its folder; returns the files


def add_execution_options(sub: argparse.ArgumentParser, reps: int | None, until_ci: bool = True) -> None:
    """Options saying how many replications to run and where, shared by every experiment."""
    shown = "" if reps is None else f" (default {reps})"
    sub.add_argument("--reps", type=int, default=reps, metavar="N",
                     help=f"replications of every scenario or point, with the same seeds for all{shown}")
    if until_ci:
        sub.add_argument("--until-ci", metavar="KPI=REL",
                         help="add replications until the 95%% interval's half-width of KPI is at most REL x |mean|")
        sub.add_argument("--max-reps", type=int, metavar="M", help="stop --until-ci at M replications (default 100)")
        sub.add_argument("--batch", type=int, metavar="B", help="replications added per round of --until-ci (default 5)")
    sub.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: one per core; 1: in process)")
    sub.add_argument("--dask", metavar="ADDRESS", help="run on an existing Dask scheduler, e.g. tcp://scheduler-host:8786")
    sub.add_argument("--name", help="experiment name: the folder under --out (default: from the command and scenarios)")
    sub.add_argument("--quiet", action="store_true", default=None, help="no progress bar or messages on stderr")
    sub.add_argument("--allow-large", action="store_true",
                     help="run even when the estimated memory exceeds what the machine has available")


def _add_place_options(sub: argparse.ArgumentParser, add_overrides: Callable[[argparse.ArgumentParser], None]) -> None:
    sub.add_argument("--seed", type=int, default=None, help="base seed of the replication seeds (default: the scenario's own)")
    sub.add_argument("--out", default="outputs", help="output folder (default: outputs)")
    add_overrides(sub)


def add_commands(commands: Any, add_overrides: Callable[[argparse.ArgumentParser], None],
                 draw_sweep: Draw, draw_sensitivity: Draw) -> None:
    """Register `compare`, `sweep` and `sensitivity` on the `tokensim` subcommand parser; the
    figures of a finished sweep or sensitivity analysis are drawn by `draw_sweep(folder)` and
    `draw_sensitivity(folder)` (the report's, passed in by the command line above both)."""
    compare = commands.add_parser("compare", help="compare each policy scenario with its comparator (its measured_against, else the "
                                     "baseline), replication by replication")
    compare.add_argument("baseline", metavar="BASELINE", help="the baseline scenario file")
    compare.add_argument("policies", nargs="+", metavar="POLICY",
                         help="policy scenario files (each one's measured_against file is run too)")
    _add_place_options(compare, add_overrides)
    add_execution_options(compare, reps=10)
    compare.set_defaults(handler=command_compare)

    sweep = commands.add_parser("sweep", help="run a scenario over a grid or Latin hypercube of key values")
    sweep.add_argument("file", metavar="FILE", help="the scenario file")
    sweep.add_argument("--param", action="append", default=[], metavar="KEY=SPEC",
                       help="a varied key: KEY=V1,V2,... or KEY=LO:HI:N (grid), KEY=LO:HI (lhs); repeatable")
    sweep.add_argument("--design", choices=api.DESIGNS, default="grid", help="full grid (default) or Latin hypercube")
    sweep.add_argument("--samples", type=int, metavar="N", help="Latin hypercube points (with --design lhs)")
    _add_place_options(sweep, add_overrides)
    add_execution_options(sweep, reps=None)
    sweep.set_defaults(handler=command_sweep, draw=draw_sweep)

    sensitivity = commands.add_parser("sensitivity", help="Morris or Sobol' sensitivity indices of every KPI (needs SALib)")
    sensitivity.add_argument("file", metavar="FILE", help="the scenario file")
    sensitivity.add_argument("--param", action="append", default=[], metavar="KEY=LO:HI", help="a varied key's range; repeatable")
    sensitivity.add_argument("--method", choices=list(METHODS), default="sobol", help="morris or sobol (default)")
    sensitivity.add_argument("--samples", type=int, metavar="N",
                             help="Morris trajectories (default 10) or Sobol' base samples, a power of two (default 64)")
    _add_place_options(sensitivity, add_overrides)
    add_execution_options(sensitivity, reps=1, until_ci=False)
    sensitivity.set_defaults(handler=command_sensitivity, draw=draw_sensitivity)


    check = commands.add_parser(
        "check-sample", help="run a scenario as the whole market and as weighted samples of its accounts, and say "
        "KPI by KPI whether each sample matches the whole market within its 95%% interval")
    check.add_argument("file", metavar="FILE", help="the scenario file (its sample.weight is replaced)")
    check.add_argument("--weights", required=True, metavar="K1,K2,...",
                       help="sample weights to check (each must divide every group's accounts), e.g. 10,40")
    check.add_argument("--horizon-days", type=int, default=10, metavar="DAYS", help="horizon of every run (default 10)")
    _add_place_options(check, add_overrides)
    add_execution_options(check, reps=5, until_ci=False)
    check.set_defaults(handler=command_check_sample)


def wants_experiment(args: argparse.Namespace) -> bool:
    """Whether `tokensim run` was asked for replications; experiment options need them."""
    if args.reps is not None or args.until_ci is not None:
        return True
    given = [name for name in RUN_EXPERIMENT_OPTIONS if getattr(args, name) is not None]
    if given:
        option = "--" + given[0].replace("_", "-")
        raise ScenarioError(option, "", "applies to replications: add --reps N or --until-ci KPI=REL")
    return False


def _until_ci(args: argparse.Namespace) -> UntilCi | None:
    if args.until_ci is None:
        for name in ("max_reps", "batch"):
            if getattr(args, name) is not None:
                raise ScenarioError("--" + name.replace("_", "-"), "", "applies only with --until-ci KPI=REL")
        return None
    return UntilCi.parse(args.until_ci, args.max_reps, args.batch)


def execution_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"seed": args.seed, "overrides": list(args.set), "name": args.name, "out": args.out,
            "workers": args.workers, "dask": args.dask, "quiet": bool(args.quiet), "allow_large": args.allow_large}


def command_run_experiment(args: argparse.Namespace, files: list[Path]) -> int:
    """`tokensim run FILE... --reps N`: replications of each scenario, same seeds for all."""
    until_ci = _until_ci(args)
    reps = until_ci.batch if args.reps is None else args.reps  # no --reps: --until-ci was given
    return conduct(lambda: api.run(files, reps=reps, until_ci=until_ci, **execution_options(args)), _print_summary)


def command_compare(args: argparse.Namespace) -> int:
    until_ci = _until_ci(args)
    return conduct(
        lambda: api.compare(args.baseline, args.policies, reps=args.reps, until_ci=until_ci, **execution_options(args)),
        print_comparison,
    )


def command_sweep(args: argparse.Namespace) -> int:
    """Without --param, the sweep (and replications) planned in the file's `experiment:` section."""
    until_ci = _until_ci(args)
    params, reps = args.param, args.reps
    plan = load_scenario(args.file, args.set).experiment
    draw = args.draw
    if plan is not None and plan.kpis and draw is not None:  # the figures show the KPIs the plan names
        draw = functools.partial(args.draw, kpis=list(plan.kpis))
    if not params:
        if plan is None or not plan.sweep:
            raise ScenarioError(args.file, "experiment.sweep", "nothing to sweep: give --param KEY=... or an experiment: sweep in the file")
        params = [f"{key}={','.join(str(v).lower() if isinstance(v, bool) else str(v) for v in values)}"
                  for key, values in plan.sweep.items()]
        reps = plan.reps if reps is None else reps
    return conduct(lambda: api.sweep(args.file, params, design=args.design, samples=args.samples,
                                      reps=SWEEP_REPS if reps is None else reps, until_ci=until_ci, **execution_options(args)),
                   draw=draw)


def command_sensitivity(args: argparse.Namespace) -> int:
    return conduct(lambda: api.sensitivity(args.file, args.param, method=args.method, samples=args.samples,
                                            reps=args.reps, **execution_options(args)), draw=args.draw)


SAMPLE_HEADLINES = ("turnover_hkd_conventional", "turnover_hkd_tokenized", "stamp_duty_hkd", "trades", "investor_cost_bps",
                    "etf_mean_abs_premium_bps")


def command_check_sample(args: argparse.Namespace) -> int:
    try:
        weights = [int(text) for text in args.weights.split(",")]
    except ValueError:
        raise ScenarioError("--weights", "", "give whole numbers separated by commas, e.g. 10,40", args.weights) from None
    if args.horizon_days < 1:
        raise ScenarioError("--horizon-days", "", "must be at least 1", args.horizon_days)
    for weight in weights:  # a weight the scenario refuses is the user's mistake, said before anything runs
        load_scenario(args.file, [*args.set, f"sample.weight={weight}", f"horizon_days={args.horizon_days}"])
    return conduct(lambda: api.check_sample(args.file, weights, reps=args.reps, horizon_days=args.horizon_days,
                                             **execution_options(args)), show=_show_sample_check)


def _show_sample_check(result: api.ExperimentResult) -> None:
    import pandas as pd

    check = pd.read_csv(result.folder / "sample_check.csv")
    for weight, rows in check.groupby("weight"):
        print(f"weight {weight}: {int(rows['within'].sum())} of {len(rows)} KPIs within the 95% interval of the "
              "whole market's")
    shown = check[check["kpi"].isin(SAMPLE_HEADLINES) | check["kpi"].str.startswith("spread_bps_")]
    columns = ["kpi", "weight", "market_mean", "sample_mean", "ci_low", "ci_high", "within"]
    print(shown[columns].to_string(index=False, float_format=lambda value: f"{value:.4g}"))
    print(f"every KPI: {result.folder / 'sample_check.csv'}; each listing's flow, spread and depth by weight: "
          f"{result.folder / 'sample_flow.csv'}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def conduct(experiment: Callable[[], api.ExperimentResult],
             show: Callable[[api.ExperimentResult], None] = lambda result: None,
             draw: Draw | None = None) -> int:
    """Run the experiment with SIGTERM treated as Ctrl-C; report; draw its figures from the
    tables just written (`draw(folder)`); the exit status."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = experiment()
    except KeyboardInterrupt:
        print("interrupted: finished runs are kept; run the same command again to resume", file=sys.stderr)
        return INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    total = result.computed + result.reused + result.failed
    print(f"{result.name}: {len(result.seeds)} replications; runs: {result.computed} computed, "
          f"{result.reused} reused from disk, {result.failed} failed (of {total}) -> {result.folder}")
    _print_until_ci(result)
    show(result)
    drawn = draw is None or _draw_figures(draw, result.folder)
    if result.failed:
        print(f"error: {result.failed} runs failed; see {result.folder / 'failures.csv'}", file=sys.stderr)
        return 1
    return 0 if drawn else 1


def _draw_figures(draw: Draw, folder: Path) -> bool:
    """Draw the figures after the tables are complete; a failure is an error, not a traceback."""
    try:
        figures = draw(folder)
    except Exception as error:  # noqa: BLE001 - any drawing failure must be reported, the tables stay
        print(f"error: figures: {type(error).__name__}: {error}; the tables in {folder} are complete",
              file=sys.stderr)
        return False
    print(f"figures: {len(figures)} -> {folder / 'figures'}")
    return True


def _print_until_ci(result: api.ExperimentResult) -> None:
    target = result.until_ci
    if target is None:
        return
    rows = result.summary[result.summary["kpi"] == target.kpi]
    widest = (rows["half_width"] / rows["mean"].abs()).max() if len(rows) else math.nan
    if result.precise:
        print(f"until-ci: reached: every 95% half-width of {target.kpi} is within {target.relative:g} x |mean| "
              f"(widest {widest:.3g}) after {len(result.seeds)} replications")
    else:
        print(f"until-ci: not reached: stopped at --max-reps {target.max_reps}; the widest 95% half-width of "
              f"{target.kpi} is {widest:.3g} x |mean|, wanted {target.relative:g}")


def _print_summary(result: api.ExperimentResult) -> None:
    """Mean ± 95% half-width of each KPI, scenarios side by side."""
    summary = result.summary
    scenarios = list(dict.fromkeys(summary["scenario"]))
    kpis = list(dict.fromkeys(summary["kpi"]))[:SHOWN_KPIS]
    width = max((len(k) for k in kpis), default=3)
    print(f"\n{'KPI (mean ± 95% half-width)':<{width}}  " + "  ".join(f"{s:>26}" for s in scenarios))
    cells = summary.set_index(["scenario", "kpi"])
    for kpi in kpis:
        values = [cells.loc[(s, kpi)] for s in scenarios]
        print(f"{kpi:<{width}}  " + "  ".join(f"{v['mean']:>13,.4g} ± {v['half_width']:<10,.3g}" for v in values))
    _more(summary["kpi"].nunique(), result, "summary.csv")


def print_comparison(result: api.ExperimentResult) -> None:
    """Paired differences (policy minus its comparator) with their intervals, and the unpaired
    (Welch) half-width; then which scenarios are counterfactuals."""
    table = result.comparison
    kpis = list(dict.fromkeys(table["kpi"]))[:SHOWN_KPIS]
    width = max((len(k) for k in kpis), default=3)
    print(f"\n{'KPI':<{width}}  {'policy':<20} {'compared with':<20} {'difference':>13} {'paired ±':>11} "
          f"{'Welch ±':>11} {'relative':>9}")
    for row in table[table["kpi"].isin(kpis)].itertuples():
        print(f"{row.kpi:<{width}}  {row.policy:<20} {row.compared_with:<20} {row.difference:>13,.4g} "
              f"{row.half_width:>11,.3g} {row.welch_half_width:>11,.3g} {row.relative_change:>9.2%}")
    _more(table["kpi"].nunique(), result, "comparison.csv")
    for name, text in counterfactuals(result.folder).items():
        print(f"{name} is a counterfactual: {text}")


def counterfactuals(folder: Path) -> dict[str, str]:
    """The counterfactual scenarios of an experiment, with their text, from its manifest."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return {entry["scenario"]: entry["counterfactual"] for entry in manifest.get("scenarios", [])
            if isinstance(entry, dict) and entry.get("counterfactual")}


def _more(count: int, result: api.ExperimentResult, file: str) -> None:
    if count > SHOWN_KPIS:
        print(f"... and {count - SHOWN_KPIS} more KPIs in {result.folder / file}")
