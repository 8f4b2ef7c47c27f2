"""Run a search: one Optuna study per (domain, objective), plus a random-init baseline.

Layout under `storage_path/<name>/`:
    search.json                  the request and the status of every study (the manifest)
    <domain>-<objective>/        a Tune experiment: trial folders, searcher state, study.json
    <domain>-none/               the random-init baseline (one trial)
Each study is a separate Tuner run, so it can be resumed, analysed or deleted on its own.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ray import tune

from dabs_lib.registry import lookup
from trainables import storage
from trainables.optuna_search import TRIAL_NUMBER, BudgetAwareOptunaSearch
from trainables.pretrain_transfer import pretrain_transfer
from trainables.progress import ProgressPrinter
from trainables.schedulers import make_sampler, make_scheduler

METRIC = "transfer/val"
MANIFEST = "search.json"
OBJECTIVE_METRICS = {"seconds": "min", "params": "min"}  # second objectives for NSGA-II


@dataclass(frozen=True)
class SearchRequest:
    domains: tuple[str, ...] = ("digits",)
    objectives: tuple[str, ...] = ("emix",)
    num_samples: int = 8  # trials per (domain, objective), the DABS default included
    sampler: str = "tpe"
    scheduler: str = "asha"
    seed: int = 0  # seeds the sampler; trial seeds come from the space
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    max_concurrent: int = 0  # 0: as many as the resources allow
    storage_path: str = "runs"
    name: str = ""  # experiment name; default built from domains, objectives and time
    space_files: tuple[str, ...] = ()  # extra YAML merged over the built-in spaces
    overrides: dict[str, Any] = field(default_factory=dict)  # --set key=value, fixed
    baseline: bool = True  # also run the random-init (`none`) trial per domain
    multi_objective: str = ""  # "" or a key of OBJECTIVE_METRICS, searched with NSGA-II
    keep_checkpoints: int = 2
    grace_period: int = 1  # ASHA: evaluations before the first cut
    reduction_factor: int = 2  # ASHA/HyperBand: keep 1/rf at each rung
    reuse_actors: bool = True
    smoke_test: bool = False

    def experiment_name(self) -> str:
        if self.name:
            return self.name
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return f"{'+'.join(self.domains)}_{'+'.join(self.objectives)}_{stamp}"


def study_names(request: SearchRequest) -> list[tuple[str, str]]:
    pairs = []
    for domain in request.domains:
        if request.baseline:
            pairs.append((domain, "none"))
        pairs.extend((domain, objective) for objective in request.objectives)
    return pairs


def max_evaluations(space) -> int:
    """Tune iterations of a full-budget trial: ceil(max_steps / eval_every), max over the range."""
    def largest(key: str) -> float:
        if key in space.search:
            spec = space.search[key]
            return max(spec.choices) if spec.choices else spec.high
        return space.fixed[key]
    return max(1, math.ceil(largest("max_steps") / largest("eval_every"))) if largest("max_steps") else 1


class TrialNamer:
    """`<domain>_<objective>_<number>`, the number being the Optuna study's trial number."""

    def __init__(self, domain: str, objective: str):
        self.prefix = f"{domain}_{objective}"

    def __call__(self, trial) -> str:
        return f"{self.prefix}_{int(trial.config.get(TRIAL_NUMBER, 0)):03d}"


def _metrics(request: SearchRequest) -> tuple[Any, Any]:
    if not request.multi_objective:
        return METRIC, "max"
    mode = lookup(OBJECTIVE_METRICS, request.multi_objective, "second objective")
    return [METRIC, request.multi_objective], ["max", mode]


def build_tuner(request: SearchRequest, domain: str, objective: str, experiment: str) -> tune.Tuner:
    from search_spaces import default_config, default_point, load_space, to_tune

    overrides = dict(request.overrides)
    if request.smoke_test:
        overrides["smoke_test"] = True
    space = load_space(objective, domain, list(request.space_files), overrides)
    baseline = objective == "none" or not space.search
    metric, mode = _metrics(request)
    namer = TrialNamer(domain, objective)
    tune_config = tune.TuneConfig(num_samples=1 if baseline else request.num_samples,
                                  max_concurrent_trials=request.max_concurrent or None,
                                  reuse_actors=request.reuse_actors,
                                  trial_name_creator=namer, trial_dirname_creator=namer)
    if not baseline:
        sampler = make_sampler("nsga2" if request.multi_objective and request.sampler == "tpe" else request.sampler,
                               request.seed)
        searcher = BudgetAwareOptunaSearch(metric=metric, mode=mode, sampler=sampler,
                                           points_to_evaluate=[default_point(space)])
        scheduler_name = "fifo" if request.multi_objective else request.scheduler
        scheduler = make_scheduler(scheduler_name, max_evaluations(space), request.grace_period,
                                   request.reduction_factor)
        tune_config = dataclasses.replace(tune_config, search_alg=searcher, scheduler=scheduler,
                                          metric=None if request.multi_objective else metric,
                                          mode=None if request.multi_objective else mode)
    run_config = tune.RunConfig(
        name=f"{domain}-{objective}",
        storage_path=storage.join(storage_abs(request.storage_path), experiment),
        checkpoint_config=tune.CheckpointConfig(num_to_keep=request.keep_checkpoints),
        sync_config=tune.SyncConfig(sync_artifacts=True),
        failure_config=tune.FailureConfig(max_failures=0),
        callbacks=[ProgressPrinter(domain, objective)],
        verbose=0,
    )
    param_space = default_config(space) if baseline else to_tune(space)
    return tune.Tuner(trainable_for(request), param_space=param_space, tune_config=tune_config,
                      run_config=run_config)


def storage_abs(path: str) -> str:
    return path if "://" in path else storage.resolve(path)[1]


def trainable_for(request: SearchRequest):
    resources = {"cpu": request.cpus_per_trial, "gpu": request.gpus_per_trial}
    return tune.with_resources(pretrain_transfer, resources)
