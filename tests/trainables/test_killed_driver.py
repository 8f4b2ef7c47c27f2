"""SIGKILL of a search's driver: what it leaves is found by its Ray session, another search in
the same storage runs on normally beside it, and the documented clean-up stops only the killed
session's processes."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dabs_lib.config import SMOKE_MAX_STEPS, SMOKE_MODEL
from trainables import sessions

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _search(storage: Path, name: str, steps: int) -> subprocess.Popen:
    argv = [
        sys.executable,
        "run_search.py",
        "search",
        "--domain",
        "digits",
        "--objective",
        "emix",
        *_size(steps),
        "--no-baseline",
        "--num-samples",
        "2",
        "--max-concurrent",
        "1",
        "--set",
        "eval_every=2",
        "--storage-path",
        str(storage),
        "--name",
        name,
        "--num-cpus",
        "1",
    ]
    return subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def _size(steps: int) -> list[str]:
    """--smoke-test caps the steps (and refuses a --set above its cap): a long search sets the tiny
    model itself."""
    if steps <= SMOKE_MAX_STEPS:
        return ["--smoke-test"]
    model = [f"{k}={v}" for k, v in dataclasses.asdict(SMOKE_MODEL).items()]
    return [arg for pair in [*model, f"max_steps={steps}"] for arg in ("--set", pair)]


def _wait_for_step(proc: subprocess.Popen) -> None:
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if " step " in line:
            return
    pytest.fail("the search ended before its first report:\n" + "".join(lines))


def _session(storage: Path, name: str) -> str:
    return sessions.read_record(str(storage / name))["session"]


def _stop(storage: Path, name: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trainables.sessions", "stop", str(storage / name)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _core(session: str) -> set[int]:
    return {
        p for p in sessions.session_pids(session) if Path(f"/proc/{p}/exe").resolve().name in ("gcs_server", "raylet")
    }


def test_killed_search_is_cleaned_up_by_session_only(tmp_path):
    from trainables.cluster import ray_session

    killed = _search(tmp_path, "killed", steps=1000)
    try:
        _wait_for_step(killed)
        refused = _stop(tmp_path, "killed")
        assert refused.returncode == 2 and "still running" in refused.stderr, refused  # a live search is kept
        with ray_session(num_cpus=1, record_in=str(tmp_path)):  # another private Ray, of this process
            other = _core(sessions.read_record(str(tmp_path))["session"])
            assert len(other) == 2, other
            os.kill(killed.pid, signal.SIGKILL)
            killed.wait()
            left = sessions.session_pids(_session(tmp_path, "killed"))  # Ray's reaper may not have run yet
            stop = _stop(tmp_path, "killed")
            assert stop.returncode == 0 and f"Ray session {_session(tmp_path, 'killed')}" in stop.stdout, stop
            assert not [p for p in left if sessions._alive(p)], "the clean-up left a process of its session"
            assert all(sessions._alive(p) for p in other), "the clean-up touched another session"
        assert not sessions.session_pids(_session(tmp_path, "killed"))
    finally:
        if killed.poll() is None:
            os.killpg(killed.pid, signal.SIGKILL)
        sessions.stop_session(_session(tmp_path, "killed"))  # whatever happened, leave nothing behind
    fresh = _search(tmp_path, "fresh", steps=4)  # the same storage, after the kill
    out, _ = fresh.communicate(timeout=900)
    assert fresh.returncode == 0 and "search finished" in out, out[-3000:]
