"""The main job: run every shipped scenario into outputs/, then the policy report.

With no arguments: each scenario once into outputs/<scenario>/, then `report` comparing the
baseline with every policy scenario on paired replications (outputs/report.html and .pdf), with
the liquidity-migration sweep (`scenarios/liquidity_migration.yaml`) run beside it and shown.
Scenarios that carry an `experiment:` sweep plan are sweeps, not policies, so the report leaves
them out (`tokensim sweep FILE` runs them). With arguments, this is `tokensim`.

Running it again is cheap and safe: a scenario whose folder already holds the same run (same
resolved scenario, seed and code) is skipped as up to date; one whose scenario or code changed
is replaced (`--overwrite`), and each replacement is printed. The report's replications resume
from the runs already on disk (outputs/report/runs/), computing only what is new.
"""

import sys
from pathlib import Path

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario

HERE = Path(__file__).resolve().parent
SCENARIOS, OUTPUTS = HERE / "scenarios", HERE / "outputs"
REPORT_REPS = "3"


def policy_files() -> list[str]:
    try:
        return [str(p) for p in sorted(SCENARIOS.glob("*.yaml")) if load_scenario(p).experiment is None]
    except ScenarioError:
        return [str(SCENARIOS)]  # let the report command print the error


if __name__ == "__main__":
    if sys.argv[1:]:
        sys.exit(main(sys.argv[1:]))
    status = main(["run", str(SCENARIOS), "--out", str(OUTPUTS), "--overwrite"])
    if status == 0:
        print("\nPolicy report: every policy against the baseline, on paired replications")
        status = main(["report", *policy_files(), "--reps", REPORT_REPS, "--name", "report", "--out", str(OUTPUTS),
                       "--sweep", str(SCENARIOS / "liquidity_migration.yaml")])
    sys.exit(status)
