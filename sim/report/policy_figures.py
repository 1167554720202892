"""The policy report's figures: headline KPIs per scenario, the fiscal view, a forest plot, and
the stamp duty waiver's break-even. Each policy's differences are against its comparator (see
`inputs`), which titles, tick labels and legends name; a counterfactual scenario is labelled as
one wherever it appears, and every figure's source line gives each counterfactual's text.

Each function returns an open matplotlib figure in the house style of `figures` (title, axis
labels with units, source line naming the scenarios, seeds and package version); the report
renders it once as an embedded PNG and once as a PDF page, then closes it. Whiskers are 95%
intervals: of a scenario's mean (summary.csv) or of a paired difference (comparison.csv).
"""

from __future__ import annotations

import math
import textwrap

import numpy as np

from sim.kpis import FISCAL_KPIS
from sim.report.break_even import BreakEven
from sim.figures import add_source, plt
from sim.report.inputs import ReportInputs
from sim.report.text import HEADLINES, Headline, hkd_scale, yearly

BASELINE_COLOUR = "#8C8C8C"
POLICY_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#CCB974")
COLUMNS = 3


def source_text(inputs: ReportInputs) -> str:
    """The figures' provenance: scenario names, seeds and replications, and what each
    counterfactual scenario departs from."""
    scenarios = ", ".join(s.name for s in inputs.scenarios)
    counterfactual = "".join(f" Counterfactual {name}: {text}." for name, text in inputs.counterfactuals.items())
    return f"scenarios {scenarios}; base seed {inputs.base_seed}, replications 0\u2013{inputs.reps - 1}.{counterfactual}"


def _colours(inputs: ReportInputs) -> list[str]:
    return [policy_colour(inputs, name) for name in (inputs.baseline, *inputs.policies)]


def _scaled(values: np.ndarray, unit: str) -> tuple[np.ndarray, str]:
    """Values in a readable unit for an axis: HKD in thousands/millions/billions, fractions in %."""
    if unit == "HKD":
        finite = values[np.isfinite(values)]
        factor, suffix = hkd_scale(float(np.max(np.abs(finite))) if len(finite) else 0.0)
        return values / factor, {"bn": "HKD billion", "m": "HKD million", "k": "HKD thousand"}.get(suffix, "HKD")
    if unit == "fraction":
        return values * 100, "%"
    return values, unit


def policy_colour(inputs: ReportInputs, name: str) -> str:
    """The one colour a scenario has in every figure: grey for the baseline, else its policy's."""
    if name not in inputs.policies:
        return BASELINE_COLOUR
    return POLICY_COLOURS[inputs.policies.index(name) % len(POLICY_COLOURS)]


