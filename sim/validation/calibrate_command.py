"""The `calibrate` subcommand of `tokensim`: fit the investor groups' gain means to a target
volume elasticity and print them as `--set` overrides (also written as a YAML snippet).

A user's mistake is a ScenarioError, which the command line prints on one line with exit
status 2; so is an `--out` that is a file or cannot be written, found before anything runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from sim.outputs import output_folder, write_folder
from sim.scenario import ScenarioError
from sim.validation.calibration import DEFAULT_TARGET, GainFit, fit_gain_scale
from sim.validation.commands import add_common
from sim.validation.runs import ModelRuns

CALIBRATION_HORIZON_DAYS = {False: 20, True: 6}  # by --quick
CALIBRATION_SEEDS = {False: 2, True: 1}


def add_parser(subparsers: Any) -> None:
    """Register `calibrate` on the `tokensim` subcommand parser."""
    calibrate_parser = subparsers.add_parser(
        "calibrate", help="fit the investors' gain means to a target volume elasticity to transaction cost")
    add_common(calibrate_parser, "outputs/calibration")
    calibrate_parser.add_argument("--target", type=float, default=DEFAULT_TARGET,
                                  help=f"elasticity of volume to total transaction cost (default {DEFAULT_TARGET:g})")
    calibrate_parser.add_argument("--tolerance", type=float, default=0.05,
                                  help="stop within this of the target (default 0.05)")
    calibrate_parser.add_argument("--max-evaluations", type=int, default=5, metavar="N",
                                  help="duty sweeps at most (default 5)")
    calibrate_parser.add_argument("--horizon-days", type=int, metavar="DAYS",
                                  help="horizon of each run (default 20; 6 with --quick)")
    calibrate_parser.set_defaults(handler=command_calibrate)


def _check_calibration_options(args: argparse.Namespace) -> None:
    if not args.target < 0:
        raise ScenarioError("--target", "", "must be negative: volume falls as cost rises", args.target)
    if not args.tolerance > 0:
        raise ScenarioError("--tolerance", "", "must be positive", args.tolerance)
    if args.max_evaluations < 1:
        raise ScenarioError("--max-evaluations", "", "must be at least 1", args.max_evaluations)


def calibration_history(fit: GainFit) -> pd.DataFrame:
    """One row per duty sweep: the gain scale tried and the elasticity measured."""
    return pd.DataFrame([{"evaluation": k + 1, "gain_scale": e.scale, "elasticity": e.elasticity, "target": fit.target}
                         for k, e in enumerate(fit.evaluations)])


def _write_calibration(fit: GainFit, folder: Path) -> None:
    calibration_history(fit).to_csv(folder / "calibration.csv", index=False)
    (folder / "calibration.yaml").write_text(fit.yaml_snippet(), encoding="utf-8")


def command_calibrate(args: argparse.Namespace) -> int:
    _check_calibration_options(args)
    output_folder(args.out)
    horizon = args.horizon_days if args.horizon_days is not None else CALIBRATION_HORIZON_DAYS[args.quick]
    seeds = args.seeds if args.seeds is not None else CALIBRATION_SEEDS[args.quick]
    runs = ModelRuns.of(args.file, [f"horizon_days={horizon}", *args.set], seeds, args.seed)
    fit = fit_gain_scale(runs, args.target, args.tolerance, args.max_evaluations)
    for k, evaluation in enumerate(fit.evaluations):
        print(f"sweep {k + 1}: gain scale {evaluation.scale:.4g} -> elasticity {evaluation.elasticity:.3f}")
    best = fit.best
    print(f"fitted: gain scale {best.scale:.4g}, elasticity {best.elasticity:.3f} (target {fit.target:g})")
    print(" ".join(f"--set {override}" for override in fit.overrides()))
    folder = write_folder(Path(args.out), lambda partial: _write_calibration(fit, partial))
    print(f"snippet -> {folder / 'calibration.yaml'}")
    return 0
