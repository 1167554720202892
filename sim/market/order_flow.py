"""The order flow a market maker has seen: takers' buying less selling, fading with time.

A maker that learns from flow (Glosten and Milgrom 1985; Kyle 1985) reads one-sided taking as
information: more buyers than sellers may mean someone knows the value is higher. The flow is an
exponentially weighted sum of takers' signed quantities (buys positive) and of their absolute
quantities, each fading by half every `half_life_days`. The imbalance is the signed sum over the
total plus a prior of `prior_units` (the maker's own quote size: how much flow it needs to see
before it believes it), so it runs from near -1 (much recent selling) to near +1 (much recent
buying), and a lone trade, buy or sell, moves it only a little.
"""

from __future__ import annotations

import math

IMBALANCE_DIGITS = 2  # the maker prices from the imbalance to 0.01: its quotes change only when that does


class OrderFlow:
    """Signed and total taker quantity, each decaying with the same half-life."""

    def __init__(self, half_life_days: float, prior_units: float = 0.0) -> None:
        if not half_life_days > 0.0:
            raise ValueError(f"half_life_days must be positive, got {half_life_days}")
        if not prior_units >= 0.0:
            raise ValueError(f"prior_units must be >= 0, got {prior_units}")
        self._prior = prior_units
        self._rate = math.log(2.0) / half_life_days
        self._signed = 0.0
        self._total = 0.0
        self._t = 0.0

    def _decay_to(self, t: float) -> None:
        if t > self._t:
            factor = math.exp(-self._rate * (t - self._t))
            self._signed *= factor
            self._total *= factor
            self._t = t

    def add(self, t: float, signed_quantity: int) -> None:
        """A taker's fill at time t: positive when the taker bought."""
        self._decay_to(t)
        self._signed += signed_quantity
        self._total += abs(signed_quantity)

    def imbalance(self, t: float) -> float:
        """(buys - sells) / (buys + sells + prior) of the recent flow, rounded to `IMBALANCE_DIGITS`; 0 without flow."""
        self._decay_to(t)
        if self._total <= 0.0:
            return 0.0
        return round(self._signed / (self._total + self._prior), IMBALANCE_DIGITS)
