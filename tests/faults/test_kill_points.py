"""SIGKILL of the driver at named points, and of `resume` itself, then `resume` until it ends:
no finished trial is lost or re-run, and the Optuna journal agrees with the trials' results.

Each chain is one tiny experiment: the search is killed at its first point, each `resume` at
the next, and a last `resume` finishes it. Points are hit exactly with the test-only hook
`dabs_lib.safe_io.kill_point` (environment variable DABS_TUNE_TEST_KILL_AT), which makes the
process SIGKILL itself at a real place in the code:

- `searcher-save:N`: in the middle of writing the searcher's state, the Nth snapshot (a checkpoint write);
- `trial-ended`: Tune holds a trial's final result, its study does not yet (between trials);
- `trial-told`: the study recorded the trial COMPLETE, the next trial has not started;
- `search-end`: Tune has returned, nothing of the end of the search is written yet;
- `journal-closed`: the journal is closed, the manifest still says the search is running;
- `report`: during the final report (the manifest already says the search finished);
- `ray-start`: Ray's processes run, Tune has not started (ray_session.json names the session);
- `tune-start`: Ray runs, Tune has written nothing yet (no tuner.pkl: `resume` starts Tune afresh).

`random:SEED` kills the driver from outside at a seeded random moment: after its first or
second trial report (as printed), plus up to 0.25 s, so two trials are surely still to come
for the points that follow (a fixed time window raced the search on a fast machine).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.results import _read_jsonl, live_timeline
from dabs_lib.experiment import METRIC, journal_path, load_study, read_manifest
from dabs_lib.safe_io import KILL_ENV
from trainables.sessions import read_record

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
NUM_SAMPLES = 3
DOMAIN, OBJECTIVE = "digits", "shed"

# chain name -> kill point of the search, then of each resume; a last resume runs to the end.
CHAINS = {
    "checkpoint write, between trials, journal closed": ("searcher-save:2", "trial-ended", "journal-closed"),
    "random, between trials, end of search, final report": ("random:0", "trial-told", "search-end", "report"),
    "Ray's start, before Tune's first snapshot": ("ray-start", "tune-start"),
}
# The report's kill points: a finished search, then `analyze --seeds` killed during its fresh-seed
# re-runs (SIGKILL, then Ctrl-C) and while writing the report; a last `analyze` finishes.
ANALYZE_CHAIN = ("seed-run-ended:1", "seed-run-ended:1:INT", "report-write", "")
# docs/what-happens-when.md counts them: every chain's points plus the Ctrl-C during Ray's start-up
KILL_POINTS = sorted(
    {point.split(":")[0] for chain in [*CHAINS.values(), ANALYZE_CHAIN] for point in chain if point} | {"ray-starting"}
)


def _search_argv(storage: Path) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "run_search.py"),
        "search",
        "--domain",
        DOMAIN,
        "--objective",
        OBJECTIVE,
        "--num-samples",
        str(NUM_SAMPLES),
        "--max-concurrent",
        "1",
        "--set",
        "max_steps=2",
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


def _resume_argv(experiment: Path) -> list[str]:
    return [sys.executable, str(ROOT / "run_search.py"), "resume", str(experiment), "--num-cpus", "1"]


def _start(argv: list[str], point: str = "") -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    if point:
        env[KILL_ENV] = point
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def _reap(process: subprocess.Popen, timeout: float = 600) -> str:
    """Wait for the driver, then SIGKILL what is left of its session (the private Ray it started)."""
    try:
        out, _ = process.communicate(timeout=timeout)
    finally:
        try:  # our own session only
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return out


def trial_results(experiment: Path) -> dict[str, list[dict]]:
    """trial folder -> its results; a last line cut by the kill is dropped (as analysis does)."""
    out = {}
    for trial in sorted(experiment.glob(f"{DOMAIN}_{OBJECTIVE}_[0-9][0-9][0-9]")):
        rows, problem = _read_jsonl(trial / "result.json")
        assert not problem, problem
        out[trial.name] = rows
    return out


def _finals(experiment: Path) -> dict[str, float]:
    """trial folder -> its final transfer/val, for every trial whose result.json has a final report."""
    out = {}
    for name, raw in trial_results(experiment).items():
        rows = live_timeline(raw)
        if rows and rows[-1].get("final"):
            out[name] = rows[-1][METRIC]
    return out


def _check_consistent(experiment: Path, finished_before: dict[str, float], ended: bool) -> None:
    """The journal agrees with the results on disk; what had finished is still finished, once."""
    started = journal_path(experiment).is_file()  # a kill as Ray starts comes before the first study
    assert started or not ended, f"{experiment} ended without a journal"
    trials = {t.number: t for t in load_study(experiment, DOMAIN, OBJECTIVE).trials} if started else {}
    raw = trial_results(experiment)
    finals = _finals(experiment)
    for name, rows in raw.items():
        # A kill before Tune's own snapshot held the final checkpoint re-runs the trial's tail from
        # its last persisted checkpoint (as for any report): the final row may then appear twice,
        # at the same iteration with the same score (exact resume), never from a run started afresh.
        ends = {(r["training_iteration"], round(r[METRIC], 9)) for r in rows if r.get("final")}
        assert len(ends) <= 1, f"{name} finished twice, differently: {ends}"
        iterations = [r["training_iteration"] for r in live_timeline(rows)]
        assert iterations == list(range(1, len(iterations) + 1)), (name, iterations)
    for number, trial in trials.items():
        name = f"{DOMAIN}_{OBJECTIVE}_{number:03d}"
        if trial.state.name == "COMPLETE":
            assert name in finals and trial.value == pytest.approx(finals[name]), (name, trial.value, finals)
    for name, value in finished_before.items():  # nothing that had finished is lost or changed
        assert finals.get(name) == value, (name, value, finals.get(name))
    if ended:
        states = {n: t.state.name for n, t in trials.items()}
        assert set(states.values()) <= {"COMPLETE", "FAIL"}, states  # nothing left RUNNING
        complete = {f"{DOMAIN}_{OBJECTIVE}_{n:03d}" for n, s in states.items() if s == "COMPLETE"}
        assert len(complete) == NUM_SAMPLES and complete == set(finals), (states, finals)
        manifest = read_manifest(experiment)
        assert manifest.status == "finished" and [s.status for s in manifest.studies] == ["finished"]


@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_kill_points_then_resume(tmp_path, chain):
    """The search is killed at the chain's first point, each resume at the next; a last resume
    ends it (or says there is nothing to resume, after a kill during the final report)."""
    experiment = tmp_path / "exp"
    for index, point in enumerate(CHAINS[chain] + ("",)):
        finished_before = _finals(experiment) if experiment.is_dir() else {}
        argv = _search_argv(tmp_path) if index == 0 else _resume_argv(experiment)
        process = _start(argv, "" if point.startswith("random") else point)
        if point.startswith("random"):
            _kill_at_random(process, seed=int(point.split(":")[1]))
        out = _reap(process)
        if point:
            assert process.returncode == -signal.SIGKILL, (point, process.returncode, out[-3000:])
            assert "session" in read_record(str(experiment)), "`sessions stop` must find what the kill left"
        elif process.returncode == 2:  # the previous kill came after the manifest said "finished"
            assert "nothing to resume" in out and index > 1 and CHAINS[chain][-1] == "report", out[-3000:]
        else:
            assert process.returncode == 0, out[-3000:]
        _check_consistent(experiment, finished_before, ended=not point)


def test_a_trial_told_complete_has_its_final_report_on_disk(tmp_path):
    """Tune copies result.json to the storage path only now and then (here: no checkpoint count
    forces a copy); a kill just after the study was told COMPLETE still finds the final report."""
    experiment = tmp_path / "exp"
    process = _start([*_search_argv(tmp_path), "--keep-checkpoints", "100"], "trial-told")
    out = _reap(process)
    assert process.returncode == -signal.SIGKILL, out[-3000:]
    told = [t for t in load_study(experiment, DOMAIN, OBJECTIVE).trials if t.state.name == "COMPLETE"]
    assert len(told) == 1, [t.state.name for t in load_study(experiment, DOMAIN, OBJECTIVE).trials]
    _check_consistent(experiment, {}, ended=False)


def _kill_at_random(process: subprocess.Popen, seed: int) -> None:
    """SIGKILL the driver at a seeded random moment: after its 1st or 2nd trial report (a trial
    reporting, checkpointing, finishing, or the next one starting), plus a random 0 to 0.25 s."""
    draw = random.Random(seed)
    reports, delay = draw.randint(1, 2), draw.uniform(0, 0.25)
    seen = []
    for line in process.stdout:
        seen.append(line)
        reports -= f"{DOMAIN}_{OBJECTIVE}_" in line and " step " in line
        if reports == 0:
            break
    assert reports == 0, "the search ended before its reports:\n" + "".join(seen)[-3000:]
    time.sleep(delay)
    process.kill()


def test_ctrl_c_during_rays_start_stops_the_search_and_resume_finishes_it(tmp_path):
    """A SIGINT as Ray starts was swallowed (the search ran on and exited 0): it stops the search,
    which names the folder to resume; nothing of that Ray is left; `resume` then finishes."""
    experiment = tmp_path / "exp"
    from trainables.sessions import session_pids

    process = _start(_search_argv(tmp_path), "ray-starting:1:INT")
    out, _ = process.communicate(timeout=600)
    left = session_pids(read_record(str(experiment))["session"])  # before _reap kills the process group
    _reap(process)
    assert process.returncode == 130, out[-3000:]
    assert f"resume {experiment}`" in out and "Traceback" not in out, out[-3000:]
    assert left == [], "Ray's agents must not be orphaned"
    process = _start(_resume_argv(experiment))
    out = _reap(process)
    assert process.returncode == 0 and "Traceback" not in out, out[-3000:]
    _check_consistent(experiment, {}, ended=True)


SEEDS = 3  # the best trial may be the default (one config): 3 cells, so a Ctrl-C after the 2nd leaves one


def _analyze_argv(experiment: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "run_search.py"),
        "analyze",
        str(experiment),
        "--seeds",
        str(SEEDS),
        "--smoke-test",
        "--num-cpus",
        "1",
        "--out",
        str(out),
    ]


def _seed_finals(out: Path) -> list[tuple[str, int]]:
    """(label, seed) of every finished fresh-seed run on disk, once per run (a cell run twice shows twice)."""
    from analysis.seeds import LABEL, _final, cell_of

    found = []
    for params in sorted(out.glob("seeds/seeds_*/*/params.json")):
        if _final(params.parent):
            variant, seed = cell_of(json.loads(params.read_text()))
            found.append((variant[LABEL], seed))
    return found


def test_kill_during_seed_reruns_and_report_then_analyze_finishes(tmp_path):
    """Each interrupted `analyze --seeds` keeps the seed runs that finished; the next one runs
    only the missing cells (none twice) and the last writes the whole report."""
    import pandas as pd

    experiment, out = tmp_path / "exp", tmp_path / "report"
    search = _start(_search_argv(tmp_path))
    text = _reap(search)
    assert search.returncode == 0, text[-3000:]
    finals_before = _finals(experiment)
    assert len(finals_before) == NUM_SAMPLES
    counts = []
    for point in ANALYZE_CHAIN:
        process = _start(_analyze_argv(experiment, out), point)
        text = _reap(process)
        if point.endswith(":INT"):  # a Ctrl-C: one line saying what is kept and what continues it
            assert process.returncode == 130, text[-3000:]
            assert "fresh-seed runs finished and are kept; continue with `" in text, text[-3000:]
            assert f"analyze {experiment} --seeds {SEEDS}" in text and "Traceback" not in text, text[-3000:]
        elif point:
            assert process.returncode == -signal.SIGKILL, (point, process.returncode, text[-3000:])
            assert "session" in read_record(str(out / "seeds")), "`sessions stop` must find what the kill left"
        else:
            assert process.returncode == 0, text[-3000:]
        finals = _seed_finals(out)
        assert len(finals) == len(set(finals)), f"a seed run was run again after it finished: {finals}"
        counts.append(len(finals))
        assert (out / "README.md").is_file() == (point == ""), point
    labels = {label for label, _ in _seed_finals(out)}
    assert counts[0] >= 1 and counts[0] <= counts[1] < counts[-1] == len(labels) * SEEDS, counts
    transfer = pd.read_csv(out / "tables" / "transfer.csv")
    assert (transfer["n_seeds"] == SEEDS).all(), transfer
    assert _finals(experiment) == finals_before, "analyze must not touch the search's trials"
