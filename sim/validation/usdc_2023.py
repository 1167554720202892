"""The March 2023 USDC de-peg, replayed by the stablecoin model: causes from sources, then the price compared.

Why: a stablecoin model is evidence only if, given what happened, it produces what the market
did. The causes are set from published figures first (`data/stablecoin_stress.csv`): US$3.3bn of
about US$40bn of reserves frozen at Silicon Valley Bank when it was closed (Friday 10 March
2023, noon ET), reserves about a quarter in bank cash and the rest in Treasury bills (sold for
next-day cash), no redemptions over the weekend (banks closed), the deposit guarantee on Sunday
12 March at 18:15 ET, the deposits back on Monday morning. The holders' behaviour, the
arbitrageurs' depth and the market's expected recovery before the guarantee are the validated
scenario's (its first stablecoin's) or the schema's defaults; of them only the scale of the
holders' thresholds is fitted, to the published redemptions (US$6.2bn from Friday to early
Tuesday), which sets how many ran. The low and the time back to par are then compared with the
published ones without being tuned to them.

The clock runs on US Eastern time for this replay (a business day starts at midnight ET).
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from dataclasses import dataclass

import numpy as np

from sim.compile import money_spec
from sim.market.calendar import BusinessCalendar
from sim.market.money_clock import MoneyClock
from sim.market.money_path import MoneyPath
from sim.market.money_specs import ImpairmentSpec, Moment, ReserveSpec, StablecoinSpec
from sim.market.stablecoin import run_stablecoin
from sim.published import figure
from sim.scenario.schema import Scenario
from sim.scenario.settlement_assets import Stablecoin
from sim.validation.checks import Check
from sim.validation.kinds import CALIBRATION_TARGET, OUT_OF_SAMPLE, Driver

START = datetime.date(2023, 3, 6)  # Monday; business day 4 is Friday 10 March 2023
FRIDAY = 4
BANK_CLOSED = Moment(FRIDAY, 12.0)  # Silicon Valley Bank closed by its regulator, Friday 10 Mar, about noon ET
GUARANTEE = Moment(FRIDAY, 48.0 + 18.25)  # joint statement of the Treasury, the Fed and the FDIC: Sun 12 Mar, 18:15 ET
DEPOSITS_BACK = Moment(FRIDAY + 1, 9.0)  # Monday 13 Mar: deposits accessible when the banks open
REDEMPTIONS_COUNTED_TO = Moment(FRIDAY + 2, 6.0)  # "early Tuesday" 14 Mar
BUSINESS_DAYS = 10
PAR = 0.995  # back to par: within half a cent
THRESHOLD_RANGE = (10.0, 10_000.0)  # bps: the fit's bracket for the holders' largest threshold
FIT_STEPS = 40  # at most: the fit stops within FIT_TOLERANCE of the published redemptions
FIT_TOLERANCE = 1e-3
LOW_VENUE = 0.862  # the lowest single-venue print reported (Todayincrypto, 11 Mar 2023; the row's note)
LOW_MARGIN = 0.015  # either side of the published lows (0.862 on one venue to 0.8774 aggregated): an hourly price
REDEEMED_TOLERANCE = 0.05  # the fit's: within 5% of the published redemptions


@dataclass(frozen=True)
class UsdcReplay:
    """The replay's coin, its path and the published figures it is read against."""

    spec: StablecoinSpec
    path: MoneyPath
    clock: MoneyClock
    threshold_scale: float  # the fitted factor on the holders' largest thresholds
    published_redeemed_usd: float
    published_low: float
    published_days_to_par: float

    def redeemed_usd(self) -> float:
        """Paid out from the start to early Tuesday 14 March, face value."""
        return float(self.path.redeemed_hkd[: int(self.clock.hour_of(REDEMPTIONS_COUNTED_TO))].sum())

    def low(self) -> float:
        return float(self.path.price.min())

    def hours_to_par_after_guarantee(self) -> float:
        """Hours from the guarantee until the price is back within half a cent of par (inf if never)."""
        start = int(math.ceil(self.clock.hour_of(GUARANTEE)))
        back = np.nonzero(self.path.price[start:] >= PAR)[0]
        return float(back[0]) if len(back) else math.inf

    def hours_to_low(self) -> float:
        """Hours from the bank's closure to the low."""
        return float(int(np.argmin(self.path.price)) - self.clock.hour_of(BANK_CLOSED))


def behaviour(scenario: Scenario | None) -> Stablecoin:
    """The holders, arbitrage depth and expected recovery the replay takes: the scenario's first stablecoin's,
    else the schema's defaults with two groups of holders (institutions and retail) as in `stablecoin_depeg`."""
    for asset in (scenario.settlement_assets.values() if scenario is not None else ()):
        if asset.kind == "stablecoin" and asset.holders:
            return asset
    return Stablecoin.model_validate({
        "kind": "stablecoin", "in_issue_hkd": 1.0,
        "holders": {"institutional": {"share": 0.6, "sell_share": 0.5}, "retail": {"share": 0.2, "sell_share": 0.9}},
    })


