"""Parts of the cross-domain study and of warm start, on real Tune trial objects and a real journal."""

from __future__ import annotations

import optuna
import pytest
from ray.tune.experiment import Trial
from ray.tune.schedulers import TrialScheduler

from dabs_lib.experiment import FINAL, JOURNAL, MANIFEST, METRIC, STUDY, TRIAL_NUMBER
from trainables.shared_plan import shared_names
from trainables.shared_scheduler import SharedASHA, rungs
from trainables.warm_start import WARM_TOP, check_warm_start, interleave, warm_configs


def _trial(number: int, domain: str) -> Trial:
    return Trial("__fake", config={TRIAL_NUMBER: number, "domain": domain, STUDY: "shared-mae"}, stub=True)


def _report(scheduler: SharedASHA, trial: Trial, step: int, value: float, final: bool = False) -> str:
    return scheduler.on_trial_result(None, trial, {METRIC: value, "training_iteration": step, FINAL: final})


@pytest.mark.parametrize("max_t, grace, rf, expected", [(9, 1, 3, [1, 3]), (4, 1, 2, [1, 2]), (1, 1, 2, [])])
def test_rungs_are_placed_as_tunes_asha_places_them(max_t, grace, rf, expected):
    assert rungs(max_t, grace, rf) == expected


def test_a_configuration_is_cut_on_the_aggregate_and_every_domain_stops():
    scheduler = SharedASHA(("a", "b"), {"a": 0.0, "b": 0.5}, max_t=4, grace_period=1, reduction_factor=2, metric=METRIC)
    good_a, good_b, bad_a, bad_b = _trial(0, "a"), _trial(0, "b"), _trial(1, "a"), _trial(1, "b")
    assert _report(scheduler, good_a, 1, 0.8) == TrialScheduler.CONTINUE
    assert _report(scheduler, good_b, 1, 0.9) == TrialScheduler.CONTINUE  # first at the rung: recorded
    # bad is great on a alone; its aggregate (0.9 + (0.5-0.5)/0.5) / 2 = 0.45 < good's (0.8 + 0.8) / 2
    assert _report(scheduler, bad_a, 1, 0.9) == TrialScheduler.CONTINUE  # b not at the rung yet: no decision
    assert _report(scheduler, bad_b, 1, 0.5) == TrialScheduler.STOP
    assert _report(scheduler, bad_a, 2, 0.95) == TrialScheduler.STOP  # the other domain stops at its next report
    assert _report(scheduler, good_a, 2, 0.85) == TrialScheduler.CONTINUE


def test_a_domain_that_finished_early_counts_with_its_last_score():
    scheduler = SharedASHA(("a", "b"), {"a": 0.0, "b": 0.0}, max_t=4, grace_period=2, reduction_factor=2, metric=METRIC)
    _report(scheduler, _trial(0, "a"), 1, 0.9, final=True)  # a's whole budget is one evaluation
    _report(scheduler, _trial(0, "b"), 2, 0.9)
    _report(scheduler, _trial(1, "a"), 1, 0.1, final=True)
    assert _report(scheduler, _trial(1, "b"), 2, 0.1) == TrialScheduler.STOP


def test_names_searched_in_common_are_shared_the_rest_stay_per_domain():
    lr = optuna.distributions.FloatDistribution(1e-5, 1e-2, log=True)
    common, apart = shared_names(
        {
            "digits": {"lr": lr, "batch_size": optuna.distributions.CategoricalDistribution([32, 64, 128])},
            "tokens": {"lr": lr, "batch_size": optuna.distributions.CategoricalDistribution([16, 32])},
        }
    )
    assert (common, apart) == (["lr"], ["batch_size"])


def _finished_experiment(tmp_path, scores: dict[float, float]):
    """A miniature finished experiment: a manifest and a journal with one study `digits-mae`."""
    from optuna.storages.journal import JournalFileBackend

    folder = tmp_path / "source"
    folder.mkdir()
    (folder / MANIFEST).write_text(
        '{"format": 2, "kind": "search", "status": "finished", "request": {}, '
        '"studies": [{"domain": "digits", "objective": "mae"}]}'
    )
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(folder / JOURNAL)))
    study = optuna.create_study(study_name="digits-mae", storage=storage, direction="maximize")
    for lr, value in scores.items():
        study.enqueue_trial({"lr": lr})
        trial = study.ask({"lr": optuna.distributions.FloatDistribution(1e-5, 1.0, log=True)})
        study.tell(trial, value)
    return folder


def test_warm_configs_are_the_best_of_each_source_study_and_fit_the_target_range(tmp_path):
    source = _finished_experiment(tmp_path, {1e-4: 0.2, 3e-3: 0.9, 1e-3: 0.7, 0.5: 0.95})
    target = {"lr": optuna.distributions.FloatDistribution(1e-5, 1e-2, log=True)}
    configs = warm_configs((str(source),), "mae", target)
    assert len(configs) <= WARM_TOP
    assert configs == ({"lr": 3e-3},)  # 0.5 is best but outside the target's range: left to the sampler
    assert warm_configs((str(source),), "shed", target) == ()  # another objective: nothing


