"""Outputs under contention and OS faults: two runs writing the same folder at once never lose
one's results silently; a full disk, a read-only or unusable `--out` give one paragraph naming
the path (status 2 for the place, 1 for a fault) and leave nothing half-written; text from
scenario files reaches matplotlib as plain text in every figure module."""

from __future__ import annotations

import ast
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SCENARIOS
from sim import cli
from sim.cli import main
from sim.figures import plt
from sim.outputs import OutputError, write_folder, write_run

TINY = ["horizon_days=3", "investors.retail.accounts=200", "investors.institutional.accounts=20"]
SETS = [arg for item in TINY for arg in ("--set", item)]
BASELINE = str(SCENARIOS / "baseline.yaml")
FULL = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def seed_in(folder: Path) -> int:
    return json.loads((folder / "manifest.json").read_text())["seed"]


def hidden(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


# Two writers of the same folder.

def test_two_runs_started_together_into_the_same_folder_lose_nothing_silently(tmp_path):
    """Both see an empty folder when they start; the one that finishes second is refused."""
    command = [sys.executable, "-m", "sim.cli", "run", BASELINE, "--out", str(tmp_path), "--set", "horizon_days=3"]
    processes = {seed: subprocess.Popen([*command, "--seed", str(seed)], cwd=ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True) for seed in (1, 2)}
    done = {seed: (p.wait(timeout=300), *p.communicate()) for seed, p in processes.items()}
    assert sorted(status for status, _, _ in done.values()) == [0, 2], done
    winner = next(seed for seed, (status, _, _) in done.items() if status == 0)
    loser_error = next(err for status, _, err in done.values() if status == 2)
    assert loser_error.startswith("error: ") and loser_error.count("\n") == 1 and "Traceback" not in loser_error
    assert str(tmp_path / "baseline") in loser_error and "--overwrite" in loser_error
    assert f"-> {tmp_path / 'baseline'}" in done[winner][1]
    assert seed_in(tmp_path / "baseline") == winner  # what the successful run reported is what is there
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline"]


def test_a_run_written_by_another_process_meanwhile_is_kept_unless_overwrite(tmp_path, monkeypatch, capsys):
    """The folder was empty when this run started; another run of seed 4 lands there before it ends."""
    real = cli.run_checked

    def another_finishes_first(scenario, seed, quiet=False):
        write_run(real(scenario, 4), tmp_path, [BASELINE], TINY)
        return real(scenario, seed, quiet)

    monkeypatch.setattr(cli, "run_checked", another_finishes_first)
    assert main(["run", BASELINE, "--out", str(tmp_path), "--seed", "3", *SETS]) == 2
    error = capsys.readouterr().err
    assert f"{tmp_path / 'baseline'} was written by another tokensim run while this one ran (another seed (4))" in error
    assert "pass --overwrite" in error and error.count("\n") == 1
    assert seed_in(tmp_path / "baseline") == 4 and hidden(tmp_path) == []

    assert main(["run", BASELINE, "--out", str(tmp_path), "--seed", "3", "--overwrite", *SETS]) == 0
    assert seed_in(tmp_path / "baseline") == 3 and hidden(tmp_path) == []


def test_the_same_run_finished_elsewhere_meanwhile_is_kept_as_it_is(tmp_path, monkeypatch, capsys):
    real = cli.run_checked
    stamps = {}

    def same_run_finishes_first(scenario, seed, quiet=False):
        folder = write_run(real(scenario, seed), tmp_path, [BASELINE], TINY)
        stamps.update({p: p.stat().st_mtime_ns for p in folder.rglob("*")})
        return real(scenario, seed, quiet)

    monkeypatch.setattr(cli, "run_checked", same_run_finishes_first)
    assert main(["run", BASELINE, "--out", str(tmp_path), *SETS]) == 0
    assert f"-> {tmp_path / 'baseline'}" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "baseline").rglob("*")} == stamps
    assert hidden(tmp_path) == []


# OS faults and unusable places.

