"""An interrupted experiment resumes to completion: every study of its one Tune run completes,
every trial finished once (a tail re-run from its checkpoint ends where it had ended), and the
journal's states match the trials' results.

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
from dabs_lib.experiment import METRIC, SETTLED_TRIALS, read_manifest, read_tune_state
from tests.trainables.helpers import study_states, trial_results
from trainables.sessions import stop_experiment

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
NUM_SAMPLES = 3
STUDIES = (("digits", "shed"), ("tabular", "shed"))


def _search_command(storage: Path) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "run_search.py"),
        "search",
        "--domain",
        "digits,tabular",
        "--objective",
        "shed",
        "--num-samples",
        str(NUM_SAMPLES),
        "--max-concurrent",
        "2",
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
        "2",
    ]


def _wait_for_first_result(experiment: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        if any(rows for rows in _safe_results(experiment).values()):
            return
        time.sleep(0.5)
    raise AssertionError("no trial reported in time")


def _safe_results(experiment: Path) -> dict:
    try:
        return trial_results(experiment, "digits", "shed") if experiment.is_dir() else {}
    except (json.JSONDecodeError, FileNotFoundError):
        return {}


def _trial_folders(experiment: Path) -> set[str]:
    return {p.name for p in experiment.iterdir() if p.is_dir() and p.name.count("_") == 2}


def _tune_table_trials(experiment: Path) -> set[str]:
    """The trial folders named in Tune's newest trial table (empty before its first snapshot)."""
    table = read_tune_state(experiment).table or {"trial_data": []}
    return {json.loads(entry[0])["relative_logdir"] for entry in table["trial_data"]}


@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_interrupted_search_resumes_with_every_trial_finished_once(tmp_path, how):
    process = subprocess.Popen(
        _search_command(tmp_path),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    experiment = tmp_path / "exp"
    try:
        _wait_for_first_result(experiment, process)
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
    assert read_manifest(experiment).status in ("running", "interrupted")
    # A trial worker of the killed run outlives its driver for a moment (re-parented, outside the
    # driver's process group) and may still write a checkpoint into a new trial folder; stop what
    # the kill left, as `sessions stop` does, so the folders counted below are all of that run's.
    stop_experiment(str(experiment))
    in_table = _tune_table_trials(experiment)  # a trial started after Tune's last snapshot is not in it
    folders_before = _trial_folders(experiment)

    resumed = subprocess.run(
        [sys.executable, str(ROOT / "run_search.py"), "resume", str(experiment), "--num-cpus", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]

    for domain, objective in STUDIES:
        results = trial_results(experiment, domain, objective)
        states = study_states(experiment, domain, objective)
        finished = {n: s for n, s in states.items() if s == "COMPLETE"}
        assert len(finished) == NUM_SAMPLES, states
        for number in finished:  # every COMPLETE trial in the journal has its full, single run on disk
            raw = results[f"{domain}_{objective}_{number:03d}"]
            rows = live_timeline(raw)
            iterations = [r["training_iteration"] for r in rows]
            assert iterations == list(range(1, len(rows) + 1)), (number, iterations)  # no gap
            assert rows[-1].get("final") and not any(r.get("final") for r in rows[:-1]), number
            assert rows[-1]["step"] == 4, (number, rows[-1])
            # Never run again from scratch: a kill before Tune's own snapshot held the final checkpoint
            # re-runs the tail from the last persisted one, so the final row may appear twice, at the
            # same iteration with the same score (docs/what-happens-when.md).
            ends = {(r["training_iteration"], round(r[METRIC], 9)) for r in raw if r.get("final")}
            assert len(ends) == 1, (number, ends)
        for number, state in states.items():  # anything else was closed with a reason, never left RUNNING
            assert state in ("COMPLETE", "FAIL"), (number, state)
    manifest = read_manifest(experiment)
    assert manifest.status == "finished" and {s.status for s in manifest.studies} == {"finished"}
    # The finished trials Tune's table lost while the resume ran (trainables/tune_state.py) are back in it:
    # Ray's own ExperimentAnalysis sees, once each, every trial Tune's table held before the resume and
    # every trial the resume started, and the progress printer counted them all.
    from ray.tune import ExperimentAnalysis

    expected = in_table | (_trial_folders(experiment) - folders_before)
    seen = sorted(t.path.rsplit("/", 1)[-1] for t in ExperimentAnalysis(str(experiment)).trials)
    assert seen == sorted(expected), (seen, sorted(in_table), sorted(folders_before))
    assert not (experiment / SETTLED_TRIALS).exists()
    overall = [line for line in resumed.stdout.splitlines() if "overall:" in line]
    assert f"overall: {NUM_SAMPLES * len(STUDIES)} finished" in overall[-1], overall[-1]
    second = subprocess.run(
        [sys.executable, str(ROOT / "run_search.py"), "resume", str(experiment)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 2 and "nothing to resume" in second.stderr
