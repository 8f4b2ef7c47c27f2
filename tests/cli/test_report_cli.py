"""`run_search.py analyze` / `export`: one-line errors with exit 2, and real reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import run_search
from cli.parser import build_parser
from dabs_lib.experiment import Manifest
from tests.analysis.fake import fake_experiment

REPO = Path(__file__).resolve().parents[2]


def test_export_of_a_path_that_is_not_an_experiment_exits_2_with_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, str(REPO / "run_search.py"), "export", "/nonexistent"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == ["run_search.py: error: /nonexistent is not a dabs-tune experiment (no search.json)"]
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("command", ["export", "analyze"])
def test_bad_experiments_are_one_line_errors(tmp_path, capsys, command):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "search.json").write_text(json.dumps(Manifest("search", {}, ()).to_dict()))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "search.json").write_text("{")
    expected = {"empty": "holds no trial results yet", "broken": "search.json is corrupt"}
    for name, message in expected.items():
        assert run_search.main([command, str(tmp_path / name), "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out").exists()


def test_negative_seeds_is_a_one_line_error(tmp_path, capsys):
    exp = fake_experiment(tmp_path)
    assert run_search.main(["analyze", str(exp), "--seeds", "-2"]) == 2
    assert capsys.readouterr().err.strip() == "run_search.py: error: --seeds must be >= 0, but got -2"


def test_flags_and_examples():
    parser = build_parser()
    args = parser.parse_args(["analyze", "a", "b", "--which", "best-ever", "--seeds", "3", "--risk", "--out", "r"])
    assert (args.experiment, args.which, args.seeds, args.risk, args.invariance, args.out) == (
        ["a", "b"],
        "best-ever",
        3,
        True,
        False,
        "r",
    )
    args = parser.parse_args(["export", "a", "--smoke-test"])
    assert args.which == "last" and args.smoke_test
    for command in ("analyze", "export"):
        help_text = parser._subparsers._group_actions[0].choices[command].format_help()
        assert "examples:" in help_text and f"run_search.py {command} runs/" in help_text


def test_analyze_and_export_of_a_fake_experiment_with_every_status(tmp_path, capsys):
    exp = fake_experiment(tmp_path)
    assert run_search.main(["analyze", str(exp), "--out", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    assert "errored: digits_emix_003: RuntimeError: out of memory" in out
    assert f"report: {tmp_path / 'report' / 'README.md'}" in out
    readme = (tmp_path / "report" / "README.md").read_text()
    assert "2 completed, 1 pruned" in readme and "1 errored" in readme
    assert run_search.main(["export", str(exp), "--out", str(tmp_path / "export"), "--which", "best-ever"]) == 0
    written = {p.relative_to(tmp_path / "export").as_posix() for p in (tmp_path / "export").rglob("*") if p.is_file()}
    assert {
        "tables/best_configs.md",
        "tables/transfer.csv",
        "tables/results.csv",
        "configs/digits-emix.yaml",
    } <= written
    assert not any(p.startswith("plots/") for p in written) and "README.md" not in written  # export stays fast
    config = (tmp_path / "export" / "configs" / "digits-emix.yaml").read_text()
    assert "best trial digits_emix_001" in config and "which=best-ever" in config


@pytest.mark.slow
def test_analyze_a_real_search_from_the_command_line(tmp_path, capsys):
    from tests.analysis.search_fixture import tiny_experiment

    experiment = tiny_experiment()
    assert run_search.main(["analyze", str(experiment), "--out", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    assert f"report: {tmp_path / 'report' / 'README.md'}" in out
    assert "digits: emix" in out and "6 searched trials" in out
    for name in ("README.md", "tables/transfer.tex", "plots/gain.png", "configs/tabular-emix.yaml"):
        assert (tmp_path / "report" / name).is_file(), name


@pytest.mark.slow
def test_quickstart_ends_with_a_report_of_its_own_search(tmp_path, monkeypatch):
    from cli.report_cmd import report_after_search
    from tests.analysis.search_fixture import tiny_experiment

    monkeypatch.chdir(tmp_path)
    text = report_after_search(str(tiny_experiment()))
    assert text.splitlines()[-1] == "report: reports/exp/README.md"
    assert "| n_seeds |" in text and "vs default" in text  # the final table says how many seeds stand behind it
    assert (tmp_path / "reports" / "exp" / "README.md").is_file()
    assert not (tmp_path / "reports" / "exp" / "seeds").exists()  # no re-runs by default
