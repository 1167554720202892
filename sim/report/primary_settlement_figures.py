"""The report's primary-market and settlement figures.

* primary market (from the runs' series records): each bond issue's cost in bps of its size
  (gross, and net of grants) and its days to settle, by form, per scenario; and the share of
  units allocated to each investor group;
* settlement: replacement-cost exposure outstanding over time per venue (series records, mean
  over replications, 5-day moving average); and per venue and scenario the mean gross and
  netted funding need and the CCP margin, with the gross/net factor (summary.csv KPIs).

Each function returns an open figure in the house style, or None when no scenario has the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.figures import FORM_COLOURS, add_source, plt
from sim.report.inputs import ReportInputs
from sim.report.market_figures import daily_matrix, scenario_colour, scenario_names
from sim.report.policy_figures import _errors, source_text
from sim.report.text import hkd_scale
from sim.scenario.base import FORMS

GROUP_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860")
FUNDING = (("funding_gross_mean_hkd", "Gross funding need"), ("funding_net_mean_hkd", "Netted funding need"),
           ("margin_mean_hkd", "CCP margin"))


def _issues(inputs: ReportInputs, name: str) -> list[dict[str, Any]]:
    return [issue for record in inputs.series.get(name, []) for issue in record.get("issues", [])]


def _hkd_unit(magnitude: float) -> tuple[float, str]:
    factor, suffix = hkd_scale(magnitude)
    return factor, {"bn": "HKD billion", "m": "HKD million", "k": "HKD thousand"}.get(suffix, "HKD")


def primary_market(inputs: ReportInputs):
    """Cost per issue and days to settle by form, and allocation by investor group, per scenario."""
    names = [n for n in scenario_names(inputs) if _issues(inputs, n)]
    if not names:
        return None
    fig, (cost, settle, allocation) = plt.subplots(1, 3, figsize=(12, 4.8))
    for i, name in enumerate(names):
        issues = _issues(inputs, name)
        for j, form in enumerate(FORMS):
            of_form = [issue for issue in issues if issue["form"] == form]
            x = i + (j - 0.5) * 0.3
            gross = [issue["cost_bps"] for issue in of_form if issue["cost_bps"] is not None]
            net = [issue["net_cost_bps"] for issue in of_form if issue["net_cost_bps"] is not None]
            cost.scatter([x] * len(gross), gross, marker="_", s=80, color=FORM_COLOURS[form])
            cost.scatter([x] * len(net), net, marker="o", s=14, color=FORM_COLOURS[form])
            days = [issue["days_to_settle"] for issue in of_form if issue["days_to_settle"] is not None]
            if days:
                settle.bar(x, np.mean(days), 0.3, color=FORM_COLOURS[form])
                settle.scatter([x] * len(days), days, s=8, color="#222222", zorder=3)
        groups: dict[str, float] = {}
        for issue in issues:
            for group, units in issue["allocated_units"].items():
                groups[group] = groups.get(group, 0.0) + units
        total, bottom = sum(groups.values()) or 1.0, 0.0
        for k, (group, units) in enumerate(sorted(groups.items())):
            share = 100.0 * units / total
            allocation.bar(i, share, 0.6, bottom=bottom, color=GROUP_COLOURS[k % len(GROUP_COLOURS)],
                           label=group if i == 0 else None)
            bottom += share
    for ax in (cost, settle, allocation):
        ax.set_xticks(range(len(names)), [inputs.label(n) for n in names], rotation=30, ha="right", fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    cost.set_ylabel("Issuer's cost (bps of size)")
    cost.set_title("Cost per issue (dash: gross; dot: net of grants)", loc="left", fontsize=9)
    settle.set_ylabel("Business days from close to settlement")
    settle.set_title("Days to settle (bar: mean; dots: issues)", loc="left", fontsize=9)
    allocation.set_ylabel("% of units allocated")
    allocation.set_title("Allocation by investor group", loc="left", fontsize=9)
    allocation.legend(fontsize=7, framealpha=0.9)
    cost.legend([plt.Rectangle((0, 0), 1, 1, color=FORM_COLOURS[f]) for f in FORMS], FORMS, fontsize=7, framealpha=0.9)
    fig.suptitle("Primary market: bond issues over all replications, by form", x=0.01, ha="left", fontsize=11)
    add_source(fig, source_text(inputs))
    return fig


def _venues(inputs: ReportInputs) -> list[str]:
    return list(dict.fromkeys(v for n in scenario_names(inputs) for r in inputs.series.get(n, [])
                              for v in r.get("exposure_hkd", {})))


def exposure(inputs: ReportInputs):
    """Exposure outstanding per settlement venue over time: one line per scenario."""
    venues = _venues(inputs)
    if not venues:
        return None
    fig, axes = plt.subplots(1, len(venues), figsize=(4 * len(venues) + 2.5, 4.2), squeeze=False)
    for ax, venue in zip(axes.flat, venues):
        lines = [(n, m) for n in scenario_names(inputs)
                 if (m := daily_matrix(inputs.series.get(n, []), lambda r, v=venue: r["exposure_hkd"].get(v, [])))
                 is not None]
        factor, unit = _hkd_unit(max((float(np.nanmax(m)) for _, m in lines if np.isfinite(m).any()), default=0.0))
        for name, matrix in lines:
            ax.plot(np.nanmean(matrix, axis=0) / factor, color=scenario_colour(inputs, name), linewidth=1.1,
                    label=inputs.label(name))
        ax.set_title(venue, loc="left", fontsize=10)
        ax.set_xlabel("Business day")
        ax.set_ylabel(f"Exposure outstanding ({unit})")
        ax.grid(alpha=0.3)
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="center right", frameon=False, fontsize=7)
    fig.suptitle("Settlement: replacement-cost exposure outstanding by venue (mean over replications, "
                 "5-day moving average)", x=0.01, ha="left", fontsize=11)
    add_source(fig, source_text(inputs))
    fig.subplots_adjust(right=0.84)  # room for the legend
    return fig


def funding(inputs: ReportInputs):
    """Per venue and scenario: mean gross and netted funding need, and CCP margin (95% intervals),
    with the gross/net factor above each pair."""
    summary = inputs.summary.set_index(["scenario", "kpi"])
    kpis = set(inputs.summary["kpi"])
    venues = [v for v in _venues(inputs) if f"funding_gross_mean_hkd_{v}" in kpis] or sorted(
        k.removeprefix("funding_gross_mean_hkd_") for k in kpis
        if k.startswith("funding_gross_mean_hkd_") and k.removeprefix("funding_gross_mean_hkd_") not in FORMS)
    if not venues:
        return None
    names = scenario_names(inputs)
    fig, axes = plt.subplots(len(venues), 1, figsize=(11, 2.8 * len(venues) + 0.9), squeeze=False)
    top = float(np.nanmax([summary["mean"].get((n, f"{k}_{v}"), np.nan) for n in names for k, _ in FUNDING
                           for v in venues] + [0.0]))
    factor, unit = _hkd_unit(top)
    width = 0.8 / len(FUNDING)
    for ax, venue in zip(axes.flat, venues):
        for j, (kpi, label) in enumerate(FUNDING):
            cells = summary.reindex([(n, f"{kpi}_{venue}") for n in names])
            low, mean, high = (cells[c].to_numpy(dtype=float) / factor for c in ("ci_low", "mean", "ci_high"))
            ax.bar(np.arange(len(names)) + (j - 1) * width, mean, width, yerr=_errors(low, mean, high), capsize=2,
                   color=GROUP_COLOURS[j], label=label)
        gross = summary.reindex([(n, f"funding_gross_mean_hkd_{venue}") for n in names])
        net = summary.reindex([(n, f"funding_net_mean_hkd_{venue}") for n in names])["mean"].to_numpy(dtype=float)
        tops = np.fmax(gross["mean"].to_numpy(dtype=float), gross["ci_high"].to_numpy(dtype=float))
        for i, (g, n, top) in enumerate(zip(gross["mean"].to_numpy(dtype=float), net, tops)):
            if n > 0 and np.isfinite(g):
                ax.annotate(f"gross/net \u00d7{g / n:.1f}", (i - width, top / factor), xytext=(0, 3),
                            textcoords="offset points", ha="center", fontsize=7)
        ax.set_xticks(range(len(names)), [inputs.label(n) for n in names], fontsize=7)
        ax.set_ylabel(f"{unit} (daily mean)", fontsize=8)
        ax.set_title(venue, loc="left", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.margins(y=0.15)
    first = axes.flat[0]
    first.set_ylim(top=first.get_ylim()[1] * 1.3)  # room for the legend above the bars
    first.legend(loc="upper right", frameon=False, fontsize=7, ncol=3)
    fig.suptitle("Settlement funding: gross and netted funding need and CCP margin per venue (95% intervals)",
                 x=0.01, ha="left", fontsize=11)
    add_source(fig, source_text(inputs))
    return fig
