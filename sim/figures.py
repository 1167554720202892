"""Figures of one run (turnover and quoted spread over time, per instrument and form), and the
house style every figure of the package shares.

One house style for every figure: a title, axis labels with units, and a source line naming
the scenario, the seed and the package version, so a figure pasted into a slide keeps its
provenance. `add_source` and `PNG_METADATA` carry that style to the policy report's and the validation's figures.
Every figure module imports this one, which turns matplotlib's math parsing off: names and
descriptions come from scenario files, and a `$` in them is text to print, not markup to parse
(`$\\frac$` would otherwise stop a report after all its runs). No figure uses math text.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["text.parse_math"] = False  # text from scenario files is plain text, never mathtext
import matplotlib.pyplot as plt  # noqa: E402

from sim import __version__  # noqa: E402

if TYPE_CHECKING:
    from sim.runs import RunResult

FORM_COLOURS = {"conventional": "#4C72B0", "tokenized": "#DD8452"}
INSTRUMENT_STYLES = ("-", "--", ":", "-.")
PNG_METADATA = {"Software": None}  # keeps the PNG bytes free of the matplotlib version string


SOURCE_POINTS = 7
CHARACTERS_PER_INCH = 17  # of 7-point sans-serif text, a little under its average width


def add_source(fig, text: str) -> None:
    """The house source line at the foot of `fig`, wrapped to the figure's width (a report with
    many scenarios names them all), with room left for it by tight_layout."""
    lines = textwrap.wrap(f"Source: LEAP tokenization simulator {__version__}; {text}",
                          int(fig.get_figwidth() * CHARACTERS_PER_INCH))
    fig.text(0.01, 0.01, "\n".join(lines), fontsize=SOURCE_POINTS, color="#555555", va="bottom")
    height = len(lines) * SOURCE_POINTS * 1.3 / 72 / fig.get_figheight()
    fig.tight_layout(rect=(0, max(0.03, 0.015 + height), 1, 1))


def _finish(fig, ax, title: str, ylabel: str, result: RunResult, path: Path) -> None:
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_xlabel("Business day")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    add_source(fig, f"scenario '{result.scenario.name}', seed {result.seed}.")
    fig.savefig(path, dpi=110, metadata=PNG_METADATA)
    plt.close(fig)


def _plot_by_instrument_and_form(ax, series) -> None:
    """One line per (instrument, form): colour for the form, line style for the instrument."""
    instruments = list(dict.fromkeys(series.columns.get_level_values("instrument")))
    for instrument, form in series.columns:
        style = INSTRUMENT_STYLES[instruments.index(instrument) % len(INSTRUMENT_STYLES)]
        ax.plot(series.index, series[(instrument, form)], style, label=f"{instrument}, {form}",
                color=FORM_COLOURS.get(form), linewidth=1.1)


def save_run_figures(result: RunResult, folder: Path) -> None:
    """Write turnover.png and spread.png into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    by_line = result.daily.groupby(["day", "instrument", "form"])
    turnover = by_line["volume_hkd"].sum().unstack(["instrument", "form"]) / 1e6
    fig, ax = plt.subplots(figsize=(8, 4))
    _plot_by_instrument_and_form(ax, turnover)
    _finish(fig, ax, "Daily turnover by instrument and form", "Turnover (HKD million per day)", result, folder / "turnover.png")

    spread = by_line["quoted_spread_bps"].mean().unstack(["instrument", "form"]).dropna(axis=1, how="all")
    fig, ax = plt.subplots(figsize=(8, 4))
    _plot_by_instrument_and_form(ax, spread)
    _finish(fig, ax, "Mean quoted spread on order books", "Quoted spread (bps of mid)", result, folder / "spread.png")
