"""An interrupted search resumes to completion: every trial finished exactly once.

A report made after a trial's last persisted checkpoint is lost with the interruption and
re-run on resume; `live_timeline` drops the lost copy, which is what analysis reads.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.results import live_timeline
from tests.trainables.helpers import study_states, trial_results

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
NUM_SAMPLES = 4


def _search_command(storage: Path) -> list[str]:
    return [sys.executable, str(ROOT / "run_search.py"), "search", "--domain", "digits", "--objective", "shed",
            "--num-samples", str(NUM_SAMPLES), "--max-concurrent", "2", "--set", "max_steps=4",
            "--set", "eval_every=1", "--scheduler", "fifo", "--no-baseline", "--smoke-test",
            "--storage-path", str(storage), "--name", "exp", "--num-cpus", "2"]


def _wait_for_first_result(study_dir: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        if any(rows for rows in _safe_results(study_dir).values()):
            return
        time.sleep(0.5)
    raise AssertionError("no trial reported in time")


def _safe_results(study_dir: Path) -> dict:
    try:
        return trial_results(study_dir) if study_dir.is_dir() else {}
    except (json.JSONDecodeError, FileNotFoundError):
        return {}


@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_interrupted_search_resumes_with_every_trial_finished_once(tmp_path, how):
    process = subprocess.Popen(_search_command(tmp_path), cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    study_dir = tmp_path / "exp" / "digits-shed"
    try:
        _wait_for_first_result(study_dir, process)
        if how == "sigint":
            process.send_signal(signal.SIGINT)
            process.wait(timeout=180)
        else:
            process.kill()
            process.wait(timeout=60)
    finally:
        try:  # our own session only: the private Ray it started, nothing else
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    manifest = json.loads((tmp_path / "exp" / "search.json").read_text())
    assert manifest["studies"][0]["status"] == "running"

    resumed = subprocess.run([sys.executable, str(ROOT / "run_search.py"), "resume", str(tmp_path / "exp"),
                              "--num-cpus", "2"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]

    results = trial_results(study_dir)
    assert len(results) == NUM_SAMPLES
    for name, raw in results.items():
        rows = live_timeline(raw)
        iterations = [r["training_iteration"] for r in rows]
        assert iterations == list(range(1, len(rows) + 1)), (name, iterations)  # no gap
        assert rows[-1].get("final") and not any(r.get("final") for r in rows[:-1]), name
        assert rows[-1]["step"] == 4, (name, rows[-1])
        assert sum(bool(r.get("final")) for r in raw) == 1, name  # a finished trial is never run again
    states = study_states(study_dir)
    assert sorted(states.values()) == ["COMPLETE"] * NUM_SAMPLES, states
    manifest = json.loads((tmp_path / "exp" / "search.json").read_text())
    assert manifest["studies"][0]["status"] == "finished"
