"""Hostile scenario input: whatever a file holds, loading it gives a Scenario or a ScenarioError.

Property tests throw random YAML documents, mutated shipped scenarios and random bytes at the
loader; explicit cases cover the classic attacks (alias bombs, deep nesting, huge numbers,
special files, `extends` out of the scenario folders, Python tags). Through the command line
every one of them must end with exit status 2 and one short line, never a traceback.

`python tests/test_hostile_input.py` prints, per class of input, how many cases were tried and
how they ended (the table of the reliability note).
"""

from __future__ import annotations

import copy
import functools
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import ROOT, SCENARIOS, key_paths  # noqa: E402
from sim.cli import main  # noqa: E402
from sim.scenario import Scenario, ScenarioError, load_scenario, resolve_scenario_dict  # noqa: E402
from sim.scenario.loader import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES  # noqa: E402

EXAMPLES = 40
SHIPPED = sorted(SCENARIOS.glob("*.yaml"))

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["baseline", "etf", "bond", "tokenized", "0.5", "yes", "~", ""]),
)
keys = st.one_of(st.text(min_size=1, max_size=10), st.sampled_from(["name", "seed", "horizon_days", "venues", "policy"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=12)


def outcome(path: Path) -> str:
    """'loaded' or 'clear error'; anything else raised fails the test that calls it."""
    try:
        assert isinstance(load_scenario(path), Scenario)
        return "loaded"
    except ScenarioError as error:
        text = str(error)
        assert text and "\n" not in text and "Traceback" not in text and len(text) < 1000, text
        return "clear error"


def write_yaml(folder: Path, data: Any) -> Path:
    path = folder / "fuzzed.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# Mutations of a shipped scenario's resolved data: delete a key, swap a value's type, or graft
# a random value anywhere. They start valid, so they reach deep into the schema.

def mutate(data: Any, path: tuple, action: str, value: Any) -> Any:
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "swap":
        old = parent[last]
        parent[last] = {"number": str(old), "text": 1.5, "list": {"a": old}, "mapping": [old]}[
            "number" if isinstance(old, (int, float)) else "text" if isinstance(old, str)
            else "list" if isinstance(old, list) else "mapping"
        ]
    else:
        parent[last] = value
    return data


@functools.cache
def resolved(path: Path) -> dict[str, Any]:
    return resolve_scenario_dict(path)[0]


@st.composite
def mutated_scenarios(draw: Callable) -> Any:
    data = copy.deepcopy(resolved(draw(st.sampled_from(SHIPPED))))
    for _ in range(draw(st.integers(1, 3))):
        paths = key_paths(data)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["delete", "swap", "graft"]))
        if action == "delete" and isinstance(path[-1], int):
            action = "swap"
        data = mutate(data, path, action, draw(values))
    return data


FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(values)
def test_random_yaml_documents_load_or_give_a_clear_error(data):
    with tempfile.TemporaryDirectory() as folder:
        outcome(write_yaml(Path(folder), data))


@FUZZ
@given(mutated_scenarios())
def test_mutated_shipped_scenarios_load_or_give_a_clear_error(data):
    with tempfile.TemporaryDirectory() as folder:
        outcome(write_yaml(Path(folder), data))


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8")))
def test_random_bytes_load_or_give_a_clear_error(raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "raw.yaml"
        path.write_bytes(raw)
        assert outcome(path) == "clear error"  # random bytes never make a whole scenario


# The classic attacks, each a file in a scratch folder laid out like a scenario folder.

def bomb(levels: int) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * 9)}]" for k in range(1, levels)]
    return "\n".join(lines) + f"\nname: *l{levels - 1}\n"


def deep(levels: int, opener: str = "[", closer: str = "]") -> str:
    return "name: " + opener * levels + closer * levels + "\n"


def make_fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def baseline_setting(key: str, value: str) -> str:
    """baseline.yaml with the top-level `key` set to `value` (YAML text)."""
    lines = (SCENARIOS / "baseline.yaml").read_text(encoding="utf-8").splitlines()
    return "\n".join(f"{key}: {value}" if line.startswith(f"{key}:") else line for line in lines) + "\n"


