"""Compile a validated scenario into the market layer's plain specs, once per run.

The scenario schema (`sim.scenario`) says what a user may write and checks it; the market
(`sim.market`) runs on frozen records of its own (`sim.market.specs`, and the charges and
reliefs of `sim.market.costs`). This module is the one place that reads the first to make the
second: each spec field copies the schema field of the same name (`_copy`), and the few
translations (levers into dated values, a venue's fees and the stamp duty into charges,
exemptions and rebates into reliefs by payer class) are spelled out below.
"""

from __future__ import annotations

import dataclasses
import types
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints

import numpy as np

from sim.market import money_specs, specs
from sim.market.conversion import ConversionSpec
from sim.market.costs import Charge, CostSchedule, Relief, Scope
from sim.market.levers import Dated
from sim.market.payers import EVERYONE, LIQUIDITY_PROVIDERS, Payer
from sim.market.settlement import fail_probability_for_cycle
from sim.scenario.schema import Scenario, correlation_matrix

# A venue's per-side fees (scenario keys), in the order their collectors are credited, and who collects each.
PER_SIDE_FEES = ("trading_fee_bps", "sfc_levy_bps", "afrc_levy_bps", "settlement_fee_bps")
STAMP_DUTY = "stamp_duty"
GOVERNMENT = "government"


def fee_collector(fee: str, venue: str) -> str:
    """The collector of a venue's per-side fee, by name (a ledger account of that name is opened)."""
    return {"trading_fee_bps": f"{venue}:operator", "settlement_fee_bps": f"{venue}:settlement",
            "sfc_levy_bps": "SFC", "afrc_levy_bps": "AFRC"}[fee]


@dataclass(frozen=True)
class MarketSpec:
    """Everything the market is built from, compiled from one scenario."""

    instruments: dict[str, specs.InstrumentSpec]
    correlation: np.ndarray | None  # of the instruments' value shocks, in their order; None: independent
    venues: dict[str, specs.VenueSpec]
    investors: dict[str, specs.InvestorSpec]
    exposures: dict[str, specs.ExposureSpec]
    programmes: dict[str, specs.ProgrammeSpec]
    charges: list[Charge]
    reliefs: list[Relief]
    grants: specs.GrantSpec
    tokenized_cash: Dated[bool]
    buy_in_after_fails: int | None
    settlement_assets: dict[str, money_specs.MoneySpec] = dataclasses.field(default_factory=dict)
    conversions: dict[str, ConversionSpec] = dataclasses.field(default_factory=dict)


def compile_market(scenario: Scenario) -> MarketSpec:
    """The market's specs for `scenario`."""
    correlation = (correlation_matrix(scenario.correlations, list(scenario.instruments))
                   if scenario.correlations else None)
    policy = scenario.policy
    grant = policy.issuance_grant
    return MarketSpec(
        instruments={name: instrument_spec(name, i, policy.stamp_duty, scenario.instruments)
                     for name, i in scenario.instruments.items()},
        correlation=correlation,
        venues={name: venue_spec(scenario, name, index) for index, name in enumerate(scenario.venues)},
        investors={name: sampled_group(group, scenario.sample.weight) for name, group in scenario.investors.items()},
        exposures={name: specs.ExposureSpec({w: p.tracking_cost_bps for w, p in exposure.wrappers.items()})
                   for name, exposure in scenario.exposures.items()},
        programmes={name: sampled_programme(programme_spec(issuer_name, name, programme, issuer.kind), scenario.sample.weight)
                    for issuer_name, issuer in scenario.issuers.items()
                    for name, programme in issuer.programmes.items()},
        charges=charges(scenario),
        reliefs=reliefs(scenario),
        grants=sampled_grants(_copy(specs.GrantSpec, grant, open=grant.dated()), scenario.sample.weight),
        tokenized_cash=policy.tokenized_cash.dated(),
        buy_in_after_fails=scenario.settlement.buy_in_after_fails,
        settlement_assets={name: money_spec(name, asset) for name, asset in scenario.settlement_assets.items()},
        conversions={name: ConversionSpec(name, c.fee_bps, c.days, c.check_minutes, c.max_units_per_check,
                                          dict(c.initial_units), c.initial_cash_hkd)
                     for name, c in scenario.conversions.items()},
    )


def _moment(at: Any) -> money_specs.Moment:
    return money_specs.Moment(at.day, at.hour)