def test_every_source_studys_best_comes_before_any_sources_second(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first = _finished_experiment(tmp_path / "a", {1e-4: 0.2, 3e-3: 0.9, 1e-3: 0.7})
    second = _finished_experiment(tmp_path / "b", {2e-4: 0.8, 5e-3: 0.6, 1e-5: 0.1})
    target = {"lr": optuna.distributions.FloatDistribution(1e-5, 1e-2, log=True)}
    configs = warm_configs((str(first), str(second)), "mae", target)
    assert [c["lr"] for c in configs] == [3e-3, 2e-4, 1e-3, 5e-3]  # a's best, b's best, a's second, b's second
    assert interleave([[{"x": 1}, {"x": 2}], [{"x": 1}], []]) == ({"x": 1}, {"x": 2})  # duplicates once


def test_warm_start_refuses_a_folder_that_is_no_experiment_or_lacks_the_objective(tmp_path):
    with pytest.raises(ValueError, match="--warm-start must name finished dabs-tune experiments"):
        check_warm_start((str(tmp_path / "nowhere"),), ("mae",))
    source = _finished_experiment(tmp_path, {1e-3: 0.5})
    with pytest.raises(ValueError, match="must hold a completed trial of objective shed, but it has .*mae"):
        check_warm_start((str(source),), ("shed",))
    check_warm_start((str(source),), ("mae",))


def _shared_searcher(tmp_path):
    from tests.trainables.helpers import tiny_request
    from trainables.optuna_search import MultiStudySearcher
    from trainables.search import load_plans

    request = tiny_request(
        tmp_path, domains=("digits", "tabular"), objectives=("mae",), baseline=True, shared_config=True, num_samples=3
    )
    plans, _ = load_plans(request)
    (tmp_path / "exp").mkdir(exist_ok=True)
    return MultiStudySearcher(plans, str(tmp_path / "exp" / JOURNAL), METRIC, "max", "tpe", 0)


def test_the_searcher_waits_for_the_baselines_then_hands_one_config_to_every_domain(tmp_path):
    from dabs_lib.experiment import load_study
    from dabs_lib.shared import AGGREGATE_ATTR, aggregate

    searcher = _shared_searcher(tmp_path)
    baselines = [searcher.suggest("b0"), searcher.suggest("b1")]
    assert [c[STUDY] for c in baselines] == ["digits-none", "tabular-none"]
    assert searcher.suggest("early") is None  # the aggregate's reference is not known yet: ask again later
    for trial_id, value in (("b0", 0.5), ("b1", 0.8)):
        searcher.on_trial_complete(trial_id, {METRIC: value, FINAL: True, "training_iteration": 1})
    first, second = searcher.suggest("s0"), searcher.suggest("s1")
    assert (first[STUDY], second[STUDY]) == ("shared-mae", "shared-mae")
    assert (first["domain"], second["domain"]) == ("digits", "tabular")
    assert first[TRIAL_NUMBER] == second[TRIAL_NUMBER] == 0
    shared = [k for k in first if k in second and k not in ("domain", "objective") and first[k] == second[k]]
    assert {"lr", "weight_decay", "corruption_rate"} <= set(shared)
    searcher.on_trial_complete("s0", {METRIC: 0.75, FINAL: True, "training_iteration": 1})
    assert load_study(tmp_path / "exp", "shared", "mae").trials[0].state.name == "RUNNING"  # tabular still out
    searcher.on_trial_complete("s1", {METRIC: 0.9, FINAL: True, "training_iteration": 1})
    trial = load_study(tmp_path / "exp", "shared", "mae").trials[0]
    assert trial.state.name == "COMPLETE"
    assert trial.value == pytest.approx(aggregate({"digits": 0.75, "tabular": 0.9}, {"digits": 0.5, "tabular": 0.8}))
    assert trial.user_attrs[AGGREGATE_ATTR] == {"digits": 0.75, "tabular": 0.9}


def test_a_shared_trial_stopped_on_one_domain_is_pruned(tmp_path):
    from dabs_lib.experiment import load_study

    searcher = _shared_searcher(tmp_path)
    for trial_id in ("b0", "b1"):
        searcher.suggest(trial_id)
        searcher.on_trial_complete(trial_id, {METRIC: 0.5, FINAL: True, "training_iteration": 1})
    searcher.suggest("s0"), searcher.suggest("s1")
    searcher.on_trial_complete("s0", {METRIC: 0.6, FINAL: True, "training_iteration": 2})
    searcher.on_trial_complete("s1", {METRIC: 0.4, FINAL: False, "training_iteration": 1})  # cut at a rung
    assert load_study(tmp_path / "exp", "shared", "mae").trials[0].state.name == "PRUNED"
