"""The report's market figures, drawn from the runs' series records: activity over time and liquidity.

* fan charts of daily tokenized turnover and of the tokenized share of value traded: per
  policy, its runs and its comparator's (grey), as the mean over replications with the 50% and 90%
  bands of the replications (5-business-day moving averages, so a week's noise does not hide
  the path; with few replications the bands are little more than the range of the runs);
* liquidity: the distribution of daily quoted spreads and depth at best, by venue (and its
  form), per scenario, pooled over listings and replications;
* the ETF premium of the quote mid to NAV per listing and scenario, with the authorised
  participant's arbitrage band.

Each function returns an open figure in the house style (`figures.add_source`), or None when
no scenario has the data (the report then says so in one line instead of drawing an empty plot).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from sim.figures import add_source, plt
from sim.report.inputs import ReportInputs
from sim.report.policy_figures import BASELINE_COLOUR, POLICY_COLOURS, source_text

SMOOTHING_DAYS = 5
BANDS = ((0.05, 0.95, 0.15), (0.25, 0.75, 0.3))  # (low quantile, high quantile, opacity)
COLUMNS = 2
BOX_WHISKERS = (5, 95)


def scenario_colour(inputs: ReportInputs, name: str) -> str:
    """Grey for the baseline, the policy's own colour otherwise (as in the headline figures)."""
    if name == inputs.baseline:
        return BASELINE_COLOUR
    return POLICY_COLOURS[inputs.policies.index(name) % len(POLICY_COLOURS)]


def scenario_names(inputs: ReportInputs) -> list[str]:
    return [inputs.baseline, *inputs.policies]


def daily_matrix(records: list[dict[str, Any]], extract: Callable[[dict[str, Any]], list]) -> np.ndarray | None:
    """Replications x days, smoothed by a moving average; None without records or with unequal
    horizons."""
    rows = [np.array([np.nan if v is None else v for v in extract(r)], dtype=float) for r in records]
    if not rows or len({len(r) for r in rows}) != 1 or not len(rows[0]):
        return None
    frame = pd.DataFrame(np.vstack(rows).T)
    return frame.rolling(SMOOTHING_DAYS, min_periods=1).mean().to_numpy().T


def _fan(ax, matrix: np.ndarray, colour: str, label: str) -> None:
    days = np.arange(matrix.shape[1])
    for low, high, alpha in BANDS:
        ax.fill_between(days, np.nanquantile(matrix, low, axis=0), np.nanquantile(matrix, high, axis=0),
                        color=colour, alpha=alpha, linewidth=0)
    ax.plot(days, np.nanmean(matrix, axis=0), color=colour, linewidth=1.3, label=label)


