"""`status EXPERIMENT`: read from the manifest and the journal, in another process, running or ended."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dabs_lib.status import read_status, status_lines
from tests.analysis.fake import fake_experiment

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "run_search.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def _row(text: str, study: str) -> list[str]:
    return next(line.split() for line in text.splitlines() if line.startswith(study + " "))


def test_a_running_experiment_counts_every_state_and_has_an_eta(tmp_path):
    exp = fake_experiment(tmp_path, study_status="running")  # a RUNNING trial with Ray's error.txt, one without
    status = read_status(exp)
    emix = next(s for s in status.studies if s.name == "digits-emix")
    assert emix.counts == {"finished": 2, "running": 1, "pruned": 0, "errored": 1} and emix.planned == 4
    assert emix.best == 0.7 and status.status == "running" and status.eta() is not None
    done = _run("status", str(exp))  # another process, as a user's second terminal
    assert done.returncode == 0, done.stderr
    assert _row(done.stdout, "digits-emix")[1:7] == ["2", "1", "0", "1", "4", "0.7000"]
    assert f"storage: {exp / 'optuna.journal'} (Optuna JournalStorage" in done.stdout
    assert "overall: 3 finished, 1 running, 0 pruned, 1 errored of 5 trials" in done.stdout


def test_an_ended_experiment_has_no_eta_and_watch_returns(tmp_path):
    exp = fake_experiment(tmp_path, study_status="finished")
    lines = status_lines(read_status(exp))
    assert _row("\n".join(lines), "digits-emix")[1:] == ["2", "0", "1", "1", "4", "0.7000", "-"]
    done = _run("status", str(exp), "--watch", "--interval", "0.1")  # not running: prints once, exits
    assert done.returncode == 0 and done.stdout.count("overall:") == 1, done.stdout


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    done = _run("status", str(tmp_path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "search.json" in done.stderr, done.stderr
    exp = fake_experiment(tmp_path / "x")
    done = _run("status", str(exp), "--interval", "0")
    assert done.returncode == 2 and "--interval must be a positive number of seconds, but got 0" in done.stderr
