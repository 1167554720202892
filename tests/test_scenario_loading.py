"""Scenario loading: YAML reading, `extends` merging, provenance, `--set` overrides, error reports."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from sim.scenario import Scenario, ScenarioError, load_scenario, render_reference, resolve_scenario_dict
from sim.scenario.schema import MAX_VENUES
from tests.conftest import SCENARIOS

MINI = """\
name: mini
horizon_days: 5
instruments:
  etf: {type: etf}
venues:
  exchange: {kind: exchange, form: conventional, listings: {etf: {}}}
  platform: {kind: platform, form: tokenized, sessions_hours: [[0, 24]], settlement_cycle_days: 1, listings: {etf: {}}}
investors:
  retail: {accounts: 10, needs_per_day: 50, interest: {etf: 1}, trade_size_median_hkd: 5000, gain_mean_bps: 20,
           tokenized_access: false}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return write(tmp_path, "mini.yaml", MINI)


def error_of(path: Path, overrides: tuple[str, ...] = ()) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    return caught.value


# --- reading and merging ---------------------------------------------------------------------


def test_minimal_scenario_loads(mini: Path) -> None:
    scenario = load_scenario(mini)
    assert isinstance(scenario, Scenario)
    assert scenario.venues["platform"].sessions_hours == [(0.0, 24.0)]
    assert scenario.investors["retail"].accounts == 10


def test_deep_merge_keeps_siblings_and_replaces_lists_whole(tmp_path: Path) -> None:
    parent = MINI.replace(
        "sessions_hours: [[0, 24]]", "sessions_hours: [[9, 12], [13, 16]], fees: {trading_fee_bps: 5, sfc_levy_bps: 1}"
    )
    write(tmp_path, "parent.yaml", parent)
    child = write(
        tmp_path,
        "child.yaml",
        "extends: parent.yaml\nvenues:\n  platform:\n    sessions_hours: [[10, 11]]\n    fees: {trading_fee_bps: 2}\n",
    )
    data, _ = resolve_scenario_dict(child)
    assert "extends" not in data
    platform = data["venues"]["platform"]
    assert platform["fees"] == {"trading_fee_bps": 2, "sfc_levy_bps": 1}
    assert platform["sessions_hours"] == [[10, 11]]
    assert platform["kind"] == "platform" and "exchange" in data["venues"]
    assert load_scenario(child).venues["platform"].fees.sfc_levy_bps == 1


