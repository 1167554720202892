"""The policy report: the `report` command's files, their content against comparison.csv,
escaping of scenario text, the summary's wording, the PDF, rebuilding from saved outputs alone
(a copied folder, an edited comparison, a folder from before series records), the runs'
series records behind the figures, and writing it safely (math markup in scenario text, an
unusable --out, a full disk, SIGTERM, a killed writer)."""

from __future__ import annotations

import argparse
import errno
import html
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, SCENARIOS
from waiver_scenarios import COUNTERFACTUAL, write_waiver_scenarios
from sim.cli import main
from sim.report.break_even import break_even
from sim.report.commands import add_parsers
from sim.report.document import content, render_html, summaries
from sim.figures import plt
from sim.report.inputs import load_inputs
from sim.report.market_figures import turnover_fan
from sim.report.policy_figures import source_text
from sim.report.text import HEADLINES, change, effect_phrase
from sim.scenario import ScenarioError

QUICK = ["horizon_days=8", "investors.retail.accounts=300", "investors.institutional.accounts=30"]
EVIL = "Waiver <script>alert('x')</script> & more"
EXPERIMENT = "compare-baseline-vs-stamp_duty_waiver"
WAIVER, DUTY = "stamp_duty_waiver", "tokenized_etf_duty"


def report_command(*args: str) -> int:
    """`tokensim report ARGS` through the registered subparser (as sim.cli will wire it)."""
    parser = argparse.ArgumentParser(prog="tokensim")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(["report", *args])
    return parsed.handler(parsed)


def images(page: str) -> list[str]:
    return re.findall(r'<img [^>]*src="([^"]*)"', page)


def html_of(folder: Path) -> str:
    """The report's HTML for an experiment folder, without writing the PDF (quicker)."""
    report = content(load_inputs(folder))
    try:
        return render_html(report)
    finally:
        plt.close("all")


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """The law as baseline and a waiver (whose description carries markup) measured against the
    counterfactual duty, which is not named on the command line, so the report runs it itself."""
    folder = tmp_path_factory.mktemp("scenarios")
    baseline, _, waiver = write_waiver_scenarios(folder, {"description": EVIL})
    out = tmp_path_factory.mktemp("outputs")
    sets = [arg for item in QUICK for arg in ("--set", item)]
    assert report_command(str(baseline), str(waiver), "--reps", "2", "--workers", "1", "--out", str(out), "--quiet",
                          *sets) == 0
    return out


def rows_of(table: pd.DataFrame, policy: str) -> pd.DataFrame:
    """A policy's rows of comparison.csv, by KPI."""
    return table[table["policy"] == policy].set_index("kpi")


def test_report_writes_self_contained_html_matching_the_comparison(reported):
    assert sorted(p.name for p in reported.iterdir()) == [EXPERIMENT, "report.html", "report.pdf"]
    page = (reported / "report.html").read_text(encoding="utf-8")
    assert 'src="http' not in page and "<link" not in page and "<script" not in page
    images = re.findall(r'<img [^>]*src="([^"]*)"', page)
    # headline bars, fiscal view, forest plot, break-even, two fans, liquidity, ETF premium, exposure, funding
    assert len(images) == 10 and all(src.startswith("data:image/png;base64,") for src in images)
    assert '<p class="note">No bond was issued in any scenario' in page  # the primary market: a note, not a figure
    differences = re.findall(r"<dt>(.*?)</dt><dd><ul>(.*?)</ul>", page)
    against = f"{DUTY} (counterfactual: {html.escape(COUNTERFACTUAL)})"
    assert differences == [  # each against its comparator, the only setting that differs
        (f"{against} against baseline", "<li>policy.stamp_duty.tokenized_etf.rate_per_side: 0.0 \u2192 0.001</li>"),
        (f"{WAIVER} against {against}", "<li>policy.stamp_duty.tokenized_etf.rate_per_side: 0.001 \u2192 0.0</li>"),
    ]
    assert '<table id="headline">' in page and "Stamp duty collected" in page
    duty = rows_of(pd.read_csv(reported / EXPERIMENT / "comparison.csv"), WAIVER).loc["stamp_duty_hkd"]
    # the interval may reach below zero (the participant's basket duty is in the total, and it is
    # noisy), and each amount carries its own scale
    amount = r"HKD (\u2212?[\d.,]+)(?: (k|m))?"
    match = re.search(f"{amount} of stamp duty forgone \\(95% CI {amount} to {amount}\\)", page)
    assert match, "the waiver's fiscal sentence"
    scale = {None: 1.0, "k": 1e3, "m": 1e6}
    forgone, low, high = (float(match.group(i).replace(",", "").replace("\u2212", "-")) * scale[match.group(i + 1)]
                          for i in (1, 3, 5))
    assert forgone == pytest.approx(-duty["difference"], rel=5e-3)
    assert (low, high) == (pytest.approx(-duty["ci_high"], rel=5e-3), pytest.approx(-duty["ci_low"], rel=5e-3))
    # the net over every channel, a year of it, and the channel whose duty moved
    net = rows_of(pd.read_csv(reported / EXPERIMENT / "comparison.csv"), WAIVER).loc["net_fiscal_hkd"]
    assert net["difference"] == pytest.approx(duty["difference"])  # no grants on either side
    nets = re.findall(r"Net effect on the public purse, duty over every channel less grants: (.*?)\.(?: |<)", page)
    waiver_net = [text for text in nets if text.startswith("HKD \u2212")]  # the counterfactual's is a gain
    assert len(nets) == 2 and len(waiver_net) == 1
    assert "a year" in waiver_net[0] and "duty by channel: etf tokenized HKD \u2212" in waiver_net[0]


