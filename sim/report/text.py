"""The report's words and numbers: headline KPIs, value formatting, and the summary sentences.

Every sentence is generated from a row of `comparison.csv` (policy minus its comparator, paired
by replication, with a 95% paired-t interval): a policy "raises" or "lowers" a KPI only when the
interval excludes zero, and otherwise has "no clear effect". Every summary names what the
policy is measured against (and labels a counterfactual, with its text). Relative changes and
their intervals divide by the comparator's mean (treated as fixed); where that mean is zero the
change is given in the KPI's own unit. Nothing here knows which policy should win.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from sim.kpis import FISCAL_KPIS


@dataclass(frozen=True)
class Headline:
    """A headline KPI: its words in a sentence, a short axis label, and its unit.

    Investors' cost is headlined per HK$ traded (`investor_cost_bps`), not as the total
    `investor_cost_hkd`, which grows with the value traded; the spread of one listing, the
    tokenized ETF's, not the mean over every tokenized listing's quote samples
    (`avg_spread_bps_tokenized`), which a new wide listing raises, nor its value-weighted mean
    (`spread_bps_vw_tokenized`), which moves when trading shifts between listings. Totals and
    pooled means stay in the comparison tables."""

    kpi: str
    phrase: str
    label: str
    unit: str  # "HKD", "bps" or "fraction"


HEADLINES = (
    Headline("turnover_hkd_tokenized", "tokenized turnover", "Tokenized turnover", "HKD"),
    Headline("tokenized_share", "the tokenized share of value traded", "Tokenized share of turnover", "fraction"),
    Headline("turnover_hkd_hk_tracker_tokenized", "tokenized ETF turnover", "Tokenized ETF turnover", "HKD"),
    Headline("stamp_duty_hkd", "stamp duty collected", "Stamp duty collected", "HKD"),
    Headline("investor_cost_bps", "investors' all-in trading cost per HK$ traded",
             "Investor cost per HK$ traded (duty, fees, spread)", "bps"),
    Headline("spread_bps_hk_tracker_platform", "the tokenized ETF's quoted spread on the platform",
             "Tokenized ETF quoted spread (platform)", "bps"),
    Headline("avg_unsettled_hkd", "the mean value awaiting settlement", "Mean value unsettled", "HKD"),
    Headline("grants_paid_hkd", "issuance grants paid", "Issuance grants paid", "HKD"),
    Headline("net_fiscal_hkd", "the net fiscal take (duty over every channel less grants)",
             "Net fiscal take (duty less grants)", "HKD"),
    Headline("issued_hkd_tokenized", "tokenized bond issuance", "Tokenized issuance (face value)", "HKD"),
    Headline("margin_mean_hkd_exchange", "the exchange's mean CCP margin", "Exchange CCP margin (mean)", "HKD"),
    Headline("funding_gross_mean_hkd_tokenized", "the mean gross funding need of tokenized settlement",
             "Tokenized gross funding need (mean)", "HKD"),
    Headline("adoption_share_retail", "retail adoption of tokenized channels", "Retail adoption share", "fraction"),
)
HKD_SCALES = ((1e9, "bn"), (1e6, "m"), (1e3, "k"))


def yearly(kpi: str, measured: set[str]) -> tuple[str, str]:
    """A total's per-year form and "a year" when the runs measured it; else the KPI itself and nothing."""
    return (f"{kpi}_per_year", "a year") if f"{kpi}_per_year" in measured else (kpi, "")


def headlines_present(kpis: set[str]) -> list[Headline]:
    """The headline KPIs that the experiment measured, in report order."""
    return [h for h in HEADLINES if h.kpi in kpis]


def hkd_scale(magnitude: float) -> tuple[float, str]:
    """A divisor and its suffix for HKD amounts of this size ("m" for millions)."""
    for factor, suffix in HKD_SCALES:
        if abs(magnitude) >= factor:
            return factor, suffix
    return 1.0, ""


