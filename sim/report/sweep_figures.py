"""Figures of sweeps and sensitivity analyses, drawn from an experiment folder's saved tables.

A sweep over one key gives a response curve per KPI (the mean over replications with its 95%
interval as a band); over two keys a heatmap of the mean with every cell annotated (a Latin
hypercube has no grid, so its points are drawn where they lie, coloured and annotated the same
way). A sensitivity analysis gives a tornado chart per KPI with the keys sorted by importance:
Morris mu* with its interval and sigma, or Sobol' ST and S1 with theirs.

Only `summary.csv`, `sensitivity.csv` and `manifest.json` are read, never the process that ran
the runs, so a folder copied elsewhere redraws byte-identical PNGs. The house style is that of
`figures` (title, axis labels with units, a source line), with the provenance taken from the
manifest: the scenario or function, its overrides, the seeds and the package version that
produced the numbers. `figures/` is replaced as a whole, never left half-written.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.container import BarContainer

from sim.experiment.params import value_text
from sim.outputs import write_folder
from sim.figures import PNG_METADATA, plt
from sim.kpis import book_listings
from sim.report.text import HEADLINES, hkd_scale, number
from sim.scenario import ScenarioError

SHOWN_KPIS = 12
SHOWN_OVERRIDES = 3
SOURCE_CHARS_PER_INCH = 18  # of the 7-point source line
SOURCE_LINE_INCHES = 0.13
AXIS_LABEL_CHARS = 40  # a longer vertical label gives way to the unit alone
LEVEL_TICKS = 12  # a grid with at most this many values gets a tick at each
CURVE_COLOUR = "#4C72B0"
SECOND_COLOUR = "#DD8452"
HKD_WORDS = {"bn": "HKD billion", "m": "HKD million", "k": "HKD thousand", "": "HKD"}
# Every scenario key's unit is in its name (docs/scenario-reference.md); so are the KPIs'.
UNIT_WORDS = {"hkd": "HKD", "bps": "bps", "days": "days", "units": "units", "hours": "hours", "minutes": "minutes",
              "years": "years", "share": "fraction", "rate": "fraction", "yield": "fraction"}
HEADLINE_OF = {h.kpi: h for h in HEADLINES}


@dataclass(frozen=True)
class ExperimentTables:
    """What the figures show: a sweep's or sensitivity analysis's saved tables and provenance."""

    command: str
    keys: list[str]
    design: str | None
    method: str | None
    reps: int
    summary: pd.DataFrame
    sensitivity: pd.DataFrame | None
    version: str
    source: str

    def kpis(self) -> list[str]:
        table = self.summary if self.sensitivity is None else self.sensitivity
        return list(dict.fromkeys(table["kpi"]))


def load_tables(folder: str | Path, command: str) -> ExperimentTables:
    """The tables of a `command` experiment ("sweep" or "sensitivity") in `folder`."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise ScenarioError(str(folder), "", "not an experiment folder: manifest.json is missing")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("command") != command:
        raise ScenarioError(str(folder), "", f"these figures need a `{command}` experiment", manifest.get("command"))
    sensitivity = pd.read_csv(folder / "sensitivity.csv") if command == "sensitivity" else None
    return ExperimentTables(
        command, [spec.partition("=")[0] for spec in manifest["params"]], manifest.get("design"),
        manifest.get("method"), int(manifest["reps"]), pd.read_csv(folder / "summary.csv"), sensitivity,
        manifest["package_version"], provenance(manifest),
    )


def provenance(manifest: dict) -> str:
    """The source line's text: what was run, with which overrides, seeds and design."""
    target = manifest["target"]
    what = f"scenario '{target['scenario']}'" if "scenario" in target else f"function {target['function']}"
    overrides = target.get("overrides", [])
    if overrides:
        more = f" and {len(overrides) - SHOWN_OVERRIDES} more" if len(overrides) > SHOWN_OVERRIDES else ""
        what += f" with --set {', '.join(overrides[:SHOWN_OVERRIDES])}{more}"
    design = f"{manifest['method']} design" if manifest.get("method") else f"{manifest['design']} design"
    reps = int(manifest["reps"])
    replications = f"replications 0\u2013{reps - 1}" if reps > 1 else "replication 0"
    return f"{what}; {design}, {manifest['points']} points; base seed {manifest['base_seed']}, {replications}."