def test_null_in_child_replaces_inherited_value(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", MINI + "policy: {stamp_duty: {market_maker_exempt: false}}\n")
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\npolicy: null\n")
    assert resolve_scenario_dict(child)[0]["policy"] is None
    assert error_of(child).key_path == "policy"


def test_extends_chain_of_three_with_relative_paths(tmp_path: Path) -> None:
    root = write(tmp_path, "base/root.yaml", MINI)
    mid = write(tmp_path, "variants/mid.yaml", "extends: ../base/root.yaml\nhorizon_days: 7\nseed: 3\n")
    top = write(tmp_path, "variants/deep/top.yaml", "extends: ../mid.yaml\nseed: 9\n")
    data, provenance = resolve_scenario_dict(top)
    assert (data["name"], data["horizon_days"], data["seed"]) == ("mini", 7, 9)
    assert provenance[("name",)] == str(root)
    assert provenance[("horizon_days",)] == str(mid)
    assert provenance[("seed",)] == str(top)


def test_error_blames_the_file_that_supplied_the_bad_value(tmp_path: Path) -> None:
    bad_rate = "policy: {stamp_duty: {tokenized_etf: {rate_per_side: -0.1}}}\n"
    parent = write(tmp_path, "parent.yaml", MINI + bad_rate)
    inherits = write(tmp_path, "sub/inherits.yaml", "extends: ../parent.yaml\nseed: 2\n")
    assert error_of(inherits).source == str(parent)

    write(tmp_path, "good.yaml", MINI)
    sets = write(tmp_path, "sub/sets.yaml", "extends: ../good.yaml\n" + bad_rate)
    error = error_of(sets)
    assert error.source == str(sets)
    assert error.key_path == "policy.stamp_duty.tokenized_etf.rate_per_side"
    assert error.value == -0.1

    override = error_of(inherits, ("policy.stamp_duty.tokenized_etf.rate_per_side=0.5", "seed=-1"))
    assert (override.source, override.key_path) == ("--set", "seed")


def test_missing_extends_target_names_file_key_and_target(tmp_path: Path) -> None:
    child = write(tmp_path, "child.yaml", "extends: nowhere.yaml\n")
    error = error_of(child)
    assert (error.source, error.key_path, error.value) == (str(child), "extends", "nowhere.yaml")
    assert "nowhere.yaml" in str(error)


def test_extends_cycle_of_two_files_names_the_chain(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: b.yaml\n")
    b = write(tmp_path, "b.yaml", "extends: a.yaml\n")
    error = error_of(a)
    assert f"{a} -> {b} -> {a}" in str(error)
    assert error.key_path == "extends"


def test_file_extending_itself_is_a_cycle(tmp_path: Path) -> None:
    me = write(tmp_path, "me.yaml", MINI + "extends: me.yaml\n")
    assert f"{me} -> {me}" in str(error_of(me))


# --- YAML problems ----------------------------------------------------------------------------


def test_malformed_yaml_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "name: mini\nvenues: [1, 2\nseed: 3\n")
    error = error_of(path)
    assert error.source == str(path) and error.key_path == ""
    assert "line 3, column" in str(error)


def test_duplicate_key_is_an_error_naming_key_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", MINI + "horizon_days: 6\n")
    text = str(error_of(path))
    line = MINI.count("\n") + 1
    assert "duplicate key 'horizon_days'" in text and f"line {line}," in text


def test_non_text_mapping_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "keys.yaml", MINI + "policy: {yes: 1}\n")
    assert "key 'yes' is not text" in str(error_of(path))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("- a\n- b\n", "must be a mapping"), ("", "empty"), ("# only a comment\n", "empty"), ("7\n", "must be a mapping")],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "top.yaml", text)
    error = error_of(path)
    assert error.source == str(path) and expected in str(error)


def test_python_tags_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "evil.yaml", MINI + "description: !!python/object/apply:os.getcwd []\n")
    assert "!!python/object/apply:os.getcwd is not allowed" in str(error_of(path))


def test_unreadable_files_name_the_path(tmp_path: Path) -> None:
    assert error_of(tmp_path / "absent.yaml").source == str(tmp_path / "absent.yaml")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"name: caf\xe9\n")
    assert "UTF-8" in str(error_of(latin1))


# --- schema errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("addition", "key_path", "suggestion"),
    [
        ("venues: {platform: {kind: platform, form: tokenized, fess: {}}}", "venues.platform.fess", "'fees'"),
        ("polcy: {}", "polcy", "'policy'"),
    ],
)
def test_unknown_key_suggests_the_closest(tmp_path: Path, addition: str, key_path: str, suggestion: str) -> None:
    write(tmp_path, "parent.yaml", MINI)
    child = write(tmp_path, "child.yaml", f"extends: parent.yaml\n{addition}\n")
    error = error_of(child)
    assert error.key_path == key_path
    assert f"did you mean {suggestion}?" in str(error)


@pytest.mark.parametrize(
    ("override", "key_path", "phrase"),
    [
        ("policy.stamp_duty.tokenized_etf.rate_per_side=-0.1", "policy.stamp_duty.tokenized_etf.rate_per_side", ">= 0"),
        ("policy.stamp_duty.tokenized_etf.rate_per_side=1", "policy.stamp_duty.tokenized_etf.rate_per_side", "< 1"),
        ("horizon_days=ten", "horizon_days", "expected an integer"),
        ("investors.retail.tokenized_access=maybe", "investors.retail.tokenized_access", "expected true/false"),
        ("investors.retail.needs_per_day=[1]", "investors.retail.needs_per_day", "expected a number"),
    ],
)
def test_bad_values_name_path_value_and_rule(mini: Path, override: str, key_path: str, phrase: str) -> None:
    error = error_of(mini, (override,))
    assert error.key_path == key_path and phrase in str(error)
    assert f"{key_path} = " in str(error)


