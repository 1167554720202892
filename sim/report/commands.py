"""`tokensim report`: compare every policy scenario with its comparator and write the policy report.

    tokensim report scenarios/ --reps 3          # baseline.yaml against every other scenario
    tokensim report outputs/report               # rebuild from a finished comparison's folder

The comparison runs through the experiment API (`sim.experiment.api.compare`) into
`DIR/<experiment>/` exactly as `tokensim compare` would (so an interrupted report resumes from
the finished runs), then `build_report` writes `DIR/report.html` and `DIR/report.pdf`. The
baseline is `--baseline FILE` or the input named `baseline.yaml`; every other input is a policy,
measured against the scenario its `measured_against` names (run too, if not among the inputs)
or else the baseline.
Mistakes (no baseline, no policy, a bad key) are ScenarioErrors: one line, exit status 2,
nothing written. Given one folder holding a `manifest.json` (a `compare` experiment's folder,
possibly copied from another machine), nothing runs: the report is rebuilt from its saved
tables and runs' series records, into `--out` when given, else into that folder itself.
`--out` is checked before anything runs (a file, or a read-only place, is a ScenarioError).
SIGTERM while the report is written is handled like Ctrl-C: its temporary folder is removed,
a line on stderr says so, and the exit status is 130.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sim.experiment import api
from sim.experiment.commands import INTERRUPTED, add_execution_options, conduct, execution_options, print_comparison
from sim.outputs import output_folder, terminate_as_interrupt
from sim.ranges.assumption_sets import CENTRAL
from sim.ranges.commands import command_ranges, ranges_name
from sim.report.document import build_report
from sim.report.inputs import FIGURE_KPIS, SWEEPS
from sim.report.sweep_figures import scenario_labels
from sim.scenario import ScenarioError, load_scenario
from sim.scenario_files import scenario_files

REPORT_REPS = 3
BASELINE_FILE = "baseline.yaml"


def add_parsers(subparsers: Any) -> None:
    """Register the `report` subcommand on the `tokensim` subcommand parser."""
    report = subparsers.add_parser("report", help="compare each policy with its comparator (measured_against, else the "
                                   "baseline) and write report.html and report.pdf")
    report.add_argument("files", nargs="+", metavar="FILE", help="scenario files or folders of them")
    report.add_argument("--baseline", metavar="FILE", help=f"the baseline scenario (default: the input named {BASELINE_FILE})")
    report.add_argument("--seed", type=int, default=None, help="base seed of the replication seeds (default: the baseline's own)")
    report.add_argument("--out", default=None,
                        help="output folder (default: outputs; for an experiment folder, the folder itself)")
    report.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a scenario key in every scenario, e.g. horizon_days=20 (repeatable)")
    report.add_argument("--assumptions", metavar="FILE",
                        help="an assumption file (docs/ranges.md): run the comparison under each of its sets, each "
                        "refitted to the same published figures, and show each headline's range over them")
    report.add_argument("--sweep", action="append", default=[], metavar="FILE",
                        help="a scenario file with an `experiment:` sweep plan to run beside the comparison (its "
                        "reps, the same base seed and --set) and show in the report: its `experiment.kpis` (else the "
                        "report's headlines) at each swept value, with 95%% intervals (repeatable)")
    report.add_argument("--horizon-days", type=int, default=None, metavar="DAYS",
                        help="with --assumptions: horizon of the policy runs (default: the scenarios'); the refits keep "
                        "their spec's")
    add_execution_options(report, reps=REPORT_REPS, until_ci=False)
    report.set_defaults(handler=command_report)


def split_baseline(files: list[Path], baseline: str | None) -> tuple[Path, list[Path]]:
    """The baseline file and the policy files (every other input, each once)."""
    if baseline is None:
        found = [f for f in files if f.name == BASELINE_FILE]
        if not found:
            raise ScenarioError("report", "--baseline", f"no baseline: name one with --baseline FILE or include {BASELINE_FILE}")
        base = found[0]
    else:
        base = Path(baseline)
    policies = [f for f in dict.fromkeys(files) if f.resolve() != base.resolve()]
    if not policies:
        raise ScenarioError("report", "", "name at least one policy scenario besides the baseline", str(base))
    return base, policies


def experiment_folder(paths: list[str]) -> Path | None:
    """The one experiment folder named (a folder with manifest.json), or None for scenario inputs."""
    folders = [Path(p) for p in paths if (Path(p) / "manifest.json").is_file()]
    if not folders:
        return None
    if len(paths) > 1:
        raise ScenarioError("report", "", "give either one experiment folder or scenario files, not both", paths)
    return folders[0]


def command_report(args: argparse.Namespace) -> int:
    """Run the comparison, then write the report beside the experiment's folder; or, given an
    experiment folder, rebuild its report without running anything."""
    folder = experiment_folder(args.files)
    if folder is not None:
        if args.set or args.baseline or args.seed is not None or args.assumptions or args.horizon_days is not None:
            raise ScenarioError(str(folder), "", "--set, --baseline, --seed, --assumptions and --horizon-days apply to "
                                "scenario files, not to a finished experiment's folder")
        return write_report(folder, output_folder(args.out or str(folder)))
    args.out = args.out or "outputs"
    output_folder(args.out)
    baseline, policies = split_baseline(scenario_files(args.files), args.baseline)
    if args.assumptions is not None:
        return report_with_ranges(args, baseline, policies)
    if args.horizon_days is not None:
        raise ScenarioError("--horizon-days", "", "goes with --assumptions; without it, use --set horizon_days=N",
                            args.horizon_days)
    status = 0

    plans = [sweep_plan(file, args.set) for file in args.sweep]  # checked before anything runs

    def report(result: api.ExperimentResult) -> None:
        nonlocal status
        print_comparison(result)
        for file, plan in zip(args.sweep, plans):
            status = status or run_sweep(args, Path(file), plan, result.folder)
        status = status or write_report(result.folder, Path(args.out))

    return conduct(lambda: api.compare(baseline, policies, reps=args.reps, **execution_options(args)), report) or status


def sweep_plan(file: str, overrides: list[str]):
    """The file's sweep plan (`experiment:`), or a clear error when it has none."""
    scenario = load_scenario(file, overrides)
    if scenario.experiment is None or not scenario.experiment.sweep:
        raise ScenarioError(file, "experiment.sweep", "--sweep needs a scenario with a sweep plan")
    return scenario