def test_report_names_each_policys_comparator_and_labels_the_counterfactual(reported):
    page = (reported / "report.html").read_text(encoding="utf-8")
    described = f"{DUTY} (counterfactual: {html.escape(COUNTERFACTUAL)})"
    assert f"<h1>Policy report: {DUTY} (counterfactual) against baseline, {WAIVER} against {DUTY} (counterfactual)</h1>" in page
    cells = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", page)
    assert ("baseline" not in {policy for policy, _, _ in cells}
            and {(policy, against) for policy, against, _ in cells} == {(described, "baseline"), (WAIVER, described)})
    summary = re.findall(r'<p class="summary">(.*?)</p>', page)
    assert summary[0].startswith(f"Against baseline, {described} ")
    assert summary[1].startswith(f"Against {described}, {WAIVER} ") and f"against {DUTY} (counterfactual): HKD" in summary[1]
    assert f'<p class="note counterfactual">{DUTY} is a counterfactual' in page  # under the headline table
    assert f"<li>Counterfactual: {DUTY} departs on purpose from Hong Kong law or practice: {html.escape(COUNTERFACTUAL)}." in page
    assert f"<dt>{DUTY} (counterfactual)</dt>" in page and "<dt>baseline</dt>" in page
    inputs = load_inputs(reported / EXPERIMENT)
    assert f"Counterfactual {DUTY}: {COUNTERFACTUAL}." in source_text(inputs)  # every figure's source line
    fan = turnover_fan(inputs)
    try:
        assert [ax.get_title(loc="left") for ax in fan.axes if ax.get_visible()] == [
            f"{DUTY} (counterfactual) against baseline", f"{WAIVER} against {DUTY} (counterfactual)"]
        assert [t.get_text() for t in fan.axes[1].get_legend().get_texts()] == [f"{DUTY} (counterfactual)", WAIVER]
    finally:
        plt.close("all")


