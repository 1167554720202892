"""Shared pieces of the scenario schema: the strict base model, value types and window checks.

Every section of a scenario derives from `Strict`: unknown keys are errors (a typo is never a
silently ignored setting), values are frozen, and numbers and switches are taken only as YAML
writes them.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sim.market.specs import FORMS as MARKET_FORMS

Form = Literal["conventional", "tokenized"]
FORMS: tuple[Form, ...] = MARKET_FORMS  # one definition, the market's
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]
NonNegativeBps = Annotated[float, Field(ge=0.0, lt=10_000.0)]
Hour = Annotated[float, Field(ge=0.0, le=24.0)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")]


class Strict(BaseModel):
    """Base for every scenario section: unknown keys are errors and values are immutable.

    Numbers and switches are taken only as YAML writes them: pydantic alone would read
    `"5"` as 5 or `yes`-as-text and `1` as true, which would hide a user's mistake.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_silent_coercion(cls, value: Any, info: ValidationInfo) -> Any:
        kinds = _scalar_kinds(cls.model_fields[info.field_name].annotation)
        if value is None or not kinds:
            return value
        if bool in kinds and not isinstance(value, bool):
            raise ValueError("expected true/false")
        if kinds & {int, float} and isinstance(value, (str, bool)):
            raise ValueError("expected a number" if float in kinds else "expected an integer")
        return value


def _scalar_kinds(annotation: Any) -> set[type]:
    """The plain scalar types (bool, int, float) a field accepts, looking through Optional."""
    if get_origin(annotation) in (Union, types.UnionType):
        return set().union(*(_scalar_kinds(arg) for arg in get_args(annotation)))
    return {annotation} & {bool, int, float}


def check_window(start: float, end: float, what: str) -> None:
    if not start < end:
        raise ValueError(f"{what} must start before it ends (got {start} to {end})")