def _errors(low: np.ndarray, mean: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Whisker lengths below and above; none where the interval is undefined."""
    return np.nan_to_num(np.vstack([mean - low, high - mean]), nan=0.0)


def headline_bars(inputs: ReportInputs, headlines: list[Headline]):
    """Small multiples: each headline KPI's mean per scenario with its 95% interval."""
    names = [inputs.baseline, *inputs.policies]
    rows = math.ceil(len(headlines) / COLUMNS)
    fig, axes = plt.subplots(rows, COLUMNS, figsize=(11, 2.9 * rows + 0.9), squeeze=False)
    summary = inputs.summary.set_index(["scenario", "kpi"])
    measured = set(inputs.summary["kpi"])
    for ax, headline in zip(axes.flat, headlines):
        kpi, when = yearly(headline.kpi, measured)
        cells = summary.reindex([(name, kpi) for name in names])
        stacked = np.vstack([cells[c].to_numpy(dtype=float) for c in ("ci_low", "mean", "ci_high")])
        (low, mean, high), unit = _scaled(stacked, headline.unit)
        ax.bar(range(len(names)), mean, yerr=_errors(low, mean, high), color=_colours(inputs), capsize=3)
        ax.set_title(headline.label + (f", {when}" if when else ""), loc="left", fontsize=9)
        ax.set_ylabel(unit, fontsize=8)
        ax.set_xticks(range(len(names)), [inputs.label(n) for n in names], rotation=30, ha="right", fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes.flat[len(headlines):]:
        ax.set_visible(False)
    fig.suptitle("Headline KPIs per scenario: mean with 95% interval", x=0.01, ha="left", fontsize=12)
    add_source(fig, source_text(inputs))
    return fig


HATCHES = {"stamp_duty_hkd": "", "grants_paid_hkd": "//", "net_fiscal_hkd": ".."}


def fiscal_finding(inputs: ReportInputs) -> str:
    """The fiscal view's title: each policy's net change to the public purse a year (or over the
    run), said only where its 95% interval excludes zero."""
    measured = set(inputs.comparison["kpi"])
    kpi, when = yearly("net_fiscal_hkd", measured)
    comparison = inputs.comparison.set_index(["policy", "kpi"])
    parts = []
    for policy in inputs.policies:
        if (policy, kpi) not in comparison.index:
            continue
        row = comparison.loc[(policy, kpi)]
        if not (row["ci_low"] > 0 or row["ci_high"] < 0):
            parts.append(f"{inputs.label(policy)}: no clear change")
            continue
        factor, suffix = hkd_scale(abs(row["difference"]))
        verb = "gains" if row["difference"] > 0 else "costs"
        parts.append(f"{inputs.label(policy)} {verb} HK${abs(row['difference']) / factor:,.3g}{suffix} {when or 'over the run'}")
    if not parts or len(parts) > 3:
        return "Fiscal view: duty and grants, per scenario and against each policy's comparator"
    return "Net effect on the public purse: " + "; ".join(parts)


def fiscal_view(inputs: ReportInputs):
    """Stamp duty collected and grants paid per scenario, and their paired change against each
    policy's comparator, a year where the runs measured it; each scenario in its own colour, each
    KPI in its own hatching; the title states each policy's net effect."""
    measured = set(inputs.summary["kpi"])
    kpis = [k for k in FISCAL_KPIS if k in measured]
    shown = {k: yearly(k, measured)[0] for k in kpis}
    when = yearly(kpis[0], measured)[1] if kpis else ""
    labels = {h.kpi: h.label for h in HEADLINES}
    names = [inputs.baseline, *inputs.policies]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4))
    width = 0.8 / max(len(kpis), 1)
    summary = inputs.summary.set_index(["scenario", "kpi"])
    comparison = inputs.comparison.set_index(["policy", "kpi"])
    levels = np.vstack([summary.reindex([(n, shown[k]) for n in names])["mean"].to_numpy(dtype=float) for k in kpis])
    changes = np.vstack([comparison.reindex([(p, shown[k]) for p in inputs.policies])["difference"].to_numpy(dtype=float)
                         for k in kpis])
    factor, suffix = hkd_scale(float(np.nanmax(np.abs(np.concatenate([levels.ravel(), changes.ravel(), [0.0]])))))
    unit = {"bn": "HKD billion", "m": "HKD million", "k": "HKD thousand"}.get(suffix, "HKD")
    for i, kpi in enumerate(kpis):
        level = summary.reindex([(n, shown[kpi]) for n in names])
        left.bar(np.arange(len(names)) + i * width, level["mean"] / factor, width, label=labels[kpi],
                 color=[policy_colour(inputs, n) for n in names], hatch=HATCHES[kpi], edgecolor="white",
                 yerr=_errors(*(level[c].to_numpy(dtype=float) / factor for c in ("ci_low", "mean", "ci_high"))),
                 capsize=3)
        paired = comparison.reindex([(p, shown[kpi]) for p in inputs.policies])
        right.bar(np.arange(len(inputs.policies)) + i * width, paired["difference"] / factor, width, label=labels[kpi],
                  color=[policy_colour(inputs, p) for p in inputs.policies], hatch=HATCHES[kpi], edgecolor="white",
                  yerr=_errors(*(paired[c].to_numpy(dtype=float) / factor for c in ("ci_low", "difference", "ci_high"))),
                  capsize=3)
    pairs = [f"{inputs.label(p)}\nagainst {inputs.label(inputs.comparator(p))}" for p in inputs.policies]
    for ax, ticks, title in ((left, [inputs.label(n) for n in names], "Collected and paid per scenario"),
                             (right, pairs, "Change against each policy's comparator (policy \u2212 comparator)")):
        ax.set_xticks(np.arange(len(ticks)) + width * (len(kpis) - 1) / 2, ticks, rotation=30, ha="right", fontsize=8)
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_ylabel(f"{unit} {when or 'over the horizon'}")
        ax.axhline(0, color="#333333", linewidth=0.8)
        ax.grid(axis="y", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor="#BBBBBB", hatch=HATCHES[k], edgecolor="white") for k in kpis]
    fig.legend(handles, [labels[k] for k in kpis], frameon=False, fontsize=8, ncol=len(kpis), loc="upper right",
               bbox_to_anchor=(0.99, 0.95))  # hatching says which KPI; colour, which scenario
    fig.suptitle(fiscal_finding(inputs), x=0.01, ha="left", fontsize=11)
    add_source(fig, source_text(inputs))
    return fig