def name_unit(name: str) -> str | None:
    """The unit a key or KPI name carries: `network_fee_hkd_per_transfer` -> "HKD per transfer"."""
    words = name.rsplit(".", 1)[-1].split("_")
    for index, word in enumerate(words):
        if word in UNIT_WORDS:
            rest = words[index + 1:]
            per = " " + " ".join(UNIT_WORDS.get(w, w) if w == "hkd" else w for w in rest) if rest[:1] == ["per"] else ""
            return UNIT_WORDS[word] + per
    return None


def key_label(key: str) -> str:
    unit = name_unit(key)
    return f"{key} ({unit})" if unit else key


def kpi_label(kpi: str) -> tuple[str, str | None]:
    """A KPI's readable name and unit ("HKD", "bps", "fraction", ...; None when unknown)."""
    headline = HEADLINE_OF.get(kpi)
    return (headline.label, headline.unit) if headline else (kpi, name_unit(kpi))


LISTING_MEASURES = {
    "spread_bps": "Quoted spread", "depth_hkd": "Depth at the best quotes", "price_impact_bps": "Price impact",
    "realized_spread_bps": "Realized spread", "discovery_bps": "Price discovery", "trades": "Trades",
    "trade_size_hkd": "Mean trade size",
}
"""Per-listing KPIs (`<measure>_<instrument>_<venue>`) by measure, in words for a figure's panel title."""
TYPE_WORDS = {"etf": "ETF", "stock": "share"}  # instrument types whose name is not their word


def scenario_labels(kpis: Sequence[str], scenario) -> dict[str, str]:
    """Readable titles for the KPIs named after a scenario's listings, venues and groups
    (`spread_bps_hk_tracker_exchange` -> "Quoted spread, hk_tracker on exchange"): the names can only
    be split where the scenario is known, so a sweep's labels are made when it runs and saved with it."""
    words = {f"{measure}_{name}_{venue}": f"{text}, {name} on {venue}"
             for measure, text in LISTING_MEASURES.items() for name, venue in book_listings(scenario)}
    words |= {f"venue_share_{venue}": f"Share of investors' value on {venue}" for venue in scenario.venues}
    words |= {f"adoption_share_{group}": f"{group.capitalize()} adoption share" for group in scenario.investors}
    words |= {f"tokenized_share_{kind}": f"Tokenized share of {TYPE_WORDS.get(kind, kind.replace('_', ' '))} value"
              for kind in {instrument.type for instrument in scenario.instruments.values()}}
    return {kpi: words[kpi] for kpi in kpis if kpi in words and kpi not in HEADLINE_OF}


def display_scale(values: np.ndarray, unit: str | None) -> tuple[float, str]:
    """A divisor and the axis unit for showing `values`: HKD in thousands/millions/billions,
    fractions in %."""
    if unit == "HKD":
        finite = np.abs(values[np.isfinite(values)])
        factor, suffix = hkd_scale(float(finite.max()) if len(finite) else 0.0)
        return factor, HKD_WORDS[suffix]
    if unit == "fraction":
        return 0.01, "%"
    return 1.0, unit or ""


