"""Fuzz campaign over scenario input: files and `--set` values built from the baseline.

Each case starts from the resolved data of `scenarios/baseline.yaml`, so that it reaches deep into
the schema, and breaks it: a value replaced by a random YAML-ish value or by raw YAML text (bad
dates, mappings with integer keys, duplicate keys written out or brought in by a merge key), a
key deleted, an unknown key added. Whatever the input, `tokensim validate` answers with exit 0
or with exit 2 and one line, never a traceback and never a hang; a mapping that gives a key
twice is never accepted; and a scenario that validates runs to its end. Every test is bounded in
examples and in time (the file takes well under a minute).
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import functools
import io
import math
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import SCENARIOS, key_paths  # noqa: E402
from sim.cli import main  # noqa: E402
from sim.market.calendar import BusinessCalendar  # noqa: E402
from sim.runs import run  # noqa: E402
from sim.scenario import ScenarioError, load_scenario, resolve_scenario_dict  # noqa: E402

BASELINE = SCENARIOS / "baseline.yaml"
SECONDS_PER_CASE = 5.0
FUZZ = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
RUNS = settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@contextlib.contextmanager
def time_limit(seconds: float = SECONDS_PER_CASE) -> Iterator[None]:
    """Raise TimeoutError in the body if it takes longer than `seconds` (a hang fails the test)."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def validate(path: Path, overrides: list[str] = ()) -> tuple[int, str]:
    """`tokensim validate PATH --set ...` in-process: its exit status and what it wrote to stderr."""
    arguments = ["validate", str(path)] + [part for text in overrides for part in ("--set", text)]
    err = io.StringIO()
    with time_limit(), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(arguments)
    return status, err.getvalue()


def assert_clear_answer(status: int, err: str) -> None:
    assert status in (0, 2), (status, err)
    if status == 2:
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err


@functools.cache
def baseline() -> dict[str, Any]:
    return resolve_scenario_dict(BASELINE)[0]


def flow(value: Any) -> str:
    """`value` as one line of YAML flow text."""
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def value_at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


# Values: what a YAML file can hold, in Python (dumped by PyYAML) or as raw text (pasted in).

BAD_DATES = ["2026-02-30", "2026-13-01", "0000-01-01", "2026-02-29", "2025-00-10", "2026-04-31"]
EDGE_DATES = ["9999-12-31", "9999-01-01", "0001-01-01", "1969-12-31", "2026-01-05 10:30:00"]
RAW = BAD_DATES + EDGE_DATES + [
    "{1: {}}", "{0: 1, 1: 2}", "[1, {2: 3}]", "{a: 1, a: 2}", "{<<: {a: 1}, a: 2}", "{<<: {a: 1, a: 2}}",
    "{<<: [{a: 1}, {a: 2}]}", "5.0", "1e400", ".nan", "-.inf", "0x1F", "0o17", "1_000", "1:30", "~", "''",
    "\"\u00e9t\u00e9 \u6e2f\"", "\u6e2f\u5143", "yes", "No", "!!binary aGVsbG8=", "[]", "{}", "1" + "0" * 5000,
]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**40), 10**40), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.dates(), st.sampled_from([0, 1, 2, 5.0, 0.5, 1e308, -0.0, "baseline", "2026-01-05"]),
)
keys = st.one_of(st.text(min_size=1, max_size=8), st.integers(-3, 3), st.sampled_from(["kind", "form", "type", "rate_per_side"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3), max_leaves=8)


@st.composite
def duplicated(draw: Callable, mapping: dict[str, Any]) -> str:
    """`mapping` as flow text that gives one of its keys twice: written out twice, or once
    written and once merged in (`<<`), or twice inside the merged mapping."""
    # an earlier mutation may have added an integer key beside the names: order them without comparing the two
    key = draw(st.sampled_from(sorted(mapping, key=lambda k: (type(k).__name__, str(k)))))
    other = draw(values)
    rest = ", ".join(f"{flow(k)}: {flow(v)}" for k, v in mapping.items())
    pair = f"{flow(key)}: {flow(other)}"
    style = draw(st.sampled_from(["twice", "twice, first last", "merged", "merged twice"]))
    if style == "twice":
        return "{" + f"{rest}, {pair}" + "}"
    if style == "twice, first last":
        return "{" + f"{pair}, {rest}" + "}"
    if style == "merged":
        return "{" + f"<<: {{{pair}}}, {rest}" + "}"
    return "{" + f"<<: {{{pair}, {pair}}}, {rest}" + "}"


@st.composite
def mutated_files(draw: Callable) -> tuple[str, bool]:
    """YAML text of a broken baseline, and whether it must be refused (a key given twice)."""
    data = copy.deepcopy(baseline())
    raw: dict[str, str] = {}
    must_refuse = False
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(key_paths(data)))
        parent, last = value_at(data, path[:-1]), path[-1]
        action = draw(st.sampled_from(["value", "raw", "duplicate", "delete", "unknown key"]))
        if action == "duplicate" and isinstance(parent[last], dict) and parent[last]:
            raw[f"RAWTEXT{len(raw)}"] = draw(duplicated(parent[last]))
            parent[last] = f"RAWTEXT{len(raw) - 1}"
            must_refuse = True
        elif action == "raw":
            raw[f"RAWTEXT{len(raw)}"] = draw(st.sampled_from(RAW))
            parent[last] = f"RAWTEXT{len(raw) - 1}"
        elif action == "delete" and isinstance(parent, dict):
            del parent[last]
        elif action == "unknown key" and isinstance(parent, dict):
            parent[draw(keys)] = draw(values)
        else:
            parent[last] = draw(values)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=math.inf)
    for token, snippet in raw.items():
        assume(text.count(token) == 1)  # a token deleted by a later mutation, or one inside a key
        text = text.replace(token, snippet)
    return text, must_refuse


