"""LEAP tokenization scenario simulator: tokenized and conventional markets under policy levers.

`sim.run(scenario, seed)` runs one validated scenario (see `sim.scenario.load_scenario`) and
returns a `RunResult` with `trades`, `daily` and `kpis`.
"""

__version__ = "0.1.0"


def run(scenario, seed=None):
    """Run one scenario once (imported lazily so `import sim` stays light)."""
    from sim.runs import run as run_one

    return run_one(scenario, seed)
