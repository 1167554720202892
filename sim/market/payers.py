"""Payer classes: who an account is, for the charges and reliefs the law attaches to trades.

Hong Kong's charges and their reliefs name classes of payer (a registered market maker, an
authorised participant's creations, retail investors), not accounts. Every ledger account gets
one class when it is opened; a charge or a relief is declared for a set of classes
(`sim.market.costs`), so a levy or a relief for one class is data, not a new branch in the code.
Classes are small integers so that the hot path can index per-class rate tables.
"""

from __future__ import annotations

from enum import IntEnum


class Payer(IntEnum):
    """The class of an account's holder."""

    INVESTOR = 0  # an investor group's account that is not retail
    RETAIL = 1  # an account of an investor group flagged `retail`
    MARKET_MAKER = 2  # quotes on an order book
    DEALER = 3  # answers requests for quote
    AUTHORISED_PARTICIPANT = 4  # creates and redeems units of a backed instrument
    ISSUER = 5
    GOVERNMENT = 6  # its budget lines (the grant scheme)
    COLLECTOR = 7  # collects a charge (the government's duty account, a venue operator, a levy)
    FUND = 8  # holds a backed instrument's backing


LIQUIDITY_PROVIDERS = frozenset({Payer.MARKET_MAKER, Payer.DEALER, Payer.AUTHORISED_PARTICIPANT})
INVESTORS = frozenset({Payer.INVESTOR, Payer.RETAIL})
EVERYONE = frozenset(Payer)