def test_wrong_type_in_file(tmp_path: Path) -> None:
    path = write(tmp_path, "ten.yaml", MINI.replace("horizon_days: 5", 'horizon_days: "ten"'))
    assert str(error_of(path)) == f'{path}: horizon_days = "ten": expected an integer.'


def test_model_level_error_reports_the_model_path(mini: Path) -> None:
    error = error_of(mini, ("venues.platform.sessions_hours=[[12, 9]]",))
    assert error.key_path == "venues.platform"
    assert "must start before it ends" in str(error)


def test_missing_required_key(tmp_path: Path) -> None:
    path = write(tmp_path, "missing.yaml", MINI.replace("accounts: 10, ", ""))
    error = error_of(path)
    assert error.key_path == "investors.retail.accounts" and "required key missing" in str(error)


def test_several_errors_show_two_and_count_the_rest(mini: Path) -> None:
    text = str(error_of(mini, ("seed=-1", "horizon_days=0", "instruments.etf.tick_size_hkd=0")))
    assert "seed = -1" in text and "horizon_days = 0" in text and text.endswith("(and 1 more).")


def test_error_text_is_one_short_human_paragraph(mini: Path) -> None:
    error = error_of(mini, ("description=" + "x" * 3000, "seed=-1", "polcy.x=1", "venues.platform.fees=3"))
    text = str(error)
    assert "\n" not in text and "Traceback" not in text
    assert "pydantic" not in text and "http" not in text and "type=" not in text
    assert "x" * 61 not in text and len(text) < 400


def test_error_survives_pickling_for_worker_processes(mini: Path) -> None:
    error = error_of(mini, ("seed=-1",))
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.source, copy.key_path, copy.value) == (str(error), "--set", "seed", -1)
    assert pickle.loads(pickle.dumps(error_of(mini / "absent.yaml"))).value is None


# --- --set overrides --------------------------------------------------------------------------


def test_set_values_are_typed_by_yaml_then_schema(mini: Path) -> None:
    overrides = (
        "policy.stamp_duty.tokenized_etf.rate_per_side=0",
        "venues.platform.settlement_cycle_days=1",
        "investors.retail.tokenized_access=true",
    )
    data, provenance = resolve_scenario_dict(mini, overrides)
    assert data["policy"]["stamp_duty"]["tokenized_etf"]["rate_per_side"] == 0
    assert data["investors"]["retail"]["tokenized_access"] is True
    assert provenance[("policy", "stamp_duty", "tokenized_etf", "rate_per_side")] == "--set"
    assert provenance[("investors", "retail", "accounts")] == str(mini)
    scenario = load_scenario(mini, overrides)
    assert scenario.investors["retail"].tokenized_access is True
    assert scenario.policy.stamp_duty.tokenized_etf.rate_per_side == 0.0


def test_set_rejects_fraction_for_integer_field(mini: Path) -> None:
    error = error_of(mini, ("venues.platform.settlement_cycle_days=1.5",))
    assert (error.source, error.key_path, error.value) == ("--set", "venues.platform.settlement_cycle_days", 1.5)
    assert "expected an integer" in str(error)


def test_set_replaces_a_list_whole_and_later_overrides_win(mini: Path) -> None:
    overrides = ("venues.platform.sessions_hours=[[1, 2], [3, 4]]", "seed=5", "seed=6")
    scenario = load_scenario(mini, overrides)
    assert scenario.venues["platform"].sessions_hours == [(1.0, 2.0), (3.0, 4.0)]
    assert scenario.seed == 6


@pytest.mark.parametrize(
    ("override", "suggestion"),
    [("venues.platform.fess.trading_fee_bps=1", "'fees'"), ("venues.platfrom.settlement_cycle_days=0", "'platform'")],
)
def test_set_creating_a_misspelt_key_suggests_the_right_one(mini: Path, override: str, suggestion: str) -> None:
    error = error_of(mini, (override,))
    assert error.source == "--set" and f"did you mean {suggestion}?" in str(error)


