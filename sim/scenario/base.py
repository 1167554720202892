"""Shared pieces of the scenario schema: the strict base model, value types and window checks.

Every section of a scenario derives from `Strict`: unknown keys are errors (a typo is never a
silently ignored setting), values are frozen, and numbers, switches and dates are taken only as
YAML writes them.
"""

from __future__ import annotations

import datetime
import re
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sim.market.calendar import FIRST_DATE, LAST_DATE
from sim.market.specs import FORMS as MARKET_FORMS
from sim.scenario.strict_yaml import NotADate

Form = Literal["conventional", "tokenized"]
FORMS: tuple[Form, ...] = MARKET_FORMS  # one definition, the market's
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]
NonNegativeBps = Annotated[float, Field(ge=0.0, lt=10_000.0)]
Hour = Annotated[float, Field(ge=0.0, le=24.0)]
VenueKind = Literal["exchange", "platform", "dealer"]
# A venue's per-side fees (the keys of `venues.*.fees` charged as a share of value)
FeeName = Literal["trading_fee_bps", "sfc_levy_bps", "afrc_levy_bps", "settlement_fee_bps"]
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")]
DATE_HINT = "a date is written YYYY-MM-DD, e.g. 2026-01-05"


def _in_calendar(value: datetime.date) -> datetime.date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValueError(f"is outside the calendar's range, {FIRST_DATE} to {LAST_DATE}")
    return value


Date = Annotated[datetime.date, AfterValidator(_in_calendar)]
"""A day the business calendar serves, written as a YAML date (checked by `Strict`)."""


class Strict(BaseModel):
    """Base for every scenario section: unknown keys are errors and values are immutable.

    Numbers, switches and dates are taken only as YAML writes them: pydantic alone would read
    `"5"` as 5, `5.0` as the integer 5, `yes`-as-text and `1` as true, and `0` as the date
    1970-01-01, which would hide a user's mistake. (A date's ISO text is taken as that date.)
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_silent_coercion(cls, value: Any, info: ValidationInfo) -> Any:
        _refuse_coercion(cls.model_fields[info.field_name].annotation, value)
        return value


def _refuse_coercion(annotation: Any, value: Any, at: str = "") -> None:
    """A ValueError if pydantic would have to convert `value` to fit `annotation`: text or a
    switch where a number is due, a number with a point (even `5.0`) where an integer is, anything
    but true/false for a switch, anything but a YAML date (`0`, text, a time of day) for a date;
    looked for inside lists, tuples and mappings too, `at` being the position inside the key."""
    origin, args = get_origin(annotation), get_args(annotation)
    if value is None:
        return
    if origin is Annotated:
        _refuse_coercion(args[0], value, at)
    elif origin in (Union, types.UnionType):
        real = [arg for arg in args if arg is not type(None)]
        if len(real) == 1:  # Optional[X]; a union of several kinds takes each value as its own kind
            _refuse_coercion(real[0], value, at)
    elif origin is dict and isinstance(value, dict):
        for key, inner in value.items():
            _refuse_coercion(args[1], inner, f"{at}.{key}" if at else str(key))
    elif origin in (list, tuple) and isinstance(value, (list, tuple)):
        for index, inner in enumerate(value):
            item = args[0] if origin is list or args[-1] is Ellipsis else args[min(index, len(args) - 1)]
            _refuse_coercion(item, inner, f"{at}[{index}]")
    elif annotation is datetime.date:
        _refuse_non_date(value, at)
    else:
        _refuse_non_scalar(_scalar_kinds(annotation), value, at)


def _refuse_non_scalar(kinds: set[type], value: Any, at: str) -> None:
    where = f" at {at}" if at else ""
    if not kinds:
        return
    if bool in kinds and not isinstance(value, bool):
        raise ValueError(f"expected true/false{where}")
    if kinds & {int, float} and isinstance(value, (str, bool)):
        raise ValueError(f"expected {'a number' if float in kinds else 'an integer'}{where}")
    if float not in kinds and isinstance(value, float):
        raise ValueError(f"expected an integer{where}")


def _refuse_non_date(value: Any, at: str) -> None:
    """Only a date is a date; the text of one (`"2026-01-05"`, as a JSON dump of a scenario
    writes it) is taken too, so that a dumped scenario validates again."""
    where = f" at {at}" if at else ""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            datetime.date.fromisoformat(value)
            return
        except ValueError:
            value = NotADate(value)
    if isinstance(value, NotADate):
        raise ValueError(f"is not a day on the calendar{where} ({DATE_HINT})")
    if isinstance(value, datetime.datetime):
        raise ValueError(f"expected a date without a time of day{where} ({DATE_HINT})")
    if not isinstance(value, datetime.date):
        raise ValueError(f"expected a date{where} ({DATE_HINT})")


def _scalar_kinds(annotation: Any) -> set[type]:
    """The plain scalar types (bool, int, float) a value may take, integer literals included
    (`Literal[1, 2, 4, 12]`)."""
    if get_origin(annotation) is Literal:
        return {type(arg) for arg in get_args(annotation)} & {bool, int, float}
    return {annotation} & {bool, int, float}


def check_window(start: float, end: float, what: str) -> None:
    if not start < end:
        raise ValueError(f"{what} must start before it ends (got {start} to {end})")


