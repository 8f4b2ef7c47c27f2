"""trainables.tune_state on the Tune state a real search wrote: the finished trials leave Tune's
trial table while a resume runs and come back when it ends, and a SIGKILL between any two of
its writes loses no trial and duplicates none."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dabs_lib.experiment import EXPERIMENT_STATE, SETTLED_TRIALS
from dabs_lib.safe_io import KILL_ENV
from tests.analysis.search_fixture import tiny_experiment
from trainables.tune_state import put_back, set_aside

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def experiment(tmp_path) -> Path:
    copy = tmp_path / "exp"
    shutil.copytree(tiny_experiment(), copy, symlinks=True)
    return copy


def _table(folder: Path) -> Path:
    return sorted(folder.glob(EXPERIMENT_STATE))[-1]


def _ids(entries: list) -> list[str]:
    return [json.loads(entry[0])["trial_id"] for entry in entries]


def _table_ids(folder: Path) -> list[str]:
    return _ids(json.loads(_table(folder).read_text())["trial_data"])


def _aside_ids(folder: Path) -> list[str]:
    return _ids(json.loads((folder / SETTLED_TRIALS).read_text())["trial_data"])


def _mark_live(folder: Path, count: int) -> list[str]:
    """Make the first `count` entries of Tune's table unfinished, as a kill mid-run leaves them."""
    table = json.loads(_table(folder).read_text())
    for entry in table["trial_data"][:count]:
        fields = json.loads(entry[0])
        fields["status"] = "RUNNING"
        entry[0] = json.dumps(fields)
    _table(folder).write_text(json.dumps(table))
    return _ids(table["trial_data"][:count])


def test_a_finished_experiment_keeps_one_trial_in_tunes_table_and_gets_every_trial_back(experiment):
    from ray.tune import ExperimentAnalysis

    before = _table_ids(experiment)
    assert len(before) == 8  # 2 domains x (3 trials + the random-init baseline)
    assert set_aside(experiment) == 7
    assert len(_table_ids(experiment)) == 1  # Tune restores its folders from a trial: one stays
    assert sorted(_aside_ids(experiment)) == sorted(before)
    assert put_back(experiment) == 7
    assert sorted(_table_ids(experiment)) == sorted(before)
    assert not (experiment / SETTLED_TRIALS).exists()
    assert sorted(t.trial_id for t in ExperimentAnalysis(str(experiment)).trials) == sorted(before)


def test_only_the_unfinished_trials_stay_for_tune_to_restore(experiment):
    before = _table_ids(experiment)
    live = _mark_live(experiment, 3)
    assert set_aside(experiment) == 5
    assert sorted(_table_ids(experiment)) == sorted(live)
    assert sorted(_aside_ids(experiment)) == sorted(set(before) - set(live))
    put_back(experiment)
    assert sorted(_table_ids(experiment)) == sorted(before)


def test_a_second_interrupted_resume_adds_to_what_the_first_set_aside(experiment):
    before = _table_ids(experiment)
    live = _mark_live(experiment, 3)
    set_aside(experiment)
    table = json.loads(_table(experiment).read_text())  # the resumed run finished one of the three
    fields = json.loads(table["trial_data"][0][0])
    fields["status"] = "TERMINATED"
    table["trial_data"][0][0] = json.dumps(fields)
    _table(experiment).write_text(json.dumps(table))
    assert set_aside(experiment) == 1
    assert sorted(_table_ids(experiment)) == sorted(live[1:])
    assert sorted(_aside_ids(experiment)) == sorted(set(before) - set(live[1:]))
    put_back(experiment)
    assert sorted(_table_ids(experiment)) == sorted(before)


def _killed_at(point: str, call: str, folder: Path) -> None:
    env = {**os.environ, KILL_ENV: point}
    code = f"from trainables.tune_state import {call}; {call}({str(folder)!r})"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]


@pytest.mark.parametrize(
    "point, call", [("settled-aside", "set_aside"), ("settled-put-back", "put_back")], ids=["set-aside", "put-back"]
)
def test_a_kill_between_two_writes_loses_no_trial_and_duplicates_none(experiment, point, call):
    before = _table_ids(experiment)
    _mark_live(experiment, 2)
    if call == "put_back":
        set_aside(experiment)
    _killed_at(point, call, experiment)
    set_aside(experiment)  # what the next resume does first
    table, aside = _table_ids(experiment), _aside_ids(experiment)
    assert len(aside) == len(set(aside)) and sorted(set(table) | set(aside)) == sorted(before)
    put_back(experiment)
    assert sorted(_table_ids(experiment)) == sorted(before)
    assert not (experiment / SETTLED_TRIALS).exists()


def test_a_table_without_finished_trials_or_a_damaged_one_is_left_alone(experiment):
    _mark_live(experiment, 8)
    untouched = _table(experiment).read_bytes()
    assert set_aside(experiment) == 0 and not (experiment / SETTLED_TRIALS).exists()
    assert _table(experiment).read_bytes() == untouched
    _table(experiment).write_text('{"trial_data": [')  # cut by a full disk
    assert set_aside(experiment) == 0 and put_back(experiment) == 0
    assert _table(experiment).read_text() == '{"trial_data": ['