@FUZZ
@given(mutated_files())
def test_mutated_baseline_files_validate_or_give_one_clear_line(case):
    text, must_refuse = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.yaml"
        path.write_text(text, encoding="utf-8")
        status, err = validate(path)
    assert_clear_answer(status, err)
    if must_refuse:
        assert status == 2, f"a key given twice was accepted:\n{text}"


@st.composite
def files_with_a_key_twice(draw: Callable) -> str:
    """The baseline's YAML text with one of its mappings giving a key twice, and nothing else wrong."""
    data = copy.deepcopy(baseline())
    path = draw(st.sampled_from([p for p in key_paths(data) if isinstance(value_at(data, p), dict) and value_at(data, p)]))
    value_at(data, path[:-1])[path[-1]] = "RAWTEXT"
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=math.inf)
    return text.replace("RAWTEXT", draw(duplicated(value_at(baseline(), path))))


@FUZZ
@given(files_with_a_key_twice())
def test_a_file_giving_a_key_twice_is_refused(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.yaml"
        path.write_text(text, encoding="utf-8")
        status, err = validate(path)
    assert status == 2 and ("twice" in err or "duplicate" in err), f"a key given twice was accepted:\n{text}"


def setting_paths() -> list[tuple[str, ...]]:
    return [path for path in key_paths(baseline()) if all(isinstance(part, str) for part in path)]


@st.composite
def overrides(draw: Callable) -> tuple[str, bool]:
    """One `--set KEY=VALUE` text, and whether it must be refused (a key given twice)."""
    path = draw(st.sampled_from(setting_paths()))
    old = value_at(baseline(), path)
    choice = draw(st.sampled_from(["raw", "value", "duplicate", "integer key"]))
    must_refuse = False
    if choice == "duplicate" and isinstance(old, dict) and old:
        value, must_refuse = draw(duplicated(old)), True
    elif choice == "integer key" and isinstance(old, dict) and old:
        value = flow({draw(st.integers(-2, 2)): draw(st.sampled_from(list(old.values())))})
    elif choice == "raw":
        value = draw(st.sampled_from(RAW))
    else:
        value = flow(draw(values))
    return f"{'.'.join(path)}={value}", must_refuse


@FUZZ
@given(st.lists(overrides(), min_size=1, max_size=3))
def test_set_values_validate_or_give_one_clear_line(cases):
    texts = [text for text, _ in cases]
    status, err = validate(BASELINE, texts)
    assert_clear_answer(status, err)
    if any(must_refuse for _, must_refuse in cases):
        assert status == 2, f"a key given twice was accepted: {texts}"


dates = st.one_of(
    st.dates(), st.dates(datetime.date(9990, 1, 1)), st.dates(datetime.date(2020, 1, 1), datetime.date(2030, 12, 31))
)


@st.composite
def short_runs(draw: Callable) -> list[str]:
    """`--set` texts for a run of a few days and its settlement terms."""
    venue = draw(st.sampled_from(sorted(baseline()["venues"])))
    settings_ = {
        "horizon_days": draw(st.integers(1, 3)),
        f"venues.{venue}.settlement_cycle_days": draw(st.integers(1, 4)),
        f"venues.{venue}.fail_probability_at_t2": draw(st.sampled_from([0.0, 0.1, 0.25, 0.5])),
        "settlement.fail_cycle_elasticity": draw(st.integers(-5, 5)),
        "settlement.buy_in_after_fails": draw(st.sampled_from(["null", "1", "3"])),
    }
    return [f"{key}={value}" for key, value in settings_.items()]


@RUNS
@given(short_runs())
def test_a_scenario_that_validates_runs_to_its_end(texts):
    status, err = validate(BASELINE, texts)
    assert_clear_answer(status, err)
    if status == 0:
        with time_limit():
            run(load_scenario(BASELINE, texts))


@RUNS
@given(dates, st.integers(1, 10_000))
def test_a_scenario_that_validates_builds_its_calendar(start, horizon_days):
    texts = [f"calendar.start_date={start.isoformat()}", f"horizon_days={horizon_days}"]
    status, err = validate(BASELINE, texts)
    assert_clear_answer(status, err)
    if status == 0:
        with time_limit():
            BusinessCalendar(start, load_scenario(BASELINE, texts).calendar.holidays, horizon_days)


def test_validation_answers_every_known_hostile_set_value_in_one_line():
    """The raw values, each at a key where it is plausible, answered without a traceback."""
    for key in ("calendar.start_date", "horizon_days", "venues.exchange.listings", "policy.stamp_duty.tokenized_etf"):
        for value in RAW:
            try:
                status, err = validate(BASELINE, [f"{key}={value}"])
            except ScenarioError as error:  # pragma: no cover - main() catches it; shown if it ever does not
                raise AssertionError(f"{key}={value}: {error}") from None
            assert_clear_answer(status, err)
