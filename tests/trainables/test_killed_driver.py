"""SIGKILL of a search's driver: what it leaves is found by its Ray session, another search in
the same storage runs on normally beside it, and the documented clean-up stops only the killed
session's processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trainables import sessions

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _search(storage: Path, name: str, steps: int) -> subprocess.Popen:
    argv = [sys.executable, "run_search.py", "search", "--domain", "digits", "--objective", "emix", "--smoke-test",
            "--no-baseline", "--num-samples", "2", "--max-concurrent", "1", "--set", f"max_steps={steps}",
            "--set", "eval_every=2", "--storage-path", str(storage), "--name", name, "--num-cpus", "1"]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


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
    return subprocess.run([sys.executable, "-m", "trainables.sessions", "stop", str(storage / name)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_killed_search_is_cleaned_up_by_session_only(tmp_path):
    killed = _search(tmp_path, "killed", steps=1000)
    fresh = None
    try:
        _wait_for_step(killed)
        fresh = _search(tmp_path, "fresh", steps=20)  # same storage, its own private Ray
        _wait_for_step(fresh)
        assert "still running" in _stop(tmp_path, "killed").stderr  # a live search is never stopped
        fresh_core = {p for p in sessions.session_pids(_session(tmp_path, "fresh"))
                      if Path(f"/proc/{p}/exe").resolve().name in ("gcs_server", "raylet")}
        assert len(fresh_core) == 2, fresh_core

        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
        left = sessions.session_pids(_session(tmp_path, "killed"))
        assert left, "nothing outlived the killed driver"
        stop = _stop(tmp_path, "killed")
        assert stop.returncode == 0, stop.stderr
        assert f"Ray session {_session(tmp_path, 'killed')}" in stop.stdout, stop.stdout
        assert not [p for p in left if sessions._alive(p)]
        assert all(sessions._alive(p) for p in fresh_core), "the clean-up touched another session"
        out, _ = fresh.communicate(timeout=900)
        assert fresh.returncode == 0 and "search finished" in out, out[-3000:]
        assert "no process of Ray session" in _stop(tmp_path, "killed").stdout
    finally:
        for proc, name in ((killed, "killed"), (fresh, "fresh")):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            if (tmp_path / name / sessions.RECORD).exists():
                sessions.stop_session(_session(tmp_path, name))  # whatever happened, leave nothing behind
