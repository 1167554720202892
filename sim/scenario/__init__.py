"""Scenario configuration: the schema, and the pipeline that turns YAML files into a `Scenario`."""

from sim.scenario.errors import ScenarioError
from sim.scenario.loader import comparator_file, load_scenario, resolve_scenario_dict
from sim.scenario.reference import render_reference
from sim.scenario.schema import Scenario

__all__ = ["Scenario", "ScenarioError", "comparator_file", "load_scenario", "render_reference", "resolve_scenario_dict"]