def fan_chart(inputs: ReportInputs, extract: Callable[[dict[str, Any]], list], scale: float, ylabel: str,
              title: str):
    """One panel per policy: its fan and its comparator's (grey), over business days."""
    comparators = {name: daily_matrix(inputs.series.get(name, []), extract)
                   for name in dict.fromkeys(inputs.comparator(p) for p in inputs.policies)}
    shown = [(p, m, comparators[inputs.comparator(p)]) for p in inputs.policies
             if (m := daily_matrix(inputs.series.get(p, []), extract)) is not None
             and comparators[inputs.comparator(p)] is not None]
    if not shown:
        return None
    rows = -(-len(shown) // COLUMNS)
    fig, axes = plt.subplots(rows, COLUMNS, figsize=(11, 2.7 * rows + 0.9), squeeze=False, sharey=True)
    for ax, (policy, matrix, base) in zip(axes.flat, shown):
        comparator = inputs.comparator(policy)
        _fan(ax, base * scale, BASELINE_COLOUR, inputs.label(comparator))
        _fan(ax, matrix * scale, scenario_colour(inputs, policy), inputs.label(policy))
        ax.set_title(f"{inputs.label(policy)} against {inputs.label(comparator)}", loc="left", fontsize=9)
        ax.set_xlabel("Business day", fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=7, loc="upper left")
    for ax in axes.flat[len(shown):]:
        ax.set_visible(False)
    fig.suptitle(f"{title}: mean, 50% and 90% bands over replications ({SMOOTHING_DAYS}-day moving average)",
                 x=0.01, ha="left", fontsize=11)
    add_source(fig, source_text(inputs))
    return fig


def turnover_fan(inputs: ReportInputs):
    return fan_chart(inputs, lambda r: r["turnover_hkd"]["tokenized"], 1e-6, "HKD million per day",
                     "Daily tokenized turnover")


def share_fan(inputs: ReportInputs):
    return fan_chart(inputs, lambda r: r["tokenized_share"], 100.0, "% of value traded",
                     "Tokenized share of daily value traded")


def pooled(records: list[dict[str, Any]], section: str, match: dict[str, str], field: str) -> np.ndarray:
    """Every value of `field` in the entries of `section` matching `match`, over all records."""
    values = [v for r in records for entry in r.get(section, [])
              if all(entry.get(k) == w for k, w in match.items()) for v in entry[field] if v is not None]
    return np.array(values, dtype=float)


def _groups(inputs: ReportInputs, section: str, keys: tuple[str, ...]) -> list[tuple[str, ...]]:
    return list(dict.fromkeys(tuple(e[k] for k in keys) for name in scenario_names(inputs)
                              for r in inputs.series.get(name, []) for e in r.get(section, [])))


def _boxes(ax, inputs: ReportInputs, groups: list[dict[str, str]], section: str, field: str, scale: float) -> None:
    """Box plots per group (x) and scenario (colour); whiskers at the 5th and 95th percentiles."""
    names = scenario_names(inputs)
    width = 0.8 / len(names)
    for g, match in enumerate(groups):
        for i, name in enumerate(names):
            values = pooled(inputs.series.get(name, []), section, match, field) * scale
            if not len(values):
                continue
            box = ax.boxplot(values, positions=[g - 0.4 + (i + 0.5) * width], widths=width * 0.85, whis=BOX_WHISKERS,
                             showfliers=False, patch_artist=True, medianprops={"color": "#222222"})
            box["boxes"][0].set_facecolor(scenario_colour(inputs, name))
    ax.set_xticks(range(len(groups)), [" ".join(m.values()) for m in groups], fontsize=8)
    ax.set_xlim(-0.5, len(groups) - 0.5)
    ax.grid(axis="y", alpha=0.3)


def _scenario_legend(fig, inputs: ReportInputs) -> None:
    handles = [plt.Rectangle((0, 0), 1, 1, color=scenario_colour(inputs, n)) for n in scenario_names(inputs)]
    fig.legend(handles, [inputs.label(n) for n in scenario_names(inputs)], loc="upper center", bbox_to_anchor=(0.5, 0.94), frameon=False,
               fontsize=7, ncol=min(5, len(handles)))


def liquidity(inputs: ReportInputs):
    """Distributions of daily quoted spread and depth at best by venue and form, per scenario."""
    groups = [dict(zip(("venue", "form"), g)) for g in _groups(inputs, "books", ("venue", "form"))]
    if not groups:
        return None
    fig, (spread, depth) = plt.subplots(1, 2, figsize=(11, 4.6))
    _boxes(spread, inputs, groups, "books", "spread_bps", 1.0)
    spread.set_ylabel("Quoted spread (bps of mid), daily per listing")
    spread.set_title("Quoted spread", loc="left", fontsize=10)
    _boxes(depth, inputs, groups, "books", "depth_hkd", 1e-6)
    depth.set_ylabel("Depth at best quotes (HKD million), daily per listing")
    depth.set_title("Depth at best", loc="left", fontsize=10)
    _scenario_legend(fig, inputs)
    fig.suptitle("Liquidity by venue and form (boxes: quartiles; whiskers: 5th\u201395th percentile)",
                 x=0.01, ha="left", fontsize=11)
    add_source(fig, source_text(inputs))
    fig.subplots_adjust(top=0.80)
    return fig


def etf_premium(inputs: ReportInputs):
    """Per ETF listing, the daily premium to NAV per scenario with its arbitrage band (dashed),
    and the share of days inside the band."""
    listings = _groups(inputs, "etf_premium", ("instrument", "venue", "form"))
    if not listings:
        return None
    names = scenario_names(inputs)
    fig, axes = plt.subplots(1, len(listings), figsize=(5.5 * len(listings), 4.6), squeeze=False)
    for ax, (instrument, venue, form) in zip(axes.flat, listings):
        match = {"instrument": instrument, "venue": venue}
        ticks = [inputs.label(n) for n in names]
        for i, name in enumerate(names):
            records = inputs.series.get(name, [])
            premium = pooled(records, "etf_premium", match, "premium_bps")
            band = pooled(records, "etf_premium", match, "band_bps")
            if not len(premium) or len(band) != len(premium):
                continue
            box = ax.boxplot(premium, positions=[i], widths=0.6, whis=BOX_WHISKERS, showfliers=False,
                             patch_artist=True, medianprops={"color": "#222222"})
            box["boxes"][0].set_facecolor(scenario_colour(inputs, name))
            for sign in (-1, 1):
                ax.hlines(sign * band.mean(), i - 0.4, i + 0.4, colors="#C44E52", linestyles="--", linewidth=1)
            ticks[i] = f"{inputs.label(name)} ({np.mean(np.abs(premium) <= band):.0%})"
        ax.axhline(0, color="#333333", linewidth=0.6)
        ax.margins(y=0.08)
        ax.set_xticks(range(len(names)), ticks, rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("Premium of quote mid to NAV (bps), daily")
        ax.set_title(f"{instrument} on {venue} ({form})", loc="left", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("ETF premium to NAV and the arbitrage band (dashed: the authorised participant's mean band; "
                 "in brackets: share of days inside it)",
                 x=0.01, ha="left", fontsize=11)
    add_source(fig, source_text(inputs))
    return fig