def chosen_kpis(measured: list[str], requested: Sequence[str] | None) -> list[str]:
    """The requested KPIs, else the report's headline KPIs measured, else the first measured."""
    if requested is None:
        return [h.kpi for h in HEADLINES if h.kpi in measured] or measured[:SHOWN_KPIS]
    for kpi in requested:
        if kpi not in measured:
            close = difflib.get_close_matches(kpi, measured, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ScenarioError("kpis", "", f"not a KPI of this experiment{hint}", kpi)
    return list(requested)


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _levels(column: pd.Series) -> list:
    """A key's distinct values: ascending when numbers, else in design order."""
    values = list(dict.fromkeys(column))
    return sorted(values) if _is_numeric(column) else values


def _tick(value: object) -> str:
    """A key's value as the user would type it (`true`, `0.001`)."""
    value = value.item() if isinstance(value, np.generic) else value
    return f"{value:.6g}" if isinstance(value, float) else value_text(value)


def _finish(fig, tables: ExperimentTables, legend_inches: float = 0.0, title_inches: float = 0.0):
    """The house source line (wrapped to the figure's width), with the version that produced
    the numbers, room above it for a figure legend `legend_inches` high, and room at the top for a
    figure title `title_inches` high."""
    width, height = fig.get_figwidth(), fig.get_figheight()
    text = f"Source: LEAP tokenization simulator {tables.version}; {tables.source}"
    lines = textwrap.wrap(text, int(width * SOURCE_CHARS_PER_INCH))
    fig.text(0.01, 0.01, "\n".join(lines), fontsize=7, color="#555555")
    foot = (0.05 + SOURCE_LINE_INCHES * len(lines)) / height
    if legend_inches:
        handles, labels = fig.axes[0].get_legend_handles_labels()
        order = sorted(range(len(handles)), key=lambda i: not isinstance(handles[i], BarContainer))  # bars first
        fig.legend([handles[i] for i in order], [labels[i] for i in order], frameon=False, fontsize=8,
                   loc="lower left", bbox_to_anchor=(0.01, foot))
        foot += (legend_inches + 0.05) / height
    fig.tight_layout(rect=(0, foot, 1, 1 - title_inches / height))
    return fig


def _in_sentence(label: str) -> str:
    """"Stamp duty collected" -> "stamp duty collected"; "ETF turnover" stays as it is."""
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def _with_unit(label: str, unit: str) -> str:
    if not unit:
        return label
    return f"{label}, {unit}" if label.endswith(")") else f"{label} ({unit})"


def _replications(count: int) -> str:
    return f"{count} replication{'s' if count != 1 else ''}"


def _rows(tables: ExperimentTables, kpi: str) -> pd.DataFrame:
    return tables.summary[tables.summary["kpi"] == kpi]


@dataclass(frozen=True)
class _Curve:
    """One KPI over the one swept key, as drawn: the key's values, where they go on the x axis, the mean and
    its 95% interval in display units, the KPI's label and unit shown, and whether the values are numbers."""

    levels: list
    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    label: str
    shown_unit: str
    numeric: bool


def _curve(tables: ExperimentTables, kpi: str, title: str | None = None) -> _Curve:
    key = tables.keys[0]
    rows = _rows(tables, kpi)
    levels = _levels(rows[key])
    rows = rows.set_index(key).reindex(levels)
    label, unit = kpi_label(kpi)
    label = title or label
    factor, shown_unit = display_scale(rows["mean"].to_numpy(dtype=float), unit)
    mean, low, high = (rows[c].to_numpy(dtype=float) / factor for c in ("mean", "ci_low", "ci_high"))
    numeric = _is_numeric(rows.index.to_series())
    x = np.asarray(levels, dtype=float) if numeric else np.arange(len(levels), dtype=float)
    return _Curve(levels, x, mean, low, high, label, shown_unit, numeric)


def response_curve(tables: ExperimentTables, kpi: str):
    """The KPI's mean at each value of the one swept key, with its 95% interval as a band."""
    key = tables.keys[0]
    curve = _curve(tables, kpi)
    levels, x, mean, low, high = curve.levels, curve.x, curve.mean, curve.low, curve.high
    label, shown_unit, numeric = curve.label, curve.shown_unit, curve.numeric
    fig, ax = plt.subplots(figsize=(8, 4.2))
    if numeric:
        ax.fill_between(x, low, high, color=CURVE_COLOUR, alpha=0.22, linewidth=0, label="95% interval of the mean")
        ax.plot(x, mean, "o-", color=CURVE_COLOUR, linewidth=1.4, markersize=4,
                label=f"mean over {_replications(tables.reps)}")
    else:  # separate values: no line between them
        ax.errorbar(x, mean, yerr=np.nan_to_num(np.vstack([mean - low, high - mean])), fmt="o", capsize=4,
                    color=CURVE_COLOUR, label=f"mean over {_replications(tables.reps)}, 95% interval")
        ax.set_xlim(-0.5, len(levels) - 0.5)
    if not numeric or (tables.design == "grid" and len(levels) <= LEVEL_TICKS):
        ax.set_xticks(x, [_tick(v) for v in levels])
    ax.set_title(f"{label}: response to {key.rsplit('.', 1)[-1]}", loc="left", fontsize=12)
    ax.set_xlabel(key_label(key))
    full = _with_unit(label, shown_unit)
    ax.set_ylabel(full if len(full) <= AXIS_LABEL_CHARS or not shown_unit else shown_unit)  # the title names the KPI
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return _finish(fig, tables)


PANEL_COLUMNS = 2


def response_panels(tables: ExperimentTables, kpis: Sequence[str], title: str, labels: dict[str, str] | None = None):
    """Small multiples of `response_curve`: each KPI's mean at each value of the one swept key, with its
    95% interval as a band, in a grid of panels under one title (for the policy report); `labels` titles
    the panels of KPIs named after the scenario's listings (`scenario_labels`)."""
    labels = labels or {}
    key = tables.keys[0]
    shown = [kpi for kpi in kpis if _rows(tables, kpi)["mean"].notna().any()]
    if not shown or len(tables.keys) != 1:
        return None
    rows_of_panels = math.ceil(len(shown) / PANEL_COLUMNS)
    fig, axes = plt.subplots(rows_of_panels, PANEL_COLUMNS, figsize=(11, 2.9 * rows_of_panels + 0.8), squeeze=False)
    for ax, kpi in zip(axes.ravel(), shown):
        curve = _curve(tables, kpi, labels.get(kpi))
        ax.fill_between(curve.x, curve.low, curve.high, color=CURVE_COLOUR, alpha=0.22, linewidth=0)
        ax.plot(curve.x, curve.mean, "o-", color=CURVE_COLOUR, linewidth=1.4, markersize=4)
        ax.set_xticks(curve.x, [_tick(v) for v in curve.levels])
        ax.set_title(_with_unit(curve.label, curve.shown_unit), loc="left", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(shown):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(key_label(key), fontsize=8)
    fig.suptitle(f"{title}: mean over {_replications(tables.reps)} at each value (line) and its 95% interval (band)",
                 x=0.01, ha="left", fontsize=11)
    return _finish(fig, tables, title_inches=0.45)


def _annotate(ax, x: float, y: float, value: float, shade: float) -> None:
    ax.text(x, y, number(value), ha="center", va="center", fontsize=8,
            color="white" if shade < 0.55 else "black")


def heatmap(tables: ExperimentTables, kpi: str):
    """The KPI's mean over a grid of two keys (first key across, second up), every cell annotated."""
    across, up = tables.keys
    rows = _rows(tables, kpi)
    xs, ys = _levels(rows[across]), _levels(rows[up])
    cells = rows.set_index([across, up])["mean"].reindex(pd.MultiIndex.from_product([xs, ys]))
    matrix = cells.to_numpy(dtype=float).reshape(len(xs), len(ys)).T
    label, unit = kpi_label(kpi)
    factor, shown_unit = display_scale(matrix, unit)
    shown = matrix / factor
    fig, ax = plt.subplots(figsize=(8, 4.8))
    image = ax.imshow(shown, origin="lower", aspect="auto", cmap="viridis")
    for i in range(len(ys)):
        for j in range(len(xs)):
            _annotate(ax, j, i, shown[i, j], float(image.norm(shown[i, j])) if math.isfinite(shown[i, j]) else 1.0)
    ax.set_xticks(range(len(xs)), [_tick(v) for v in xs])
    ax.set_yticks(range(len(ys)), [_tick(v) for v in ys])
    _map_labels(fig, ax, image, tables, label, shown_unit)
    return _finish(fig, tables)


def point_map(tables: ExperimentTables, kpi: str):
    """The KPI's mean at each point of a two-key design without a grid (Latin hypercube)."""
    across, up = tables.keys
    rows = _rows(tables, kpi)
    label, unit = kpi_label(kpi)
    factor, shown_unit = display_scale(rows["mean"].to_numpy(dtype=float), unit)
    shown = rows["mean"].to_numpy(dtype=float) / factor
    fig, ax = plt.subplots(figsize=(8, 4.8))
    image = ax.scatter(rows[across], rows[up], c=shown, cmap="viridis", s=260, edgecolors="#333333", linewidths=0.5)
    for x, y, value in zip(rows[across], rows[up], shown, strict=True):
        ax.annotate(number(value), (x, y), xytext=(0, 11), textcoords="offset points", ha="center", fontsize=7)
    ax.grid(alpha=0.3)
    _map_labels(fig, ax, image, tables, label, shown_unit)
    return _finish(fig, tables)


def _map_labels(fig, ax, image, tables: ExperimentTables, label: str, unit: str) -> None:
    across, up = tables.keys
    ax.set_xlabel(key_label(across))
    ax.set_ylabel(key_label(up))
    ax.set_title(f"{label}: mean over {_replications(tables.reps)} at each point", loc="left", fontsize=12)
    fig.colorbar(image, ax=ax, label=_with_unit(label, unit))


def tornado(tables: ExperimentTables, kpi: str):
    """The keys' sensitivity indices for the KPI, the most important at the top."""
    main = "mu_star" if tables.method == "morris" else "ST"
    rows = tables.sensitivity[tables.sensitivity["kpi"] == kpi]
    rows = rows.sort_values(main, ascending=False, na_position="last", kind="stable")
    y = np.arange(len(rows), dtype=float)
    label, unit = kpi_label(kpi)
    fig, ax = plt.subplots(figsize=(8, 2.2 + 0.45 * len(rows)))

    def values(column: str, factor: float = 1.0) -> np.ndarray:
        return rows[column].to_numpy(dtype=float) / factor

    if tables.method == "morris":
        factor, shown_unit = display_scale(values("mu_star"), unit)
        shown_unit = "percentage points" if unit == "fraction" else shown_unit
        ax.barh(y, values("mu_star", factor), 0.6, xerr=np.nan_to_num(values("mu_star_conf", factor)), capsize=3,
                color=CURVE_COLOUR, label="\u03bc*: mean absolute effect of the key across its range, 95% interval")
        ax.plot(values("sigma", factor), y, "D", color=SECOND_COLOUR, markerfacecolor="none", clip_on=False, zorder=3,
                label="\u03c3: spread of the effects (nonlinear or interacting)")
        ax.set_xlabel(_with_unit(f"Effect on {_in_sentence(label)}", shown_unit))
        method = "Morris elementary effects"
    else:
        height = 0.38
        ax.barh(y - height / 2, values("ST"), height, xerr=np.nan_to_num(values("ST_conf")), capsize=3,
                color=CURVE_COLOUR, label="ST: with interactions, 95% interval")
        ax.barh(y + height / 2, values("S1"), height, xerr=np.nan_to_num(values("S1_conf")), capsize=3,
                color=SECOND_COLOUR, label="S1: the key alone, 95% interval")
        ax.set_xlabel(f"Share of the variance of {_in_sentence(label)}")
        method = "Sobol' indices"
    ax.set_yticks(y, list(rows["parameter"]))
    ax.invert_yaxis()
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"{label}: sensitivity to each key ({method})", x=0.01, ha="left", fontsize=12)
    return _finish(fig, tables, legend_inches=0.4)


def _file_name(prefix: str, kpi: str) -> str:
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9_.-]', '_', kpi)}.png"


