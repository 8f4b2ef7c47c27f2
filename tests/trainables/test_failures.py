"""Errored trials: retried in-run, then closed FAIL with their error line; a search whose every
trial errored says so (exit status, manifest, journal, analysis) instead of claiming success."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from analysis.report import load_report
from dabs_lib.experiment import ERROR_ATTR, ExperimentError, load_study, read_manifest
from tests.trainables.helpers import tiny_request, trial_results

ROOT = Path(__file__).resolve().parents[2]
CAUSE = "`batch_size` must be 0 (the domain's) or >= 2"  # dabs_lib.settings_rules, checked in the trial too


@pytest.fixture(scope="module")
def failed_search(tmp_path_factory):
    from cli.search_cmd import run_and_report

    root = tmp_path_factory.mktemp("failed")
    # Valid for the search space, refused by e-Mix inside the trial worker (it contrasts within a batch).
    request = tiny_request(
        root,
        num_samples=2,
        max_failures=1,
        max_concurrent=2,
        overrides={"max_steps": 2, "eval_every": 1, "batch_size": 1},
    )
    with _console_of_this_process(FAILED_CONSOLE):
        uri, status = run_and_report(request, "", 2)
    return root / "exp", status


FAILED_CONSOLE: list[str] = []  # what the failing search printed on the terminal (file descriptors 1 and 2)


@contextlib.contextmanager
def _console_of_this_process(into: list[str]):
    """Everything written to fd 1 and 2, appended to `into` (Ray's log handlers hold the original
    streams, so redirecting sys.stdout would miss them)."""
    with tempfile.TemporaryFile(mode="w+") as out:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:  # pytest swaps sys.stdout for its own object: our prints are captured at that level too
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            out.flush()
            out.seek(0)
            into.append(out.read())


@pytest.mark.slow
def test_every_trial_errored_means_a_failed_search(failed_search, capsys):
    exp, status = failed_search
    assert status == 1  # the CLI exits non-zero
    manifest = read_manifest(exp)
    assert manifest.status == "failed" and [s.status for s in manifest.studies] == ["failed"]
    assert len(manifest.errors) == 2 and all(CAUSE in line for line in manifest.errors)
    assert [e.split(":")[0] for e in manifest.errors] == ["digits_emix_000", "digits_emix_001"]


@pytest.mark.slow
def test_a_trial_error_is_one_line_and_ray_says_nothing_on_the_console(failed_search):
    console = FAILED_CONSOLE[0]
    errored = [line for line in console.splitlines() if "ERRORED:" in line]
    assert errored, console
    assert all(CAUSE in line and "(traceback: " in line for line in errored), console
    tracebacks = [Path(line.rsplit("(traceback: ", 1)[1].rstrip(")")) for line in errored]
    assert all(p.name == "error.txt" and p.is_relative_to(failed_search[0]) for p in tracebacks), console
    assert all(p.is_file() for p in tracebacks), tracebacks  # kept with the experiment, not in Ray's session
    for noise in (
        "Trial task failed for trial",
        "Traceback (most recent call last)",
        "Resume experiment with",
        "Tuner.restore",
        "Failed to fetch metrics",
    ):
        assert noise not in console, (noise, console)
    assert (failed_search[0] / "ray_driver.log").read_text().count("Trial task failed") >= 1  # kept, in a file


@pytest.mark.slow
def test_errored_trials_were_retried_then_closed_fail_with_their_error_line(failed_search):
    exp, _ = failed_search
    trials = load_study(exp, "digits", "emix").trials
    assert [t.state.name for t in trials] == ["FAIL", "FAIL"]
    assert all(CAUSE in t.user_attrs[ERROR_ATTR] for t in trials)
    for name in trial_results(exp, "digits", "emix"):
        assert "Failure # 2" in (exp / name / "error.txt").read_text()  # --max-failures 1: one retry


@pytest.mark.slow
def test_analysis_says_what_happened(failed_search):
    exp, _ = failed_search
    with pytest.raises(ExperimentError, match=f"no trial reported transfer/val .*{re.escape(CAUSE)}"):
        load_report([exp])
    done = subprocess.run(
        [sys.executable, str(ROOT / "run_search.py"), "export", str(exp), "--out", str(exp.parent / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and CAUSE in done.stderr and "KeyError" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["a/../../escape", "../up", "x/y"])
def test_a_name_that_escapes_the_storage_path_is_refused_before_ray(tmp_path, name):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "run_search.py"),
            "search",
            "--name",
            name,
            "--storage-path",
            str(tmp_path / "runs"),
            "--smoke-test",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"run_search.py: error: --name must be one folder name (no '/', '\\\\', '..' or leading '.'), but got {name!r}"
    ]
    assert not (tmp_path / "runs").exists() and not list(tmp_path.parent.glob("escape"))
