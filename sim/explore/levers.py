"""The levers a scenario offers the reader, their ranges, and the override each one makes.

A lever is one scenario key the page lets the reader move (a duty rate, a settlement cycle,
retail access, tokenized cash, the grant scheme, and the day a lever starts). Which levers a
scenario offers follows from what it contains: duty levers for the instrument types it lists,
a settlement cycle for each venue that settles by delivery versus payment after a cycle,
tokenized cash where a venue is tokenized, the grant where an issuer issues, retail access
where a group is retail. Levers the scenario sets differently from its comparator are its own
("moved"); the page shows them first.

A duty lever that starts mid-run (`from_day` > 0) needs a rate before that day: the
`before` lever, which defaults to the scenario's own `otherwise_rate_per_side` when the
scenario already starts the lever mid-run, and otherwise to the comparator's rate (a waiver
from day 60 charges the comparator's duty until then). It is applied only while `from_day`
is above 0, since the rate outside the lever's window is never used otherwise.

`overrides` turns the reader's values into `KEY=VALUE` overrides, only for values that differ
from the scenario's own, so an untouched setting is the scenario itself. A value that is not
a lever of the scenario, of the wrong type or out of its range is a `LeverError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sim.experiment.params import value_text

RATE_MAX = 0.005  # 0.5% per side: five times Hong Kong's stock rate, enough for any "what if"
CYCLE_MAX_DAYS = 5
DUTY_TYPES = {"etf": "ETF units", "stock": "Hong Kong shares"}
FORMS = ("tokenized", "conventional")
SETTLES_BY_DVP = {"exchange", "dealer"}  # kinds whose default settlement model is dvp


class LeverError(ValueError):
    """A lever value the scenario does not offer, or out of its range; `str()` says which and why."""


@dataclass(frozen=True)
class Lever:
    """One movable scenario key: how the page draws it and what the scenario and comparator say.

    `kind` is "rate" (a fraction per side, shown as %), "share" (a fraction, shown as %),
    "day" (a business day), "days" (a settlement cycle) or "switch" (on/off). `active_when`
    names a "day" lever that must be above 0 for this one to apply."""

    id: str
    label: str
    key: str
    kind: str
    group: str
    minimum: float
    maximum: float
    step: float
    value: Any
    comparator_value: Any
    help: str
    active_when: str | None = None

    @property
    def moved(self) -> bool:
        """Does the scenario set this lever differently from its comparator?"""
        return self.value != self.comparator_value

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "moved": self.moved}


def _at(data: Mapping[str, Any], key: str, default: Any = None) -> Any:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def _duty_levers(scenario: Mapping[str, Any], comparator: Mapping[str, Any], horizon: int) -> list[Lever]:
    types = {spec.get("type") for spec in scenario.get("instruments", {}).values()}
    levers = []
    for kind, words in DUTY_TYPES.items():
        if kind not in types:
            continue
        for form in FORMS:
            channel = f"{form}_{kind}"
            base = f"policy.stamp_duty.{channel}"
            rate, own_from = _at(scenario, f"{base}.rate_per_side", 0.0), _at(scenario, f"{base}.from_day", 0)
            windowed = own_from > 0 or _at(scenario, f"{base}.to_day") is not None
            before = _at(scenario, f"{base}.otherwise_rate_per_side", 0.0) if windowed else \
                _at(comparator, f"{base}.rate_per_side", 0.0)
            group = f"Stamp duty: {form} {words}"
            levers += [
                Lever(f"duty.{channel}.rate", f"Duty on {form} {words}, per side", f"{base}.rate_per_side", "rate",
                      group, 0.0, max(RATE_MAX, rate), 0.0001, rate, _at(comparator, f"{base}.rate_per_side", 0.0),
                      "Paid by buyer and by seller, as a share of the value traded."),
                Lever(f"duty.{channel}.from_day", "Rate in force from business day", f"{base}.from_day", "day", group,
                      0, max(horizon - 1, own_from), 1, own_from, _at(comparator, f"{base}.from_day", 0),
                      "The day the rate above starts; before it, the rate below."),
                Lever(f"duty.{channel}.before", "Rate before that day, per side", f"{base}.otherwise_rate_per_side",
                      "rate", group, 0.0, max(RATE_MAX, before), 0.0001, before, before,
                      "Applies only while the start day is above 0.", active_when=f"duty.{channel}.from_day"),
            ]
    return levers


def _settlement_levers(scenario: Mapping[str, Any], comparator: Mapping[str, Any], horizon: int) -> list[Lever]:
    levers = []
    for name, venue in scenario.get("venues", {}).items():
        model = venue.get("settlement_model") or ("dvp" if venue.get("kind") in SETTLES_BY_DVP else None)
        if model != "dvp":
            continue
        key = f"venues.{name}.settlement_cycle_days"
        cycle = venue.get("settlement_cycle_days", 2)
        levers.append(Lever(f"settlement.{name}.cycle", f"Settlement cycle on {name} (T+N)", key, "days",
                            "Settlement", 0, max(CYCLE_MAX_DAYS, cycle), 1, cycle, _at(comparator, key, cycle),
                            "Business days from trade to settlement; 0 settles at the trade, prefunded."))
    if any(venue.get("form") == "tokenized" for venue in scenario.get("venues", {}).values()):
        levers += [
            Lever("tokenized_cash.enabled", "Tokenized cash (stablecoin) settlement", "policy.tokenized_cash.enabled",
                  "switch", "Settlement", 0, 1, 1, _at(scenario, "policy.tokenized_cash.enabled", False),
                  _at(comparator, "policy.tokenized_cash.enabled", False),
                  "Tokenized venues settle atomically against tokenized cash at the trade."),
            Lever("tokenized_cash.from_day", "Tokenized cash from business day", "policy.tokenized_cash.from_day",
                  "day", "Settlement", 0, max(horizon - 1, _at(scenario, "policy.tokenized_cash.from_day", 0)), 1,
                  _at(scenario, "policy.tokenized_cash.from_day", 0), _at(comparator, "policy.tokenized_cash.from_day", 0),
                  "Before this day tokenized trades settle as the venue's own model says."),
        ]
    return levers


def _access_levers(scenario: Mapping[str, Any], comparator: Mapping[str, Any]) -> list[Lever]:
    levers = []
    for name, group in scenario.get("investors", {}).items():
        if not group.get("retail"):
            continue
        access, share = f"investors.{name}.tokenized_access", f"investors.{name}.adoption.initial_share"
        levers += [
            Lever(f"access.{name}.tokenized", f"{name.capitalize()} may use tokenized channels", access, "switch",
                  "Retail access", 0, 1, 1, _at(scenario, access, False), _at(comparator, access, False),
                  "Retail investors may trade tokenized units."),
            Lever(f"access.{name}.initial_share", f"{name.capitalize()} accounts onboarded at the start", share,
                  "share", "Retail access", 0.0, 1.0, 0.01, _at(scenario, share, 1.0), _at(comparator, share, 1.0),
                  "Share of the group's accounts onboarded on day 0; the rest onboard gradually (Bass diffusion)."),
        ]
    return levers


def _grant_levers(scenario: Mapping[str, Any], comparator: Mapping[str, Any], horizon: int) -> list[Lever]:
    if not any(issuer.get("programmes") for issuer in scenario.get("issuers", {}).values()):
        return []
    base = "policy.issuance_grant"
    return [
        Lever("grant.enabled", "Digital Bond Grant Scheme in force", f"{base}.enabled", "switch", "Issuance grant",
              0, 1, 1, _at(scenario, f"{base}.enabled", False), _at(comparator, f"{base}.enabled", False),
              "Grants to market issuers for tokenized bond issues."),
        Lever("grant.share", "Share of eligible costs paid", f"{base}.share_of_eligible_cost", "share",
              "Issuance grant", 0.0, 0.99, 0.01, _at(scenario, f"{base}.share_of_eligible_cost", 0.5),
              _at(comparator, f"{base}.share_of_eligible_cost", 0.5), "Up to the scheme's caps per issue."),
        Lever("grant.from_day", "Grant scheme from business day", f"{base}.from_day", "day", "Issuance grant", 0,
              max(horizon - 1, _at(scenario, f"{base}.from_day", 0)), 1, _at(scenario, f"{base}.from_day", 0),
              _at(comparator, f"{base}.from_day", 0), "Issues announced before this day get no grant."),
    ]


def levers_for(scenario: Mapping[str, Any], comparator: Mapping[str, Any]) -> list[Lever]:
    """The levers of `scenario` (its resolved data, defaults filled: `Scenario.model_dump`),
    with the values of `comparator` beside them; moved levers first, then the catalogue's order."""
    horizon = int(scenario.get("horizon_days", 1))
    levers = [*_duty_levers(scenario, comparator, horizon), *_settlement_levers(scenario, comparator, horizon),
              *_access_levers(scenario, comparator), *_grant_levers(scenario, comparator, horizon)]
    moved_groups = {lever.group for lever in levers if lever.moved}
    return sorted(levers, key=lambda lever: lever.group not in moved_groups)


