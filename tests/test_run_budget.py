"""Every run ends: a run that would go on for ever is stopped at its budget, naming the cause."""

from __future__ import annotations

import pytest

from conftest import SCENARIOS, quick
from sim.engine import RunBudget, RunDidNotEnd, build, run_budget, simulate, watch_budget


def test_trades_that_can_never_settle_stop_the_run_with_the_cause():
    """Every settlement attempt fails and nobody buys in: the run stops past its budget of days."""
    model = build(quick("baseline", "horizon_days=3"), seed=1)
    model.settlement.fail_probabilities[:] = [1.0] * len(model.settlement.fail_probabilities)
    model.settlement.buy_in_after_fails = None
    for venue in {listing.venue for listing in model.listings}:  # as the compiled venues would say
        object.__setattr__(venue.spec, "fail_probability", 1.0)
    object.__setattr__(model.spec, "buy_in_after_fails", None)
    with pytest.raises(RunDidNotEnd, match=r"can never settle: fail probability 1 at T\+2 and buy-ins off"):
        simulate(model)
    assert model.env.now <= run_budget(model).last_day + 1


def test_a_run_past_its_budget_of_events_is_stopped():
    model = build(quick("baseline", "horizon_days=3"), seed=1)
    model.env.process(watch_budget(model.env, model, RunBudget(last_day=10_000, events=500)))
    with pytest.raises(RunDidNotEnd, match="more than 500 events"):
        simulate(model)


@pytest.mark.parametrize("name", ["baseline", "regular_bond_issuance", "renewable_revenue_token"])
def test_a_run_that_ends_by_itself_ends_within_its_budget_and_as_it_would_alone(name):
    model = build(quick(name, "horizon_days=8"), seed=3)
    budget = run_budget(model)
    simulate(model)
    assert model.env.now <= budget.last_day and model.scenario.horizon_days < budget.last_day
    assert sum(model.settlement.outstanding_trades) == 0


def test_the_command_line_reports_a_run_that_did_not_end_in_one_paragraph(monkeypatch, capsys, tmp_path):
    """Settings validation cannot see through (here: a run forced past its budget) end with exit 1 and the cause."""
    from sim import engine
    from sim.cli import main

    monkeypatch.setattr(engine, "run_budget", lambda model: RunBudget(last_day=2, events=10**9))
    code = main(["run", str(SCENARIOS / "baseline.yaml"), "--set", "horizon_days=4",
                 "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "did not end" in err and "Traceback" not in err
    assert not (tmp_path / "baseline").exists()  # nothing of the run was kept
