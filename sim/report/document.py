"""The policy report: `report.html` (self-contained) and `report.pdf`, built from a comparison.

`build_report(source, out_dir)` takes a `compare` experiment's folder (or its `ReportInputs`)
and writes both files. The HTML carries its figures as base64 PNG data URIs and its style
inline, so it opens anywhere without other files or network access; the PDF (matplotlib's
PdfPages, no other dependency) has a title page with the summary, the sections' notes and
the headline table, then one page per figure. Figures come in sections (see `sections`).
Text from scenario files is HTML-escaped, and reaches matplotlib as plain text (the house style
of `figures` turns math parsing off). The same inputs give byte-identical HTML: no dates, and
PNGs without version metadata. Both files are written into a temporary folder beside `out_dir`
and moved into place only when both are complete.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sim.figures import PNG_METADATA, plt
from sim.market.values import TRADING_DAYS_PER_YEAR
from sim.outputs import PARTIAL_PREFIX, OutputError, folder_lock, remove_abandoned
from sim.report.inputs import ReportInputs, load_inputs
from sim.report.break_even import break_evens
from sim.report.at_a_glance import Cell, market_size_line, matrix, verdicts
from sim.report.ranges_text import RANGE_HEADER, range_notes, range_rows, range_sentence
from sim.report.sections import Section, report_sections
from sim.report.text import Headline, amount, break_even_text, change, delta, headlines_present, policy_summary

CALIBRATION = "docs/calibration.md"
IDENTITY_KEYS = ("name", "description", "measured_against", "counterfactual")  # said elsewhere in the report
PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}
PAGE = (8.27, 11.69)  # A4 portrait, inches
LINE = 0.016  # one line of 8-point text, in figure coordinates of a page
TOP, BOTTOM = 0.95, 0.05  # where text starts and stops on a page, in figure coordinates
TITLE_CHARACTERS = 75  # of 13-point bold text across the page
TABLE_HEADER = ("Policy", "Compared with", "KPI", "Comparator mean", "Policy mean", "Difference (95% CI)", "Relative")
PDF_CELL_CHARACTERS = (20, 20, 28, 16, 16, 40, 12)  # per column of the PDF's headline table
CSS = """
body { font-family: Helvetica, Arial, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
.provenance { color: #555; font-size: 0.85rem; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: right; }
th:nth-child(-n+3), td:nth-child(-n+3) { text-align: left; }
figure { margin: 1.5rem 0; } img { max-width: 100%; }
figcaption { color: #555; font-size: 0.85rem; }
.note { color: #555; font-style: italic; }
h1, p, dd, li { overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; }
.scale { background: #f3f3f3; padding: 0.4rem 0.6rem; }
ul.verdicts li { margin-bottom: 0.4rem; }
#matrix td.up { background: #dbe9f6; } #matrix td.down { background: #fbe3cf; } #matrix td.unclear { color: #777; }
#matrix th:not(:first-child), #matrix td:not(:first-child) { text-align: right; }
@media print { figure { break-inside: avoid; } }
"""


@dataclass(frozen=True)
class Content:
    """The report's text, tables and figures, shared by its HTML and PDF forms."""

    title: str
    provenance: str
    summaries: list[str]
    table: list[tuple[str, ...]]
    sections: list[Section]
    assumptions: list[str]
    scenarios: list[tuple[str, str]]
    differences: list[tuple[str, list[str]]]
    table_notes: list[str] = field(default_factory=list)  # under the headline table: what is a counterfactual
    pdf_table: list[tuple[str, ...]] = field(default_factory=list)  # the table with short names (`starred`)
    ranges_table: list[tuple[str, ...]] = field(default_factory=list)  # each headline's range over assumption sets
    ranges_notes: list[str] = field(default_factory=list)  # what the sets are; or that the intervals are seed noise only
    scale: str = ""  # the simulated market's size against Hong Kong's
    verdicts: list[str] = field(default_factory=list)  # one line per policy: its decisive numbers
    matrix_header: list[str] = field(default_factory=list)  # the matrix's columns: the policies
    matrix_rows: list[tuple[str, list[Cell]]] = field(default_factory=list)  # per KPI: label and a cell per policy


def horizon_phrase(inputs: ReportInputs) -> str:
    """" over the 8 business days simulated", or nothing when the horizons are unknown or differ."""
    return f" over the {inputs.horizons[0]} business days simulated" if len(inputs.horizons) == 1 else ""


def headline_table(inputs: ReportInputs, headlines: list[Headline], name=None) -> list[tuple[str, ...]]:
    """Per policy and headline KPI: the policy, what it is measured against (`name(scenario)`;
    default: counterfactuals labelled, with their text), the comparator's and the policy's means,
    the paired difference with its 95% interval, and the relative change."""
    name = inputs.described if name is None else name
    comparison = inputs.comparison.set_index(["policy", "kpi"])
    rows = []
    for policy in inputs.policies:
        for h in headlines:
            if (policy, h.kpi) not in comparison.index or comparison.loc[(policy, h.kpi), "n"] == 0:
                continue  # not measured in both scenarios
            row = comparison.loc[(policy, h.kpi)]
            interval = f"{delta(row['ci_low'], h.unit)} to {delta(row['ci_high'], h.unit)}"
            relative = change(row["difference"], h.unit, row["comparator_mean"]) if row["comparator_mean"] else "n/a"
            rows.append((name(policy), name(inputs.comparator(policy)), h.label,
                         amount(row["comparator_mean"], h.unit), amount(row["policy_mean"], h.unit),
                         f"{delta(row['difference'], h.unit)} ({interval})", relative))
    return rows


ABSENT = object()


def _value(value: object) -> str:
    return "(not set)" if value is ABSENT else textwrap.shorten(json.dumps(value, separators=(", ", ": ")), 60)


def changed(base: object, other: object, prefix: str = "") -> list[tuple[str, object, object]]:
    """(dotted key, base value, other value) where two resolved scenarios differ; a mapping only
    one of them has is one difference, not one per leaf."""
    if isinstance(base, dict) and isinstance(other, dict):
        return [difference for key in dict.fromkeys([*base, *other])
                for difference in changed(base.get(key, ABSENT), other.get(key, ABSENT),
                                          f"{prefix}.{key}" if prefix else str(key))]
    return [] if base == other else [(prefix, base, other)]


def scenario_differences(inputs: ReportInputs) -> list[tuple[str, list[str]]]:
    """Per policy ("policy against comparator", counterfactuals labelled), each resolved setting
    that differs from its comparator's ("key: comparator -> policy"); the scenario files must
    still resolve to what was run."""
    settings = {s.name: s.settings for s in inputs.scenarios}
    differences = []
    for policy in inputs.policies:
        base, other = settings.get(inputs.comparator(policy)), settings.get(policy)
        if base is None or other is None:
            differences.append((inputs.against(policy),
                                ["not known: the scenario files are not available as they were run"]))
            continue
        differences.append((inputs.against(policy),
                            [f"{k}: {_value(a)} \u2192 {_value(b)}" for k, a, b in changed(base, other)
                             if k not in IDENTITY_KEYS]
                            or ["nothing (the same settings as its comparator)"]))
    return differences


MATRIX_SYMBOLS = {"up": "\u25b2", "down": "\u25bc", "unclear": "\u25cb", "none": ""}
MATRIX_LEGEND = ("\u25b2 a clear rise, \u25bc a clear fall (the 95% seed interval excludes zero), \u25cb no clear effect; "
                 "each cell is the policy minus its comparator, totals a year. Colour shows only direction and "
                 "clarity, not whether the change is good.")
MANY_POLICIES = 2  # above this many, the title counts the policies instead of listing them


def report_title(inputs: ReportInputs) -> str:
    """"Policy report: waiver against duty (counterfactual), duty (counterfactual) against baseline";
    with many policies, their count (the first screen lists them with their verdicts)."""
    if len(inputs.policies) > MANY_POLICIES:
        return f"Policy report: {len(inputs.policies)} policies, each against its comparator"
    return "Policy report: " + ", ".join(f"{inputs.label(p)} against {inputs.label(inputs.comparator(p))}"
                                          for p in inputs.policies)


def years_simulated(inputs: ReportInputs) -> float | None:
    """The horizon in years (250 business days a year), when every run had the same horizon."""
    return inputs.horizons[0] / TRADING_DAYS_PER_YEAR if len(inputs.horizons) == 1 else None


def summaries(inputs: ReportInputs) -> list[str]:
    """One summary paragraph per policy: its effects against its comparator, its cost to the
    public purse and, for a waiver, its break-even."""
    headlines = headlines_present(set(inputs.comparison["kpi"]))
    horizon = horizon_phrase(inputs)
    grants = inputs.summary[inputs.summary["kpi"] == "grants_paid_hkd"].set_index("scenario")["mean"]
    cases = {case.policy: case for case in break_evens(inputs)}
    return [" ".join(filter(None, (
        policy_summary(inputs.described(p), inputs.comparison[inputs.comparison["policy"] == p], headlines,
                       grants.get(p), horizon, inputs.described(inputs.comparator(p)), inputs.label(inputs.comparator(p)),
                       years_simulated(inputs)),
        break_even_text(cases[p]) if p in cases else "",
        range_sentence(inputs, p, headlines)))) for p in inputs.policies]


def content(inputs: ReportInputs) -> Content:
    """Everything the report says, from the inputs alone."""
    headlines = headlines_present(set(inputs.comparison["kpi"]))
    effects = matrix(inputs)
    provenance = (f"LEAP tokenization simulator {inputs.package_version}; experiment {inputs.experiment}; "
                  f"scenarios {', '.join(s.name for s in inputs.scenarios)} (baseline {inputs.baseline}); "
                  f"{inputs.reps} replications per scenario with common seeds from base seed {inputs.base_seed}; "
                  f"git revision {(inputs.git_revision or 'not recorded')[:12]}; scenario hashes (SHA-256 of the "
                  "resolved scenario, first 8 digits) "
                  + ", ".join(f"{name} {digest[:8]}" for name, digest in inputs.scenario_hashes.items()) + ".")
    horizons = ", ".join(str(h) for h in inputs.horizons) or "not known (scenario files unavailable)"
    assumptions = [
        f"Horizon: {horizons} business days per run.",
        f"Replications: {inputs.reps} per scenario; replication k runs every scenario with the same seed "
        f"(common random numbers), so differences are paired: {', '.join(str(s) for s in inputs.seeds)}.",
        "Intervals are two-sided 95% Student-t intervals; differences are paired by replication; relative "
        "changes divide by the comparator's mean.",
        "Comparators: each policy is measured against the scenario its measured_against names, else the baseline: "
        + "; ".join(f"{p} against {inputs.label(inputs.comparator(p))}" for p in inputs.policies) + ".",
        *(f"Counterfactual: {name} departs on purpose from Hong Kong law or practice: {text}. Its numbers, and "
          "every difference measured against it, describe that hypothetical world, not the law as it stands."
          for name, text in inputs.counterfactuals.items()),
        f"Overrides applied to every scenario: {', '.join(inputs.overrides) or 'none'}.",
        f"Calibration: the source of every default, or why it is an assumption, is in {CALIBRATION}; "
        "what the model leaves out is in docs/model.md.",
    ]
    return Content(
        title=report_title(inputs),
        provenance=provenance, summaries=summaries(inputs), table=headline_table(inputs, headlines),
        sections=report_sections(inputs, headlines), assumptions=assumptions,
        scenarios=[(inputs.label(s.name), " ".join(filter(None, (
            s.description or "(no description)",
            f"Counterfactual: {inputs.counterfactuals[s.name]}." if s.name in inputs.counterfactuals else "",
        )))) for s in inputs.scenarios],
        differences=scenario_differences(inputs),
        table_notes=[f"{name} is a counterfactual (it departs on purpose from Hong Kong law or practice): {text}."
                     for name, text in inputs.counterfactuals.items()],
        pdf_table=headline_table(inputs, headlines, lambda name: starred(inputs, name)),
        ranges_table=range_rows(inputs, headlines), ranges_notes=range_notes(inputs),
        scale=market_size_line(inputs), verdicts=verdicts(inputs, headlines),
        matrix_header=effects[0], matrix_rows=effects[1],
    )


def starred(inputs: ReportInputs, name: str) -> str:
    """A scenario's name in the PDF's narrow table cells, with `*` for a counterfactual (the note
    under the table says what each one departs from)."""
    return f"{name}*" if name in inputs.counterfactuals else name


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata=PNG_METADATA)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def render_html(report: Content) -> str:
    """The report as one self-contained HTML page; every piece of text is escaped."""
    e = html.escape
    header = "".join(f"<th>{e(cell)}</th>" for cell in TABLE_HEADER)
    body = "\n".join("<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>" for row in report.table)
    sections = "\n".join(_html_section(section) for section in report.sections)
    return "\n".join([
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(report.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>",
        f"<h1>{e(report.title)}</h1>",
        _html_at_a_glance(report),
        _html_ranges(report),
        "<h2>Summary</h2>", *(f'<p class="summary">{e(s)}</p>' for s in report.summaries),
        sections,
        f'<h2>Appendix: every headline KPI</h2>\n<div class="table-wrap"><table id="headline">\n<thead><tr>{header}</tr>'
        f"</thead>\n<tbody>\n{body}\n</tbody>\n</table></div>",
        *(f'<p class="note counterfactual">{e(note)}</p>' for note in report.table_notes),
        "<h2>Scenario differences from each policy's comparator</h2>\n<dl>" + "".join(
            f"<dt>{e(policy)}</dt><dd><ul>" + "".join(f"<li>{e(c)}</li>" for c in changes) + "</ul></dd>"
            for policy, changes in report.differences) + "</dl>",
        "<h2>Assumptions</h2>\n<ul>" + "".join(f"<li>{e(a)}</li>" for a in report.assumptions) + "</ul>",
        "<h3>Scenarios</h3>\n<dl>" + "".join(f"<dt>{e(n)}</dt><dd>{e(d)}</dd>" for n, d in report.scenarios) + "</dl>",
        f'<p class="provenance">{e(report.provenance)}</p>',
        "</body>\n</html>\n",
    ])


def _html_at_a_glance(report: Content) -> str:
    """The first screen: the market's scale, one verdict per policy, and the matrix of effects."""
    e = html.escape
    parts = ["<h2>At a glance</h2>"]
    if report.scale:
        parts.append(f'<p class="scale">{e(report.scale)}</p>')
    parts.append('<ul class="verdicts">' + "".join(f"<li>{e(v)}</li>" for v in report.verdicts) + "</ul>")
    if report.matrix_rows:
        head = "<th>KPI</th>" + "".join(f"<th>{e(name)}</th>" for name in report.matrix_header)
        body = "\n".join(
            f"<tr><td>{e(label)}</td>" + "".join(
                f'<td class="{cell.mark}">{e(cell.text)} {MATRIX_SYMBOLS[cell.mark]}</td>' for cell in cells) + "</tr>"
            for label, cells in report.matrix_rows)
        parts.append(f'<div class="table-wrap"><table id="matrix">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n'
                     f"</tbody>\n</table></div>")
        parts.append(f'<p class="note legend">{e(MATRIX_LEGEND)}</p>')
    return "\n".join(parts)


def _html_ranges(report: Content) -> str:
    """The section "What would change this answer": the ranges table (when there are ranges) and its notes."""
    e = html.escape
    parts = ["<h2>What would change this answer</h2>"]
    if report.ranges_table:
        header = "".join(f"<th>{e(cell)}</th>" for cell in RANGE_HEADER)
        body = "\n".join("<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>"
                         for row in report.ranges_table)
        parts.append(f'<div class="table-wrap"><table id="ranges">\n<thead><tr>{header}</tr></thead>\n'
                     f"<tbody>\n{body}\n</tbody>\n</table></div>")
    parts += [f'<p class="note">{e(note)}</p>' for note in report.ranges_notes]
    return "\n".join(parts)


def _html_section(section: Section) -> str:
    """A section's heading, introduction, figures (embedded PNGs) and notes, escaped."""
    e = html.escape
    parts = [f"<h2>{e(section.title)}</h2>"]
    if section.intro:
        parts.append(f"<p>{e(section.intro)}</p>")
    parts += [f'<figure><img alt="{e(caption)}" src="data:image/png;base64,{_png(fig)}">'
              f"<figcaption>{e(caption)}</figcaption></figure>" for caption, fig in section.figures]
    parts += [f'<p class="note">{e(note)}</p>' for note in section.notes]
    return "\n".join(parts)


def _figures(report: Content) -> list[object]:
    return [figure for section in report.sections for _, figure in section.figures]


def _wrapped(text: str, width: int = 110) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def _lead_lines(report: Content) -> list[str]:
    """The prose before the headline table: the first screen (scale, verdicts, the matrix as
    lines), the summaries, then the provenance."""
    lines = ["At a glance", ""]
    if report.scale:
        lines += [*_wrapped(report.scale), ""]
    for verdict in report.verdicts:
        lines += [*_wrapped(f"- {verdict}"), ""]
    for label, cells in report.matrix_rows:
        lines += _wrapped(f"{label}: " + "; ".join(
            f"{name} {cell.text or 'n/a'} {MATRIX_SYMBOLS[cell.mark]}".rstrip()
            for name, cell in zip(report.matrix_header, cells)))
    if report.matrix_rows:
        lines += ["", *_wrapped(MATRIX_LEGEND), ""]
    lines += ["Summary", ""]
    for summary in report.summaries:
        lines += [*_wrapped(summary), ""]
    return [*lines, *_wrapped(report.provenance), ""]


def _tail_lines(report: Content) -> list[str]:
    """The prose after the headline table: the sections' notes and the scenario differences."""
    lines = [""]
    for note in report.table_notes:
        lines += [*_wrapped(note), ""]
    lines += ["What would change this answer", ""]
    for policy, kpi, central, span, low, high, verdict in report.ranges_table:
        lines += [*_wrapped(f"{policy}, {kpi}: {central}; over the assumption sets {span} (lowest under {low}, "
                            f"highest under {high}): {verdict}."), ""]
    for note in report.ranges_notes:
        lines += [*_wrapped(note), ""]
    for section in report.sections:
        for text in (section.intro, *section.notes):
            if text:
                lines += [*_wrapped(f"{section.title}: {text}"), ""]
    for against, changes in report.differences:
        lines += _wrapped(f"{against}: differs in {'; '.join(changes)}.") + [""]
    return lines


def _starred_note(report: Content) -> list[str]:
    return [""] + _wrapped("* a counterfactual: it departs on purpose from Hong Kong law or practice, as the "
                           "notes below say.") if report.table_notes else []


def _text_pages(report: Content) -> list:
    """The PDF's text pages: title, provenance and summaries, the headline table, then notes and
    scenario differences, flowing onto as many pages as they need (the table's heading and
    header repeated on each page it continues on)."""
    columns = (0.03, 0.155, 0.28, 0.52, 0.61, 0.89, 0.97)  # left edges of the first three, right edges of the rest
    title = textwrap.wrap(report.title, TITLE_CHARACTERS)
    flow = [*(("title", line, 2.5 if i == len(title) - 1 else 1.6) for i, line in enumerate(title)),
            *(("text", line, 1.0) for line in _lead_lines(report)),
            ("heading", "Appendix: every headline KPI", 1.5), ("header", TABLE_HEADER, 1.0),
            *(("row", row, 1.0) for row in report.pdf_table),
            *(("text", line, 1.0) for line in _starred_note(report)),
            *(("text", line, 1.0) for line in _tail_lines(report))]
    pages: list = []
    y = 0.0

    def draw(kind: str, content, fig) -> None:
        if kind == "title":
            fig.text(0.06, y, content, fontsize=13, weight="bold")
        elif kind == "text":
            fig.text(0.06, y, content, fontsize=8)
        elif kind == "heading":
            fig.text(0.06, y, content, fontsize=10, weight="bold")
        else:
            for i, (x, cell, width) in enumerate(zip(columns, content, PDF_CELL_CHARACTERS)):
                fig.text(x, y, textwrap.shorten(cell, width, placeholder="\u2026"), fontsize=6.5,
                         weight="bold" if kind == "header" else "normal", ha="left" if i < 3 else "right")

    for kind, content, height in flow:
        if not pages or y - height * LINE < BOTTOM:
            pages.append(Figure(figsize=PAGE))  # not held by pyplot: a long report has many text pages
            y = TOP
            if kind == "row":
                for repeated, size in ((("heading", "Appendix: every headline KPI (continued)")), 1.5), (("header", TABLE_HEADER), 1.0):
                    draw(*repeated, pages[-1])
                    y -= size * LINE
        draw(kind, content, pages[-1])
        y -= height * LINE
    return pages


def render_pdf(report: Content, path: Path) -> None:
    """Text pages (summary, headline table, notes, differences), then one page per figure."""
    # TrueType (42) rather than Type 3 fonts: the PDF's text can be searched and extracted.
    with plt.rc_context({"pdf.fonttype": 42}), PdfPages(path, metadata=PDF_METADATA) as pdf:
        for page in _text_pages(report):
            pdf.savefig(page)
            plt.close(page)
        for figure in _figures(report):
            pdf.savefig(figure)


def _write_atomically(out_dir: Path, files: dict[str, object]) -> list[Path]:
    """Write each file (text, or a function of a path) into a temporary folder beside `out_dir`
    (`.<name>.partial-report-<pid>`, removed by the next report there if its process was killed),
    then move them all into `out_dir` with its parent locked; on any error or interruption
    nothing is left behind, and an OS error (a full disk, say) is an `OutputError` naming the path."""
    partial = out_dir.parent / f"{PARTIAL_PREFIX}{out_dir.name}.partial-report-{os.getpid()}"
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned(out_dir)
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        for name, writer in files.items():
            if isinstance(writer, str):
                (partial / name).write_text(writer, encoding="utf-8")
            else:
                writer(partial / name)
        with folder_lock(out_dir.parent):
            out_dir.mkdir(exist_ok=True)
            for name in files:
                os.replace(partial / name, out_dir / name)
    except OSError as error:
        raise OutputError.writing(out_dir, error) from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return [out_dir / name for name in files]


def build_report(source: str | Path | ReportInputs, out_dir: str | Path) -> list[Path]:
    """Write `report.html` and `report.pdf` into `out_dir` from a `compare` experiment's folder
    (or inputs already loaded); returns the paths written."""
    inputs = source if isinstance(source, ReportInputs) else load_inputs(source)
    report = content(inputs)
    try:
        return _write_atomically(Path(out_dir), {
            "report.html": render_html(report),
            "report.pdf": lambda path: render_pdf(report, path),
        })
    finally:
        for figure in _figures(report):
            plt.close(figure)