# name -> (builder of the file in `folder`, expected words of the error); folder holds
# scenarios/ (where the file goes) beside a secret.yaml that `extends` must not reach.
HOSTILE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "alias bomb (billion laughs)": (lambda d: put(d, bomb(9)), "alias bomb"),
    "alias bomb, small but wide": (lambda d: put(d, bomb(6)), "alias bomb"),
    "recursive alias": (lambda d: put(d, "a: &a [1, *a]\n"), "contains it"),
    "deep nesting, lists": (lambda d: put(d, deep(5000)), "nested too deeply"),
    "deep nesting, mappings": (lambda d: put(d, deep(300, "{a: ", "}")), "nested too deeply"),
    "deep nesting, just over the limit": (lambda d: put(d, deep(MAX_DEPTH)), "nested too deeply"),
    "huge integer": (lambda d: put(d, "seed: 1" + "0" * 5000 + "\n"), "too long"),
    "large integer": (lambda d: put(d, baseline_setting("seed", "1" + "0" * 40)), "seed"),
    "huge float": (lambda d: put(d, baseline_setting("horizon_days", "1e400")), "horizon_days"),
    "NaN": (lambda d: put(d, baseline_setting("horizon_days", ".nan")), "integer"),
    "NaN for a number": (lambda d: put(d, baseline_setting("seed", "1") + "settlement: {funding_rate_per_year: .nan}\n"), "finite"),
    "infinity": (lambda d: put(d, baseline_setting("seed", "-.inf")), "seed"),
    "non-UTF-8 bytes": (lambda d: put(d, b"name: caf\xe9\n"), "not UTF-8"),
    "NUL and control characters": (lambda d: put(d, "name: a\x00b\n"), "unacceptable character"),
    "empty file": (lambda d: put(d, ""), "empty"),
    "a folder passed as a file": (lambda d: mkdir(d / "scenarios" / "folder.yaml"), "folder"),
    "a FIFO passed as a file": (lambda d: make_fifo(d / "scenarios" / "fifo.yaml"), "not a regular file"),
    "a device passed as a file": (lambda d: Path("/dev/zero"), "not a regular file"),
    "an oversized file": (lambda d: put(d, "#" * (MAX_FILE_BYTES + 1)), "at most"),
    "a top level that is a list": (lambda d: put(d, "- 1\n- 2\n"), "mapping"),
    "duplicate key": (lambda d: put(d, "seed: 1\nseed: 2\n"), "duplicate key"),
    "key with a line break": (lambda d: put(d, baseline_setting("seed", "1") + '"a\\nb": 1\n'), "unknown key"),
    "very long key": (lambda d: put(d, baseline_setting("seed", "1") + "? " + "k" * 5000 + "\n: 1\n"), "unknown key"),
    "non-text key": (lambda d: put(d, "1: a\n"), "not text"),
    "python tag (object)": (lambda d: put(d, "name: !!python/object/apply:os.system ['true']\n"), "not allowed"),
    "python tag (name)": (lambda d: put(d, "name: !!python/name:os.system\n"), "not allowed"),
    "custom tag": (lambda d: put(d, "name: !shell ls\n"), "not allowed"),
    "extends: absolute path": (lambda d: put(d, "extends: /etc/passwd\n"), "relative"),
    "extends: home folder": (lambda d: put(d, "extends: ~/.config/x.yaml\n"), "relative"),
    "extends: two folders up": (lambda d: put(d, "extends: ../../secret.yaml\n"), "leaves the scenario folders"),
    "extends: not a YAML file": (lambda d: put(d, "extends: ../../../etc/passwd\n"), ".yaml"),
    "extends: symlink out": (lambda d: symlinked_out(d), "leaves the scenario folders"),
    "extends: a folder": (lambda d: put(d, "extends: sub.yaml\n", also=("sub.yaml/",)), "not found"),
    "extends: a number": (lambda d: put(d, "extends: 3\n"), "extends"),
    "extends: itself": (lambda d: put(d, "extends: hostile.yaml\n"), "cycle"),
}


def put(folder: Path, content: str | bytes, also: tuple[str, ...] = ()) -> Path:
    scenarios = folder / "scenarios"
    scenarios.mkdir(parents=True, exist_ok=True)
    (folder / "secret.yaml").write_text("token: s3cret\n")
    for name in also:
        (scenarios / name).mkdir() if name.endswith("/") else (scenarios / name).write_text("")
    path = scenarios / "hostile.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def symlinked_out(folder: Path) -> Path:
    """A link inside the scenario folder to a YAML file outside the allowed tree."""
    path = put(folder, "extends: inner/link.yaml\n")
    outside = folder.parent / f"{folder.name}-outside.yaml"
    outside.write_text("token: s3cret\n")
    (path.parent / "inner").mkdir()
    os.symlink(outside, path.parent / "inner" / "link.yaml")
    return path


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_file_gives_a_clear_error(case, tmp_path, capsys):
    build, words = HOSTILE[case]
    path = build(tmp_path)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert words in str(caught.value) and "s3cret" not in str(caught.value)
    assert main(["validate", str(path)]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: ") and stderr.count("\n") == 1 and len(stderr) < 600, stderr


OVERRIDES = {
    "--set: deep nesting": ("seed=" + "[" * 3000 + "]" * 3000, "nested too deeply"),
    "--set: huge integer": ("seed=1" + "0" * 5000, "too long"),
    "--set: alias bomb": ("seed=" + bomb(7).replace("\n", ", ").replace("name: ", "z: ").join("{}"), "alias bomb"),
    "--set: python tag": ("seed=!!python/object/apply:os.system ['true']", "cannot read the value"),
    "--set: key given twice": ("policy.stamp_duty.tokenized_etf={rate_per_side: 0.0, rate_per_side: 0.9}",
                               "column 22: duplicate key 'rate_per_side'"),
    "--set: key given twice through a merge key": (
        "policy.stamp_duty.tokenized_etf={<<: {rate_per_side: 0.0}, rate_per_side: 0.9}", "duplicate key 'rate_per_side'"),
    "--set: integer key": ("venues.exchange.listings={1: {}}", "key '1' is not text"),
    "--set: date past the calendar": ("calendar.start_date=9999-12-31", "outside the calendar's range"),
    "--set: February 30": ("calendar.start_date=2026-02-30", "is not a day on the calendar.*YYYY-MM-DD"),
    "--set: number for a date": ("calendar.start_date=0", "expected a date"),
}


@pytest.mark.parametrize("case", OVERRIDES)
def test_hostile_override_gives_a_clear_error(case, capsys):
    text, words = OVERRIDES[case]
    with pytest.raises(ScenarioError, match=words):
        load_scenario(SCENARIOS / "baseline.yaml", [text])
    assert main(["validate", str(SCENARIOS / "baseline.yaml"), "--set", text]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_settings_under_which_trades_can_never_settle_exit_2_naming_the_venue(capsys):
    """Fails certain at T+1 (0.5 x (1/2)^-5, capped at 1) and no buy-ins: the run would never end."""
    settings_ = ("horizon_days=2", "venues.exchange.fail_probability_at_t2=0.5", "settlement.fail_cycle_elasticity=-5",
                 "venues.exchange.settlement_cycle_days=1", "settlement.buy_in_after_fails=null")
    arguments = ["validate", str(SCENARIOS / "baseline.yaml")] + [part for text in settings_ for part in ("--set", text)]
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "venues.exchange: trades can never settle: fail probability 1 at T+1 and buy-ins off" in err


CHILD = """
import sys
from sim.cli import main
sys.exit(max(main(["run", path, "--out", sys.argv[1]]) for path in sys.argv[2:]))
"""


def test_hostile_files_through_a_real_process_exit_2_without_traceback(tmp_path):
    """The worst cases in a fresh interpreter, where a RecursionError or MemoryError would show."""
    cases = ("alias bomb (billion laughs)", "deep nesting, lists", "huge integer", "a FIFO passed as a file")
    paths = [str(HOSTILE[case][0](tmp_path / case.replace(" ", "_"))) for case in cases]
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "out"), *paths],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("error: ") == len(cases) == done.stderr.count("\n"), done.stderr
    assert not (tmp_path / "out").exists()