def test_a_full_disk_while_writing_a_run_is_one_paragraph_and_leaves_the_earlier_run(tmp_path, monkeypatch, capsys):
    assert main(["run", BASELINE, "--out", str(tmp_path), "--seed", "1", *SETS]) == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "baseline").iterdir() if p.is_file()}
    capsys.readouterr()

    def disk_full(result, folder):
        folder.mkdir()
        (folder / "turnover.png").write_bytes(b"\x89PNG half")
        raise FULL

    monkeypatch.setattr("sim.outputs.save_run_figures", disk_full)
    assert main(["run", BASELINE, "--out", str(tmp_path), "--seed", "2", "--overwrite", *SETS]) == 1
    error = capsys.readouterr().err
    assert error == f"error: could not write {tmp_path / 'baseline'}: No space left on device; nothing of it was kept\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline"]  # no temporary folder
    assert {p.name: p.read_bytes() for p in (tmp_path / "baseline").iterdir() if p.is_file()} == before


def test_a_full_disk_on_a_first_run_leaves_no_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sim.outputs.kpi_frame", lambda result: (_ for _ in ()).throw(FULL))
    assert main(["run", BASELINE, "--out", str(tmp_path), *SETS]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody may write to: by its mode, or (as root, whom modes do not stop) a read-only mount."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("no read-only folder here: running as root and mount is refused")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_out_is_refused_before_anything_runs(read_only_folder, monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_checked", lambda *args, **kwargs: pytest.fail("ran although --out is read-only"))
    assert main(["run", BASELINE, "--out", str(read_only_folder / "out"), *SETS]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {read_only_folder / 'out'}: --out is ") and error.count("\n") == 1
    assert f"read-only file system ({read_only_folder})" in error or f"permission denied on {read_only_folder}" in error
    assert list(read_only_folder.iterdir()) == []


def test_an_out_below_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("keep me")
    assert main(["run", BASELINE, "--out", str(tmp_path / "file" / "out"), *SETS]) == 2
    assert f"--out cannot be created: {tmp_path / 'file'} is a file" in capsys.readouterr().err
    assert (tmp_path / "file").read_text() == "keep me"


@pytest.mark.parametrize("command", [["validate-model", "--quick"], ["calibrate", "--quick"]])
def test_validation_commands_refuse_an_out_that_is_a_file_before_running(tmp_path, capsys, command):
    (tmp_path / "file").write_text("keep me")
    assert main([*command, "--out", str(tmp_path / "file")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'file'}: --out is a file, not a folder.\n"
    assert (tmp_path / "file").read_text() == "keep me"


def test_a_file_where_a_folder_is_written_is_left_alone(tmp_path):
    (tmp_path / "figures").write_text("keep me")
    with pytest.raises(OutputError, match="is a file or a link, not a folder; it was left alone") as refused:
        write_folder(tmp_path / "figures", lambda partial: (partial / "a.png").write_bytes(b"png"))
    assert refused.value.status == 2
    assert (tmp_path / "figures").read_text() == "keep me" and hidden(tmp_path) == []


def test_os_errors_while_writing_say_whether_the_place_or_the_machine_failed(tmp_path):
    place = OutputError.writing(tmp_path / "x", PermissionError(errno.EACCES, "Permission denied", str(tmp_path)))
    fault = OutputError.writing(tmp_path / "x", FULL)
    assert (place.status, fault.status) == (2, 1)
    assert str(place) == f"could not write {tmp_path / 'x'}: Permission denied ({tmp_path}); nothing of it was kept"


# Text from scenario files is plain text to matplotlib.

def test_every_figure_module_takes_the_house_style_that_turns_math_parsing_off():
    """Every module that draws imports `sim.figures`, which sets text.parse_math off."""
    for path in (ROOT / "sim").rglob("*.py"):
        imported = {alias.name if isinstance(node, ast.Import) else node.module
                    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                    if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in getattr(node, "names", [])}
        draws = any(name and name.startswith("matplotlib") for name in imported)
        if draws and path != ROOT / "sim" / "figures.py":
            assert "sim.figures" in imported, f"{path.relative_to(ROOT)} draws without the house style"


def test_math_markup_in_figure_text_is_drawn_as_it_is(tmp_path):
    fig, ax = plt.subplots()
    ax.set_title(r"HK $\frac$ tracker")
    ax.plot([0, 1], label=r"a $\frac{1}{0 and $ unbalanced")
    ax.legend()
    fig.text(0.1, 0.1, r"$\undefinedcommand$")
    fig.savefig(tmp_path / "figure.png")
    fig.savefig(tmp_path / "figure.pdf")
    plt.close(fig)
    assert (tmp_path / "figure.png").stat().st_size > 1000
