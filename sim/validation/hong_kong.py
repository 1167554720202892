"""Hong Kong's own duty changes against the model, on a scenario at market scale.

Why: a model fitted to a volume elasticity and to today's turnover says nothing yet about Hong
Kong; what happened when Hong Kong changed its stamp duty does. For a scenario with a taxed
share channel (`type: stock` on an exchange), this measures on common seeds:

- the 2021 rise (0.1% to 0.13% per side, 1 Aug 2021): the change in the share channel's turnover
  against HKEX securities turnover in the months around it, and the change in duty a year,
  scaled to 2021's market by HKEX's securities turnover, against the government's estimate
  (about HK$12bn a year more);
- the 2023 cut (back to 0.1% on 17 Nov 2023): the change in turnover against the months around it;
- the 2015 ETF waiver: the duty a year on ETF trades while a stated share of ETF turnover was
  still dutiable (the 2010 partial waiver had exempted the rest), against the government's
  estimate of about HK$200m forgone. It runs on the 2014-scale scenario, the file `hk_2014.yaml`
  beside the validated one (`SCENARIO_2014`; it extends hk_2025 and changes only levels), with
  the validation's overrides and seeds; with no such file, the validated scenario's ETF duty is
  scaled to 2014 by HKEX ETF turnover instead, and the row's note says so. The 2014 runs' ETF and
  share turnover are calibration-target rows beside it (their levels are fitted to them).

These are out of sample: no parameter was set from them (the gain means are fitted to the
volume elasticity, the needs to 2025's turnover; both are calibration-target rows here). They
bound rather than identify: HKEX's monthly turnover moves with the market cycle and
Southbound flows far more than with the duty, and the revenue figures are ex-ante estimates.
The published figures are read from `data/` (docs/data.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from sim.published import figure
from sim.runs import RunResult
from sim.scenario import Scenario
from sim.validation.checks import GAIN_MEANS, Check, interval
from sim.validation.kinds import CALIBRATION_TARGET, OUT_OF_SAMPLE, Driver
from sim.validation.runs import ModelRuns

STOCK_LEVERS = ("policy.stamp_duty.conventional_stock", "policy.stamp_duty.tokenized_stock")
ETF_LEVERS = ("policy.stamp_duty.conventional_etf", "policy.stamp_duty.tokenized_etf")
RATE_LOW, RATE_HIGH = 0.001, 0.0013  # per side: before the 2021 rise and after the 2023 cut; between them
ABOUT = 0.25  # "about" a published estimate: within a quarter of it either way
# the share of 2014 ETF turnover still dutiable (the 2010 partial waiver exempted the rest): Fund Selector
# Asia, 5 Feb 2015, HKEx figures: 26 of 124 listed ETFs, about a quarter of ETF turnover (data/hkex_turnover.csv,
# hkex_etf_adt 2014, note)
ETF_DUTIABLE_SHARE_2014 = 0.25
SCENARIO_2014 = "hk_2014.yaml"  # the 2014-scale scenario, looked for beside the validated scenario
STRUCTURED_SHARE_2014 = 0.2  # assumption: derivative warrants and CBBCs (no duty), a fifth of 2014 securities turnover
TRADING_DAYS_JAN_TO_MAY_2025 = 99  # HKEX trading days, 2 Jan to 30 May 2025
TURNOVER_TOLERANCE = 0.10  # the calibration targets' accepted error

NEEDS = "investors.*.needs_per_day, investors.*.interest"
FITTED_TURNOVER = ("hk_2025_etf_turnover_per_day", "hk_2025_dutiable_share_turnover_per_day")
FITTED_TURNOVER_2014 = ("hk_2014_etf_turnover_per_day", "hk_2014_dutiable_share_turnover_per_day")
DUTY_RATES = Driver.sourced("policy.stamp_duty.*_stock", "IRD: 0.1% per side, 0.13% from 1 Aug 2021 to 16 Nov 2023")
FEES = Driver.sourced("venues.exchange.fees", "HKEX fee schedule (docs/calibration.md)")
SCALE = Driver.sourced("market size in the year", "HKEX securities (or ETF) average daily turnover of that year, "
                       "against 2025's (data/hkex_turnover.csv)")


@dataclass(frozen=True)
class Channel:
    """The scenario's taxed share listing and its ETFs (together, the ETF market), by name."""

    share: str
    etfs: tuple[str, ...]


def share_channel(scenario: Scenario) -> Channel | None:
    """The first share listed on a conventional exchange, and every ETF; None without a share or an ETF."""
    shares = [name for name, i in scenario.instruments.items() if i.type == "stock"
              and any(v.kind == "exchange" and name in v.listings for v in scenario.venues.values())]
    etfs = tuple(name for name, i in scenario.instruments.items() if i.type == "etf")
    return Channel(shares[0], etfs) if shares and etfs else None