def test_limits_leave_room_for_real_scenarios():
    """Aliases and merge keys within the budget still work, and limits are far above what ships."""
    text = "a: &venue {kind: exchange}\nb:\n  <<: *venue\n  form: tokenized\nc: [*venue, *venue]\n"
    assert yaml.safe_load(text) == _strict(text)
    assert MAX_NODES >= 100 * 312 and MAX_DEPTH >= 4 * 8  # baseline.yaml: 312 values, 8 levels deep at most


def test_extends_within_and_one_folder_up_is_allowed(tmp_path):
    root = tmp_path / "scenarios"
    (root / "variants").mkdir(parents=True)
    (root / "common").mkdir()
    (root / "common" / "base.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())
    (root / "variants" / "v.yaml").write_text("extends: ../common/base.yaml\nseed: 5\n")
    assert load_scenario(root / "variants" / "v.yaml").seed == 5


def _strict(text: str) -> Any:
    from sim.scenario.strict_yaml import load_strict

    return load_strict(text)


def tally() -> list[tuple[str, int, Counter]]:
    """Run every class of bad input and count how each case ended (for the reliability note)."""
    rows = []
    examples = 300
    for label, strategy in (("random YAML documents", values), ("mutated shipped scenarios", mutated_scenarios()),
                            ("random bytes and text", st.binary(max_size=200) | st.text(max_size=200).map(str.encode))):
        counts: Counter = Counter()

        @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(strategy)
        def count(item: Any) -> None:
            with tempfile.TemporaryDirectory() as folder:
                if isinstance(item, bytes):
                    path = Path(folder) / "raw.yaml"
                    path.write_bytes(item)
                else:
                    path = write_yaml(Path(folder), item)
                counts[_end(path)] += 1

        count()
        rows.append((label, sum(counts.values()), counts))
    for case, (build, _) in HOSTILE.items():
        with tempfile.TemporaryDirectory() as folder:
            rows.append((case, 1, Counter([_end(build(Path(folder)))])))
    for case, (text, _) in OVERRIDES.items():
        try:
            load_scenario(SCENARIOS / "baseline.yaml", [text])
            ended = "loaded"
        except ScenarioError:
            ended = "clear error"
        except Exception as error:  # noqa: BLE001 - counted, to show there were none
            ended = f"traceback ({type(error).__name__})"
        rows.append((case, 1, Counter([ended])))
    return rows


def _end(path: Path) -> str:
    try:
        return outcome(path)
    except Exception as error:  # noqa: BLE001 - counted, to show there were none
        return f"traceback ({type(error).__name__})"


if __name__ == "__main__":
    print("| class of bad input | cases | result |\n|---|---:|---|")
    total: Counter = Counter()
    for label, cases, counts in tally():
        total.update(counts)
        print(f"| {label} | {cases} | {', '.join(f'{n} {kind}' for kind, n in sorted(counts.items()))} |")
    print(f"| **total** | {sum(total.values())} | {', '.join(f'{n} {kind}' for kind, n in sorted(total.items()))} |")
