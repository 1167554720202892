"""The validation folder: `validation.csv`, the tables behind the figures, the figures and `validation.md`.

Why: the report is what a reviewer reads to decide whether the model can be trusted for a
question; every check sits next to its published figure and its interval, and a check outside
its range is marked OUTSIDE (the command then exits with status 1, after writing the report).
The folder is written atomically.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.validation.checks import OUTSIDE, Check, checks_table
from sim.validation.figures import FIGURES, save_validation_figures
from sim.outputs import write_folder
from sim.validation.suite import Validation

SECTIONS = (
    ("Zero-intelligence traders through the order book",
     "Budget-constrained random traders (ZI-C) should extract nearly all surplus; unconstrained ones (ZI-U) much "
     "less, by an amount that depends on the supply and demand schedule."),
    ("Volume elasticity to total transaction cost",
     "The conventional ETF's duty is swept around the stock rate on the same seeds; the slope of ln volume on ln "
     "total cost is set against published estimates."),
    ("Replay of Hong Kong's 2021 stamp duty rise",
     "Duty 0.10% -> 0.13% per side mid-run, compared day by day with the same seeds without the rise."),
    ("ETF premium and the arbitrage band",
     "Daily mean premium of the quote mid to NAV against the authorised participant's band."),
    ("Settlement exposure and Little's law",
     "Unsettled value at day end against value traded times the settlement cycle."),
)


def _number(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.4g}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def markdown(validation: Validation, checks: list[Check]) -> str:
    """A short human report: the settings, the checks table, and each figure with what it shows."""
    runs = validation.runs
    outside = [c.name for c in checks if c.status == OUTSIDE]
    lines = [
        "# Model validation",
        "",
        f"Scenario `{runs.path}` ({runs.scenario().name}), overrides `{' '.join(runs.overrides) or 'none'}`, "
        f"seeds {', '.join(map(str, runs.seeds))}. Written by `tokensim validate-model`; method: `docs/validation.md`.",
        "",
        f"**{len(outside)} of {len(checks)} checks outside their range**"
        + (f": {', '.join(outside)}." if outside else "."),
        "A check outside its range is reported here, and makes `validate-model` exit with status 1: read its note.",
        "The 95% interval is the measured figure plus or minus the t half-width of the same figure on each seed "
        "(empty with one seed).",
        "",
        "| check | measured | 95% interval | target or published | status | note |",
        "|---|---|---|---|---|---|",
        *(f"| {c.name} | {_number(c.measured)} | {c.interval_text} | {_cell(c.target)} | {c.status} | {_cell(c.note)} |"
          for c in checks),
    ]
    for (title, text), figure in zip(SECTIONS, FIGURES):
        lines += ["", f"## {title}", "", text, "", f"![{title}](figures/{figure})"]
    return "\n".join(lines) + "\n"


def _fill(validation: Validation, checks: list[Check], folder: Path) -> None:
    checks_table(checks).to_csv(folder / "validation.csv", index=False)
    validation.zero_intelligence.to_csv(folder / "zero_intelligence.csv", index=False)
    sweep = pd.DataFrame([{"rate_per_side": p.rate_per_side, "volume_hkd": p.volume_hkd, "duty_bps": p.duty_bps,
                           "fees_bps": p.fees_bps, "half_spread_bps": p.half_spread_bps,
                           "total_cost_bps": p.total_cost_bps} for p in validation.elasticity.points])
    sweep.to_csv(folder / "elasticity_sweep.csv", index=False)
    save_validation_figures(validation, folder / "figures")
    (folder / "validation.md").write_text(markdown(validation, checks), encoding="utf-8")


def write_report(validation: Validation, out: Path) -> Path:
    """Write the folder `out` atomically and return it."""
    checks = validation.checks()
    return write_folder(Path(out), lambda folder: _fill(validation, checks, folder))