@dataclass(frozen=True)
class HongKong:
    """The runs the Hong Kong checks compare, per seed (common seeds)."""

    channel: Channel
    horizon_days: int
    at_low: list[RunResult]  # stock duty 0.1% per side
    at_high: list[RunResult]  # 0.13%
    etf_dutiable: list[RunResult]  # ETF duty on the 2014 dutiable share, otherwise as at_low (or as etf_free)
    etf_free: list[RunResult]  # no ETF duty, otherwise as at_low; on the 2014 scenario, its own settings
    etf_scenario: str | None = None  # the 2014 scenario the ETF lists ran on (same seeds and horizon); None: scaled


def measure_hong_kong(runs: ModelRuns, channel: Channel, own: list[RunResult]) -> HongKong:
    """The runs at each rate; `own`, the scenario's own runs, serve where its rates are already today's."""
    def stock(rate: float) -> list[str]:
        return [f"{lever}.rate_per_side={rate}" for lever in STOCK_LEVERS]

    def etf(rate: float) -> list[str]:
        return [f"{lever}.rate_per_side={rate}" for lever in ETF_LEVERS]

    duty = runs.scenario().policy.stamp_duty
    today = all(getattr(duty, lever.rsplit(".", 1)[1]).rate_per_side == RATE_LOW for lever in STOCK_LEVERS) and all(
        getattr(duty, lever.rsplit(".", 1)[1]).rate_per_side == 0.0 for lever in ETF_LEVERS)
    low = own if today else runs.results(*stock(RATE_LOW), *etf(0.0))
    high = runs.results(*stock(RATE_HIGH), *etf(0.0))
    dutiable_rate = RATE_LOW * ETF_DUTIABLE_SHARE_2014  # a quarter of the rate on every ETF trade
    runs_2014 = scenario_2014(runs, channel)
    if runs_2014 is None:
        return HongKong(channel, runs.scenario().horizon_days, low, high,
                        runs.results(*stock(RATE_LOW), *etf(dutiable_rate)), low)
    # the same overrides (the horizon among them) and seeds as every other run of the validation
    return HongKong(channel, runs.scenario().horizon_days, low, high,
                    runs_2014.results(*stock(RATE_LOW), *etf(dutiable_rate)),
                    runs_2014.results(*stock(RATE_LOW), *etf(0.0)), etf_scenario=runs_2014.path.name)


def scenario_2014(runs: ModelRuns, channel: Channel) -> ModelRuns | None:
    """The 2014-scale scenario beside the validated one, on the same overrides and seeds; None if there is
    none, or if it does not name the same share and ETFs (then its turnover could not be read as theirs)."""
    path = Path(runs.path).parent / SCENARIO_2014
    if not path.is_file():
        return None
    runs_2014 = ModelRuns(path, runs.overrides, runs.seeds)
    return runs_2014 if share_channel(runs_2014.scenario()) == channel else None


def _per_seed(results: list[RunResult], kpi: str) -> np.ndarray:
    return np.array([result.kpis[kpi] for result in results], dtype=float)


def _change(after: np.ndarray, before: np.ndarray) -> np.ndarray:
    return after / before - 1.0


def _bn(series: str, period: str) -> float:
    return figure(series, period).value * 1e9


def _months_range(months_before: tuple[str, ...], month_after: str) -> tuple[float, float]:
    """HKEX securities turnover's change from each month before a change to the month after it."""
    after = figure("hkex_securities_adt", month_after).value
    changes = [after / figure("hkex_securities_adt", month).value - 1.0 for month in months_before]
    return min(changes), max(changes)


def _turnover_check(name: str, change: np.ndarray, months_before: tuple[str, ...], month_after: str, rates: str,
                    drivers: tuple[Driver, ...], reason: str) -> Check:
    """The share channel's turnover change against HKEX securities turnover around the change."""
    low, high = _months_range(months_before, month_after)
    before = " and ".join(_month_name(month) for month in months_before)
    return Check(
        name, float(change.mean()),
        f"HKEX securities turnover {_month_name(month_after)} against {before}: {low:.1%} to {high:.1%}", low, high,
        f"{rates}; the model's dutiable shares against the whole securities market's months, which moved with the "
        "market cycle and Southbound flows: a bound, not an identification",
        *interval(float(change.mean()), change), kind=OUT_OF_SAMPLE, reason=reason, drivers=drivers)


