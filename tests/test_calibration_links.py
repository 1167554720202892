"""The scenario reference's links into docs/calibration.md: parsing, matching, and no stale keys."""

from __future__ import annotations

from sim.scenario.calibration_links import calibration_cell, load_calibration, parse_calibration
from sim.scenario.reference import schema_keys

PAGE = """
## Sourced values
| key | value |
|---|---|
| `settlement.margin_confidence`, `margin_lookback_days` | 99%, 60 |
| `venues.exchange.fees.trading_fee_bps` | 0.565 |
## Assumptions
| `...costs.tokenized` | HK$3m |
| `investors.*.gain_mean_bps` | 25 |
| not a key row | `ignored.key` |
"""


def test_rows_continuations_prefixes_and_sections():
    entries = parse_calibration(PAGE)
    assert [(e.segments, e.any_prefix, e.section) for e in entries] == [
        (("settlement", "margin_confidence"), False, "sourced"),
        (("settlement", "margin_lookback_days"), False, "sourced"),
        (("venues", "exchange", "fees", "trading_fee_bps"), False, "sourced"),
        (("costs", "tokenized"), True, "assumption"),
        (("investors", "*", "gain_mean_bps"), False, "assumption"),
    ]
    assert calibration_cell(entries, ["venues.<name>.fees"], "trading_fee_bps") == "[sourced](calibration.md#sourced-values)"
    assert calibration_cell(entries, ["issuers.<name>.programmes.<name>.costs.<name>"], "fixed_cost_hkd") == (
        "[assumption](calibration.md#assumptions)")  # a section covers the keys inside it, under any prefix
    assert calibration_cell(entries, ["investors.<name>"], "accounts") == ""
    assert calibration_cell(entries, ["settlement"], "funding_rate_per_year") == ""


def test_every_documented_key_exists_in_the_schema():
    """A renamed key leaves its calibration entry behind; this names it."""
    keys = schema_keys()
    stale = [".".join(e.segments) for e in load_calibration() if not any(e.matches(key) for key in keys)]
    assert load_calibration(), "docs/calibration.md not found beside the package"
    assert stale == []
