"""The `tokensim` command line: run, validate and show scenarios, and print the key reference.

A user's mistake (a bad file, key or value) is reported in one short paragraph on stderr with
exit status 2 and no traceback, and nothing is written to the output folder: every scenario
named on the command line is validated before any is run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from sim import __version__
from sim.engine import run
from sim.experiment.commands import add_commands, add_execution_options, command_run_experiment, wants_experiment
from sim.report.commands import add_parsers as add_report_parsers
from sim.validation.commands import add_parsers as add_validation_parsers
from sim.market.ledger import AccountingError
from sim.outputs import write_run
from sim.scenario import Scenario, ScenarioError, load_scenario, render_reference, resolve_scenario_dict

USER_ERROR = 2


def scenario_files(paths: Sequence[str]) -> list[Path]:
    """The YAML files named, with each folder expanded to the scenario files in it, sorted."""
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                raise ScenarioError(str(path), "", "no .yaml scenario files in this folder")
            files.extend(found)
        else:
            files.append(path)
    return files


def _sources(path: Path, overrides: list[str]) -> list[str]:
    """The files that contributed to a scenario, in the order met (the named file first)."""
    _, provenance = resolve_scenario_dict(path, overrides)
    return list(dict.fromkeys([str(path), *(s for s in provenance.values() if s != "--set")]))


def command_run(args: argparse.Namespace) -> int:
    files = scenario_files(args.files)
    if wants_experiment(args):
        return command_run_experiment(args, files)
    scenarios: list[tuple[Path, Scenario]] = [(f, load_scenario(f, args.set)) for f in files]
    names = [scenario.name for _, scenario in scenarios]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ScenarioError(str(files[0]), "name", "two scenarios share this name; names must be unique", duplicated[0])
    out = Path(args.out)
    rows = []
    for path, scenario in scenarios:
        result = run(scenario, seed=args.seed)
        folder = write_run(result, out, _sources(path, args.set), list(args.set))
        print(f"{scenario.name}: {len(result.trades):,} trades over {scenario.horizon_days} days -> {folder}")
        rows.append(result)
    if len(rows) > 1:
        _print_comparison(rows)
    return 0


def _print_comparison(results) -> None:
    """KPIs side by side; a KPI a scenario does not have (another instrument, say) shows as '-'."""
    names = list(dict.fromkeys(name for r in results for name in r.kpis))
    width = max(len(name) for name in names)
    print()
    print(f"{'KPI':<{width}}  " + "  ".join(f"{r.scenario.name:>22}" for r in results))
    for name in names:
        values = "  ".join(f"{r.kpis[name]:>22,.4g}" if name in r.kpis else f"{'-':>22}" for r in results)
        print(f"{name:<{width}}  {values}")


def command_validate(args: argparse.Namespace) -> int:
    for path in scenario_files(args.files):
        scenario = load_scenario(path, args.set)
        print(f"{path}: ok ({scenario.name})")
    return 0


def command_show(args: argparse.Namespace) -> int:
    scenario = load_scenario(Path(args.file), args.set)
    print(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, default_flow_style=None), end="")
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
    add_overrides(run_parser)
    add_execution_options(run_parser, reps=None)
    run_parser.set_defaults(handler=command_run)

    validate_parser = commands.add_parser("validate", help="check scenario files without running them")
    validate_parser.add_argument("files", nargs="+", metavar="FILE", help="scenario files or folders of them")
    add_overrides(validate_parser)
    validate_parser.set_defaults(handler=command_validate)

    show_parser = commands.add_parser("show", help="print a scenario with inheritance and defaults resolved")
    show_parser.add_argument("file", metavar="FILE")
    add_overrides(show_parser)
    show_parser.set_defaults(handler=command_show)

    reference_parser = commands.add_parser("reference", help="print the scenario key reference (Markdown)")
    reference_parser.set_defaults(handler=command_reference)

    add_commands(commands, add_overrides)
    add_report_parsers(commands)
    add_validation_parsers(commands)
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except ScenarioError as error:
        print(f"error: {error}", file=sys.stderr)
        return USER_ERROR
    except AccountingError as error:
        print(f"error: {error} (a model bug: please report it with the scenario and seed)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: no partial output was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
