"""What a validation check can show: an identity, a calibration target, or out-of-sample evidence.

Why: a row that agrees with a published figure is evidence only if nothing in the model was set
to make it agree. Three kinds say which rows are which:

- `identity`: accounting and code checks (fee arithmetic, Little's law, the arbitrage band).
  They hold by construction, so they fail only when the code breaks; they alone set the exit
  status of `validate-model`, and so the test suite's.
- `calibration_target`: a figure some parameter was fitted to (the investors' gain means are
  scaled by `tokensim calibrate` until the volume elasticity hits its target), or the same figure
  re-expressed. Agreement is the fit working: fitted, not evidence.
- `out_of_sample`: a published figure that none of the parameters driving the row was set from.
  Each names its drivers (dotted keys) and what each was set from, a source in
  docs/calibration.md or a fit to another row, so a reader can see that none was fitted to the
  row itself; a check claiming otherwise is a programming error and is refused when built.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

IDENTITY, CALIBRATION_TARGET, OUT_OF_SAMPLE = "identity", "calibration_target", "out_of_sample"
KINDS = (IDENTITY, OUT_OF_SAMPLE, CALIBRATION_TARGET)  # the report's order
GATING = frozenset({IDENTITY})  # the kinds whose OUTSIDE rows make validate-model exit 1
NOT_EVIDENCE = "fitted, not evidence"

TITLES = {IDENTITY: "Identity checks", OUT_OF_SAMPLE: "Out-of-sample checks", CALIBRATION_TARGET: "Calibration targets"}
CAN_SHOW = {
    IDENTITY: "These hold by construction (accounting, statutory arithmetic, the arbitrage the code performs): "
              "they show the code does what the model says, not that the model matches any market, and an OUTSIDE "
              "here is a bug, so these alone set the exit status.",
    OUT_OF_SAMPLE: "These set the model against published figures that none of their driving parameters was set "
                   "from, so agreement is evidence for the mechanism they exercise, and only for it; they report "
                   "pass or OUTSIDE but do not set the exit status.",
    CALIBRATION_TARGET: "These are figures a parameter was fitted to, or the same figure re-expressed: agreement "
                        "shows the fit worked, not that the model is right (fitted, not evidence), and an OUTSIDE "
                        "means the fit no longer holds for this scenario; they do not set the exit status.",
}

SEPARATOR = "; "  # between drivers in the report's `drivers` column


@dataclass(frozen=True)
class Driver:
    """A parameter that drives a check (a dotted key) and what it was set from.

    `fitted_to` names the calibration-target check the parameter was fitted to, if it was
    fitted; a sourced parameter has none.
    """

    key: str
    set_from: str
    fitted_to: str | None = None

    def __post_init__(self) -> None:
        for text in (self.key, self.set_from):
            if not text.strip() or SEPARATOR.strip() in text:
                raise ValueError(f"driver {self.key!r}: key and source must be non-empty and free of "
                                 f"{SEPARATOR.strip()!r} (the report's separator), got {text!r}")

    @classmethod
    def sourced(cls, key: str, source: str) -> Driver:
        """A parameter taken from a published source or set independently of any check."""
        return cls(key, source)

    @classmethod
    def fitted(cls, key: str, target: str) -> Driver:
        """A parameter fitted (by `tokensim calibrate`) to the calibration-target check `target`."""
        return cls(key, f"fitted to {target} (tokensim calibrate, docs/calibration.md)", target)

    def __str__(self) -> str:
        return f"{self.key}: {self.set_from}"


def classification_error(name: str, kind: str, reason: str, drivers: tuple[Driver, ...], has_range: bool) -> str:
    """Why a check's classification is refused, or an empty string when it is sound."""
    if kind not in KINDS:
        return f"check {name!r}: kind {kind!r} is not one of {', '.join(KINDS)}"
    if not reason.strip():
        return f"check {name!r}: a {kind} check needs a one-line reason for its kind"
    if kind != OUT_OF_SAMPLE:
        return ""
    if not drivers:
        return f"check {name!r}: an out-of-sample check must name the parameters that drive it"
    if not has_range:
        return f"check {name!r}: an out-of-sample check reports pass or OUTSIDE, so it needs a published range"
    own = [driver.key for driver in drivers if driver.fitted_to == name]
    if own:
        return (f"check {name!r} is declared out of sample but its driver(s) {', '.join(own)} were fitted to it: "
                f"a row a parameter was fitted to is a {CALIBRATION_TARGET}")
    return ""


class Classified(Protocol):
    name: str
    kind: str
    drivers: tuple[Driver, ...]


def check_fits(checks: Iterable[Classified]) -> None:
    """Refuse a driver said to be fitted to a check that is not a calibration target among `checks`."""
    checks = list(checks)
    targets = {check.name for check in checks if check.kind == CALIBRATION_TARGET}
    for check in checks:
        for driver in check.drivers:
            if driver.fitted_to is not None and driver.fitted_to not in targets:
                raise ValueError(f"check {check.name!r}: driver {driver.key} is said to be fitted to "
                                 f"{driver.fitted_to!r}, which is not a {CALIBRATION_TARGET} check of this validation")
