"""The report's figure sections, in reading order, each with its captions and the notes that
stand in for figures whose data are absent.

Headline figures come from the comparison tables; the others from the runs' series records
(and summary.csv for settlement funding). A figure with nothing to show (no bond issue in any
scenario, no waiver, or an experiment folder from before series were saved) is left out and
replaced by a one-line note, never drawn empty. The settlement money's stress figure is shown
only when some scenario settles in a settlement asset; otherwise neither it nor a note appears.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sim.report.break_even import BreakEven, break_evens
from sim.report.inputs import ReportInputs
from sim.report.market_figures import etf_premium, liquidity, share_fan, turnover_fan
from sim.report.money_figures import stress_figure
from sim.report.sweep_figures import response_panels
from sim.report.policy_figures import break_even_chart, report_figures
from sim.report.primary_settlement_figures import exposure, funding, primary_market
from sim.report.text import Headline

NO_SERIES = ("The runs' series records are missing from this experiment folder (it predates them), so figures "
             "over time and distributions are omitted; run the comparison again to draw them.")
MONEY_CAPTION = (
    "The settlement money under stress, per scenario whose settlement asset fell below HK$0.995 or was frozen: "
    "its hourly price (solid) and expected value (dashed) in HK$ per HK$1 at par, with weekend and holiday hours "
    "(grey) and frozen hours (red) shaded and the low annotated; its issuer's redemption queue; and the daily "
    "quoted spread and value traded on the venues settling in it, against the comparator (grey: its value traded "
    "on the same days, its median daily spread over the run). The money's path follows from the scenario alone, "
    "so replications coincide (their median is drawn); the venues' daily figures are means over replications.")
FUNDING_CAPTION = ("Mean daily gross funding need, netted funding need and CCP margin per venue and scenario, with "
                   "the gross/net factor that netting achieves.")
PAYS_FOR_ITSELF = (
    "A waiver pays for itself when the extra turnover it brings to the waived channel, were it matched by as much "
    "trading in channels still taxed at the waived rate (both sides, e.g. the stock trades of ETF arbitrage and "
    "hedging), would raise as much duty as is forgone. Inside the model the waived channel's extra turnover raises "
    "no duty, so the break-even response is a threshold for discussion, not a forecast."
)


@dataclass
class Section:
    """A titled group of figures (caption, figure), with an optional introduction and notes."""

    title: str
    figures: list[tuple[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    intro: str = ""

    def add(self, caption: str, draw: Callable[[], object | None], absent: str) -> None:
        """The figure `draw()` returns, or the note `absent` when it returns None."""
        figure = draw()
        if figure is None:
            self.notes.append(absent)
        else:
            self.figures.append((caption, figure))


def _break_even_section(inputs: ReportInputs, cases: list[BreakEven]) -> Section:
    section = Section("Fiscal: when would a waiver pay for itself?", intro=PAYS_FOR_ITSELF)
    measured = "; ".join(f"{inputs.label(case.policy)} against {inputs.label(case.comparator)}" for case in cases)
    section.add("Duty forgone (red, with its 95% interval) and the duty the extra turnover could raise (blue) "
                "against the waived channel's turnover response, each waiver measured against its comparator "
                f"({measured}); dashed: break-even response; green: the response the model measured, with its 95% "
                "paired interval.",
                lambda: break_even_chart(inputs, cases) if cases else None,
                "No policy lowers a stamp duty its comparator charges (or forgoes any duty), so there is no "
                "break-even.")
    return section


def report_sections(inputs: ReportInputs, headlines: list[Headline]) -> list[Section]:
    """Every figure section of the report, in order."""
    headline = Section("Headline figures", figures=report_figures(inputs, headlines))
    settlement = Section("Settlement")
    if not any(inputs.series.values()):
        settlement.add(FUNDING_CAPTION, lambda: funding(inputs), "No settlement funding KPIs were measured.")
        others = [Section(title, notes=[NO_SERIES]) for title in
                  ("Fiscal: when would a waiver pay for itself?", "Market activity over time", "Liquidity",
                   "Primary market")]
        return [headline, *others, settlement]
    fiscal = _break_even_section(inputs, break_evens(inputs))
    activity = Section("Market activity over time")
    activity.add("Daily tokenized turnover per policy (colour) and the comparator it is measured against (grey): "
                 "mean over replications with 50% (dark) and 90% (light) bands.", lambda: turnover_fan(inputs),
                 "No policy has daily series over its comparator's horizon.")
    activity.add("Tokenized share of daily value traded per policy and its comparator (grey): mean with 50% and "
                 "90% bands.", lambda: share_fan(inputs), "No policy has daily series over its comparator's horizon.")
    liquid = Section("Liquidity")
    liquid.add("Daily quoted spread and depth at the best quotes, per order-book venue (its form in the label) "
               "and scenario, pooled over listings and replications.", lambda: liquidity(inputs),
               "No order-book venue quoted in any scenario.")
    liquid.add("Daily ETF premium of the quote mid to NAV per listing and scenario; dashed: the authorised "
               "participant's arbitrage band (its mean over the days); in brackets, the share of days inside it.",
               lambda: etf_premium(inputs), "No ETF is listed on an order book in any scenario.")
    primary = Section("Primary market")
    primary.add("Bond issues pooled over replications: the issuer's cost in bps of the size raised (gross and net "
                "of grants) and days from close to settlement by form; units allocated per investor group.",
                lambda: primary_market(inputs), "No bond was issued in any scenario, so the primary-market figure "
                "is omitted.")
    settlement.add("Replacement-cost exposure outstanding per venue, mean over replications.",
                   lambda: exposure(inputs), "No settlement series in the runs' records.")
    settlement.add(FUNDING_CAPTION, lambda: funding(inputs), "No settlement funding KPIs were measured.")
    if any("money" in r for records in inputs.series.values() for r in records):  # else no settlement asset to show
        settlement.add(MONEY_CAPTION, lambda: stress_figure(inputs),
                       "No scenario's settlement asset fell below HK$0.995 or was frozen, so its stress is not drawn.")
    return [headline, fiscal, activity, liquid, primary, settlement, *_sweep_sections(inputs)]


def _sweep_sections(inputs: ReportInputs) -> list[Section]:
    """A section per sweep run with the comparison (`tokensim report --sweep FILE`): its KPIs' responses."""
    sections = []
    for sweep in inputs.sweeps:
        section = Section(sweep.title)
        about = f" {sweep.description.strip()}" if sweep.description.strip() else ""
        counterfactual = (f" A counterfactual (it departs on purpose from Hong Kong law or practice): "
                          f"{sweep.counterfactual.strip().rstrip('.')}." if sweep.counterfactual else "")
        section.add(f"{sweep.title} ({sweep.name}): each KPI the sweep's plan names, at each value of the swept key, "
                    f"with its 95% interval over the replications (same seeds at every value).{about}{counterfactual}",
                    lambda sweep=sweep: response_panels(sweep.tables, sweep.kpis, sweep.title, sweep.labels),
                    f"The sweep {sweep.name} has none of its planned KPIs measured, so nothing is drawn.")
        sections.append(section)
    return sections