def _month_name(period: str) -> str:
    """`2021-08` as `Aug 2021`."""
    year, month = period.split("-")
    return f"{date(int(year), int(month), 1):%b} {year}"


def hong_kong_checks(hk: HongKong) -> list[Check]:
    share_turnover = f"turnover_hkd_{hk.channel.share}_conventional"
    low, high = _per_seed(hk.at_low, share_turnover), _per_seed(hk.at_high, share_turnover)
    duty_low, duty_high = _per_seed(hk.at_low, "stamp_duty_hkd_per_year"), _per_seed(hk.at_high, "stamp_duty_hkd_per_year")
    drivers = (GAIN_MEANS, *(Driver(NEEDS, f"fitted to {name} (calibration/hk_2025.yaml)", name)
                             for name in FITTED_TURNOVER), DUTY_RATES, FEES)
    reason = ("no parameter was set from Hong Kong's turnover or revenue around its duty changes: the gain means are "
              "fitted to a volume elasticity, the needs to 2025's turnover")
    checks = []

    checks.append(_turnover_check(
        "hk_2021_duty_rise_share_turnover_change", _change(high, low), ("2021-06", "2021-07"), "2021-08",
        "0.1% -> 0.13% per side (1 Aug 2021)", drivers, reason))

    scale_2021 = _bn("hkex_securities_adt", "2021") / _bn("hkex_securities_adt", "2025")
    extra = (duty_high - duty_low) * scale_2021
    published = figure("stamp_duty_revenue_change_estimate", "2021-08-01")
    checks.append(Check(
        "hk_2021_duty_rise_revenue_per_year_hkd", float(extra.mean()),
        f"about HK${published.value:g}bn a year more ({published.source})",
        published.value * 1e9 * (1 - ABOUT), published.value * 1e9 * (1 + ABOUT),
        f"all duty a year, 0.13% less 0.1% per side, scaled to 2021 by HKEX securities turnover ({scale_2021:.3f} of "
        f"2025's); the estimate was made before the rise: within {ABOUT:.0%} of it passes",
        *interval(float(extra.mean()), extra), kind=OUT_OF_SAMPLE, reason=reason, drivers=(*drivers, SCALE)))

    checks.append(_turnover_check(
        "hk_2023_duty_cut_share_turnover_change", _change(low, high), ("2023-09", "2023-10"), "2023-12",
        "0.13% -> 0.1% per side (17 Nov 2023, so December is the first whole month after)", drivers, reason))

    checks.extend(_waiver_checks(hk, drivers, reason))

    days = hk.horizon_days
    etf_day = _etf_turnover_per_day(hk.at_low, hk.channel, days)
    target = _bn("hkex_etf_adt", "2025")
    fit = ("investors' needs and interest weights fitted to it (calibration/hk_2025.yaml; docs/calibration.md, "
           "Hong Kong at 2025 scale)")
    checks.append(Check(
        FITTED_TURNOVER[0], float(etf_day.mean()), f"HKEX ETF turnover 2025: HK${target / 1e9:g}bn a day",
        target * (1 - TURNOVER_TOLERANCE), target * (1 + TURNOVER_TOLERANCE),
        f"the exchange turnover a day of the ETFs ({', '.join(hk.channel.etfs)})",
        *interval(float(etf_day.mean()), etf_day), kind=CALIBRATION_TARGET, reason=fit))
    share_day = low / days
    dutiable = _bn("stamp_duty_stock_revenue_ytd", "2025-05") / (2 * RATE_LOW) / TRADING_DAYS_JAN_TO_MAY_2025
    checks.append(Check(
        FITTED_TURNOVER[1], float(share_day.mean()),
        f"dutiable share turnover Jan-May 2025 from the stock duty collected: HK${dutiable / 1e9:.0f}bn a day",
        dutiable * (1 - TURNOVER_TOLERANCE), dutiable * (1 + TURNOVER_TOLERANCE),
        f"HK${figure('stamp_duty_stock_revenue_ytd', '2025-05').value:g}bn of duty at 0.2% over both sides, "
        f"{TRADING_DAYS_JAN_TO_MAY_2025} trading days", *interval(float(share_day.mean()), share_day),
        kind=CALIBRATION_TARGET, reason=fit))
    return checks


def _etf_turnover_per_day(results: list[RunResult], channel: Channel, days: int) -> np.ndarray:
    """Every ETF's exchange turnover a day, per seed."""
    return sum(_per_seed(results, f"turnover_hkd_{etf}_conventional") for etf in channel.etfs) / days


