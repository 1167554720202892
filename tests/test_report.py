"""The policy report: the `report` command's files, their content against comparison.csv,
escaping of scenario text, the summary's wording, the PDF, and rebuilding from saved CSVs."""

from __future__ import annotations

import argparse
import html
import math
import re

import pandas as pd
import pytest
import yaml

from conftest import SCENARIOS
from sim.report.commands import add_parsers
from sim.report.document import build_report
from sim.report.text import HEADLINES, effect_phrase
from sim.scenario import ScenarioError

QUICK = ["horizon_days=8", "investors.retail.accounts=300", "investors.institutional.accounts=30"]
EVIL = "Waiver <script>alert('x')</script> & more"
EXPERIMENT = "compare-baseline-vs-stamp_duty_waiver"


def report_command(*args: str) -> int:
    """`tokensim report ARGS` through the registered subparser (as sim.cli will wire it)."""
    parser = argparse.ArgumentParser(prog="tokensim")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(["report", *args])
    return parsed.handler(parsed)


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """baseline.yaml and a waiver whose description carries markup, reported from their folder."""
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "baseline.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())
    waiver = yaml.safe_load((SCENARIOS / "stamp_duty_waiver.yaml").read_text())
    (folder / "stamp_duty_waiver.yaml").write_text(yaml.safe_dump({**waiver, "description": EVIL}))
    out = tmp_path_factory.mktemp("outputs")
    sets = [arg for item in QUICK for arg in ("--set", item)]
    assert report_command(str(folder), "--reps", "2", "--workers", "1", "--out", str(out), "--quiet", *sets) == 0
    return out


def test_report_writes_self_contained_html_matching_the_comparison(reported):
    assert sorted(p.name for p in reported.iterdir()) == [EXPERIMENT, "report.html", "report.pdf"]
    page = (reported / "report.html").read_text(encoding="utf-8")
    assert 'src="http' not in page and "<link" not in page and "<script" not in page
    images = re.findall(r'<img [^>]*src="([^"]*)"', page)
    assert len(images) == 3 and all(src.startswith("data:image/png;base64,") for src in images)
    assert '<table id="headline">' in page and "Stamp duty collected" in page
    comparison = pd.read_csv(reported / EXPERIMENT / "comparison.csv").set_index("kpi")
    duty = comparison.loc["stamp_duty_hkd"]
    match = re.search(r"HKD ([\d.,]+) k of stamp duty forgone \(95% CI HKD ([\d.,]+) k to HKD ([\d.,]+) k\)", page)
    assert match, "the waiver's fiscal sentence"
    forgone, low, high = (float(g.replace(",", "")) * 1e3 for g in match.groups())
    assert forgone == pytest.approx(-duty["difference"], rel=5e-3)
    assert (low, high) == (pytest.approx(-duty["ci_high"], rel=5e-3), pytest.approx(-duty["ci_low"], rel=5e-3))


def test_scenario_descriptions_are_escaped(reported):
    page = (reported / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert html.escape(EVIL) in page


def test_pdf_has_a_title_page_and_figure_pages(reported):
    data = (reported / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", data)) >= 4  # title page and three figures


def test_rebuilt_from_saved_csvs_gives_the_same_html(reported, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    build_report(reported / EXPERIMENT, first)
    build_report(reported / EXPERIMENT, second)
    original = (reported / "report.html").read_bytes()
    assert (first / "report.html").read_bytes() == original == (second / "report.html").read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folder left behind"


TURNOVER = next(h for h in HEADLINES if h.kpi == "turnover_hkd_hk_tracker_tokenized")


def row(difference: float, low: float, high: float, base: float = 100.0) -> dict:
    return {"baseline_mean": base, "difference": difference, "ci_low": low, "ci_high": high,
            "half_width": (high - low) / 2, "n": 5}


def test_summary_gives_a_direction_only_when_the_interval_excludes_zero():
    assert effect_phrase(row(52, 41, 63), TURNOVER) == "raises tokenized ETF turnover by 52.0% (95% CI 41.0% to 63.0%)"
    assert effect_phrase(row(-30, -40, -20), TURNOVER) == "lowers tokenized ETF turnover by 30.0% (95% CI 20.0% to 40.0%)"
    unclear = effect_phrase(row(3, -8, 14), TURNOVER)
    assert unclear.startswith("no clear effect on tokenized ETF turnover (+3.00%, 95% CI \u22128.00% to +14.0%)")
    assert effect_phrase(row(5, math.nan, math.nan), TURNOVER).endswith("(no interval: fewer than two replications)")


def test_report_needs_a_baseline(tmp_path):
    with pytest.raises(ScenarioError, match="no baseline"):
        report_command(str(SCENARIOS / "stamp_duty_waiver.yaml"), "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
