"""The driver's side of what a user watches, without a Ray cluster: real Tune `Trial`s of two domains
through the real MultiStudySearcher and StepTBXLogger (the calls Tune makes, in its order), read
back with TensorBoard's hparams plugin and optuna-dashboard's WSGI app. The slow twin with a real
search is tests/trainables/test_views.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from ray.tune.result import TIMESTEPS_TOTAL

from dabs_lib.experiment import (
    FINAL,
    FOLDER_ATTR,
    METRIC,
    STEP,
    STUDY,
    TUNE_ID_ATTR,
    open_storage,
    study_name,
    trial_name,
)
from tests.trainables.helpers import tiny_request
from tests.trainables.test_views import _dashboard_get, _plugin_post, _scalars
from trainables.optuna_search import MultiStudySearcher
from trainables.search import load_plans
from trainables.tensorboard import StepTBXLogger

DOMAINS, TASKS = ("digits", "tabular"), {"digits": "novel", "tabular": "diagnosis"}
STEPS = {"max_steps": 4, "eval_every": 2}


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    from ray import tune
    from ray.train._internal.storage import StorageContext
    from ray.tune.experiment import Trial

    class DriverStorage(StorageContext):
        """Tune's storage context, staging the driver's files in the experiment folder itself (with a
        running Ray they are staged in Ray's session folder and synced there)."""

        @property
        def experiment_driver_staging_path(self) -> str:
            return self.experiment_fs_path

    from trainables.pretrain_transfer import pretrain_transfer

    root = tmp_path_factory.mktemp("driver")
    tune.register_trainable("pretrain_transfer", pretrain_transfer)
    plans, _ = load_plans(
        tiny_request(root, domains=DOMAINS, objectives=("emix",), num_samples=2, baseline=True, overrides=dict(STEPS))
    )
    (root / "exp").mkdir()
    searcher = MultiStudySearcher(plans, str(root / "exp" / "optuna.journal"), METRIC, "max", "tpe", 0)
    logger = StepTBXLogger({p.name: tuple(p.distributions) for p in plans})
    for index in range(2 + 2 * 2):
        tune_id = f"tune{index:02d}"
        config = searcher.suggest(tune_id)
        name = trial_name(config["domain"], config["objective"], config["trial_number"])
        trial = Trial(
            "pretrain_transfer",
            config=config,
            trial_id=tune_id,
            storage=DriverStorage(str(root), "exp", trial_dir_name=name),
        )
        trial.relative_logdir = name  # what the search's TrialNamer gives it
        logger.log_trial_start(trial)
        full = config["trial_number"] == 0  # each study: trial 0 runs its full budget, trial 1 is pruned at 2
        steps = [0] if config["objective"] == "none" else [2, 4] if full else [2]
        for iteration, step in enumerate(steps, 1):
            result = {
                METRIC: 0.1 * index + step / 100,
                STEP: step,
                TIMESTEPS_TOTAL: step,
                "config": config,
                "training_iteration": iteration,
                "trial_id": tune_id,
                "done": False,
            }
            if step in (0, STEPS["max_steps"]):
                result.update({FINAL: True, f"test/{TASKS[config['domain']]}": 0.5 + 0.01 * index})
            logger.log_trial_result(iteration, trial, result)
            if iteration < len(steps):
                searcher.on_trial_result(tune_id, result)
        searcher.on_trial_complete(tune_id, result)
        logger.log_trial_end(trial)
    return root / "exp"


def test_one_hparams_experiment_holds_every_study_and_every_domains_tasks(experiment):
    got = _plugin_post(experiment, "/experiment", {"experimentName": ""})
    params = {info["name"] for info in got["hparamInfos"]}
    assert {"lr", "weight_decay", "domain", "objective"} <= params and not {STUDY, "trial_number", "seed"} & params
    metrics = {info["name"]["tag"] for info in got["metricInfos"]}
    assert {f"ray/tune/{METRIC}", "ray/tune/test/novel", "ray/tune/test/diagnosis"} <= metrics, metrics
    assert not [m for m in metrics if "config/" in m], metrics
    body = {
        "experimentName": "",
        "startIndex": 0,
        "sliceSize": 100,
        "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
        "colParams": [{"metric": {"tag": f"ray/tune/{METRIC}", "group": ""}, "order": "ORDER_DESC"}],
    }
    groups = _plugin_post(experiment, "/session_groups", body)["sessionGroups"]
    assert len(groups) == 6 and {g["hparams"]["domain"] for g in groups} == set(DOMAINS)
    values = [next(m["value"] for m in g["metricValues"] if m["name"]["tag"] == f"ray/tune/{METRIC}") for g in groups]
    assert values == sorted(values, reverse=True)  # sorted across studies and domains


def test_scalars_on_the_step_axis_baselines_at_0_no_config_tags(experiment):
    for trial_dir in sorted(p for p in experiment.iterdir() if p.is_dir()):
        steps = _scalars(trial_dir)
        assert not [t for t in steps if t.startswith("ray/tune/config/")], sorted(steps)
        expected = [0] if "_none_" in trial_dir.name else [2, 4] if trial_dir.name.endswith("_000") else [2]
        assert steps[f"ray/tune/{METRIC}"] == expected, (trial_dir.name, steps)


def test_optuna_dashboard_reads_metric_names_user_attrs_and_steps(experiment):
    from optuna_dashboard import wsgi

    app = wsgi(open_storage(experiment))
    studies = {s["study_name"]: s for s in _dashboard_get(app, "/api/studies")["study_summaries"]}
    for domain in DOMAINS:
        detail = _dashboard_get(app, f"/api/studies/{studies[study_name(domain, 'emix')]['study_id']}")
        assert detail["objective_names"] == [METRIC]  # the study's metric_names, not "Objective 0"
        assert {"key": "domain", "value": domain} in detail["user_attrs"]
        steps = set()
        for trial in detail["trials"]:
            attrs = {a["key"]: a["value"] for a in trial["user_attrs"]}
            assert attrs[FOLDER_ATTR] == trial_name(domain, "emix", trial["number"])
            assert attrs[TUNE_ID_ATTR].startswith("tune")
            steps.update(v["step"] for v in trial["intermediate_values"])
        assert steps == {2, 4}, steps  # optimizer steps, not evaluations 1, 2
