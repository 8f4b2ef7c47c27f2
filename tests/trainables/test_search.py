"""One real experiment, every study at once: private Ray, MultiStudySearcher + per-study ASHA,
real Lightning, a real Optuna journal opened with Optuna's own tools, real event files."""

from __future__ import annotations

import json
import signal

import optuna
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dabs_lib.experiment import ERROR_ATTR, JOURNAL, journal_path, load_study, read_manifest, study_name
from tests.trainables.helpers import study_states, tiny_request, trial_results
from trainables.cluster import TUNE_SIGNALS
from trainables.runner import run_search

pytestmark = pytest.mark.slow
# Two domains, each with its random-init baseline and one searched objective: four studies in one Tune run.
STUDIES = [("digits", "none"), ("tabular", "none"), ("digits", "emix"), ("tabular", "emix")]
NUM_SAMPLES = 4


@pytest.fixture(scope="module")
def finished_search(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    # 4 smoke steps barely move the encoder and the smoke validation splits are small, so trials
    # that differ only in lr tie on every probe and ASHA (which cuts only what scores below its
    # rung) prunes nothing. Searching the initialization seed too makes the scores differ.
    space = root / "seeded.yaml"
    space.write_text(
        "doc: test only\nsearch:\n  seed:\n    type: int\n    low: 0\n    high: 1000\n"
        "    default: 0\n    doc: initialization seed\n"
    )
    request = tiny_request(
        root, domains=("digits", "tabular"), baseline=True, num_samples=NUM_SAMPLES, space_files=(str(space),)
    )
    handlers = {signum: signal.getsignal(signum) for signum in TUNE_SIGNALS}
    uri, outcome = run_search(request, num_cpus=2)
    assert {signum: signal.getsignal(signum) for signum in TUNE_SIGNALS} == handlers  # Tune's are gone
    return root / "exp", request, outcome


def test_every_study_ran_its_trials_in_one_tune_run(finished_search):
    exp, _, outcome = finished_search
    assert outcome.status == "finished" and set(outcome.studies.values()) == {"finished"}
    assert len(list(exp.glob("experiment_state-*.json"))) == 1  # one Tune run for every study
    for domain, objective in STUDIES:
        results = trial_results(exp, domain, objective)
        expected = 1 if objective == "none" else NUM_SAMPLES
        assert sorted(results) == [f"{domain}_{objective}_{n:03d}" for n in range(expected)]
        for name, rows in results.items():
            assert [r["training_iteration"] for r in rows] == list(range(1, len(rows) + 1)), name
            assert all("transfer/val" in r for r in rows)
            params = json.loads((exp / name / "params.json").read_text())
            assert (params["domain"], params["objective"]) == (domain, objective)


def test_trial_numbers_are_contiguous_and_states_match_results(finished_search):
    exp, _, _ = finished_search
    for domain, objective in STUDIES:
        states = study_states(exp, domain, objective)
        results = trial_results(exp, domain, objective)
        assert sorted(states) == list(range(len(results)))
        for number, state in states.items():
            rows = results[f"{domain}_{objective}_{number:03d}"]
            assert state == ("COMPLETE" if rows[-1].get("final") else "PRUNED"), (domain, objective, number)


def test_scheduler_stopped_trials_are_pruned_with_their_intermediate_values(finished_search):
    exp, _, _ = finished_search
    pruned = []
    for domain in ("digits", "tabular"):
        study = optuna.load_study(
            study_name=study_name(domain, "emix"),
            storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal_path(exp)))),
        )
        for trial in study.trials:
            assert trial.datetime_start is not None and trial.datetime_complete is not None
            if trial.state.name == "PRUNED":
                pruned.append(trial)
                assert trial.intermediate_values, "a pruned trial keeps its intermediate values"
                assert len(trial.intermediate_values) < 4  # stopped before its full budget
            else:
                assert trial.state.name == "COMPLETE" and sorted(trial.intermediate_values) == [1, 2, 3, 4]
    assert pruned, "ASHA stopped no trial: the test would not exercise pruning"


def test_first_trial_of_each_study_is_the_dabs_default(finished_search):
    exp, _, _ = finished_search
    for domain in ("digits", "tabular"):
        first = json.loads((exp / f"{domain}_emix_000" / "params.json").read_text())
        assert first["lr"] == pytest.approx(1e-4) and first["weight_decay"] == pytest.approx(1e-4)
        assert load_study(exp, domain, "emix").trials[0].params["lr"] == pytest.approx(1e-4)


def test_studies_explore_differently(finished_search):
    exp, _, _ = finished_search
    digits, tabular = (load_study(exp, d, "emix").trials[1].params["lr"] for d in ("digits", "tabular"))
    assert digits != tabular  # per-study sampler seeds: not the same draw in every study


def test_completed_trials_report_test_scores_of_every_task(finished_search):
    exp, _, _ = finished_search
    for rows in trial_results(exp, "digits", "emix").values():
        if rows[-1].get("final"):
            assert {"test/novel", "test/all"} <= set(rows[-1])
    baseline = trial_results(exp, "digits", "none")
    assert len(baseline) == 1 and next(iter(baseline.values()))[-1]["final"]


def test_manifest_and_journal_say_every_study_finished(finished_search):
    exp, _, _ = finished_search
    manifest = read_manifest(exp)
    assert manifest.kind == "search" and manifest.status == "finished"
    assert [(s.domain, s.objective, s.status) for s in manifest.studies] == [(d, o, "finished") for d, o in STUDIES]
    assert (exp / JOURNAL).is_file() and not list(exp.rglob("study.json"))
    for domain, objective in STUDIES:
        assert all(t.user_attrs.get(ERROR_ATTR) is None for t in load_study(exp, domain, objective).trials)


def test_optuna_visualization_plots_the_journal(finished_search, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from optuna.visualization.matplotlib import plot_intermediate_values, plot_optimization_history

    exp, _, _ = finished_search
    study = load_study(exp, "digits", "emix")
    for plot in (plot_optimization_history, plot_intermediate_values):
        axes = plot(study)
        axes.figure.savefig(tmp_path / "plot.png")
        assert (tmp_path / "plot.png").stat().st_size > 1000
        assert axes.lines or axes.collections  # something was drawn from the journal's trials


def test_tensorboard_event_files_hold_the_expected_tags(finished_search):
    exp, _, _ = finished_search
    finished = [
        d
        for d in exp.glob("digits_emix_*")
        if json.loads((d / "result.json").read_text().splitlines()[-1]).get("final")
    ]
    assert finished
    for trial_dir in finished:  # a trial ASHA stops after one step may end before Lightning flushes
        tags = set()
        for events in trial_dir.rglob("events.out.tfevents.*"):
            accumulator = EventAccumulator(str(events))
            accumulator.Reload()
            tags |= set(accumulator.Tags()["scalars"])
        assert "train/loss" in tags, (trial_dir, tags)
        assert any(t.endswith("transfer/val") for t in tags), (trial_dir, tags)
