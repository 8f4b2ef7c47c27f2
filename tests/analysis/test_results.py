"""analysis.results on hand-made experiment folders: statuses, checkpoints, errors, bad input."""

from __future__ import annotations

import json

import pytest

from dabs_lib.experiment import Manifest
from analysis.results import ExperimentError, live_timeline, load_experiment, param_columns, trial_table
from tests.analysis.fake import fake_experiment


def test_every_status_is_told_apart(tmp_path):
    trials = trial_table(load_experiment(fake_experiment(tmp_path))).set_index("trial")
    assert trials.loc["digits_emix_000", "status"] == "completed"
    assert trials.loc["digits_emix_002", "status"] == "pruned"  # the journal says PRUNED
    assert trials.loc["digits_emix_003", "status"] == "errored"
    assert trials.loc["digits_emix_003", "error"] == "RuntimeError: out of memory"  # the exception line only
    assert trials.loc["digits_none_000", "status"] == "completed"


def test_unfinished_study_means_running(tmp_path):
    trials = trial_table(load_experiment(fake_experiment(tmp_path, study_status="running"))).set_index("trial")
    assert trials.loc["digits_emix_002", "status"] == "running"  # RUNNING in the journal
    assert trials.loc["digits_emix_003", "status"] == "errored"  # RUNNING, but Tune wrote its error
    assert trials.loc["digits_emix_003", "error"] == "RuntimeError: out of memory"
    assert trials.loc["digits_emix_000", "status"] == "completed"


def test_every_evaluation_is_a_row_with_its_kept_checkpoint(tmp_path):
    exp = fake_experiment(tmp_path)
    results = load_experiment(exp)
    rows = results[results["trial"] == "digits_emix_000"].set_index("iteration")
    assert list(rows.index) == [1, 2]
    assert rows.loc[1, "checkpoint_at"] == ""  # deleted by num_to_keep
    assert rows.loc[2, "checkpoint_at"].endswith("digits_emix_000/checkpoint_000001")
    assert rows.loc[2, "lr"] == pytest.approx(1e-4)  # the hyperparameter, not Lightning's logged `lr`
    assert "lr" in param_columns(results) and "transfer/val" not in param_columns(results)


@pytest.mark.parametrize(
    "iterations, survivors",
    [
        ([1, 2, 3], [0, 1, 2]),
        ([1, 2, 3, 3, 4], [0, 1, 3, 4]),  # report 3 outlived its checkpoint: the re-run supersedes it
        ([1, 2, 3, 4, 2, 3, 4, 5], [0, 4, 5, 6, 7]),  # restored from the checkpoint of report 1
        ([], []),
    ],
)
def test_live_timeline_keeps_the_surviving_run(iterations, survivors):
    rows = [{"training_iteration": i, "row": n} for n, i in enumerate(iterations)]
    assert [r["row"] for r in live_timeline(rows)] == survivors


def test_results_of_a_resumed_trial_have_one_row_per_evaluation(tmp_path):
    exp = fake_experiment(tmp_path)
    result_file = next(exp.rglob("digits_emix_000/result.json"))
    first, second = (json.loads(line) for line in result_file.read_text().splitlines())
    lost = dict(second, **{"transfer/val": -1.0, "final": False})  # the interrupted copy of report 2
    result_file.write_text("\n".join(json.dumps(r) for r in (first, lost, second)) + "\n")
    rows = load_experiment(exp)
    rows = rows[rows["trial"] == "digits_emix_000"]
    assert list(rows["iteration"]) == [1, 2]
    assert rows["transfer/val"].iloc[-1] == second["transfer/val"]


def test_trial_table_knows_where_the_best_ever_score_was(tmp_path):
    trials = trial_table(load_experiment(fake_experiment(tmp_path))).set_index("trial")
    row = trials.loc["digits_emix_001"]
    assert row["transfer/val"] == pytest.approx(0.7) and row["best_val"] == pytest.approx(0.9)
    assert row["best_iteration"] == 1
    assert row["best_checkpoint"].endswith("checkpoint_000000")
    assert row["checkpoint"].endswith("checkpoint_000001")


def test_not_an_experiment(tmp_path):
    with pytest.raises(ExperimentError, match="no search.json"):
        load_experiment(tmp_path)
    (tmp_path / "search.json").write_text("{not json")
    with pytest.raises(ExperimentError, match="search.json is corrupt"):
        load_experiment(tmp_path)
    (tmp_path / "search.json").write_text(json.dumps({"request": {}, "studies": []}))
    with pytest.raises(ExperimentError, match="older dabs-tune"):
        load_experiment(tmp_path)
    (tmp_path / "search.json").write_text(json.dumps(Manifest("search", {}, ()).to_dict()))
    with pytest.raises(ExperimentError, match="no trial results"):
        load_experiment(tmp_path)


def test_an_experiment_whose_every_trial_errored_says_so(tmp_path):
    exp = fake_experiment(tmp_path)
    (exp / "optuna.journal").unlink()  # no study started: statuses come from the trial folders
    for trial_dir in exp.glob("digits_*"):
        (trial_dir / "result.json").write_text("")
        (trial_dir / "error.txt").write_text("Failure # 1 (occurred at x)\nValueError: no data here\n")
    with pytest.raises(ExperimentError, match="no trial reported transfer/val .*digits_none_000: ValueError: no data"):
        load_experiment(exp)
