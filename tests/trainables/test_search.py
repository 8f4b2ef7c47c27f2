"""A real search: private Ray, OptunaSearch + ASHA, real Lightning, real event files."""
from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.trainables.helpers import study_states, tiny_request, trial_results
from trainables.optuna_search import load_study
from trainables.runner import run_search

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def finished_search(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    request = tiny_request(root, baseline=True)
    uri, grids = run_search(request, num_cpus=2)
    return root / "exp", request


def test_every_trial_ran_and_reported(finished_search):
    exp, request = finished_search
    results = trial_results(exp / "digits-emix")
    assert len(results) == request.num_samples
    for name, rows in results.items():
        assert name.startswith("digits_emix_")
        iterations = [r["training_iteration"] for r in rows]
        assert iterations == list(range(1, len(rows) + 1)), name
        assert all("transfer/val" in r and "train/loss" in r for r in rows)


def test_scheduler_stopped_trials_are_pruned_in_the_study(finished_search):
    exp, _ = finished_search
    results = trial_results(exp / "digits-emix")
    states = study_states(exp / "digits-emix")
    finished = {name for name, rows in results.items() if rows and rows[-1].get("final")}
    stopped = set(results) - finished
    assert stopped, "ASHA stopped no trial: the test would not exercise pruning"
    assert sorted(states.values()).count("COMPLETE") == len(finished)
    assert sorted(states.values()).count("PRUNED") == len(stopped)
    study = load_study(exp / "digits-emix" / "study.json")
    for trial in study.trials:
        if trial.state.name == "PRUNED":
            assert trial.intermediate_values, "a pruned trial keeps its intermediate values"


def test_first_trial_is_the_dabs_default(finished_search):
    exp, _ = finished_search
    first = json.loads((exp / "digits-emix" / "digits_emix_000" / "params.json").read_text())
    assert first["lr"] == pytest.approx(1e-4)
    assert first["weight_decay"] == pytest.approx(1e-4)


def test_completed_trials_report_test_scores_of_every_task(finished_search):
    exp, _ = finished_search
    for rows in trial_results(exp / "digits-emix").values():
        if rows and rows[-1].get("final"):
            assert {"test/novel", "test/all"} <= set(rows[-1])
    baseline = trial_results(exp / "digits-none")
    assert len(baseline) == 1 and next(iter(baseline.values()))[-1]["final"]


def test_manifest_marks_every_study_finished(finished_search):
    exp, _ = finished_search
    manifest = json.loads((exp / "search.json").read_text())
    assert [s["status"] for s in manifest["studies"]] == ["finished", "finished"]


def test_tensorboard_event_files_hold_the_expected_tags(finished_search):
    exp, _ = finished_search
    for trial_dir in (exp / "digits-emix").glob("digits_emix_*"):
        tags = set()
        for events in trial_dir.rglob("events.out.tfevents.*"):
            accumulator = EventAccumulator(str(events))
            accumulator.Reload()
            tags |= set(accumulator.Tags()["scalars"])
        assert "train/loss" in tags, (trial_dir, tags)
        assert any(t.endswith("transfer/val") for t in tags), (trial_dir, tags)
