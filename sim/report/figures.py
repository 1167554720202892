"""Figures of one run: turnover over time by form and quoted spread by form.

One house style for every figure: a title, axis labels with units, and a source line naming
the scenario, the seed and the package version, so a figure pasted into a slide keeps its
provenance.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim import __version__  # noqa: E402

if TYPE_CHECKING:
    from sim.engine import RunResult

FORM_COLOURS = {"conventional": "#4C72B0", "tokenized": "#DD8452"}
PNG_METADATA = {"Software": None}  # keeps the PNG bytes free of the matplotlib version string


def _finish(fig, ax, title: str, ylabel: str, result: RunResult, path: Path) -> None:
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_xlabel("Business day")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.text(
        0.01, 0.01,
        f"Source: LEAP tokenization simulator {__version__}; scenario '{result.scenario.name}', seed {result.seed}.",
        fontsize=7, color="#555555",
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110, metadata=PNG_METADATA)
    plt.close(fig)


def save_run_figures(result: RunResult, folder: Path) -> None:
    """Write turnover.png and spread.png into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    by_form = result.daily.groupby(["day", "form"])
    turnover = by_form["volume_hkd"].sum().unstack("form") / 1e6
    fig, ax = plt.subplots(figsize=(8, 4))
    for form in turnover.columns:
        ax.plot(turnover.index, turnover[form], label=form, color=FORM_COLOURS.get(form), linewidth=1.2)
    _finish(fig, ax, "Daily turnover by form", "Turnover (HKD million per day)", result, folder / "turnover.png")

    spread = by_form["quoted_spread_bps"].mean().unstack("form")
    fig, ax = plt.subplots(figsize=(8, 4))
    for form in spread.columns:
        ax.plot(spread.index, spread[form], label=form, color=FORM_COLOURS.get(form), linewidth=1.2)
    _finish(fig, ax, "Mean quoted spread by form", "Quoted spread (bps of mid)", result, folder / "spread.png")
