"""Bad input: one line on stderr, exit status 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import run_search

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = run_search.main(argv)
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    return code, capsys.readouterr().err


BAD = {
    "unknown domain": (["search", "--domain", "mnist"], "unknown domain 'mnist'"),
    "unknown objective": (["search", "--objective", "simclr"], "unknown objective 'simclr'"),
    "bad num samples": (["search", "--num-samples", "0"], "--num-samples must be >= 1, but got 0"),
    "not a number": (["search", "--num-samples", "many"], "invalid int value: 'many'"),
    "unknown flag": (["search", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    "pbt refused": (["search", "--scheduler", "pbt"], "refuses any search algorithm"),
    "unknown sampler": (["search", "--sampler", "annealing"], "unknown sampler 'annealing'"),
    "bad set": (["search", "--set", "lr"], "--set takes key=value, but got 'lr'"),
    "unknown set key": (["search", "--set", "lrr=0.1"], "did you mean 'lr'?"),
    "resume non-experiment": (["resume", "/nonexistent/exp"], "is not a dabs-tune experiment"),
    "tensorboard non-experiment": (["tensorboard", "/nonexistent/exp"], "is not a dabs-tune experiment"),
    "pretrain unknown key": (["pretrain", "--domain", "digits", "--set", "depthh=2"], "unknown key 'depthh'"),
    "pretrain missing config": (["pretrain", "--config", "/nonexistent.yaml"], "does not exist"),
    "probe missing checkpoint": (["probe", "/nonexistent/encoder.pt"], "does not exist"),
    "shared one domain": (
        ["search", "--shared-config", "--domain", "digits"],
        "--shared-config needs at least 2 domains",
    ),
    "shared hyperband": (
        ["search", "--shared-config", "--domain", "digits,tabular", "--scheduler", "hyperband"],
        "--shared-config stops early on the aggregate with asha",
    ),
    "shared two objectives scores": (
        ["search", "--shared-config", "--domain", "digits,tabular", "--multi-objective", "seconds"],
        "--shared-config scores one aggregate",
    ),
    "warm start no experiment": (
        ["search", "--warm-start", "/nonexistent/exp"],
        "--warm-start must name finished dabs-tune experiments",
    ),
    "prune warm without warm start": (
        ["search", "--prune-warm-start"],
        "--prune-warm-start needs --warm-start EXPERIMENT..., but no --warm-start was given",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_exit_2(case, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv, expected = BAD[case]
    code, err = _run(argv, capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert expected in lines[0]
    assert not any(tmp_path.iterdir()), "nothing may be written for bad input"


def test_malformed_space_file_names_the_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("search:\n  lr: {type: loguniform, low: 0.1, high: 0.01, doc: x}\n")
    code, err = _run(["search", "--space", str(bad)], capsys)
    assert code == 2
    assert "`low <= high` must hold, but got low=0.1, high=0.01" in err and "bad.yaml" in err
    assert len(err.strip().splitlines()) == 1


def test_real_process_exit_status(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "run_search.py"), "search", "--domain", "nope"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "unknown domain 'nope'" in done.stderr
