"""The `validate-model` subcommand of `tokensim`, and the options it shares with `calibrate`.

`validate-model` runs every validation check on a scenario (the baseline by default) and writes
the report folder; it exits 1 when a check falls outside its range (after writing the report,
which says which and why), so scripts and CI notice. A user's mistake is a ScenarioError, which
the command line prints on one line with exit status 2; so is an `--out` that is a file or
cannot be written, found before anything runs.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from sim.outputs import output_folder
from sim.validation.checks import OUTSIDE
from sim.validation.report import write_report
from sim.validation.suite import FULL, QUICK, validate

DEFAULT_SCENARIO = "scenarios/baseline.yaml"


def add_common(sub: argparse.ArgumentParser, out: str) -> None:
    sub.add_argument("file", nargs="?", default=DEFAULT_SCENARIO, metavar="FILE",
                     help=f"the scenario to check (default: {DEFAULT_SCENARIO})")
    sub.add_argument("--quick", action="store_true", help="short horizons and one seed: seconds, for tests")
    sub.add_argument("--seeds", type=int, metavar="N",
                     help="replications, with the same seeds for every comparison (default 2; 1 with --quick)")
    sub.add_argument("--seed", type=int, default=None, help="base seed of the replications (default: the scenario's own)")
    sub.add_argument("--out", default=out, help=f"output folder (default: {out})")
    sub.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a scenario key, e.g. investors.retail.gain_mean_bps=20 (repeatable)")


def add_parser(subparsers: Any) -> None:
    """Register `validate-model` on the `tokensim` subcommand parser."""
    validate_parser = subparsers.add_parser(
        "validate-model", help="check the model against published results and write a report (validation.md)")
    add_common(validate_parser, "outputs/validation")
    validate_parser.set_defaults(handler=command_validate_model)

def command_validate_model(args: argparse.Namespace) -> int:
    output_folder(args.out)
    settings = QUICK if args.quick else FULL
    if args.seeds is not None:
        settings = replace(settings, seeds=args.seeds)
    validation = validate(args.file, args.set, settings, args.seed)
    checks = validation.checks()
    for check in checks:
        interval = f"({check.interval_text})" if check.interval_text else ""
        print(f"{check.status:>7}  {check.name:<45} {check.measured:>10.4g} {interval:<22}  {check.target}")
    folder = write_report(validation, Path(args.out))
    print(f"report -> {folder / 'validation.md'}")
    outside = [check.name for check in checks if check.status == OUTSIDE]
    if outside:
        print(f"error: {len(outside)} checks outside their range: {', '.join(outside)}", file=sys.stderr)
        return 1
    return 0