def _waiver_checks(hk: HongKong, drivers: tuple[Driver, ...], reason: str) -> list[Check]:
    """The 2015 waiver row: on the 2014 scenario's runs if there were any (and its two fitted turnovers),
    otherwise the validated scenario's ETF duty scaled to 2014 by HKEX ETF turnover. `drivers` are the
    2025 rows' (gain means, 2025 levels, rates, fees); the 2014 row swaps the levels for 2014's."""
    etf_duty = _per_seed(hk.etf_free, "stamp_duty_hkd_per_year") - _per_seed(hk.etf_dutiable, "stamp_duty_hkd_per_year")
    published = figure("stamp_duty_revenue_change_estimate", "2015-02-13")
    share = Driver.sourced("share of 2014 ETF turnover still dutiable",
                           f"{ETF_DUTIABLE_SHARE_2014:g}, Fund Selector Asia (5 Feb 2015, HKEx figures): 26 of 124 ETFs, "
                           "about a quarter of ETF turnover, still paid duty")
    bound = sorted((published.value * 1e9 * (1 - ABOUT), published.value * 1e9 * (1 + ABOUT)))
    method = (f"duty a year without the ETF duty less with {ETF_DUTIABLE_SHARE_2014:.0%} of the 0.1% rate per side on "
              "every ETF trade (an average-rate approximation of the full rate on the quarter of ETF turnover that "
              "still paid it)")
    target = f"about HK${-published.value * 1000:g}m a year forgone ({published.source})"
    if hk.etf_scenario is None:
        scale_2014 = _bn("hkex_etf_adt", "2014") / _bn("hkex_etf_adt", "2025")
        forgone = etf_duty * scale_2014
        return [Check(
            "hk_2015_etf_waiver_revenue_per_year_hkd", float(forgone.mean()), target, *bound,
            f"{method}, scaled to 2014 by HKEX ETF turnover ({scale_2014:.3f} of the validated scenario's year), "
            f"because no {SCENARIO_2014} lies beside the scenario; within {ABOUT:.0%} of the estimate passes",
            *interval(float(forgone.mean()), forgone), kind=OUT_OF_SAMPLE, reason=reason,
            drivers=(*drivers, SCALE, share))]
    fit = f"investors' needs and ETF interest weights fitted to it (calibration/hk_2014.yaml, {hk.etf_scenario})"
    levels = tuple(Driver(NEEDS, f"fitted to {name} ({hk.etf_scenario}, calibration/hk_2014.yaml)", name)
                   for name in FITTED_TURNOVER_2014)
    waiver = Check(
        "hk_2015_etf_waiver_revenue_per_year_hkd", float(etf_duty.mean()), target, *bound,
        f"{method}, on {hk.etf_scenario} (2014's market, same seeds and horizon), no scaling; within {ABOUT:.0%} of "
        "the estimate passes",
        *interval(float(etf_duty.mean()), etf_duty), kind=OUT_OF_SAMPLE,
        reason=f"{reason}; the 2014 scenario's levels to 2014's turnovers, not to the HK$200m",
        drivers=(GAIN_MEANS, *levels, DUTY_RATES, FEES, share))
    days = hk.horizon_days
    etf_day = _etf_turnover_per_day(hk.etf_free, hk.channel, days)
    etf_target = _bn("hkex_etf_adt", "2014")
    share_day = _per_seed(hk.etf_free, f"turnover_hkd_{hk.channel.share}_conventional") / days
    securities = _bn("hkex_securities_adt", "2014")
    dutiable = securities * (1 - STRUCTURED_SHARE_2014) - etf_target
    return [waiver, Check(
        FITTED_TURNOVER_2014[0], float(etf_day.mean()), f"HKEX ETF turnover 2014: HK${etf_target / 1e9:g}bn a day",
        etf_target * (1 - TURNOVER_TOLERANCE), etf_target * (1 + TURNOVER_TOLERANCE),
        f"the exchange turnover a day of the ETFs ({', '.join(hk.channel.etfs)}) on {hk.etf_scenario}, no ETF duty",
        *interval(float(etf_day.mean()), etf_day), kind=CALIBRATION_TARGET, reason=fit), Check(
        FITTED_TURNOVER_2014[1], float(share_day.mean()),
        f"dutiable share turnover 2014: HK${dutiable / 1e9:.1f}bn a day",
        dutiable * (1 - TURNOVER_TOLERANCE), dutiable * (1 + TURNOVER_TOLERANCE),
        f"HKEX securities turnover HK${securities / 1e9:g}bn a day less the ETFs' HK${etf_target / 1e9:g}bn and "
        f"structured products (assumed {STRUCTURED_SHARE_2014:.0%} of it, no 2014 split sourced), on {hk.etf_scenario}",
        *interval(float(share_day.mean()), share_day), kind=CALIBRATION_TARGET, reason=fit)]