def number(value: float, signed: bool = False) -> str:
    """Three significant figures, thousands separated; a true minus sign; "n/a" for NaN."""
    if value is None or math.isnan(value):
        return "n/a"
    digits = max(0, 2 - int(math.floor(math.log10(abs(value))))) if value else 0
    text = f"{value + 0.0:{'+' if signed else ''},.{digits}f}"  # + 0.0 turns -0.0 into 0.0
    return text.replace("-", "\u2212")


def amount(value: float, unit: str, signed: bool = False) -> str:
    """A KPI value in its unit: "HKD 3.66 m", "0.27 bps", "12.5%" (a fraction as a percentage)."""
    if unit == "HKD":
        factor, suffix = hkd_scale(value if not math.isnan(value) else 0.0)
        return f"HKD {number(value / factor, signed)}{' ' + suffix if suffix else ''}"
    if unit == "fraction":
        return f"{number(100 * value, signed)}%"
    return f"{number(value, signed)} {unit}"


def change(value: float, unit: str, relative_to: float, signed: bool = True) -> str:
    """A change as a percentage of `relative_to`, or in the KPI's unit when that is zero or
    undefined (a fraction's change then in percentage points)."""
    if relative_to and not math.isnan(relative_to):
        return f"{number(100 * value / relative_to, signed)}%"
    if unit == "fraction":
        return f"{number(100 * value, signed)} percentage points"
    return amount(value, unit, signed)


def is_clear(row: Mapping) -> bool:
    """Whether the paired 95% interval excludes zero."""
    return bool(row["ci_low"] > 0 or row["ci_high"] < 0)


def is_unchanged(row: Mapping) -> bool:
    """The policy left the KPI exactly as in its comparator in every replication."""
    return row["difference"] == 0 and row["ci_low"] == 0 and row["ci_high"] == 0


def delta(value: float, unit: str) -> str:
    """A signed difference in the KPI's unit; a fraction's in percentage points."""
    return f"{number(100 * value, True)} pp" if unit == "fraction" else amount(value, unit, True)


def _unclear(row: Mapping, headline: Headline) -> str:
    base, unit = row["comparator_mean"], headline.unit
    return (f"{headline.phrase} ({change(row['difference'], unit, base)}, "
            f"95% CI {change(row['ci_low'], unit, base)} to {change(row['ci_high'], unit, base)})")


def effect_phrase(row: Mapping, headline: Headline) -> str:
    """"raises X by 52% (95% CI 41% to 63%)" or "no clear effect on X (+3.1%, 95% CI −8% to +14%)"."""
    base, unit = row["comparator_mean"], headline.unit
    if math.isnan(row["half_width"]):
        return (f"changes {headline.phrase} by {change(row['difference'], unit, base)} "
                f"(no interval: fewer than two replications)")
    if not is_clear(row):
        return f"no clear effect on {_unclear(row, headline)}"
    sign = 1.0 if row["difference"] > 0 else -1.0
    low, high = sorted((sign * row["ci_low"], sign * row["ci_high"]))
    verb = "raises" if sign > 0 else "lowers"
    if row["half_width"] == 0:
        return f"{verb} {headline.phrase} by {change(sign * row['difference'], unit, base, signed=False)} in every replication"
    return (f"{verb} {headline.phrase} by {change(sign * row['difference'], unit, base, signed=False)} "
            f"(95% CI {change(low, unit, base, signed=False)} to {change(high, unit, base, signed=False)})")


def _join(parts: list[str], word: str = "and") -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" {word} " + parts[-1]


