"""The validation folder: `validation.csv`, the tables behind the figures, the figures and `validation.md`.

Why: the report is what a reviewer reads to decide whether the model can be trusted for a
question, so it first says what each check can show: one section per kind (identity, out of
sample, calibration target, `sim.validation.kinds`), each opening with what that kind can and
cannot show, its table (every check next to its published figure, its interval and the reason
for its kind; an out-of-sample row with its drivers, a calibration target's figures marked
"fitted, not evidence") and its figures. A check outside its range is marked OUTSIDE; only an
identity outside makes the command exit with status 1, after writing the report. The folder is
written atomically.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.validation.checks import OUTSIDE, Check, checks_table, gating_failures
from sim.validation.figures import FIGURES, save_validation_figures
from sim.validation.kinds import CALIBRATION_TARGET, CAN_SHOW, IDENTITY, KINDS, NOT_EVIDENCE, OUT_OF_SAMPLE, TITLES
from sim.outputs import write_folder
from sim.validation.suite import Validation

# One per figure, in the order of FIGURES: the kind of the checks it shows, a title and what it shows.
SECTIONS = (
    (OUT_OF_SAMPLE, "Zero-intelligence traders through the order book",
     "Budget-constrained random traders (ZI-C) should extract nearly all surplus; unconstrained ones (ZI-U) much "
     "less, by an amount that depends on the supply and demand schedule."),
    (CALIBRATION_TARGET, "Volume elasticity to total transaction cost",
     "The conventional ETF's duty is swept around the stock rate on the same seeds; the slope of ln volume on ln "
     f"total cost is set against published estimates, the figure the gain means are fitted to ({NOT_EVIDENCE})."),
    (CALIBRATION_TARGET, "Replay of Hong Kong's 2021 stamp duty rise",
     "Duty 0.10% -> 0.13% per side mid-run, compared day by day with the same seeds without the rise; its range "
     f"re-expresses the fitted elasticity at this cost change ({NOT_EVIDENCE})."),
    (IDENTITY, "ETF premium and the arbitrage band",
     "Daily mean premium of the quote mid to NAV against the authorised participant's band."),
    (IDENTITY, "Settlement exposure and Little's law",
     "Unsettled value at day end against value traded times the settlement cycle."),
)

# Per kind: the columns after status, and how each is read from a check.
EXTRA_COLUMNS = {
    IDENTITY: (("why an identity", lambda c: c.reason),),
    OUT_OF_SAMPLE: (("driven by (set from)", lambda c: c.drivers_text), ("why out of sample", lambda c: c.reason)),
    CALIBRATION_TARGET: (("fitted parameters", lambda c: c.drivers_text),
                         ("why a calibration target", lambda c: c.reason)),
}


def _number(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.4g}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def _measured(check: Check) -> str:
    number = _number(check.measured)
    return f"{number} ({NOT_EVIDENCE})" if check.kind == CALIBRATION_TARGET and number else number


def _count(checks: list[Check], kind: str) -> str:
    of_kind = [c for c in checks if c.kind == kind]
    outside = [c.name for c in of_kind if c.status == OUTSIDE]
    return f"{len(outside)} of {len(of_kind)} outside" + (f" ({', '.join(outside)})" if outside else "")


def kind_section(kind: str, checks: list[Check]) -> list[str]:
    """The section of one kind: what it can show, its table (or that there is none), then its figures."""
    of_kind = [c for c in checks if c.kind == kind]
    extra = EXTRA_COLUMNS[kind]
    header = ["check", "measured", "95% interval", "target or published", "status", *(title for title, _ in extra),
              "note"]
    lines = ["", f"## {TITLES[kind]}", "", CAN_SHOW[kind], ""]
    if not of_kind:
        return [*lines, "No check of this kind in this run."]
    lines += [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    lines += [f"| {c.name} | {_measured(c)} | {c.interval_text} | {_cell(c.target)} | {c.status} | "
              + "".join(f"{_cell(read(c))} | " for _, read in extra) + f"{_cell(c.note)} |" for c in of_kind]
    if kind == OUT_OF_SAMPLE:
        lines += ["", "No driver of these rows was fitted to the row it drives: such a row is refused when it is "
                      "built, and a driver fitted to another row names that row."]
    return lines


def markdown(validation: Validation, checks: list[Check]) -> str:
    """A short human report: the settings, what sets the exit status, and one section per kind with its figures."""
    runs = validation.runs
    failing = gating_failures(checks)
    lines = [
        "# Model validation",
        "",
        f"Scenario `{runs.path}` ({runs.scenario().name}), overrides `{' '.join(runs.overrides) or 'none'}`, "
        f"seeds {', '.join(map(str, runs.seeds))}. Written by `tokensim validate-model`; method: `docs/validation.md`.",
        "",
        f"**Identity checks: {_count(checks, IDENTITY)}.** Out of sample: {_count(checks, OUT_OF_SAMPLE)}. "
        f"Calibration targets ({NOT_EVIDENCE}): {_count(checks, CALIBRATION_TARGET)}.",
        "`validate-model` exits with status 1 only when an identity check is outside its range"
        + (" (as here)" if failing else "") + "; out-of-sample and calibration-target rows report pass or OUTSIDE "
        "without setting it. Read an OUTSIDE row's note.",
        "The 95% interval is the measured figure plus or minus the t half-width of the same figure on each seed "
        "(empty with one seed).",
    ]
    for kind in KINDS:
        lines += kind_section(kind, checks)
        for (figure_kind, title, text), figure in zip(SECTIONS, FIGURES):
            if figure_kind == kind:
                lines += ["", f"### {title}", "", text, "", f"![{title}](figures/{figure})"]
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
