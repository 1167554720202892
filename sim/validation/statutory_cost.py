"""The Hong Kong statutory cost of a round trip, computed by the cost module, against the published arithmetic.

Why: every policy result rests on the cost module charging what the law and the fee schedule
say. A HK$100,000 stock trade pays, per side, 0.1% stamp duty, the HKEX trading fee 0.00565%,
the SFC levy 0.0027%, the AFRC levy 0.00015% and the CCASS fee 0.0042% (HKEX fee schedule,
IRD): HK$112.70 a side, HK$225.40 a round trip (about 0.225%). The model's figure comes from the
scenario's exchange fees and its stock duty lever (`policy.stamp_duty.conventional_stock`) through
`CostSchedule`, the published one from those rates as printed.
"""

from __future__ import annotations

from sim.compile import listing_costs
from sim.market.payers import Payer
from sim.scenario.schema import Scenario

TRADE_HKD = 100_000
STOCK_DUTY_PER_SIDE = 0.001
# Published rates, per side, in percent of value: trading fee, SFC levy, AFRC levy, CCASS fee.
PUBLISHED_FEES_PERCENT = (0.00565, 0.0027, 0.00015, 0.0042)


def published_round_trip_hkd() -> float:
    per_side = TRADE_HKD * (STOCK_DUTY_PER_SIDE + sum(PUBLISHED_FEES_PERCENT) / 100.0)
    return round(2 * per_side, 2)


def model_round_trip_hkd(scenario: Scenario, venue: str = "exchange") -> float:
    """Both sides' duty and fees on a HK$100,000 stock trade between investors on the venue, on day 0."""
    costs = listing_costs(scenario, venue, "stock")
    charged = costs.trade_charges(TRADE_HKD * 100, 0, Payer.INVESTOR, Payer.INVESTOR)
    return (charged.buyer_duty + charged.seller_duty + charged.buyer_fees + charged.seller_fees) / 100.0