def effects_text(subject: str, rows: pd.DataFrame, headlines: list[Headline]) -> list[str]:
    """Sentences on the policy's effects on the non-fiscal headline KPIs: clear effects (or, with
    one replication, changes without interval), then no clear effect, then unchanged KPIs."""
    by_kpi = rows.set_index("kpi")
    chosen = [(h, by_kpi.loc[h.kpi]) for h in headlines if h.kpi not in FISCAL_KPIS and h.kpi in by_kpi.index]
    chosen = [(h, row) for h, row in chosen if not math.isnan(row["difference"])]
    unchanged = [h.phrase for h, row in chosen if is_unchanged(row)]
    changed = [(h, row) for h, row in chosen if not is_unchanged(row)]
    clear = [effect_phrase(row, h) for h, row in changed if math.isnan(row["half_width"]) or is_clear(row)]
    unclear = [_unclear(row, h) for h, row in changed if not math.isnan(row["half_width"]) and not is_clear(row)]
    sentences = []
    if clear:
        sentences.append(f"{_join(clear)}.")
    if unclear:
        sentences.append(f"has no clear effect on {_join(unclear, 'or')}.")
    if unchanged:
        sentences.append(f"leaves {_join(unchanged)} unchanged.")
    return [f"{subject if i == 0 else 'It'} {sentence}" for i, sentence in enumerate(sentences)]


CHANNEL_DUTY = re.compile(r"^stamp_duty_hkd_(?P<kind>[a-z_]+)_(?P<form>conventional|tokenized)$")


def _interval(row: Mapping, scale: float = 1.0) -> str:
    if math.isnan(row["half_width"]):
        return ""
    return f" (95% CI {amount(row['ci_low'] / scale, 'HKD', True)} to {amount(row['ci_high'] / scale, 'HKD', True)})"


def net_fiscal_text(rows: pd.DataFrame, years: float | None) -> str:
    """The policy's net effect on the public purse over every duty channel, less grants paid (a
    difference: negative, the purse is worse off), a year's worth of it when the horizon is known,
    and the channels whose duty moved, which say where the trading went."""
    by_kpi = rows.set_index("kpi")
    if "net_fiscal_hkd" not in by_kpi.index or by_kpi.loc["net_fiscal_hkd", "n"] == 0:
        return ""
    net = by_kpi.loc["net_fiscal_hkd"]
    text = f"Net effect on the public purse, duty over every channel less grants: {amount(net['difference'], 'HKD', True)}"
    text += _interval(net)
    if years:
        text += f", about {amount(net['difference'] / years, 'HKD', True)} a year{_interval(net, years)}"
    channels = []
    for kpi, row in by_kpi.iterrows():
        match = CHANNEL_DUTY.match(str(kpi))
        if match and row["n"] > 0 and row["difference"] != 0:
            channels.append(f"{match['kind'].replace('_', ' ')} {match['form']} "
                            f"{amount(row['difference'], 'HKD', True)}{_interval(row)}")
    if "basket_stamp_duty_hkd" in by_kpi.index and by_kpi.loc["basket_stamp_duty_hkd", "difference"] != 0:
        row = by_kpi.loc["basket_stamp_duty_hkd"]
        channels.append(f"the authorised participants' duty lines on baskets {amount(row['difference'], 'HKD', True)}{_interval(row)}")
    if channels:
        text += f"; duty by channel: {_join(channels)}"
    moves = _substitution(by_kpi)
    if moves:
        text += f"; behind it, trading moved: {_join(moves)}"
    return text + "."


TURNOVER = re.compile(r"^turnover_hkd_(?P<name>.+)_(?P<form>conventional|tokenized)$")


def _substitution(by_kpi: pd.DataFrame, most: int = 4) -> list[str]:
    """The clear changes of value traded per instrument and form, largest first (at most `most`), and
    for each exposure the wrapper whose share of it clearly rose: the trading a duty change moved."""
    turnover, instruments = [], set()
    for kpi, row in by_kpi.iterrows():
        match = TURNOVER.match(str(kpi))
        if match:
            instruments.add(match["name"])
        if match and row["n"] > 0 and not math.isnan(row["half_width"]) and is_clear(row):
            turnover.append((abs(row["difference"]), f"{match['name']} {match['form']} "
                             f"{amount(row['difference'], 'HKD', True)}{_interval(row)}"))
    moves = [phrase for _, phrase in sorted(turnover, key=lambda pair: -pair[0])[:most]]
    for kpi, row in by_kpi.iterrows():
        rest = str(kpi).removeprefix("exposure_share_")
        wrapper = next((name for name in instruments if rest.endswith(f"_{name}")), None)
        if rest != str(kpi) and wrapper and row["n"] > 0 and not math.isnan(row["half_width"]) \
                and is_clear(row) and row["difference"] > 0:
            moves.append(f"{wrapper}'s share of the exposure {rest.removesuffix(f'_{wrapper}')} "
                         f"{delta(row['difference'], 'fraction')}")
    return moves


