"""The all-in cost of a trade in one listing under the policy in force on the trade's day.

One place holds the rates behind two questions: what a trade is expected to cost before a
channel is chosen (an investor's rate of stamp duty, fees and levies per side, and the network
fee, to which the investor adds the quoted crossing cost and the cost of waiting for
settlement), and what each side is actually charged, in cents, with each charge credited to its
collector. Both use the same rates, so decisions and accounting cannot drift apart. Liquidity
providers (market makers, dealers, authorised participants) may be exempt from stamp duty and
get a share of their fees rebated, as policy says.
"""

from __future__ import annotations

from sim.scenario.schema import DutyLever, Fees, RebateLever

PER_SIDE_FEES = ("trading_fee_bps", "sfc_levy_bps", "afrc_levy_bps", "settlement_fee_bps")


class CostSchedule:
    """Charges in one listing: per-side fees to their collectors, duty to the government."""

    def __init__(
        self,
        fees: Fees,
        duty: DutyLever,
        providers_exempt: bool,
        rebate: RebateLever,
        fee_collectors: dict[str, int],
        government: int,
        network: int,
    ) -> None:
        """`fee_collectors` maps each per-side fee key to the account that collects it."""
        self.duty = duty
        self.providers_exempt = providers_exempt
        self.rebate = rebate
        self.government = government
        self.network = network
        self.fee_parts = [
            (fee_collectors[key], getattr(fees, key) / 10_000.0) for key in PER_SIDE_FEES if getattr(fees, key) > 0
        ]
        self.fee_rate = sum(rate for _, rate in self.fee_parts)
        self.network_fee_cents = round(fees.network_fee_hkd_per_transfer * 100)
        self._day = None  # the day the rates below are for: levers change by day only
        self._duty_rate = self._rebate_share = self._investor_rate = self._provider_rate = 0.0

    def _rates_on(self, day: int) -> None:
        """Look up the levers and sum the rates once per day rather than once per trade or need
        (they are on the hot path)."""
        self._day = day
        self._duty_rate = self.duty.rate_on(day)
        self._rebate_share = self.rebate.share_on(day)
        self._investor_rate = self._duty_rate + self.fee_rate
        provider_duty = 0.0 if self.providers_exempt else self._duty_rate
        self._provider_rate = provider_duty + self.fee_rate * (1.0 - self._rebate_share)

    def investor_rate(self, day: int) -> float:
        """Duty plus fees per side, as a fraction of value, for an investor."""
        if day != self._day:
            self._rates_on(day)
        return self._investor_rate

    def provider_rate(self, day: int) -> float:
        """Duty plus fees per side for a liquidity provider, after exemption and rebate."""
        if day != self._day:
            self._rates_on(day)
        return self._provider_rate

    def side_charges(
        self, value_cents: int, day: int, provider: bool, selling: bool
    ) -> tuple[int, list[tuple[int, int]]]:
        """(stamp duty, [(collector, cents) for each fee]) that one side pays on a trade."""
        if day != self._day:
            self._rates_on(day)
        exempt = provider and self.providers_exempt
        duty = 0 if exempt else round(value_cents * self._duty_rate)
        scale = 1.0 - self._rebate_share if provider else 1.0
        fees = [(collector, round(value_cents * rate * scale)) for collector, rate in self.fee_parts]
        if selling and self.network_fee_cents:
            fees.append((self.network, self.network_fee_cents))
        return duty, fees

    def trade_charges(
        self, value_cents: int, day: int, buyer_provider: bool, seller_provider: bool
    ) -> tuple[int, int, int, int, list[tuple[int, int]]]:
        """Both sides of one trade at once, as `side_charges` gives them: (buyer duty, seller duty,
        buyer fees, seller fees, [(collector, cents)] credits: each fee of both sides together,
        then the network's fee and the government's duty).

        One call per trade on the hot path. A fee's collector is credited once for both sides
        (settlement then makes half the credits); a side's fees are worked out once when both
        sides pay the same rates (the usual case: no rebate, or two investors).
        """
        if day != self._day:
            self._rates_on(day)
        duty_rate, exempt = self._duty_rate, self.providers_exempt
        buyer_duty = 0 if (buyer_provider and exempt) or not duty_rate else round(value_cents * duty_rate)
        seller_duty = 0 if (seller_provider and exempt) or not duty_rate else round(value_cents * duty_rate)
        rebated = 1.0 - self._rebate_share
        buyer_scale = rebated if buyer_provider else 1.0
        seller_scale = rebated if seller_provider else 1.0
        if seller_scale == buyer_scale:  # a plain loop: a comprehension and a sum cost a third more here
            credits, buyer_total = [], 0
            for collector, rate in self.fee_parts:
                cents = round(value_cents * rate * buyer_scale)
                buyer_total += cents
                credits.append((collector, 2 * cents))
            seller_total = buyer_total
        else:
            buyer_fees = [round(value_cents * rate * buyer_scale) for _, rate in self.fee_parts]
            seller_fees = [round(value_cents * rate * seller_scale) for _, rate in self.fee_parts]
            buyer_total, seller_total = sum(buyer_fees), sum(seller_fees)
            credits = [
                (collector, buyer + seller)
                for (collector, _), buyer, seller in zip(self.fee_parts, buyer_fees, seller_fees)
            ]
        if self.network_fee_cents:
            credits.append((self.network, self.network_fee_cents))
            seller_total += self.network_fee_cents
        if buyer_duty or seller_duty:
            credits.append((self.government, buyer_duty + seller_duty))
        return buyer_duty, seller_duty, buyer_total, seller_total, credits
