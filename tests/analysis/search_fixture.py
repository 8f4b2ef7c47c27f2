"""One tiny real search per test session, shared by tests/analysis, tests/cli and tests/faults (it is
the slow part), and by `make test`'s parallel workers: the first to need it builds it, under a lock.
Tests read it and never write into it (a test that changes files copies it first).

2 domains x 1 objective x 3 trials, plus the random-init baseline of each domain, smoke-sized.
The probe's L2 path is fixed to strong values: at the weak L2 a search may pick on smoke
data (~60 probe examples, nearly separable) the L-BFGS probe turns last-bit feature
differences into different predictions, and these tests compare scores to 1e-6.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from trainables.request import SearchRequest

OVERRIDES = {"max_steps": 4, "eval_every": 1, "l2_min": 1e-2, "l2_max": 1e2}


def tiny_request(storage: Path) -> SearchRequest:
    return SearchRequest(
        domains=("digits", "tabular"),
        objectives=("emix",),
        num_samples=3,
        max_concurrent=2,
        storage_path=str(storage),
        name="exp",
        overrides=dict(OVERRIDES),
        smoke_test=True,
        baseline=True,
        seed=0,
    )


SHARED_ENV = "DABS_TUNE_TEST_SHARED"  # set by tests/conftest.py: a folder every worker of this test run shares


def built_once(request_for: Callable[[Path], SearchRequest]) -> Path:
    """The experiment `request_for(root)` describes, searched once per test run in the shared folder
    (the first worker to ask searches it while the others wait on the lock; a failed search is tried
    again by the next one to ask)."""
    from trainables.runner import run_search

    # without the shared folder (imported outside pytest), a private one: never a fixed place where a
    # `.built` marker of an earlier run, made by older code, would be taken for this run's search
    if not os.environ.get(SHARED_ENV):
        os.environ[SHARED_ENV] = tempfile.mkdtemp(prefix="dabs-tune-test-shared-")
    root = Path(os.environ[SHARED_ENV]).resolve()  # absolute: a test may chdir
    request = request_for(root)
    built = root / f"{request.name}.built"
    with open(root / f"{request.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.is_file():
            shutil.rmtree(root / request.name, ignore_errors=True)  # what a failed attempt left
            run_search(request, num_cpus=2)
            built.touch()
    return root / request.name


@functools.cache
def tiny_experiment() -> Path:
    return built_once(tiny_request)


def reported(trial_dir: Path) -> list[dict]:
    """A trial's reports, read straight from result.json (independently of analysis)."""
    text = (trial_dir / "result.json").read_text() if (trial_dir / "result.json").is_file() else ""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def best_by_hand(experiment: Path, domain: str, objective: str) -> tuple[str, dict]:
    """The completed trial of one study with the highest final `transfer/val` (lowest number on ties)."""
    finals = {}
    for trial_dir in sorted(
        p for p in experiment.glob(f"{domain}_{objective}_[0-9][0-9][0-9]") if (p / "params.json").is_file()
    ):
        rows = reported(trial_dir)
        if rows and rows[-1].get("final"):
            finals[trial_dir.name] = rows[-1]
    name = sorted(finals, key=lambda n: (-finals[n]["transfer/val"], n))[0]
    return name, finals[name]


def two_objectives_request(storage: Path) -> SearchRequest:
    """One domain, two objectives x 4 trials (+ random init): enough trials to correlate, two encoders to combine."""
    return SearchRequest(
        domains=("digits",),
        objectives=("emix", "shed"),
        num_samples=4,
        max_concurrent=2,
        storage_path=str(storage),
        name="exp2",
        overrides=dict(OVERRIDES),
        smoke_test=True,
        baseline=True,
        seed=0,
    )


@functools.cache
def two_objectives_experiment() -> Path:
    return built_once(two_objectives_request)
