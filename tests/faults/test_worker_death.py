"""Dead processes under a running search: a trial's Ray worker SIGKILLed mid-trial is retried
from its last checkpoint (--max-failures, default 1), recorded once in its study, and counted
as a retry by the analysis; a trial checkpoint found corrupt when `resume` restores a trial is
never used: the trial errors with one line naming the file.

The worker is found by the pid Tune writes into every result (Ray's worker process of the
trial), and checked to belong to the search's own session before it is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import run_search
from analysis.results import _read_jsonl, live_timeline, load_experiment
from dabs_lib.experiment import ERROR_ATTR, TRAINER_CKPT, load_study, read_manifest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN, OBJECTIVE = "digits", "shed"


def _search(storage: Path, samples: int) -> subprocess.Popen:
    """A tiny search, one trial at a time, each trial reporting (and checkpointing) at steps 1 to 4."""
    argv = [
        sys.executable,
        str(ROOT / "run_search.py"),
        "search",
        "--domain",
        DOMAIN,
        "--objective",
        OBJECTIVE,
        "--num-samples",
        str(samples),
        "--max-concurrent",
        "1",
        "--set",
        "max_steps=4",
        "--set",
        "eval_every=1",
        "--scheduler",
        "fifo",
        "--no-baseline",
        "--smoke-test",
        "--storage-path",
        str(storage),
        "--name",
        "exp",
        "--num-cpus",
        "1",
    ]
    return subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def _rows(trial: Path) -> list[dict]:
    rows, problem = _read_jsonl(trial / "result.json")
    assert not problem, problem
    return rows


def _reap(process: subprocess.Popen, timeout: float = 600) -> str:
    """Wait for the driver, then SIGKILL what is left of its session (the private Ray it started)."""
    try:
        out, _ = process.communicate(timeout=timeout)
    finally:
        _end_session(process)
    return out


def _end_session(process: subprocess.Popen) -> None:
    try:  # our own session only
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_for_report(process: subprocess.Popen, trial: str, count: int = 1) -> str:
    """The driver's progress lines, up to the `count`th report of `trial` (printed as it arrives;
    result.json is written in bursts, so it cannot tell whether a trial is still running)."""
    seen = []
    for line in process.stdout:
        seen.append(line)
        count -= trial in line and " step " in line
        if count == 0:
            return "".join(seen)
    raise AssertionError("the search ended before the trial reported:\n" + "".join(seen)[-3000:])


def _trial_worker(session: int) -> int:
    """The Ray worker running the (one) trial, among this search's own processes."""
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and os.getsid(int(entry.name)) == session
                and (entry / "cmdline").read_bytes().startswith(b"ray::ImplicitFunc")
            ):
                return int(entry.name)
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
    raise AssertionError("no trial worker in the search's session")


@pytest.mark.slow
def test_dead_worker_is_retried_from_its_checkpoint_and_counted(tmp_path, capsys):
    process = _search(tmp_path, samples=2)
    experiment = tmp_path / "exp"
    trial = experiment / f"{DOMAIN}_{OBJECTIVE}_000"
    try:
        # Tune registers a report's checkpoint after printing it, and runs the trial on only then:
        # at the 2nd report the 1st checkpoint is the trial's.
        _wait_for_report(process, trial.name, 2)
        worker = _trial_worker(process.pid)
        os.kill(worker, signal.SIGKILL)
        out = _reap(process)
    finally:
        _end_session(process)
    assert process.returncode == 0, out[-3000:]

    error = (trial / "error.txt").read_text()
    assert "Failure # 1" in error and "Failure # 2" not in error, error[-2000:]
    assert f"pid: {worker}" in error, "the killed process ran the trial"  # Ray names the dead actor's pid
    raw = _rows(trial)
    retried = [r for r in raw if r["pid"] != worker]
    assert retried[0]["training_iteration"] >= 2, raw  # went on from its checkpoint, not from step 0
    # When Tune restores the trial it reloads result.json from the storage copy, which may predate
    # the dead run's reports: those rows can be gone, and the timeline then starts at the retry.
    first = 1 if any(r["pid"] == worker for r in raw) else retried[0]["step"]
    rows = live_timeline(raw)
    assert [r["step"] for r in rows] == list(range(first, 5)) and rows[-1]["final"], rows
    states = {t.number: t.state.name for t in load_study(experiment, DOMAIN, OBJECTIVE).trials}
    assert states == {0: "COMPLETE", 1: "COMPLETE"}, states  # recorded once, as what it ended as
    assert read_manifest(experiment).status == "finished" and not read_manifest(experiment).errors

    table = load_experiment(experiment)
    assert table.groupby("trial")["retries"].max().to_dict() == {trial.name: 1, f"{DOMAIN}_{OBJECTIVE}_001": 0}
    assert run_search.main(["analyze", str(experiment), "--out", str(tmp_path / "report")]) == 0
    printed = capsys.readouterr().out
    assert (
        f"1 retries from the last checkpoint after an error (a dead worker, an exception): {trial.name} "
        "(1, now completed)" in printed
    ), printed


@pytest.mark.slow
def test_corrupt_trial_checkpoint_met_by_resume_is_named_never_used(tmp_path):
    process = _search(tmp_path, samples=2)
    experiment = tmp_path / "exp"
    trial = experiment / f"{DOMAIN}_{OBJECTIVE}_000"
    try:
        _wait_for_report(process, trial.name, 3)  # 3 checkpoints: Tune's snapshot holds one of them
        process.kill()
        process.communicate(timeout=60)
    finally:
        _end_session(process)
    before = _rows(trial)
    assert not before[-1].get("final")
    files = sorted(trial.glob(f"checkpoint_*/{TRAINER_CKPT}"))
    assert files
    for file in files:  # whichever Tune restores from
        data = file.read_bytes()
        file.write_bytes(data[: len(data) // 2])

    resumed = subprocess.run(
        [sys.executable, str(ROOT / "run_search.py"), "resume", str(experiment), "--num-cpus", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]  # trial 001 completed
    line = next(ln for ln in resumed.stdout.splitlines() if ln.startswith(f"errored: {trial.name}:"))
    assert f"{TRAINER_CKPT} is corrupt" in line and str(trial) in line and "restore the file" in line, line
    assert _rows(trial) == before, "nothing was run from the corrupt checkpoint"
    failed = load_study(experiment, DOMAIN, OBJECTIVE).trials[0]
    assert failed.state.name == "FAIL" and f"{TRAINER_CKPT} is corrupt" in failed.user_attrs[ERROR_ATTR]
