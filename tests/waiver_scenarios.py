"""Scenario files for comparator tests, written into a temporary folder so that the tests do not
depend on what the shipped scenarios charge: the law (no duty on tokenized ETF units), a
counterfactual that charges 0.1% per side on them, and the waiver measured against it."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import SCENARIOS

RATE = "policy.stamp_duty.tokenized_etf.rate_per_side"
COUNTERFACTUAL = "charges 0.1% per side on tokenized ETF units, which the IRD exempts"


def _tokenized_etf_duty(rate: float) -> dict:
    return {"policy": {"stamp_duty": {"tokenized_etf": {"rate_per_side": rate}}}}


def write_waiver_scenarios(folder: Path, waiver: dict | None = None) -> tuple[Path, Path, Path]:
    """baseline.yaml, tokenized_etf_duty.yaml and stamp_duty_waiver.yaml in `folder` (the waiver's
    keys updated with `waiver`); returns their paths."""
    baseline = yaml.safe_load((SCENARIOS / "baseline.yaml").read_text(encoding="utf-8"))
    baseline["policy"].setdefault("stamp_duty", {})["tokenized_etf"] = {"rate_per_side": 0.0}
    baseline.pop("counterfactual", None)
    baseline.pop("measured_against", None)
    files = {
        "baseline.yaml": baseline,
        "tokenized_etf_duty.yaml": {"name": "tokenized_etf_duty", "extends": "baseline.yaml",
                                    "counterfactual": COUNTERFACTUAL, **_tokenized_etf_duty(0.001)},
        "stamp_duty_waiver.yaml": {"name": "stamp_duty_waiver", "extends": "tokenized_etf_duty.yaml",
                                   "measured_against": "tokenized_etf_duty.yaml", **_tokenized_etf_duty(0.0),
                                   **(waiver or {})},
    }
    for name, data in files.items():
        (folder / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder / "baseline.yaml", folder / "tokenized_etf_duty.yaml", folder / "stamp_duty_waiver.yaml"
