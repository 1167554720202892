"""Figures of the validation report, one per check family, each set against its published target.

Why: a reader should see at a glance how far each measured figure sits from what the literature
reports, and what kind of check it is (a calibration target's figure says it is fitted, not
evidence). House style as `sim.figures`: a title, axis labels with units, and a source line
naming the scenario, the seeds and the package version.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullFormatter, ScalarFormatter  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim import __version__  # noqa: E402
from sim.figures import PNG_METADATA  # noqa: E402
from sim.validation.arbitrage_band import BandShare  # noqa: E402
from sim.validation.elasticity import PUBLISHED_RANGE, Elasticity  # noqa: E402
from sim.validation.kinds import CALIBRATION_TARGET, IDENTITY, NOT_EVIDENCE, OUT_OF_SAMPLE  # noqa: E402
from sim.validation.littles_law import LittleRatio  # noqa: E402
from sim.validation.replay import Replay  # noqa: E402
from sim.validation.suite import Validation  # noqa: E402
from sim.validation.zero_intelligence import KINDS, PUBLISHED, summary  # noqa: E402

KIND_COLOURS = {"ZI-C": "#4C72B0", "ZI-U": "#DD8452"}
# A second title line: what the check behind the figure can show (sim.validation.kinds).
CHECK_KIND_LINES = {
    IDENTITY: "Identity check: holds by construction, fails only if the code breaks",
    OUT_OF_SAMPLE: "Out of sample: no parameter behind it was set from this figure",
    CALIBRATION_TARGET: f"Calibration target: {NOT_EVIDENCE}",
}


def _finish(fig, ax, title: str, xlabel: str, ylabel: str, source: str, path: Path, legend_columns: int = 1,
            *, kind: str) -> None:
    ax.set_title(f"{title}\n{CHECK_KIND_LINES[kind]}", loc="left", fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8, ncol=legend_columns, loc="upper center" if legend_columns > 1 else "best")
    fig.text(0.01, 0.01, f"Source: LEAP tokenization simulator {__version__}; {source}.", fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110, metadata=PNG_METADATA)
    plt.close(fig)


def zero_intelligence_figure(table: pd.DataFrame, source: str, path: Path) -> None:
    """Mean efficiency per market and trader kind, with the published ranges shaded."""
    means = summary(table)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    x = np.arange(len(means))
    for k, kind in enumerate(KINDS):
        low, high = PUBLISHED[kind]
        ax.axhspan(low * 100, high * 100, color=KIND_COLOURS[kind], alpha=0.12, label=f"{kind} published range")
        ax.bar(x + (k - 0.5) * 0.38, means[kind] * 100, 0.38, color=KIND_COLOURS[kind], label=f"{kind} measured")
    ax.set_xticks(x, [name.split(":")[0] for name in means.index])
    ax.set_ylim(0, 125)
    _finish(fig, ax, "Zero-intelligence traders: allocative efficiency (Gode & Sunder 1993)", "Market",
            "Efficiency (% of maximum surplus)", source, path, legend_columns=2, kind=OUT_OF_SAMPLE)


def elasticity_figure(result: Elasticity, source: str, path: Path) -> None:
    """ln volume against ln total cost, the fitted slope, and the published slopes through the middle point."""
    costs = np.array([p.total_cost_bps for p in result.points])
    volumes = np.array([p.volume_hkd for p in result.points]) / 1e6
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.loglog(costs, volumes, "o", color="#4C72B0", label=f"model (slope {result.slope:.2f})")
    middle = len(costs) // 2
    grid = np.linspace(costs.min() * 0.9, costs.max() * 1.1, 50)
    for slope, style in ((PUBLISHED_RANGE[0], ":"), (-1.0, "--"), (PUBLISHED_RANGE[1], ":")):
        ax.loglog(grid, volumes[middle] * (grid / costs[middle]) ** slope, style, color="#555555", linewidth=1,
                  label=f"published slope {slope:g}")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())
    ax.set_xticks(costs.round(1))
    ax.set_yticks(volumes.round())
    _finish(fig, ax, "Volume against total transaction cost (duty sweep)", "Total cost per side (bps, log scale)",
            "ETF conventional turnover (HKD million, log scale)", source, path, kind=CALIBRATION_TARGET)


def replay_figure(replay: Replay, source: str, path: Path) -> None:
    """Daily exchange volume with and without the 2021 duty rise."""
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(replay.counterfactual_volume_hkd.index, replay.counterfactual_volume_hkd / 1e6, color="#555555",
            label="counterfactual: 0.10% throughout")
    ax.plot(replay.rise_volume_hkd.index, replay.rise_volume_hkd / 1e6, color="#C44E52", label="0.10% -> 0.13% per side")
    ax.axvline(replay.switch_day - 0.5, color="black", linewidth=0.8, linestyle="--", label="duty rise")
    _finish(fig, ax, f"Replay of the 2021 stamp duty rise: volume {replay.change_vs_counterfactual:+.1%} vs counterfactual",
            "Business day", "Exchange turnover (HKD million per day)", source, path, kind=CALIBRATION_TARGET)


def premium_figure(shares: list[BandShare], source: str, path: Path) -> None:
    """Distribution of daily premiums per ETF listing, with each listing's mean band."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    widest = 1.1 * max((share.band_bps.max() for share in shares if len(share.band_bps)), default=10.0)
    bins = np.linspace(-widest, widest, 45)
    for share, colour in zip(shares, colours):
        label = f"{share.instrument} on {share.venue}"
        ax.hist(share.premium_bps, bins=bins, alpha=0.5, color=colour, label=f"{label}: {share.share_inside:.0%} in band")
        for sign in (-1, 1):
            ax.axvline(sign * share.band_bps.mean(), color=colour, linestyle="--", linewidth=1)
    _finish(fig, ax, "Premium to NAV (ETFs) or backing value (tokens) and the arbitrage band (dashed)", "Daily mean premium of the quote mid (bps)",
            "Days", source, path, kind=IDENTITY)