def forest_plot(inputs: ReportInputs, headlines: list[Headline]):
    """Paired relative change of each headline KPI per policy with its 95% interval (percent of
    its comparator's mean); KPIs whose comparator means are all zero have no relative change and
    are left out."""
    comparison = inputs.comparison.set_index(["policy", "kpi"])
    shown = [h for h in headlines
             if np.any(comparison.reindex([(p, h.kpi) for p in inputs.policies])["comparator_mean"].fillna(0) != 0)]
    fig, ax = plt.subplots(figsize=(9, 1.0 + 0.45 * max(len(shown), 1) * max(1, len(inputs.policies) / 2)))
    offsets = np.linspace(-0.3, 0.3, len(inputs.policies)) if len(inputs.policies) > 1 else np.zeros(1)
    for i, policy in enumerate(inputs.policies):
        rows = comparison.reindex([(policy, h.kpi) for h in shown])
        base = rows["comparator_mean"].replace(0, np.nan).to_numpy(dtype=float)
        low, mid, high = (100 * rows[c].to_numpy(dtype=float) / base for c in ("ci_low", "difference", "ci_high"))
        colour = policy_colour(inputs, policy)
        ax.errorbar(mid, np.arange(len(shown)) + offsets[i], xerr=_errors(low, mid, high), fmt="o", markersize=4,
                    capsize=2, color=colour)
        ax.annotate(textwrap.fill(f"{inputs.label(policy)} against {inputs.label(inputs.comparator(policy))}", 34),
                    (1.0, offsets[i]), xycoords=("axes fraction", "data"), xytext=(4, 0), textcoords="offset points",
                    color=colour, fontsize=7, va="center", ha="left")  # a direct label on the first row, not a legend
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(range(len(shown)), [h.label for h in shown], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Change against the policy's comparator (% of the comparator's mean), 95% paired interval")
    ax.set_title("Paired differences per policy", loc="left", fontsize=12)
    ax.grid(axis="x", alpha=0.3)
    fig.subplots_adjust(left=0.3, right=0.7)  # room for the KPI names and the direct labels
    add_source(fig, source_text(inputs))
    return fig


def _pairs(inputs: ReportInputs) -> str:
    """"waiver against duty (counterfactual); duty (counterfactual) against baseline"."""
    return "; ".join(f"{inputs.label(p)} against {inputs.label(inputs.comparator(p))}" for p in inputs.policies)


def report_figures(inputs: ReportInputs, headlines: list[Headline]) -> list[tuple[str, object]]:
    """(caption, figure) for every figure of the report, in order."""
    return [
        ("Headline KPIs per scenario: mean over replications with 95% confidence intervals.",
         headline_bars(inputs, headlines)),
        ("Fiscal view: stamp duty collected and grants paid per scenario (left) and the paired change "
         f"against each policy's comparator (right: {_pairs(inputs)}).", fiscal_view(inputs)),
        (f"Paired differences of each policy against its comparator ({_pairs(inputs)}) as a percentage of the "
         "comparator's mean, with 95% intervals; an interval that crosses zero means no clear effect.",
         forest_plot(inputs, headlines)),
    ]



def break_even_chart(inputs: ReportInputs, cases: list[BreakEven]):
    """Per waiver: duty forgone (flat, with its 95% band) against the duty that the extra turnover
    would raise if matched by trading taxed at the waived rate on both sides (rising line), over
    the waived channel's turnover response; the crossing is the break-even response, the shaded
    span the response the model measured (see `break_even`)."""
    fig, axes = plt.subplots(1, len(cases), figsize=(5.5 * len(cases) + 0.5, 4.6), squeeze=False)
    for ax, case in zip(axes.flat, cases):
        low, high = case.response_interval
        right = 100 * 1.35 * max(case.break_even_response, high, case.response, 0.05)
        response = np.linspace(0.0, right, 200)
        raised = 2 * case.rate_per_side * case.comparator_turnover_hkd * response / 100
        factor, suffix = hkd_scale(max(case.forgone_hkd, float(raised[-1])))
        unit = {"bn": "HKD billion", "m": "HKD million", "k": "HKD thousand"}.get(suffix, "HKD")
        ax.axhline(case.forgone_hkd / factor, color="#C44E52", linewidth=1.4, label="Duty forgone (model)")
        if np.isfinite(case.forgone_low_hkd) and np.isfinite(case.forgone_high_hkd):
            ax.axhspan(case.forgone_low_hkd / factor, case.forgone_high_hkd / factor, color="#C44E52", alpha=0.15)
        ax.plot(response, raised / factor, color="#4C72B0", linewidth=1.4,
                label=f"Duty on the extra turnover at {100 * case.rate_per_side:.2g}% per side")
        ax.axvline(100 * case.break_even_response, color="#333333", linestyle="--", linewidth=1)
        ax.annotate(f"break-even {100 * case.break_even_response:+.0f}%", (100 * case.break_even_response, 0),
                    xytext=(4, 6), textcoords="offset points", fontsize=8)
        ax.axvspan(100 * low, 100 * high, color="#55A868", alpha=0.2)
        ax.axvline(100 * case.response, color="#55A868", linewidth=1.4,
                   label=f"Measured response {100 * case.response:+.0f}% (95% CI)")
        ax.set_xlim(min(0.0, 100 * low * 1.1), right)
        ax.set_ylim(bottom=0)
        ax.set_xlabel(f"Turnover response of {', '.join(case.channels)} (% of its turnover in {case.comparator})",
                      fontsize=8)
        ax.set_ylabel(f"{unit} over the horizon")
        ax.set_title(f"{inputs.label(case.policy)} against {inputs.label(case.comparator)}", loc="left", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=7, loc="upper left")
    fig.suptitle("Stamp duty waiver break-even: duty forgone against the duty the extra turnover could raise",
                 x=0.01, ha="left", fontsize=11)
    add_source(fig, source_text(inputs))
    return fig