def _write(folder: Path, drawings: list[tuple[str, Callable[[], object]]]) -> list[Path]:
    """Render each drawing into `folder/figures/`, replacing that folder only when all are done."""

    def fill(partial: Path) -> None:
        for name, draw in drawings:
            fig = draw()
            fig.savefig(partial / name, dpi=110, metadata=PNG_METADATA)
            plt.close(fig)

    figures = write_folder(Path(folder) / "figures", fill)
    return [figures / name for name, _ in drawings]


def sweep_figures(folder: str | Path, kpis: Sequence[str] | None = None) -> list[Path]:
    """Draw `figures/` of a sweep folder: response curves (one key), heatmaps (a grid of two)
    or point maps (two keys, Latin hypercube); none for three keys or more. Returns the PNGs."""
    tables = load_tables(folder, "sweep")
    kinds = {1: ("response", response_curve), 2: ("heatmap", heatmap) if tables.design == "grid" else ("points", point_map)}
    prefix, draw = kinds.get(len(tables.keys), ("", None))
    chosen = chosen_kpis(tables.kpis(), kpis)
    drawn = [kpi for kpi in chosen if draw is not None and _rows(tables, kpi)["mean"].notna().any()]
    return _write(Path(folder), [(_file_name(prefix, kpi), lambda kpi=kpi: draw(tables, kpi)) for kpi in drawn])


def sensitivity_figures(folder: str | Path, kpis: Sequence[str] | None = None) -> list[Path]:
    """Draw `figures/` of a sensitivity folder: a tornado chart per KPI whose indices are defined."""
    tables = load_tables(folder, "sensitivity")
    main = "mu_star" if tables.method == "morris" else "ST"
    chosen = chosen_kpis(tables.kpis(), kpis)
    indices = tables.sensitivity
    drawn = [kpi for kpi in chosen if indices.loc[indices["kpi"] == kpi, main].notna().any()]
    return _write(Path(folder), [(_file_name("tornado", kpi), lambda kpi=kpi: tornado(tables, kpi)) for kpi in drawn])
