"""Sensitivity analysis through the experiment machinery, on functions whose indices are known."""

from __future__ import annotations

import math
import sys

import pytest

from sim import experiment
from sim.scenario import ScenarioError

pytest.importorskip("SALib")

PI = math.pi


def ishigami(params: dict, seed: int) -> dict[str, float]:
    """Ishigami-Homma with a=7, b=0.1 on [-pi, pi]^3: S1 = 0.3139, 0.4424, 0; ST3 = 0.2437."""
    x1, x2, x3 = params["x1"], params["x2"], params["x3"]
    return {"y": math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)}


def linear(params: dict, seed: int) -> dict[str, float]:
    return {"y": 1 * params["a"] + 10 * params["b"] + 3 * params["c"], "flat": 2.0}


def test_sobol_recovers_the_ishigami_indices(tmp_path):
    ranges = [f"x{i}={-PI}:{PI}" for i in (1, 2, 3)]
    result = experiment.sensitivity(ishigami, ranges, method="sobol", samples=512, out=tmp_path, workers=1)
    indices = result.sensitivity.set_index("parameter")
    assert list(indices.index) == ["x1", "x2", "x3"] and set(indices["kpi"]) == {"y"}
    assert list(indices["S1"]) == pytest.approx([0.3139, 0.4424, 0.0], abs=0.05)
    assert indices.loc["x3", "ST"] == pytest.approx(0.2437, abs=0.05)
    assert result.folder.name == "sensitivity-ishigami-sobol"
    assert len(result.runs) == 512 * 5 and (result.folder / "sensitivity.csv").exists()


def test_morris_ranks_a_linear_function_and_scales_effects_to_the_range(tmp_path):
    result = experiment.sensitivity(linear, ["a=0:1", "b=0:1", "c=0:2"], method="morris", samples=8,
                                    out=tmp_path, workers=1)
    y = result.sensitivity[result.sensitivity["kpi"] == "y"].set_index("parameter")
    assert list(y["mu_star"].sort_values(ascending=False).index) == ["b", "c", "a"]
    assert list(y["mu_star"]) == pytest.approx([1.0, 10.0, 6.0])  # effect of moving across the whole range
    assert list(y["sigma"]) == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    flat = result.sensitivity[result.sensitivity["kpi"] == "flat"]
    assert list(flat["mu_star"]) == [0.0, 0.0, 0.0]
    assert result.reused == 0 and len(result.runs) < 8 * 4  # repeated Morris points are run once


def test_sensitivity_options_are_checked(tmp_path, monkeypatch):
    with pytest.raises(ScenarioError, match="power of two"):
        experiment.sensitivity(linear, ["a=0:1"], method="sobol", samples=100, out=tmp_path)
    with pytest.raises(ScenarioError, match="one of morris, sobol"):
        experiment.sensitivity(linear, ["a=0:1"], method="fast", out=tmp_path)
    with pytest.raises(ScenarioError, match="give KEY=LO:HI"):
        experiment.sensitivity(linear, ["a=0,1"], out=tmp_path)
    monkeypatch.setitem(sys.modules, "SALib", None)  # as if the extra were not installed
    with pytest.raises(ScenarioError, match=r"needs SALib: pip install 'leap-tokensim\[sensitivity\]'"):
        experiment.sensitivity(linear, ["a=0:1"], out=tmp_path)
    assert not list(tmp_path.iterdir())
