"""The report's figure of a settlement asset under stress, drawn from the runs' series records.

A scenario whose tokenized venues settle in a stablecoin or in tokenized deposits records, per
asset, the hours around its stress (below HK$0.995 or frozen; `sim.experiment.series`). For
each scenario with such a stressed asset, one row of panels:

* the hourly price on its secondary market and its expected value (dashed), in HK$ per HK$1 at
  par, with weekend and holiday hours (grey) and frozen hours (red) shaded, and the low
  annotated with the hours it took to come back to par;
* the issuer's redemption queue at each hour's end (HK$ bn);
* the venues settling in the asset: daily quoted spread and value traded over the window's
  business days, against the comparator's (grey): its value traded on the same days (when
  the venues are every venue of their form, the comparator's turnover of that form), and its
  median daily quoted spread over the run (its record keeps spreads per listing-day, not per day).

The money's path follows from the scenario alone (the market's random draws do not move it), so
replications coincide; the median over them is drawn. The venues' daily figures are means over
replications. `stress_figure` returns None when no scenario's asset was stressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.figures import add_source, plt
from sim.money_tables import BELOW_PAR
from sim.report.inputs import ReportInputs
from sim.report.market_figures import scenario_colour, scenario_names
from sim.report.policy_figures import BASELINE_COLOUR, source_text

WEEKEND_SHADE, FROZEN_SHADE = "#DDDDDD", "#F4C7C3"
BILLION = 1e9
PANELS = 4


@dataclass(frozen=True)
class Stress:
    """One scenario's stressed asset: its window (median over replications) and venues' days (mean)."""

    scenario: str
    asset: str
    kind: str
    first_hour: int
    price: np.ndarray
    value: np.ndarray
    queue_hkd: np.ndarray
    usable: np.ndarray
    day: np.ndarray
    days: list[int]
    spread_bps: np.ndarray
    volume_hkd: np.ndarray
    venues: list[str]
    form: str | None

    @property
    def hours(self) -> np.ndarray:
        """Hours from the first stressed hour (negative before it)."""
        stressed = np.flatnonzero((self.price < BELOW_PAR) | (self.usable == 0))
        return np.arange(len(self.price)) - (int(stressed[0]) if len(stressed) else 0)


def _floats(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _median(entries: list[dict[str, Any]], field: str) -> np.ndarray:
    return np.nanmedian(np.vstack([_floats(e[field]) for e in entries]), axis=0)


def _mean(entries: list[dict[str, Any]], field: str) -> np.ndarray:
    rows = np.vstack([_floats(e[field]) for e in entries])
    return np.full(rows.shape[1], np.nan) if np.isnan(rows).all() else np.nanmean(rows, axis=0)


def stresses(inputs: ReportInputs, name: str) -> list[Stress]:
    """A scenario's stressed assets, each from the replications whose window matches the first's."""
    found = []
    records = inputs.series.get(name, [])
    for asset in dict.fromkeys(a for r in records for a in r.get("money", {})):
        entries = [r["money"][asset] for r in records if "price" in r.get("money", {}).get(asset, {})]
        if not entries:
            continue
        first = entries[0]
        entries = [e for e in entries if e["first_hour"] == first["first_hour"] and e["days"] == first["days"]
                   and len(e["price"]) == len(first["price"])]
        found.append(Stress(name, asset, first["kind"], first["first_hour"], _median(entries, "price"),
                            _median(entries, "value"), _median(entries, "queue_hkd"), _median(entries, "usable"),
                            np.array(first["day"]), list(first["days"]), _mean(entries, "spread_bps"),
                            _mean(entries, "volume_hkd"), list(first["venues"]), first.get("form")))
    return found


def comparator_days(inputs: ReportInputs, stress: Stress) -> tuple[np.ndarray | None, float]:
    """The comparator's value traded on the stress's business days (mean over replications; None
    unless the venues are every venue of their form) and its median daily quoted spread on them."""
    records = inputs.series.get(inputs.comparator(stress.scenario), [])
    volume = None
    if stress.form and records:
        turnover = [r["turnover_hkd"][stress.form] for r in records]
        if all(len(t) > max(stress.days, default=-1) for t in turnover):
            volume = np.mean([[t[d] or 0.0 for d in stress.days] for t in turnover], axis=0)
    spreads = [v for r in records for book in r.get("books", []) if book["venue"] in stress.venues
               for v in book["spread_bps"] if v is not None]
    return volume, float(np.median(spreads)) if spreads else np.nan


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in `mask`."""
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def _shade(ax, hours: np.ndarray, mask: np.ndarray, colour: str, label: str, height: float) -> None:
    """Shade each run of `mask`'s hours, its label at `height` (axes fraction) inside the panel."""
    for start, stop in _runs(mask):
        ax.axvspan(hours[start] - 0.5, hours[stop - 1] + 0.5, color=colour, alpha=0.6, linewidth=0, zorder=0)
        ax.text((hours[start] + hours[stop - 1]) / 2, height, label, transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", fontsize=6, color="#555555")


def _shade_closed_hours(ax, stress: Stress) -> None:
    """Weekend and holiday hours (grey, labelled at the top) and frozen hours (red, labelled at the foot)."""
    _shade(ax, stress.hours, stress.day < 0, WEEKEND_SHADE, "weekend", 0.93)
    _shade(ax, stress.hours, stress.usable == 0, FROZEN_SHADE, "frozen", 0.02)


def low_text(stress: Stress) -> str:
    """"low HK$0.928, back to par 15 h later", or how long the money was frozen."""
    words = []
    if np.nanmin(stress.price) < BELOW_PAR:
        low = int(np.nanargmin(stress.price))
        back = np.flatnonzero(stress.price[low:] >= BELOW_PAR)
        later = f"back to par {back[0]} h later" if len(back) else "not back to par by the run's end"
        words.append(f"low HK${stress.price[low]:.3f}, {later}")
    frozen = int((stress.usable == 0).sum())
    if frozen:
        words.append(f"frozen {frozen} h")
    return "; ".join(words)


def _price_panel(ax, inputs: ReportInputs, stress: Stress, colour: str) -> None:
    hours = stress.hours
    _shade_closed_hours(ax, stress)
    ax.plot(hours, stress.price, color=colour, linewidth=1.3)
    ax.plot(hours, stress.value, color=colour, linewidth=1.0, linestyle="--")
    ax.axhline(1.0, color="#333333", linewidth=0.6)
    ax.text(hours[-1], stress.price[-1], " price", color=colour, fontsize=7, va="top", ha="right")
    low = int(np.nanargmin(stress.price))
    ax.annotate(low_text(stress), (hours[low], stress.price[low]), xytext=(6, -4), textcoords="offset points",
                fontsize=7, va="top")
    if stress.price[low] < BELOW_PAR:
        ax.text(hours[low], stress.value[low], "expected value ", color=colour, fontsize=7, va="bottom", ha="right")
    ax.set_ylabel("HK$ per HK$1 at par", fontsize=8)
    ax.set_title(f"{inputs.label(stress.scenario)}:\n{stress.asset} ({stress.kind})", loc="left", fontsize=9)
    ax.margins(y=0.25)


def _queue_panel(ax, stress: Stress, colour: str) -> None:
    _shade_closed_hours(ax, stress)
    ax.plot(stress.hours, stress.queue_hkd / BILLION, color=colour, linewidth=1.3)
    ax.set_ylim(bottom=0.0, top=max(ax.get_ylim()[1], 0.1))
    ax.set_ylabel("Redemption queue (HK$ bn)", fontsize=8)
    ax.set_title("Redemptions waiting to be paid", loc="left", fontsize=9)


def _label_end(ax, x: list[int], y: np.ndarray, text: str, colour: str, va: str = "top") -> None:
    finite = np.flatnonzero(np.isfinite(y))
    if len(finite):
        ax.text(x[finite[-1]], y[finite[-1]], f"{text} ", color=colour, fontsize=7, va=va, ha="right")


def _venue_panels(spread_ax, volume_ax, inputs: ReportInputs, stress: Stress, colour: str) -> None:
    comparator = inputs.comparator(stress.scenario)
    volume, spread = comparator_days(inputs, stress)
    days = stress.days
    spread_ax.plot(days, stress.spread_bps, color=colour, marker="o", markersize=3, linewidth=1.2)
    _label_end(spread_ax, days, stress.spread_bps, inputs.label(stress.scenario), colour, "bottom")
    if np.isfinite(spread):
        spread_ax.axhline(spread, color=BASELINE_COLOUR, linestyle="--", linewidth=1.0)
        spread_ax.text(days[0], spread, f"{inputs.label(comparator)}, median day", color=BASELINE_COLOUR,
                       fontsize=7, va="top")
    spread_ax.set_ylabel("Quoted spread (bps of mid)", fontsize=8)
    spread_ax.set_title(f"Spread on {', '.join(stress.venues)}", loc="left", fontsize=9)
    volume_ax.plot(days, stress.volume_hkd / 1e6, color=colour, marker="o", markersize=3, linewidth=1.2)
    _label_end(volume_ax, days, stress.volume_hkd / 1e6, inputs.label(stress.scenario), colour)
    if volume is not None:
        volume_ax.plot(days, volume / 1e6, color=BASELINE_COLOUR, marker="o", markersize=3, linewidth=1.2)
        _label_end(volume_ax, days, volume / 1e6, inputs.label(comparator), BASELINE_COLOUR, "bottom")
    volume_ax.set_ylabel("Value traded (HK$ million per day)", fontsize=8)
    volume_ax.set_title(f"Value traded on {', '.join(stress.venues)}", loc="left", fontsize=9)
    for ax in (spread_ax, volume_ax):
        ax.set_xlabel("Business day", fontsize=8)
        ax.set_xticks(days)
        ax.margins(x=0.05, y=0.15)


def stress_figure(inputs: ReportInputs):
    """One row per scenario (a policy, or a comparator with assets) and stressed asset; None if there is none."""
    names = [n for n in scenario_names(inputs)
             if n in inputs.policies or n in {inputs.comparator(p) for p in inputs.policies}]
    rows = [s for n in names for s in stresses(inputs, n)]
    if not rows:
        return None
    fig, axes = plt.subplots(len(rows), PANELS, figsize=(15, 3.4 * len(rows) + 1.0), squeeze=False)
    for (price, queue, spread, volume), stress in zip(axes, rows):
        colour = scenario_colour(inputs, stress.scenario)
        _price_panel(price, inputs, stress, colour)
        _queue_panel(queue, stress, colour)
        _venue_panels(spread, volume, inputs, stress, colour)
        for ax in (price, queue):
            ax.set_xlabel("Hours from the first hour below HK$0.995 or frozen", fontsize=8)
        for ax in (price, queue, spread, volume):
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    fig.suptitle("The settlement money under stress: its price, its issuer's queue and the trading settled in it",
                 x=0.01, ha="left", fontsize=11)
    add_source(fig, source_text(inputs))
    fig.subplots_adjust(top=1.0 - 0.85 / fig.get_figheight())  # room for the title over two-line panel titles
    return fig