@pytest.mark.parametrize(
    ("override", "phrase"),
    [
        ("horizon_days", "no '=' found"),
        ("=5", "empty key"),
        ("venues..platform=1", "empty segment"),
        ("horizon_days.days=1", "not a mapping"),
        ("seed=[1, 2", "cannot read the value"),
    ],
)
def test_malformed_set_is_a_scenario_error(mini: Path, override: str, phrase: str) -> None:
    error = error_of(mini, (override,))
    assert error.source == "--set" and phrase in str(error)


# --- reference --------------------------------------------------------------------------------


def test_reference_is_deterministic_and_covers_every_model() -> None:
    text = render_reference()
    assert text == render_reference()
    assert "tokensim reference > docs/scenario-reference.md" in text
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    models = {"Scenario", "Calendar", "Etf", "Bond", "Venue", "Listing", "Dealer", "MarketMaker", "DutyLever", "Adoption"}
    assert headings[0] == "## Scenario" and {f"## {name}" for name in models} <= set(headings)
    assert len(headings) == len(set(headings))
    assert "| `rate_per_side` | number | `0.0` | >= 0, < 1 |" in text
    assert "mapping name -> [Venue](#venue)" in text


@pytest.mark.parametrize(
    "override, message",
    [
        ('horizon_days="5"', "horizon_days = \"5\": expected an integer"),
        ("investors.retail.accounts=true", "investors.retail.accounts = true: expected an integer"),
        ("investors.retail.tokenized_access=1", "investors.retail.tokenized_access = 1: expected true/false"),
        ('instruments.etf.underlying.initial_value_hkd="25"', 'instruments.etf.underlying.initial_value_hkd = "25": expected a number'),
        ("instruments.etf.underlying.initial_value_hkd=.inf", "instruments.etf.underlying.initial_value_hkd = Infinity: expected a finite number"),
    ],
)
def test_no_silent_coercion_of_text_booleans_or_infinity(tmp_path: Path, override: str, message: str) -> None:
    path = write(tmp_path, "mini.yaml", MINI)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, [override])
    assert message in str(caught.value)


def test_more_venues_than_the_investor_screen_can_hold_is_a_scenario_error(tmp_path: Path) -> None:
    """Investors screen needs with one bit per venue, so a scenario names at most MAX_VENUES of them."""
    venue = "{kind: exchange, form: conventional, listings: {etf: {}}}"
    extra = "".join(f"  venue{k}: {venue}\n" for k in range(MAX_VENUES - 2))
    fits = write(tmp_path, "fits.yaml", MINI.replace("investors:\n", extra + "investors:\n"))
    assert len(load_scenario(fits).venues) == MAX_VENUES
    one_more = extra + f"  one_more: {venue}\n"
    error = error_of(write(tmp_path, "many.yaml", MINI.replace("investors:\n", one_more + "investors:\n")))
    assert error.key_path == "venues" and f"at most {MAX_VENUES}" in str(error)


def test_the_schema_offers_exactly_the_venue_kinds_the_market_has_providers_for():
    """One mapping from venue kind to liquidity provider: the schema's kinds are the market's."""
    from typing import get_args

    from sim.market.venue_kinds import PROVIDERS
    from sim.scenario.venues import VenueParams

    assert set(get_args(VenueParams.model_fields["kind"].annotation)) == set(PROVIDERS)


# --- strict input: keys given once, dates on the calendar, no coercion, trades that settle ------


@pytest.mark.parametrize(
    "mapping",
    [
        "{<<: {rate_per_side: 0.0}, rate_per_side: 0.9}",
        "{rate_per_side: 0.9, <<: {rate_per_side: 0.0}}",
        "{<<: [{rate_per_side: 0.0}, {rate_per_side: 0.9}]}",
        "{<<: {rate_per_side: 0.0, rate_per_side: 0.9}}",
    ],
)
def test_a_merge_key_may_not_bring_in_a_key_given_again(tmp_path: Path, mapping: str) -> None:
    path = write(tmp_path, "merged.yaml", MINI + f"policy:\n  stamp_duty:\n    tokenized_etf: {mapping}\n")
    text = str(error_of(path))
    assert "duplicate key 'rate_per_side'" in text and f"line {MINI.count(chr(10)) + 3}," in text


