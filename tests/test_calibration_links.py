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
## Tokenized real-world assets
| `instruments.gold_token.custody_fee_bps_per_year` | 30 |
## Full citations
| `not.a.key` | a citation table |
"""


def test_rows_continuations_prefixes_and_sections():
    entries = parse_calibration(PAGE)
    assert [(e.segments, e.any_prefix, e.section) for e in entries] == [
        (("settlement", "margin_confidence"), False, "Sourced values"),
        (("settlement", "margin_lookback_days"), False, "Sourced values"),
        (("venues", "exchange", "fees", "trading_fee_bps"), False, "Sourced values"),
        (("costs", "tokenized"), True, "Assumptions"),
        (("investors", "*", "gain_mean_bps"), False, "Assumptions"),
        (("instruments", "gold_token", "custody_fee_bps_per_year"), False, "Tokenized real-world assets"),
    ]
    assert calibration_cell(entries, ["venues.<name>.fees"], "trading_fee_bps") == "[sourced](calibration.md#sourced-values)"
    assert calibration_cell(entries, ["issuers.<name>.programmes.<name>.costs.<name>"], "fixed_cost_hkd") == (
        "[assumption](calibration.md#assumptions)")  # a section covers the keys inside it, under any prefix
    assert calibration_cell(entries, ["investors.<name>"], "accounts") == ""
    assert calibration_cell(entries, ["settlement"], "funding_rate_per_year") == ""
    assert calibration_cell(entries, ["instruments.<name>"], "custody_fee_bps_per_year") == (
        "[tokenized real-world assets](calibration.md#tokenized-real-world-assets)")


def test_every_documented_key_exists_in_the_schema():
    """A renamed key leaves its calibration entry behind; this names it."""
    keys = schema_keys()
    stale = [".".join(e.segments) for e in load_calibration() if not any(e.matches(key) for key in keys)]
    assert load_calibration(), "docs/calibration.md not found beside the package"
    assert stale == []