def usdc_spec(scenario: Scenario | None, threshold_scale: float = 1.0) -> StablecoinSpec:
    """USDC on 10 March 2023, with the behaviour of `behaviour(scenario)` and its thresholds times `threshold_scale`."""
    own = money_spec("usdc", behaviour(scenario))
    reserves = figure("usdc_reserves", "2023-03-10").value
    cash_share = figure("usdc_reserve_bank_cash", "2022-11-30").value / figure("usdc_reserves", "2022-11-30").value
    frozen = figure("usdc_reserves_at_failed_bank", "2023-03-10").value
    expected = next((i.expected_recovery for i in own.impairments), 0.5)
    impairment = ImpairmentSpec("bank_cash", frozen / (reserves * cash_share), BANK_CLOSED, DEPOSITS_BACK,
                                expected, 1.0, GUARANTEE)
    holders = {name: dataclasses.replace(h, threshold_bps_max=min(h.threshold_bps_max * threshold_scale, 1e6))
               for name, h in own.holders.items()}
    return dataclasses.replace(
        own, in_issue_hkd=reserves * 1e9, reserve_ratio=1.0,
        reserves={"bank_cash": ReserveSpec(cash_share, 0), "treasury_bills": ReserveSpec(1.0 - cash_share, 1)},
        redemption_fee_bps=0.0, ramp_hours=(9.0, 17.0), holders=holders, impairments=(impairment,), pauses=())


def replay_usdc(scenario: Scenario | None = None) -> UsdcReplay:
    """Fit the holders' threshold scale to the published redemptions (bisection on its logarithm), then replay."""
    clock = MoneyClock(BusinessCalendar(START, [], BUSINESS_DAYS), BUSINESS_DAYS)
    target = figure("usdc_redeemed", "2023-03-14").value * 1e9
    base = max(h.threshold_bps_max for h in usdc_spec(scenario).holders.values())

    def replay(scale: float) -> UsdcReplay:
        spec = usdc_spec(scenario, scale)
        return UsdcReplay(spec, run_stablecoin(spec, clock), clock, scale, target,
                          figure("usdc_low", "2023-03-11").value,
                          figure("usdc_days_to_par_after_guarantee", "2023-03-12").value)

    low, high = math.log(THRESHOLD_RANGE[0] / base), math.log(THRESHOLD_RANGE[1] / base)
    for _ in range(FIT_STEPS):  # higher thresholds: fewer run, less is redeemed
        middle = replay(math.exp(0.5 * (low + high)))
        redeemed = middle.redeemed_usd()
        if abs(redeemed / target - 1.0) < FIT_TOLERANCE:
            return middle
        if redeemed > target:
            low = math.log(middle.threshold_scale)
        else:
            high = math.log(middle.threshold_scale)
    return middle


REDEEMED = "usdc_2023_redeemed_usd"
KEY = "settlement_assets.<stablecoin>"


def usdc_checks(replay: UsdcReplay) -> list[Check]:
    """The replay's rows: the redemptions the thresholds were fitted to, then the low and the time back to par."""
    own = "the validated scenario's first stablecoin, else the schema's defaults, as in docs/calibration.md"
    drivers = (
        Driver.sourced("usdc reserves frozen", "US$3.3bn of about US$40bn at Silicon Valley Bank (data/stablecoin_stress.csv)"),
        Driver.sourced("usdc reserve classes", "bank cash 11.15 of 43.4bn (Nov 2022), the rest in bills sold for next-day cash"),
        Driver.sourced("stress timing", "bank closed Fri 10 Mar noon ET, no redemptions over the weekend, guarantee Sun "
                       "18:15 ET, deposits back Mon 09:00 ET"),
        Driver.fitted(f"{KEY}.holders.*.threshold_bps_max", REDEEMED),
        Driver.sourced(f"{KEY}.holders.*.sell_share and leave_share_per_hour", f"assumptions ({own})"),
        Driver.sourced(f"{KEY}.arbitrage_depth_share", f"assumption ({own})"),
        Driver.sourced(f"{KEY}.impairments.expected_recovery", f"assumption ({own})"),
    )
    reason = ("the low and the time back to par were set from nothing: the causes are sourced, the thresholds fitted "
              "to the redemptions, the rest assumed before the comparison")
    low = (min(LOW_VENUE, replay.published_low) - LOW_MARGIN, max(LOW_VENUE, replay.published_low) + LOW_MARGIN)
    redeemed = replay.redeemed_usd()
    return [
        Check(REDEEMED, redeemed, f"US${replay.published_redeemed_usd / 1e9:g}bn redeemed Fri 10 Mar to early Tue 14 Mar "
              "(The Block)", replay.published_redeemed_usd * (1 - REDEEMED_TOLERANCE),
              replay.published_redeemed_usd * (1 + REDEEMED_TOLERANCE),
              f"the holders' largest thresholds scaled by {replay.threshold_scale:.3g} to fit it (about "
              f"{max(h.threshold_bps_max for h in replay.spec.holders.values()):.0f} bp): how many ran is fitted",
              kind=CALIBRATION_TARGET, reason="the holders' thresholds are fitted to it"),
        Check("usdc_2023_low", replay.low(), f"low US${replay.published_low:g} (CoinMarketCap, 11 Mar 2023; "
              f"{LOW_VENUE:g} on one venue)", *low,
              f"the model's lowest hourly price, {replay.hours_to_low():.0f} h after the bank's closure (the published "
              "low came on Saturday 11 Mar, about a day after it)", kind=OUT_OF_SAMPLE, reason=reason, drivers=drivers),
        Check("usdc_2023_hours_to_par_after_guarantee", replay.hours_to_par_after_guarantee(),
              f"par within about {replay.published_days_to_par:g} days of the guarantee (Sun 12 Mar, 18:15 ET)",
              0.0, 24.0 * replay.published_days_to_par,
              "hours from the guarantee until the price is within half a cent of par", kind=OUT_OF_SAMPLE,
              reason=reason, drivers=drivers),
    ]
