"""A dated lever: one value in force over a window of business days, another outside it.

Every policy lever the model reads (a duty rate, a fee rebate share, a switch such as tokenized
cash, the grant scheme being open) is a `Dated` value, so there is one rule for windows:
in force from `from_day` (inclusive) until `to_day` (exclusive; None runs to the end). The
scenario layer validates the window once, for every lever, before a `Dated` is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T", float, bool)


@dataclass(frozen=True, slots=True)
class Dated(Generic[T]):
    """`value` on business days in [from_day, to_day), `otherwise` on the others."""

    value: T
    otherwise: T
    from_day: int = 0
    to_day: int | None = None

    def __post_init__(self) -> None:
        if self.from_day < 0 or (self.to_day is not None and self.to_day <= self.from_day):
            raise ValueError(f"a dated lever's window must start at 0 or later and before it ends "
                             f"(got {self.from_day} to {self.to_day})")

    def in_force(self, day: int) -> bool:
        """Is `day` inside the window?"""
        return day >= self.from_day and (self.to_day is None or day < self.to_day)

    def value_on(self, day: int) -> T:
        """The value in force on business day `day` (the window test written out: once per lever and day)."""
        return self.value if day >= self.from_day and (self.to_day is None or day < self.to_day) else self.otherwise

    @classmethod
    def always(cls, value: T) -> Dated[T]:
        """The same value every day."""
        return cls(value, value)