def test_a_merge_key_combining_distinct_keys_still_works(tmp_path: Path) -> None:
    path = write(tmp_path, "merged.yaml", MINI.replace(
        "  exchange: {kind: exchange, form: conventional, listings: {etf: {}}}",
        "  exchange: &exchange {kind: exchange, form: conventional, listings: {etf: {}}}\n"
        "  second:\n    <<: *exchange\n    settlement_cycle_days: 1",
    ))
    assert load_scenario(path).venues["second"].settlement_cycle_days == 1


@pytest.mark.parametrize(
    "override",
    [
        "policy.stamp_duty.tokenized_etf={rate_per_side: 0.0, rate_per_side: 0.9}",
        "policy.stamp_duty.tokenized_etf={rate_per_side: 0.9, <<: {rate_per_side: 0.0}}",
    ],
)
def test_a_set_value_giving_a_key_twice_is_refused(mini: Path, override: str) -> None:
    error = error_of(mini, (override,))
    assert (error.source, error.key_path) == ("--set", "policy.stamp_duty.tokenized_etf")
    assert "cannot read the value: column" in str(error) and "duplicate key 'rate_per_side'" in str(error)


def test_a_set_value_with_an_integer_key_is_refused(mini: Path) -> None:
    error = error_of(mini, ("venues.exchange.listings={1: {}}",))
    assert error.source == "--set" and "key '1' is not text; quote it" in str(error)


def test_an_integer_entry_name_built_in_code_gives_a_scenario_error() -> None:
    """The did-you-mean report for named entries compares names as text, whatever the keys are."""
    from pydantic import ValidationError

    from sim.scenario.errors import from_validation_error

    data, provenance = resolve_scenario_dict(Path(__file__).parent.parent / "scenarios" / "baseline.yaml")
    data["venues"]["exchange"]["listings"] = {1: {}}
    with pytest.raises(ValidationError) as caught:
        Scenario.model_validate(data)
    assert isinstance(from_validation_error(caught.value, Scenario, data, provenance, "x.yaml"), ScenarioError)


@pytest.mark.parametrize("date", ["2026-02-30", "2026-13-01", "0000-01-01", "2026-02-29", "2026-04-31"])
def test_a_date_not_on_the_calendar_names_key_value_and_how_a_date_looks(tmp_path: Path, mini: Path, date: str) -> None:
    expected = f'calendar.start_date = "{date}": is not a day on the calendar (a date is written YYYY-MM-DD, e.g. 2026-01-05).'
    assert str(error_of(mini, (f"calendar.start_date={date}",))) == f"--set: {expected}"
    path = write(tmp_path, "dated.yaml", MINI + f"calendar: {{start_date: {date}}}\n")
    assert str(error_of(path)) == f"{path}: {expected}"


@pytest.mark.parametrize(
    ("override", "key_path"),
    [
        ("calendar.start_date=9999-12-31", "calendar.start_date"),
        ("calendar.start_date=1899-12-31", "calendar.start_date"),
        ("calendar.holidays=[2026-01-01, 2300-01-01]", "calendar.holidays[1]"),
    ],
)
def test_a_date_beyond_the_calendar_is_refused(mini: Path, override: str, key_path: str) -> None:
    error = error_of(mini, (override,))
    assert error.key_path == key_path and "outside the calendar's range, 1900-01-01 to 2199-12-31" in str(error)


def test_the_calendar_refuses_a_start_it_cannot_serve_rather_than_overflow() -> None:
    import datetime

    from sim.market.calendar import BusinessCalendar

    with pytest.raises(ValueError, match="outside the calendar's range"):
        BusinessCalendar(datetime.date(9999, 12, 31), n_days=10)


