"""Every policy lever is one dated type: one window rule, checked once, and one `value_on(day)`."""

from __future__ import annotations

import pytest

from conftest import ROOT
from sim.cli import main
from sim.market.levers import Dated
from sim.scenario.policy import DatedLever, Policy


def lever_paths(model: type = Policy, prefix: str = "policy") -> list[str]:
    """The key path of every dated lever in the policy schema, found by walking its fields."""
    paths = []
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, DatedLever):
            paths.append(f"{prefix}.{name}")
        elif isinstance(kind, type) and hasattr(kind, "model_fields"):
            paths.extend(lever_paths(kind, f"{prefix}.{name}"))
    return paths


def test_every_lever_is_found():
    paths = lever_paths()
    assert {"policy.tokenized_cash", "policy.market_maker_fee_rebate", "policy.issuance_grant",
            "policy.stamp_duty.tokenized_etf"} <= set(paths)


@pytest.mark.parametrize("path", lever_paths())
def test_a_window_in_the_wrong_order_is_refused_on_every_lever(path, capsys):
    code = main(["validate", str(ROOT / "scenarios" / "baseline.yaml"), "--set", f"{path}={{from_day: 9, to_day: 3}}"])
    err = capsys.readouterr().err
    assert code == 2
    assert path in err and "must start before it ends" in err and "Traceback" not in err


ON = {"enabled": True, "rate_per_side": 0.001, "share": 0.5}  # a value unlike the lever's outside one


@pytest.mark.parametrize("path", lever_paths())
def test_every_lever_is_in_force_inside_its_window_only(path):
    """The market's dated value of each lever: its own value on [from_day, to_day), the other outside."""
    model = Policy
    for part in path.split(".")[1:]:
        model = model.model_fields[part].annotation
    lever = model(from_day=3, to_day=7, **{k: v for k, v in ON.items() if k in model.model_fields})
    assert lever.inside() != lever.outside()
    dated = lever.dated()
    assert [dated.value_on(day) for day in (2, 3, 6, 7)] == [lever.outside(), lever.inside(), lever.inside(), lever.outside()]
    assert [lever.value_on(day) for day in (2, 3)] == [lever.outside(), lever.inside()]


def test_a_dated_value_refuses_an_empty_window():
    with pytest.raises(ValueError):
        Dated(1.0, 0.0, 5, 5)
    assert Dated.always(0.25).value_on(10_000) == 0.25
