"""What a fit leaves behind: the fitted scenario file and the tables that say how good the fit is.

The fitted scenario is a short YAML file that `extends:` the spec's scenario and sets only the
fitted keys, so it stays readable and follows later edits of the scenario it extends. `extends`
is a path relative to the file's own folder, at most one folder up (`sim.scenario.loader`), so
where the file is written decides whether it loads; by default it is written beside the spec,
from where the spec's own `scenario` path reaches the scenario. `extends_path` checks the place
before anything runs, and the file is loaded back before it is moved into place, so a file that
`tokensim run` would refuse is never written. The run settings of the fit (horizon, seeds,
overrides) are not part of it: they are how the fit was measured, said in its header comment.

The tables: per target the published value, the model's at the start and fitted, the relative
error and weight; per parameter the bounds, start and fitted value; and every evaluation.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.scenario import ScenarioError, load_scenario
from sim.validation.fit_targets import TargetFit

FITTED_SUFFIX = ".fitted.yaml"


def default_fitted_path(spec_path: Path) -> Path:
    """`calibration/hk_market.yaml` -> `calibration/hk_market.fitted.yaml`."""
    return spec_path.with_name(spec_path.stem + FITTED_SUFFIX)


def extends_path(fitted: Path, scenario: Path, option: str = "--fitted") -> str:
    """The `extends:` text from `fitted`'s folder to `scenario`; a ScenarioError naming `option`
    if the scenario loader would refuse it (more than one folder up, or a file that is a folder)."""
    if not fitted.name.endswith((".yaml", ".yml")):
        raise ScenarioError(option, "", "must name a .yaml or .yml file", str(fitted))
    if fitted.is_dir():
        raise ScenarioError(option, "", "is a folder; name the fitted scenario file", str(fitted))
    folder = Path(os.path.abspath(fitted.parent))
    allowed = folder.parent
    target = Path(os.path.abspath(scenario))
    if allowed not in target.parents or allowed.resolve() not in target.resolve().parents:
        raise ScenarioError(option, "", f"a scenario may extend only a file at most one folder up, and {scenario} is "
                            f"not inside {allowed}: write the fitted scenario nearer to it", str(fitted))
    return os.path.relpath(target, folder)


def fitted_yaml(fit: TargetFit, fitted: Path, name: str) -> str:
    """The fitted scenario as YAML text: a header saying how it was fitted, then `extends`, then the keys."""
    spec = fit.spec
    lines = [f"# Fitted by `tokensim calibrate --spec {spec.path}`: objective {fit.start.objective:.4g} -> "
             f"{fit.best.objective:.4g} in {len(fit.history)} evaluations,",
             f"# {spec.seeds} seed(s) with the overrides {list(spec.overrides)} (not set here).",
             *(f"# target {t.label} = {t.value:g} ({' '.join(t.source.split())}): model {m:.4g}, error {e:+.1%}"
               for t, m, e in zip(spec.targets, fit.best.model, fit.best.errors))]
    body: dict[str, Any] = {
        "extends": extends_path(fitted, spec.scenario_path),
        "name": f"{name}-fitted"[:64],
        "description": f"{name} with {len(spec.parameters)} key(s) fitted to {len(spec.targets)} published "
                       f"figure(s) by the calibration spec {spec.path.name}.",
    }
    for key, value in fit.fitted_values().items():
        node = body
        *path, last = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return "\n".join(lines) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def write_fitted(text: str, fitted: Path, before_rename: Callable[[], object] = lambda: None) -> None:
    """Write `text` to `fitted` all or nothing: to a temporary file beside it, loaded back as a
    scenario (it must be one `tokensim run` accepts), then, after `before_rename()` (which writes
    the fit's tables), renamed into place; if either fails, neither the file nor the tables are left."""
    partial = fitted.with_name(f".{fitted.name}.partial-{os.getpid()}.yaml")
    try:
        fitted.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(text, encoding="utf-8")
        try:
            load_scenario(partial)
        except ScenarioError as error:
            raise ScenarioError(str(fitted), "", f"the fitted scenario does not load ({error.issues[0]}); "
                                "nothing was written") from None
        before_rename()
        os.replace(partial, fitted)
    finally:
        partial.unlink(missing_ok=True)


def target_table(fit: TargetFit) -> pd.DataFrame:
    """One row per target: published value, model value at the start and fitted, relative error, weight, source."""
    return pd.DataFrame([{
        "target": t.label, "published": t.value, "model_start": s, "model_fitted": m, "relative_error_start": es,
        "relative_error": e, "weight": t.weight, "weighted_squared_error": t.weight * e * e, "source": t.source,
    } for t, s, m, es, e in zip(fit.spec.targets, fit.start.model, fit.best.model, fit.start.errors, fit.best.errors)])


def parameter_table(fit: TargetFit) -> pd.DataFrame:
    """One row per fitted key: bounds, scale, start and fitted value."""
    return pd.DataFrame([{"key": p.label, "low": p.low, "high": p.high, "scale": p.scale, "start": s, "fitted": f}
                         for p, s, f in zip(fit.spec.parameters, fit.start.values, fit.best.values)])


def history_table(fit: TargetFit) -> pd.DataFrame:
    """One row per evaluation in order: the parameter values, each target's model value, the objective."""
    rows = []
    for k, evaluation in enumerate(fit.history):
        row: dict[str, Any] = {"evaluation": k + 1}
        row |= {p.label: v for p, v in zip(fit.spec.parameters, evaluation.values)}
        row |= {f"model:{t.label}": m for t, m in zip(fit.spec.targets, evaluation.model)}
        row["objective"] = evaluation.objective
        rows.append(row)
    return pd.DataFrame(rows)


def fit_report(fit: TargetFit) -> str:
    """The fit as a plain-text table for the terminal."""
    targets = target_table(fit)
    width = max(len("target"), *(len(label) for label in targets["target"]))
    lines = [f"{'target':<{width}}  {'published':>12}  {'start':>12}  {'fitted':>12}  {'error':>8}  {'weight':>6}"]
    for row in targets.itertuples(index=False):
        lines.append(f"{row.target:<{width}}  {row.published:>12.4g}  {row.model_start:>12.4g}  "
                     f"{row.model_fitted:>12.4g}  {row.relative_error:>+8.1%}  {row.weight:>6g}")
    parameters = parameter_table(fit)
    key_width = max(len("parameter"), *(len(key) for key in parameters["key"]))
    lines.append("")
    lines.append(f"{'parameter':<{key_width}}  {'low':>10}  {'high':>10}  {'start':>10}  {'fitted':>10}")
    for row in parameters.itertuples(index=False):
        lines.append(f"{row.key:<{key_width}}  {row.low:>10.4g}  {row.high:>10.4g}  {row.start:>10.4g}  {row.fitted:>10.6g}")
    lines.append(f"\nobjective {fit.start.objective:.4g} -> {fit.best.objective:.4g} in {len(fit.history)} evaluations "
                 f"(stopped: {fit.stopped_by})")
    return "\n".join(lines)
