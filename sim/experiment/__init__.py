"""Experiments: replications, policy comparisons, parameter sweeps and sensitivity analysis.

Many runs of the simulator, as independent tasks on local processes or a Dask cluster, each
written to disk as it finishes so that an interrupted experiment resumes where it stopped,
then summarised with 95% intervals. `run`, `compare`, `sweep` and `sensitivity` are the Python
API (see `api`); `commands` adds them to the `tokensim` command line; docs/experiments.md
describes the outputs and the statistics.
"""

from sim.experiment.api import ExperimentResult, compare, run, sensitivity, sweep
from sim.experiment.runner import UntilCi
from sim.experiment.seeds import replication_seeds

__all__ = ["ExperimentResult", "UntilCi", "compare", "replication_seeds", "run", "sensitivity", "sweep"]
