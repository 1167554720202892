"""The authorised participant's arbitrage band around NAV, from the scenario's costs.

An authorised participant creates units when the bid exceeds NAV by more than its costs and
redeems when the ask falls below NAV by more than them, so the premium of a backed instrument
(an ETF, a commodity token) should stay within a band of basket cost + the stamp duty on the
basket (a basket of Hong Kong stock; where the basket is a share traded in the model, the share listing's
charges on the participant's purchase or sale, duty among them) + creation fee / (creation unit x
NAV) + the participant's own per-side charges on the venue (fees, and duty where the listing is
dutiable). The experiment series record the band beside the premium; the
validation checks the premium stays inside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.compile import listing_costs, participant_spec
from sim.market.authorised_participant import basket_duty_rate, transfer_duty_rate
from sim.market.payers import Payer
from sim.market.venue_kinds import PROVIDERS
from sim.scenario.schema import Scenario


def band_bps(scenario: Scenario, instrument: str, venue: str, days: pd.DataFrame) -> np.ndarray:
    """The participant's band on each of `days` (rows with `day` and `fair_value_hkd`), bps of NAV."""
    backed = scenario.instruments[instrument]
    participant = backed.authorised_participant
    charges = listing_costs(scenario, venue, backed.type)
    fee = participant.creation_fee_hkd / (backed.creation_unit_units * days["fair_value_hkd"].to_numpy())
    spec = participant_spec(backed, scenario.policy.stamp_duty)
    share = getattr(backed, "basket", None)
    if share is None:
        def basket(day: int) -> float:
            return basket_duty_rate(spec, day)
    else:  # the share's charges on the participant's trade in it, on its first exchange, as the model trades it
        exchange = next(n for n, v in scenario.venues.items() if v.kind == "exchange" and share in v.listings)
        share_charges = listing_costs(scenario, exchange, "stock")

        def basket(day: int) -> float:
            return share_charges.rate_for(Payer.AUTHORISED_PARTICIPANT, day) + transfer_duty_rate(spec, day)
    provider = np.array([charges.rate_for(Payer.AUTHORISED_PARTICIPANT, int(day)) + basket(int(day))
                         for day in days["day"]])
    return participant.basket_cost_bps + (fee + provider) * 10_000.0


def backed_book_listings(scenario: Scenario) -> list[tuple[str, str]]:
    """(instrument, venue) of every ETF or other backed instrument listed on an order book."""
    return [(name, venue_name) for venue_name, venue in scenario.venues.items() if PROVIDERS[venue.kind].order_book
            for name in venue.listings if hasattr(scenario.instruments[name], "authorised_participant")]