def _shown(value: Any) -> str:
    """A value as the reader sent it, cut short so that an error stays one line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _checked(lever: Lever, value: Any) -> Any:
    """`value` if it fits the lever, else a LeverError saying what the lever takes."""
    if lever.kind == "switch":
        if not isinstance(value, bool):
            raise LeverError(f"lever {lever.id} = {_shown(value)}: expected true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LeverError(f"lever {lever.id} = {_shown(value)}: expected a number")
    if lever.kind in ("day", "days"):
        if value != int(value):
            raise LeverError(f"lever {lever.id} = {_shown(value)}: expected a whole number of business days")
        value = int(value)
    if not lever.minimum <= value <= lever.maximum:
        raise LeverError(f"lever {lever.id} = {_shown(value)}: must be between {lever.minimum:g} and {lever.maximum:g}")
    return float(value) if lever.kind in ("rate", "share") else value


def checked_values(levers: list[Lever], values: Mapping[str, Any]) -> dict[str, Any]:
    """Every lever's value: the reader's where given (checked), else the scenario's own."""
    by_id = {lever.id: lever for lever in levers}
    unknown = sorted(set(values) - set(by_id))
    if unknown:
        offered = ", ".join(by_id) or "none"
        raise LeverError(f"unknown lever {unknown[0]} for this scenario (its levers: {offered})")
    return {lever.id: _checked(lever, values[lever.id]) if lever.id in values else lever.value for lever in levers}


def overrides(levers: list[Lever], values: Mapping[str, Any]) -> list[str]:
    """The `KEY=VALUE` overrides that set the reader's `values` (lever id -> value), in the
    levers' order: one for each value that differs from the scenario's own, and none for a
    lever whose `active_when` lever is at 0."""
    chosen = checked_values(levers, values)
    result = []
    for lever in levers:
        value = chosen[lever.id]
        if lever.active_when is not None and not chosen[lever.active_when] > 0:
            continue
        own = lever.value if lever.active_when is None else _own_before(levers, lever)
        if value != own:
            result.append(f"{lever.key}={value_text(value)}")
    return result


def _own_before(levers: list[Lever], lever: Lever) -> Any:
    """What the scenario itself has at a `before` lever's key: its own rate outside the window,
    which is the lever's default only when the scenario already starts the lever mid-run."""
    start = next(other for other in levers if other.id == lever.active_when)
    return lever.value if start.value > 0 else None  # None: always write the rate when a start day is set