def test_a_folder_from_before_comparators_reads_as_every_policy_against_the_baseline(reported, tmp_path):
    old = tmp_path / EXPERIMENT
    shutil.copytree(reported / EXPERIMENT, old)
    table = pd.read_csv(old / "comparison.csv").drop(columns="compared_with")
    table.rename(columns={"comparator_mean": "baseline_mean"}).to_csv(old / "comparison.csv", index=False)
    manifest = json.loads((old / "manifest.json").read_text())
    for entry in manifest["scenarios"]:
        del entry["compared_with"], entry["counterfactual"], entry["named"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    inputs = load_inputs(old)
    assert inputs.comparator(WAIVER) == "baseline" and list(inputs.comparison["compared_with"].unique()) == ["baseline"]
    assert inputs.counterfactuals == {DUTY: COUNTERFACTUAL}  # read again from the scenario file, which still resolves
    page = html_of(old)
    assert f"{WAIVER} against baseline" in page and "Comparator mean" in page


def test_scenario_descriptions_are_escaped(reported):
    page = (reported / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert html.escape(EVIL) in page


def test_pdf_has_a_title_page_and_figure_pages(reported):
    data = (reported / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", data)) >= 4  # title page and three figures


def test_rebuilt_from_saved_csvs_gives_the_same_html(reported):
    assert html_of(reported / EXPERIMENT) == (reported / "report.html").read_text(encoding="utf-8")


TURNOVER = next(h for h in HEADLINES if h.kpi == "turnover_hkd_hk_tracker_tokenized")


def row(difference: float, low: float, high: float, base: float = 100.0) -> dict:
    return {"comparator_mean": base, "difference": difference, "ci_low": low, "ci_high": high,
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


def test_summary_sentence_follows_the_comparison_table(reported, tmp_path):
    edited = tmp_path / EXPERIMENT
    shutil.copytree(reported / EXPERIMENT, edited)
    comparison = pd.read_csv(edited / "comparison.csv")
    turnover = (comparison["kpi"] == "turnover_hkd_hk_tracker_tokenized") & (comparison["policy"] == WAIVER)
    base = float(comparison.loc[turnover, "comparator_mean"].iloc[0])
    comparison.loc[turnover, ["difference", "ci_low", "ci_high", "half_width"]] = [-0.25 * base, -0.3 * base,
                                                                                   -0.2 * base, 0.05 * base]
    comparison.to_csv(edited / "comparison.csv", index=False)
    before = (reported / "report.html").read_text(encoding="utf-8")
    after = " ".join(summaries(load_inputs(edited)))  # the report's summary paragraphs, without drawing figures
    new = "lowers tokenized ETF turnover by 25.0% (95% CI 20.0% to 30.0%)"
    was = change(float(rows_of(pd.read_csv(reported / EXPERIMENT / "comparison.csv"), WAIVER).loc[
        "turnover_hkd_hk_tracker_tokenized", "difference"]), "HKD", base)
    old = [f"tokenized ETF turnover ({was}", f"tokenized ETF turnover by {was.lstrip('+')}"]
    assert new in after and not any(o in after for o in old)
    assert new not in before and any(html.escape(o) in before for o in old)


def test_report_from_a_copied_folder_needs_no_scenario_file(reported, tmp_path, capsys):
    copy = tmp_path / "elsewhere" / "experiment"
    shutil.copytree(reported / EXPERIMENT, copy)
    scenarios = json.loads((copy / "manifest.json").read_text())["scenarios"]
    hidden = tmp_path / "hidden"
    folder = Path(scenarios[0]["file"]).parent
    shutil.move(str(folder), str(hidden))  # the scenario files are not reachable any more
    try:
        assert report_command(str(copy)) == 0
    finally:
        shutil.move(str(hidden), str(folder))
    assert "report: " in capsys.readouterr().out
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".")], "no temporary folder left behind"
    page = (copy / "report.html").read_text(encoding="utf-8")
    assert "(the scenario file is not available as it was run)" in page
    assert "not known: the scenario files are not available as they were run" in page
    assert images(page) == images((reported / "report.html").read_text(encoding="utf-8"))  # every figure, same bytes
    assert (copy / "report.pdf").read_bytes().startswith(b"%PDF")


def test_folder_without_series_records_gets_notes_instead_of_figures(reported, tmp_path):
    old = tmp_path / EXPERIMENT
    shutil.copytree(reported / EXPERIMENT, old)
    for path in (old / "runs").glob("*.json"):
        record = json.loads(path.read_text())
        assert "series" in record
        del record["series"]
        path.write_text(json.dumps(record, indent=1) + "\n")
    page = html_of(old)
    assert len(images(page)) == 4  # headline bars, fiscal view, forest plot, funding (from summary.csv)
    assert page.count("series records are missing") == 4


def test_series_records_match_the_kpis_of_their_runs(reported):
    folder = reported / EXPERIMENT
    inputs = load_inputs(folder)
    runs = pd.read_csv(folder / "runs.csv").set_index(["scenario", "replication"])
    for scenario, records in inputs.series.items():
        assert [r["replication"] for r in records] == [0, 1]
        for record in records:
            kpis = runs.loc[(scenario, record["replication"])]
            turnover = record["turnover_hkd"]
            assert sum(turnover["tokenized"]) == pytest.approx(kpis["turnover_hkd_tokenized"],
                                                               abs=len(turnover["tokenized"]) * 0.5)
            assert sum(c["duty_hkd"] for c in record["duty"]) == pytest.approx(kpis["stamp_duty_hkd"], abs=0.01)
            assert len(record["tokenized_share"]) == record["days"] == 8


def test_break_even_is_duty_forgone_over_twice_the_waived_rate(reported):
    inputs = load_inputs(reported / EXPERIMENT)
    case = break_even(inputs, WAIVER)
    duty = rows_of(inputs.comparison, WAIVER).loc["stamp_duty_hkd"]
    assert case.comparator == DUTY  # the baseline charges no duty on tokenized ETF units: nothing to waive there
    assert case.channels == ["tokenized ETF units"] and case.rate_per_side == 0.001
    assert case.forgone_hkd == pytest.approx(-duty["difference"])
    assert case.break_even_turnover_hkd == pytest.approx(-duty["difference"] / 0.002)
    tokenized_etf = rows_of(inputs.comparison, WAIVER).loc["turnover_hkd_hk_tracker_tokenized"]
    assert case.extra_turnover_hkd == pytest.approx(tokenized_etf["difference"], rel=1e-6)
    assert case.comparator_turnover_hkd == pytest.approx(tokenized_etf["comparator_mean"], rel=1e-6)
    assert break_even(inputs, "baseline") is None and break_even(inputs, DUTY) is None  # the duty raises, waives nothing


# Reliability: math markup in scenario text, unusable --out, a full disk, SIGTERM, a killed writer.

def test_math_markup_in_a_display_name_is_printed_not_parsed(tmp_path, capsys):
    """A dollar sign in scenario text reaches the PDF's text pages and the figures as plain text."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    baseline, _, waiver = write_waiver_scenarios(folder, {"instruments": {"hk_tracker": {"name": r"HK $\frac$ tracker"}},
                                                          "description": r"costs $\frac{1}{2$"})
    out = tmp_path / "out"
    sets = [arg for item in ["horizon_days=4", *QUICK[1:]] for arg in ("--set", item)]
    assert report_command(str(baseline), str(waiver), "--reps", "2", "--workers", "1", "--out", str(out), "--quiet",
                          *sets) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert html.escape(r"HK $\\frac$ tracker") in page and (out / "report.pdf").read_bytes().startswith(b"%PDF")
    (out / "report.html").unlink()
    assert report_command(str(out / EXPERIMENT)) == 0  # rebuilt from the experiment's folder
    assert (out / EXPERIMENT / "report.pdf").is_file()


def test_report_out_that_is_a_file_is_a_user_error(reported, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    assert main(["report", str(reported / EXPERIMENT), "--out", str(taken)]) == 2
    error = capsys.readouterr().err
    assert error == f"error: {taken}: --out is a file, not a folder.\n"
    assert taken.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_a_full_disk_while_writing_the_report_leaves_nothing(reported, tmp_path, monkeypatch, capsys):
    def disk_full(report, path):
        path.write_bytes(b"%PDF-1.4 truncated")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("sim.report.document.render_pdf", disk_full)
    out = tmp_path / "out"
    assert main(["report", str(reported / EXPERIMENT), "--out", str(out)]) == 1
    assert capsys.readouterr().err == f"error: could not write {out}: No space left on device; nothing of it was kept\n"
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its temporary one


def test_sigterm_while_the_report_is_written_removes_its_temporary_folder(reported, tmp_path):
    copy = tmp_path / "experiment"
    shutil.copytree(reported / EXPERIMENT, copy)
    process = subprocess.Popen([sys.executable, "-m", "sim.cli", "report", str(copy)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not [p for p in tmp_path.iterdir() if p.name.startswith(".experiment.partial-report-")]:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)  # while report.html and report.pdf are being written
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in stderr, stderr
    assert stderr.startswith("interrupted: no report was written") and str(copy) in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["experiment"]
    assert not (copy / "report.html").exists() and not (copy / "report.pdf").exists()


def test_a_killed_report_writer_leaves_a_marked_folder_that_the_next_report_removes(reported, tmp_path):
    copy = tmp_path / "experiment"
    shutil.copytree(reported / EXPERIMENT, copy)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = tmp_path / f".experiment.partial-report-{int(dead.stdout)}"  # what SIGKILL while writing leaves
    abandoned.mkdir()
    (abandoned / "report.pdf").write_bytes(b"%PDF-1.4 truncated")
    assert report_command(str(copy)) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["experiment"]


def test_the_first_screen_marks_each_cell_by_its_interval_and_gives_the_fiscal_line_a_year(reported):
    from sim.report.at_a_glance import DOWN, NONE, UNCLEAR, UP, matrix, verdicts
    from sim.report.inputs import load_inputs
    from sim.report.text import headlines_present

    inputs = load_inputs(reported / EXPERIMENT)
    comparison = inputs.comparison.set_index(["policy", "kpi"])
    header, rows = matrix(inputs)
    assert header == [f"{DUTY} (counterfactual)", WAIVER]
    by_label = dict(rows)
    duty = comparison.loc[(WAIVER, "stamp_duty_hkd_per_year")]
    expected = UP if duty["ci_low"] > 0 else DOWN if duty["ci_high"] < 0 else UNCLEAR
    assert by_label["Stamp duty, a year"][1].mark == expected
    assert all(cell.mark in (UP, DOWN, UNCLEAR, NONE) for _, cells in rows for cell in cells)
    lines = verdicts(inputs, headlines_present(set(inputs.comparison["kpi"])))
    assert lines[1].startswith(f"{WAIVER}, against {DUTY} (counterfactual): ")
    net = comparison.loc[(WAIVER, "net_fiscal_hkd_per_year")]
    words = "costs the public purse" if net["ci_high"] < 0 else "gains the public purse" if net["ci_low"] > 0 else \
        "no clear effect on the public purse"
    assert words in lines[1] and "a year" in lines[1]