@pytest.mark.parametrize(
    ("override", "phrase"),
    [
        ("calendar.start_date=0", "calendar.start_date = 0: expected a date (a date is written YYYY-MM-DD"),
        ('calendar.start_date="5 Jan 2026"', 'calendar.start_date = "5 Jan 2026": expected a date'),
        ('calendar.start_date="2026-02-30"', 'calendar.start_date = "2026-02-30": is not a day on the calendar'),
        ("calendar.start_date=2026-01-05 09:30:00", "expected a date without a time of day"),
        ("calendar.holidays=[2026-01-01, 20260102]", "expected a date at [1]"),
    ],
)
def test_only_a_yaml_date_is_taken_as_a_date(mini: Path, override: str, phrase: str) -> None:
    assert phrase in str(error_of(mini, (override,)))


@pytest.mark.parametrize(
    ("override", "phrase"),
    [
        ("horizon_days=5.0", "horizon_days = 5.0: expected an integer"),
        ("instruments.etf.creation_unit_units=100000.0", "expected an integer"),
        ("instruments.etf.authorised_participant.initial_units={conventional: 10.0}", "expected an integer at conventional"),
        ("venues.platform.sessions_hours=[[0, \"24\"]]", "expected a number at [0][1]"),
        ("settlement.buy_in_after_fails=2.0", "expected an integer"),
    ],
)
def test_integer_fields_refuse_numbers_with_a_point_wherever_they_are(mini: Path, override: str, phrase: str) -> None:
    assert phrase in str(error_of(mini, (override,)))


def test_a_bond_coupon_frequency_must_be_an_integer(tmp_path: Path) -> None:
    bond = "  bond: {type: bond, coupon_rate: 0.02, coupon_frequency_per_year: 2.0, tenor_years: 5, issue_date: 2025-01-02}\n"
    path = write(tmp_path, "bond.yaml", MINI.replace("  etf: {type: etf}\n", "  etf: {type: etf}\n" + bond).replace(
        "listings: {etf: {}}}\n  platform", "listings: {etf: {}, bond: {}}}\n  platform"))
    error = error_of(path)
    assert error.key_path == "instruments.bond.coupon_frequency_per_year" and "expected an integer" in str(error)


@pytest.mark.parametrize("order", [("etf", "other"), ("other", "etf")])
def test_a_pair_correlated_twice_is_refused_in_either_order(tmp_path: Path, order: tuple[str, str]) -> None:
    text = MINI.replace("  etf: {type: etf}\n", "  etf: {type: etf}\n  other: {type: etf}\n").replace(
        "listings: {etf: {}}}\n  platform", "listings: {etf: {}, other: {}}}\n  platform")
    pairs = f"correlations:\n  - {{between: [etf, other], coefficient: 0.2}}\n  - {{between: [{order[0]}, {order[1]}], coefficient: 0.9}}\n"
    error = error_of(write(tmp_path, "pairs.yaml", text + pairs))
    assert f"correlations: {order[0]} and {order[1]} are paired twice; give each pair once" in str(error)


_NEVER_SETTLES = (
    "venues.exchange.fail_probability_at_t2=0.5", "settlement.fail_cycle_elasticity=-5",
    "venues.exchange.settlement_cycle_days=1", "settlement.buy_in_after_fails=null",
)


def test_a_venue_whose_trades_can_never_settle_is_refused(mini: Path) -> None:
    text = str(error_of(mini, _NEVER_SETTLES))
    assert "venues.exchange: trades can never settle: fail probability 1 at T+1 and buy-ins off" in text


@pytest.mark.parametrize(
    "change", ["settlement.buy_in_after_fails=1", "settlement.fail_cycle_elasticity=-0.9", "venues.exchange.settlement_cycle_days=2"]
)
def test_a_venue_that_fails_often_but_can_settle_loads(mini: Path, change: str) -> None:
    load_scenario(mini, (*_NEVER_SETTLES, change))


def test_a_value_out_of_range_in_a_new_entry_without_required_keys_names_the_key_not_a_typo():
    """A new listing (whose keys all have defaults) with one value out of range once read as a misspelt name."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(SCENARIOS / "baseline.yaml",
                      ["venues.exchange.listings.green_bond.market_maker.inventory_limit_units=20000000000"])
    message = str(caught.value)
    assert "inventory_limit_units" in message and "10000000000" in message and "did you mean" not in message