def littles_law_figure(ratios: list[LittleRatio], source: str, path: Path) -> None:
    """Mean unsettled value against V x L per venue."""
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(ratios))
    ax.bar(x - 0.2, [r.unsettled_hkd / 1e6 for r in ratios], 0.4, color="#4C72B0", label="mean unsettled at day end")
    ax.bar(x + 0.2, [r.volume_times_cycle_hkd / 1e6 for r in ratios], 0.4, color="#AAAAAA", label="V x L (no fails)")
    for k, r in enumerate(ratios):
        ax.annotate(f"ratio {r.ratio:.3f}", (k, max(r.unsettled_hkd, r.volume_times_cycle_hkd) / 1e6),
                    ha="center", va="bottom", fontsize=8, xytext=(0, 3), textcoords="offset points")
    ax.set_xticks(x, [f"{r.venue} (T+{r.cycle_days:g})" for r in ratios])
    _finish(fig, ax, "Settlement exposure against Little's law", "Venue", "HKD million", source, path, kind=IDENTITY)


FIGURES = ("zero_intelligence.png", "elasticity.png", "replay.png", "premium.png", "littles_law.png")


def save_validation_figures(validation: Validation, folder: Path) -> None:
    """Write the five figures named in FIGURES into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    runs = validation.runs
    source = f"validation of '{runs.scenario().name}', seeds {', '.join(map(str, runs.seeds))}"
    zero_intelligence_figure(validation.zero_intelligence, f"seeded random order flow, seed {runs.seeds[0]}",
                             folder / FIGURES[0])
    elasticity_figure(validation.elasticity, source, folder / FIGURES[1])
    replay_figure(validation.replay, source, folder / FIGURES[2])
    premium_figure(validation.bands, source, folder / FIGURES[3])
    littles_law_figure(validation.little, source, folder / FIGURES[4])