def money_spec(name: str, asset: Any) -> money_specs.MoneySpec:
    """A settlement asset's spec (`sim.market.money_specs`) from its scenario entry."""
    if asset.kind == "stablecoin":
        return money_specs.StablecoinSpec(
            name=name, in_issue_hkd=asset.in_issue_hkd, reserve_ratio=asset.reserve_ratio,
            reserves={k: money_specs.ReserveSpec(r.share, r.liquid_within_days) for k, r in asset.reserves.items()},
            redemption_fee_bps=asset.redemption_fee_bps, ramp_hours=tuple(asset.ramp_hours),
            redemption_deadline_days=asset.redemption_deadline_days,
            holders={k: money_specs.CoinHolderSpec(h.share, h.threshold_bps_max, h.leave_share_per_hour, h.sell_share)
                     for k, h in asset.holders.items()},
            arbitrage_depth_share=asset.arbitrage_depth_share, half_spread_bps=asset.half_spread_bps,
            impairments=tuple(money_specs.ImpairmentSpec(
                i.reserve, i.share_frozen, _moment(i.start), _moment(i.end), i.expected_recovery, i.recovery,
                None if i.guarantee is None else _moment(i.guarantee)) for i in asset.impairments),
            pauses=tuple(money_specs.WindowSpec(_moment(w.start), _moment(w.end)) for w in asset.redemption_pauses),
        )
    if asset.kind == "tokenized_deposit":
        return money_specs.DepositTokenSpec(
            name=name, bank=asset.bank, protection_hkd_per_depositor=asset.protection_hkd_per_depositor,
            holders={k: money_specs.DepositHolderSpec(h.balance_hkd, h.depositors) for k, h in asset.holders.items()},
            failures=tuple(money_specs.BankFailureSpec(_moment(f.start), _moment(f.end), f.recovery)
                           for f in asset.failures),
            funding_rate_per_year=asset.funding_rate_per_year,
        )
    return money_specs.CentralBankMoneySpec(name)


# A sample of one in `weight` accounts (`sample.weight`) sees one in `weight` of the market's needs and
# of its subscription orders, each at its real size; so that the primary market keeps its shape, each
# issue offers one in `weight` of its size, with its fixed costs and the grant scheme's sums and
# thresholds alike. Shares, rates, prices and counts per account keep their values.

def sampled_group(group: Any, weight: int) -> specs.InvestorSpec:
    """An investor group as a run simulates it: one in `weight` of its accounts, of its needs and of
    its orders per issue, each order its real size (a share of the sampled issue `weight` times larger)."""
    if weight == 1:
        return _copy(specs.InvestorSpec, group)
    subscription = _copy(specs.SubscriptionSpec, group.subscription)
    share = subscription.order_size_median_share_of_issue
    subscription = dataclasses.replace(subscription, orders_per_issue=subscription.orders_per_issue / weight,
                                       order_size_median_share_of_issue=None if share is None else share * weight)
    return _copy(specs.InvestorSpec, group, accounts=group.accounts // weight, needs_per_day=group.needs_per_day / weight,
                 subscription=subscription)


def sampled_programme(programme: specs.ProgrammeSpec, weight: int) -> specs.ProgrammeSpec:
    """A bond programme as a sample sees it: each issue one in `weight` of its size, its fixed and
    servicing costs alike (its proportional costs, yields and shares unchanged)."""
    if weight == 1:
        return programme
    costs = {form: dataclasses.replace(cost, fixed_cost_hkd=cost.fixed_cost_hkd / weight,
                                       servicing_cost_hkd_per_payment=cost.servicing_cost_hkd_per_payment / weight)
             for form, cost in programme.costs.items()}
    return dataclasses.replace(programme, size_hkd=programme.size_hkd / weight, costs=costs)


def sampled_grants(grants: specs.GrantSpec, weight: int) -> specs.GrantSpec:
    """The grant scheme as a sample sees it: its caps, size threshold and budget one in `weight`, and
    the distinct investors a full grant needs one in `weight` (a sample's holder counts the same)."""
    if weight == 1:
        return grants
    return dataclasses.replace(
        grants, full_grant_cap_hkd=grants.full_grant_cap_hkd / weight, half_grant_cap_hkd=grants.half_grant_cap_hkd / weight,
        full_grant_min_size_hkd=grants.full_grant_min_size_hkd / weight, budget_hkd=grants.budget_hkd / weight,
        min_unaffiliated_investors=grants.min_unaffiliated_investors / weight)


def instrument_spec(name: str, instrument: Any, stamp_duty: Any, instruments: dict[str, Any]) -> specs.InstrumentSpec:
    if instrument.type == "etf" and instrument.basket is not None:  # the NAV is its basket share's walk, scaled
        value = _copy(specs.EtfValueSpec, instruments[instrument.basket].price,
                      initial_value_hkd=instrument.underlying.initial_value_hkd,
                      management_fee_bps_per_year=instrument.management_fee_bps_per_year, basket=instrument.basket)
    elif instrument.type == "etf":
        value = _copy(specs.EtfValueSpec, instrument.underlying,
                      management_fee_bps_per_year=instrument.management_fee_bps_per_year, basket=None)
    elif instrument.type == "stock":  # the same walk on HKEX's clock as an ETF's basket, with no fee
        value = _copy(specs.EtfValueSpec, instrument.price, management_fee_bps_per_year=0.0, basket=None)
    elif instrument.type == "commodity_token":
        value = _copy(specs.BackingValueSpec, instrument.spot, backing_per_token=instrument.backing_per_token,
                      custody_fee_bps_per_year=instrument.custody_fee_bps_per_year)
    else:
        value = _copy(specs.BondValueSpec, instrument)
    participant = getattr(instrument, "authorised_participant", None)
    return specs.InstrumentSpec(
        name=name, type=instrument.type, tick_size_hkd=instrument.tick_size_hkd,
        min_denomination_units=getattr(instrument, "min_denomination_units", 1),
        creation_unit_units=getattr(instrument, "creation_unit_units", None),
        authorised_participant=None if participant is None else participant_spec(instrument, stamp_duty),
        value=value,
    )


