"""How far a liquidity provider leans its quotes against its inventory.

A market maker and a dealer both shift their quote mid against the position they hold beyond
the one they aim for, in proportion to how far it is towards their inventory limit, and no
further than the limit itself.
"""

from __future__ import annotations


def inventory_lean(excess_units: int, limit_units: int) -> float:
    """The excess position as a share of the limit, clamped to [-1, 1] (comparisons: it runs per quote)."""
    lean = excess_units / limit_units
    if lean > 1.0:
        return 1.0
    if lean < -1.0:
        return -1.0
    return lean
