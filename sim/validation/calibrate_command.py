"""The `calibrate` subcommand of `tokensim`, in two forms.

* `tokensim calibrate [FILE]`: fit the investor groups' gain means to a target volume elasticity
  (`sim.validation.calibration`, a secant search on one scale) and print them as `--set`
  overrides (also written as a YAML snippet).
* `tokensim calibrate --spec SPEC.yaml`: fit the spec's keys to its published figures at once
  (`calibration_spec`, `fit_objective`, `fit_targets`), print the fit table and the `--set`
  overrides, write the tables to `--out` and the fitted scenario to `--fitted` (default: beside
  the spec). An option rather than a subcommand of its own: `calibrate` keeps its optional FILE
  (a nested subcommand would read `calibrate scenarios/baseline.yaml` as a subcommand's name),
  and the options they share (`--seeds`, `--seed`, `--set`, `--out`, `--quick`,
  `--horizon-days`, `--max-evaluations`) mean the same in both forms.

A user's mistake is a ScenarioError, which the command line prints on one line with exit
status 2; so is an `--out` that is a file or cannot be written, or a `--fitted` place from which
the scenario cannot be extended, found before anything runs; nothing is written then.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from sim.outputs import output_folder, write_folder
from sim.scenario import ScenarioError, load_scenario
from sim.validation.calibration import DEFAULT_TARGET, GainFit, fit_gain_scale
from sim.validation.calibration_spec import load_spec
from sim.validation.commands import DEFAULT_SCENARIO, add_common
from sim.validation.fit_objective import Evaluation
from sim.validation.fit_targets import TargetFit, fit_targets, require_scipy
from sim.validation.fitted_scenario import (default_fitted_path, extends_path, fit_report, fitted_yaml, history_table,
                                            parameter_table, target_table, write_fitted)
from sim.validation.runs import ModelRuns

CALIBRATION_HORIZON_DAYS = {False: 20, True: 6}  # by --quick
CALIBRATION_SEEDS = {False: 2, True: 1}
DEFAULT_TOLERANCE = 0.05  # of the elasticity: short sweeps measure it to a few hundredths (calibration.py)
DEFAULT_SWEEPS = 5


def add_parser(subparsers: Any) -> None:
    """Register `calibrate` on the `tokensim` subcommand parser."""
    calibrate_parser = subparsers.add_parser(
        "calibrate", help="fit the investors' gain means to a target volume elasticity to transaction cost, "
        "or (--spec) several keys to several published figures at once (docs/calibrate.md)")
    add_common(calibrate_parser, "outputs/calibration")
    calibrate_parser.add_argument("--spec", metavar="SPEC",
                                  help="a calibration spec (YAML): fit its parameters to its targets with scipy's "
                                  "optimiser instead of the single elasticity target; the scenario is the spec's")
    calibrate_parser.add_argument("--fitted", metavar="PATH",
                                  help="with --spec: where to write the fitted scenario (default: beside the spec, "
                                  "SPEC.fitted.yaml); it extends the scenario, which must then be in its folder, below "
                                  "it or in a sibling folder (the rule of extends)")
    calibrate_parser.add_argument("--target", type=float, default=None,
                                  help=f"elasticity of volume to total transaction cost (default {DEFAULT_TARGET:g}; "
                                  "not with --spec)")
    calibrate_parser.add_argument("--tolerance", type=float, default=None,
                                  help=f"stop within this of the target (default {DEFAULT_TOLERANCE:g}; not with --spec)")
    calibrate_parser.add_argument("--max-evaluations", type=int, default=None, metavar="N",
                                  help=f"duty sweeps at most (default {DEFAULT_SWEEPS}); with --spec, parameter vectors evaluated at "
                                  "most (default: the spec's max_evaluations)")
    calibrate_parser.add_argument("--horizon-days", type=int, metavar="DAYS",
                                  help="horizon of each run (default 20; 6 with --quick; with --spec, the spec's)")
    calibrate_parser.set_defaults(handler=command_calibrate)


def _elasticity_options(args: argparse.Namespace) -> tuple[float, float, int]:
    """Target, tolerance and sweeps at most of the single-target fit, defaults filled in, checked."""
    target = DEFAULT_TARGET if args.target is None else args.target
    tolerance = DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
    max_evaluations = DEFAULT_SWEEPS if args.max_evaluations is None else args.max_evaluations
    if not target < 0:
        raise ScenarioError("--target", "", "must be negative: volume falls as cost rises", target)
    if not tolerance > 0:
        raise ScenarioError("--tolerance", "", "must be positive", tolerance)
    if max_evaluations < 1:
        raise ScenarioError("--max-evaluations", "", "must be at least 1", max_evaluations)
    return target, tolerance, max_evaluations


def calibration_history(fit: GainFit) -> pd.DataFrame:
    """One row per duty sweep: the gain scale tried and the elasticity measured."""
    return pd.DataFrame([{"evaluation": k + 1, "gain_scale": e.scale, "elasticity": e.elasticity, "target": fit.target}
                         for k, e in enumerate(fit.evaluations)])


def _write_calibration(fit: GainFit, folder: Path) -> None:
    calibration_history(fit).to_csv(folder / "calibration.csv", index=False)
    (folder / "calibration.yaml").write_text(fit.yaml_snippet(), encoding="utf-8")


def command_calibrate(args: argparse.Namespace) -> int:
    if args.spec is not None:
        return command_calibrate_spec(args)
    if args.fitted is not None:
        raise ScenarioError("--fitted", "", "is for a fit by --spec; the elasticity fit writes calibration.yaml to --out",
                            args.fitted)
    target, tolerance, max_evaluations = _elasticity_options(args)
    output_folder(args.out)
    horizon = args.horizon_days if args.horizon_days is not None else CALIBRATION_HORIZON_DAYS[args.quick]
    seeds = args.seeds if args.seeds is not None else CALIBRATION_SEEDS[args.quick]
    runs = ModelRuns.of(args.file, [f"horizon_days={horizon}", *args.set], seeds, args.seed)
    fit = fit_gain_scale(runs, target, tolerance, max_evaluations)
    for k, evaluation in enumerate(fit.evaluations):
        print(f"sweep {k + 1}: gain scale {evaluation.scale:.4g} -> elasticity {evaluation.elasticity:.3f}")
    best = fit.best
    print(f"fitted: gain scale {best.scale:.4g}, elasticity {best.elasticity:.3f} (target {fit.target:g})")
    print(" ".join(f"--set {override}" for override in fit.overrides()))
    folder = write_folder(Path(args.out), lambda partial: _write_calibration(fit, partial))
    print(f"snippet -> {folder / 'calibration.yaml'}")
    return 0


def _check_spec_options(args: argparse.Namespace) -> None:
    """Options of the single-target form are refused with --spec rather than silently ignored."""
    if args.file != DEFAULT_SCENARIO:
        raise ScenarioError(args.spec, "scenario", "the scenario of a spec fit is the spec's `scenario` key; "
                            "leave FILE out", args.file)
    for option, value in (("--target", args.target), ("--tolerance", args.tolerance)):
        if value is not None:
            raise ScenarioError(option, "", "is for the single elasticity target; with --spec, targets and the "
                                "search tolerance are in the spec", value)
    if args.max_evaluations is not None and args.max_evaluations < 1:
        raise ScenarioError("--max-evaluations", "", "must be at least 1", args.max_evaluations)
    if args.horizon_days is not None and args.horizon_days < 1:
        raise ScenarioError("--horizon-days", "", "must be at least 1", args.horizon_days)
    if args.seeds is not None and args.seeds < 1:
        raise ScenarioError("--seeds", "", "must be at least 1", args.seeds)


def _write_fit_tables(fit: TargetFit, folder: Path) -> None:
    target_table(fit).to_csv(folder / "targets.csv", index=False)
    parameter_table(fit).to_csv(folder / "parameters.csv", index=False)
    history_table(fit).to_csv(folder / "history.csv", index=False)
    (folder / "overrides.txt").write_text("".join(f"--set {o}\n" for o in fit.overrides()), encoding="utf-8")


def command_calibrate_spec(args: argparse.Namespace) -> int:
    """Fit a calibration spec; everything the user got wrong is found before the first run."""
    _check_spec_options(args)
    output_folder(args.out)
    horizon = args.horizon_days if args.horizon_days is not None else (CALIBRATION_HORIZON_DAYS[True] if args.quick else None)
    seeds = args.seeds if args.seeds is not None else (CALIBRATION_SEEDS[True] if args.quick else None)
    spec = load_spec(args.spec, tuple(args.set), horizon, seeds)
    if args.max_evaluations is not None:
        spec = replace(spec, max_evaluations=args.max_evaluations)
    fitted = Path(args.fitted) if args.fitted is not None else default_fitted_path(spec.path)
    extends_path(fitted, spec.scenario_path)
    require_scipy(str(spec.path))
    name = load_scenario(spec.scenario_path).name

    def progress(k: int, evaluation: Evaluation) -> None:
        values = ", ".join(f"{value:.6g}" for value in evaluation.values)
        print(f"evaluation {k}: [{values}] -> objective {evaluation.objective:.4g}", flush=True)

    fit = fit_targets(spec, args.seed, progress)
    text = fitted_yaml(fit, fitted, name)
    print(fit_report(fit))
    print(" ".join(f"--set {override}" for override in fit.overrides()))
    write_fitted(text, fitted, lambda: write_folder(Path(args.out), lambda partial: _write_fit_tables(fit, partial)))
    print(f"tables -> {args.out}")
    print(f"fitted scenario -> {fitted}")
    return 0