def participant_spec(instrument: Any, stamp_duty: Any) -> specs.ParticipantSpec:
    """A backed instrument's authorised participant, with the duty on its basket: a basket of Hong
    Kong stock is bought (to create) and sold (after a redemption) in taxed stock trades, while its
    transfer into or out of the fund is relieved as long as `creation_redemption_relief` is in force."""
    dutiable = getattr(instrument, "basket_pays_stamp_duty", False)
    return _copy(specs.ParticipantSpec, instrument.authorised_participant,
                 basket_duty=stamp_duty.conventional_stock.dated() if dutiable else Dated.always(0.0),
                 transfer_relief=stamp_duty.creation_redemption_relief.dated(),
                 basket=getattr(instrument, "basket", None))


def venue_spec(scenario: Scenario, name: str, index: int) -> specs.VenueSpec:
    venue = scenario.venues[name]
    fail = fail_probability_for_cycle(venue.fail_probability_at_t2, 2, venue.settlement_cycle_days,
                                      scenario.settlement.fail_cycle_elasticity)
    return _copy(specs.VenueSpec, venue, name=name, index=index, fail_probability=fail,
                 tokenized_cash=scenario.policy.tokenized_cash.dated(), settlement_model=venue.settlement(),
                 atomic_lead_days=scenario.settlement.prefunding_lead_days,
                 funding_rate_per_year=scenario.settlement.funding_rate_per_year)


def charges(scenario: Scenario) -> list[Charge]:
    """Every venue's per-side fees (scoped to the venue), then stamp duty by instrument type and form."""
    found = []
    for name, venue in scenario.venues.items():
        for fee in PER_SIDE_FEES:
            rate = getattr(venue.fees, fee) / 10_000.0
            found.append(Charge(fee, fee_collector(fee, name), Dated.always(rate), EVERYONE,
                                scope=Scope(venues=frozenset({name}))))
    for field, lever in scenario.policy.stamp_duty.rates().items():
        form, instrument_type = field.split("_", 1)
        found.append(Charge(STAMP_DUTY, GOVERNMENT, lever.dated(), EVERYONE, duty=True,
                            scope=Scope(instrument_types=frozenset({instrument_type}), forms=frozenset({form}))))
    return found


def reliefs(scenario: Scenario) -> list[Relief]:
    """The reliefs in force: market makers' fee rebate on the venue kinds and fees it names (HKEX's
    trading-fee waiver for ETP market makers by default) and, only as a counterfactual, a blanket
    duty exemption of every liquidity provider's own trades."""
    policy = scenario.policy
    rebate = policy.market_maker_fee_rebate
    found = [Relief(frozenset(rebate.fees), frozenset({Payer.MARKET_MAKER}), rebate.dated(),
                    scope=Scope(venue_kinds=frozenset(rebate.venue_kinds)))]
    if policy.stamp_duty.market_maker_exempt:
        found.append(Relief(frozenset({STAMP_DUTY}), LIQUIDITY_PROVIDERS, Dated.always(1.0)))
    return found


def listing_costs(scenario: Scenario, venue: str, instrument_type: str) -> CostSchedule:
    """The cost schedule of an instrument type on a venue, for asking its rates (every collector is account 0)."""
    params = scenario.venues[venue]
    where = (venue, params.kind, instrument_type, params.form)
    found = [charge for charge in charges(scenario) if charge.scope.covers(*where)]
    return CostSchedule(found, [relief for relief in reliefs(scenario) if relief.scope.covers(*where)],
                        defaultdict(int), round(params.fees.network_fee_hkd_per_transfer * 100))


def programme_spec(issuer: str, name: str, programme: Any, issuer_kind: str = "market") -> specs.ProgrammeSpec:
    return _copy(specs.ProgrammeSpec, programme, name=name, issuer=issuer, issuer_kind=issuer_kind,
                 instrument_type=programme.instrument_type)


def _copy(cls: type, model: Any, **given: Any) -> Any:
    """A spec of class `cls` whose fields not `given` copy the schema model's fields of the same name."""
    hints = get_type_hints(cls, vars(specs))
    values = {}
    for field in dataclasses.fields(cls):
        values[field.name] = given[field.name] if field.name in given else _convert(hints[field.name], getattr(model, field.name))
    return cls(**values)


def _convert(hint: Any, value: Any) -> Any:
    """A schema value as the spec field typed `hint` holds it: nested specs copied, lists as tuples."""
    if value is None:
        return None
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        for arg in get_args(hint):
            if arg is not type(None):
                return _convert(arg, value)
    if dataclasses.is_dataclass(hint):
        return _copy(hint, value)
    if origin is dict:
        _, item = get_args(hint)
        return {key: _convert(item, v) for key, v in value.items()}
    if origin is tuple:
        return tuple(tuple(v) if isinstance(v, (list, tuple)) else v for v in value)
    return value