def fiscal_text(rows: pd.DataFrame, grants_paid: float | None, horizon: str, against: str = "",
                years: float | None = None) -> str:
    """What the policy costs the public purse over the horizon: stamp duty forgone (comparator
    minus policy duty, with its interval; `against` names the comparator in the sentence) and
    the grants the policy pays (None: it has no issuance, so no grants); then the net effect over
    every channel, a year of it (`years`: the horizon in years, if known), and the duty by channel."""
    by_kpi = rows.set_index("kpi")
    parts = []
    if "stamp_duty_hkd" in by_kpi.index and by_kpi.loc["stamp_duty_hkd", "n"] > 0:
        duty = by_kpi.loc["stamp_duty_hkd"]
        forgone, low, high = -duty["difference"], -duty["ci_high"], -duty["ci_low"]
        if forgone < 0:
            forgone, low, high = duty["difference"], duty["ci_low"], duty["ci_high"]
        interval = "" if math.isnan(duty["half_width"]) else f" (95% CI {amount(low, 'HKD')} to {amount(high, 'HKD')})"
        what = "more stamp duty collected" if duty["difference"] > 0 else "of stamp duty forgone"
        parts.append(f"{amount(forgone, 'HKD')} {what}{interval}")
    if grants_paid is None or math.isnan(grants_paid):
        parts.append("no issuance grants")
    else:
        parts.append(f"{amount(grants_paid, 'HKD')} of issuance grants paid")
    measured = f" against {against}" if against else ""
    cost = f"Cost to the public purse{horizon}{measured}: {_join(parts)}."
    net = net_fiscal_text(rows, years)
    return f"{cost} {net}" if net else cost


def policy_summary(policy: str, rows: pd.DataFrame, headlines: list[Headline], grants_paid: float | None,
                   horizon: str, comparator: str = "the baseline", comparator_label: str | None = None,
                   years: float | None = None) -> str:
    """Plain-text summary of one policy against its comparator (the caller escapes it for HTML):
    `policy` and `comparator` are the words that name them, counterfactual texts included;
    `comparator_label` names the comparator again, more briefly, in the fiscal sentence."""
    subject = f"Against {comparator}, {policy}"
    sentences = [*effects_text(subject, rows, headlines),
                 fiscal_text(rows, grants_paid, horizon, comparator_label or comparator, years)]
    return " ".join(s for s in sentences if s) or f"{policy}: no headline KPI was measured against {comparator}."


def break_even_text(case) -> str:
    """The waiver's break-even in a sentence (`case` is a `break_even.BreakEven`)."""
    low, high = case.response_interval
    measured = f"{change(case.response, 'fraction', 1.0)}"
    interval = "" if low == high else f" (95% CI {change(low, 'fraction', 1.0)} to {change(high, 'fraction', 1.0)})"
    needed = case.break_even_response
    verdict = ("reaches" if low >= needed else "falls short of" if high < needed
               else "cannot be told apart from")
    return (f"The waiver would pay for itself only if its extra turnover on {' and '.join(case.channels)} were "
            f"matched by trading still taxed at {number(100 * case.rate_per_side)}% per side: a response of "
            f"{change(case.break_even_response, 'fraction', 1.0)} of that channel's turnover in {case.comparator} "
            f"({amount(case.break_even_turnover_hkd, 'HKD')}); the measured response, {measured}{interval}, "
            f"{verdict} it.")
