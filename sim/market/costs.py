"""The all-in cost of a trade on a venue under the policy in force on the trade's day.

One place answers two questions: what an investor expects a trade to cost before choosing a
channel (in bps of value: stamp duty, fees, levies, network fee and half the quoted spread),
and what each side is actually charged, in cents, with each charge credited to its collector.
Both use the same rates, so the decision and the accounting cannot drift apart.
"""

from __future__ import annotations

from sim.scenario.schema import DutyLever, Fees

PER_SIDE_FEES = ("trading_fee_bps", "sfc_levy_bps", "afrc_levy_bps", "settlement_fee_bps")


class CostSchedule:
    """Charges of one venue: per-side fees to their collectors, duty to the government."""

    def __init__(
        self,
        fees: Fees,
        duty: DutyLever,
        fee_collectors: dict[str, int],
        government: int,
        network: int,
    ) -> None:
        """`fee_collectors` maps each per-side fee key to the account that collects it."""
        self.duty = duty
        self.government = government
        self.network = network
        self.fee_parts = [
            (fee_collectors[key], getattr(fees, key) / 10_000.0)
            for key in PER_SIDE_FEES
            if getattr(fees, key) > 0
        ]
        self.fee_rate = sum(rate for _, rate in self.fee_parts)
        self.network_fee_cents = round(fees.network_fee_hkd_per_transfer * 100)

    def expected_cost_bps(self, value_cents: float, day: int, half_spread_bps: float, selling: bool) -> float:
        """Cost of one side of a trade as bps of its value, as an investor would estimate it."""
        cost = (self.duty.rate_on(day) + self.fee_rate) * 10_000.0 + half_spread_bps
        if selling and self.network_fee_cents:
            cost += self.network_fee_cents / value_cents * 10_000.0
        return cost

    def side_charges(self, value_cents: int, day: int, exempt: bool, selling: bool) -> tuple[int, int]:
        """(stamp duty, other fees) in cents that one side pays on a trade of this value."""
        duty = 0 if exempt else round(value_cents * self.duty.rate_on(day))
        fees = sum(round(value_cents * rate) for _, rate in self.fee_parts)
        if selling:
            fees += self.network_fee_cents
        return duty, fees

    def credits(
        self, value_cents: int, buyer_duty: int, seller_duty: int
    ) -> list[tuple[int, int]]:
        """(collector, cents) for everything both sides paid on one trade, matching side_charges."""
        credits = [(collector, 2 * round(value_cents * rate)) for collector, rate in self.fee_parts]
        if self.network_fee_cents:
            credits.append((self.network, self.network_fee_cents))
        if buyer_duty or seller_duty:
            credits.append((self.government, buyer_duty + seller_duty))
        return credits