def run_sweep(args: argparse.Namespace, file: Path, scenario, folder: Path) -> int:
    """Run `file`'s sweep plan into the comparison's `sweeps/` folder, with what the report shows of it."""
    plan = scenario.experiment
    params = [f"{key}={','.join(str(v).lower() if isinstance(v, bool) else str(v) for v in values)}"
              for key, values in plan.sweep.items()]
    options = {**execution_options(args), "out": str(folder / SWEEPS), "name": file.stem}
    result = api.sweep(file, params, reps=plan.reps, **options)
    print(f"{result.name}: {len(result.seeds)} replications; runs: {result.computed} computed, "
          f"{result.reused} reused from disk, {result.failed} failed -> {result.folder}")
    if result.failed:
        print(f"error: {result.failed} runs of the sweep failed; see {result.folder / 'failures.csv'}", file=sys.stderr)
        return 1
    shown = {"title": scenario.name.replace("_", " ").capitalize(), "kpis": list(plan.kpis),
             "description": scenario.description, "counterfactual": scenario.counterfactual,
             "labels": scenario_labels(plan.kpis, scenario)}
    (result.folder / FIGURE_KPIS).write_text(json.dumps(shown, indent=1) + "\n", encoding="utf-8")
    return 0


def report_with_ranges(args: argparse.Namespace, baseline: Path, policies: list[Path]) -> int:
    """`tokensim ranges` under the assumption file, then the report of its central comparison,
    showing each headline's range over the sets, into --out."""
    args.baseline, args.policies = str(baseline), [str(p) for p in policies]
    status = command_ranges(args)
    if status != 0:
        return status
    folder = Path(args.out) / (args.name or ranges_name(baseline)) / CENTRAL
    return write_report(folder, Path(args.out))


def write_report(folder: Path, out: Path) -> int:
    """Build the report of the experiment in `folder` into `out`; SIGTERM, like Ctrl-C, stops it
    with nothing written (exit status 130) and the experiment's runs kept."""
    try:
        with terminate_as_interrupt():
            html, pdf = build_report(folder, out)
    except KeyboardInterrupt:
        print(f"interrupted: no report was written; the experiment's runs in {folder} are kept "
              f"(`tokensim report {folder}` writes the report from them)", file=sys.stderr)
        return INTERRUPTED
    print(f"report: {html} and {pdf}")
    return 0
