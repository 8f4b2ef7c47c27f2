"""The one Tuner that runs every study of a search request (the request: trainables.request).

One experiment = one Tune run (layout: dabs_lib.experiment). `MultiStudySearcher` holds one
Optuna study per (domain, objective) in `<experiment>/optuna.journal` (the random-init
baselines first, then balanced across studies); `PerStudyScheduler` keeps early stopping
per study; one pool of reused workers runs trials of every study side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ray import tune

from dabs_lib.experiment import (
    BASELINE,
    METRIC,
    SHARED,
    STUDY,
    TRIAL_NUMBER,
    split_study,
    study_name,
    trial_name,
)
from dabs_lib.registry import lookup
from trainables import storage
from trainables.disk_guard import DiskGuard
from trainables.optuna_search import MultiStudySearcher, StudyPlan
from trainables.progress import ProgressPrinter
from trainables.trainable import pretrain_transfer
from trainables.result_mirror import result_loggers
from trainables.request import OBJECTIVE_METRICS, SearchRequest, study_overrides, study_pairs
from trainables.schedulers import PerStudyScheduler
from trainables.shared_plan import shared_plan
from trainables.warm_start import with_warm_start
from trainables.tensorboard import StepTBXLogger
from ray.tune.experiment import Trial

if TYPE_CHECKING:
    from search_spaces.params import SearchSpace


def max_evaluations(space: SearchSpace) -> int:
    """Tune iterations of a full-budget trial: ceil(max_steps / eval_every), max over the range."""

    def largest(key: str) -> float:
        if key in space.search:
            spec = space.search[key]
            return max(spec.choices) if spec.choices else spec.high
        return space.fixed[key]

    return max(1, math.ceil(largest("max_steps") / largest("eval_every"))) if largest("max_steps") else 1


class TrialNamer:
    """`<domain>_<objective>_<number>`, the number being the trial's number in its study."""

    def __call__(self, trial: Trial) -> str:
        domain, objective = split_study(str(trial.config.get(STUDY, "-")))
        shared = domain == SHARED  # a cross-domain study's trial on one domain: <domain>_shared-<objective>_NNN
        return trial_name(
            str(trial.config.get("domain", "")) if shared else domain,
            objective,
            int(trial.config.get(TRIAL_NUMBER, 0)),
            shared,
        )


def metrics(request: SearchRequest) -> tuple[Any, Any]:
    if not request.multi_objective:
        return METRIC, "max"
    mode = lookup(OBJECTIVE_METRICS, request.multi_objective, "second objective")
    return [METRIC, request.multi_objective], ["max", mode]


def load_plans(request: SearchRequest) -> tuple[list[StudyPlan], dict[str, int]]:
    """Every study's plan, and its full-budget evaluation count (the scheduler's max_t)."""
    from ray.tune.search.optuna import OptunaSearch

    from search_spaces import default_point, load_space, to_tune

    plans, max_t = [], {}
    for domain, objective in study_pairs(request):
        overrides = study_overrides(request, objective)
        if domain == SHARED:
            spaces = {d: load_space(objective, d, list(request.space_files), overrides) for d in request.domains}
            shared, max_t[study_name(SHARED, objective)] = shared_plan(objective, request.num_samples, spaces)
            plans.append(shared)
            continue
        space = load_space(objective, domain, list(request.space_files), overrides)
        searched = {k: v for k, v in to_tune(space).items() if k in space.search}
        distributions = OptunaSearch.convert_search_space(searched) if objective != BASELINE else {}
        fixed = dict(space.fixed) if distributions else {**space.fixed, **default_point(space)}
        trials = 1 if not distributions else request.num_samples
        plan = StudyPlan(domain, objective, trials, fixed, distributions, default_point(space) if distributions else {})
        plans.append(plan)
        max_t[plan.name] = max_evaluations(space)
    return with_warm_start(plans, request.warm_start), max_t


@dataclass(frozen=True)
class TrialResources:
    """Resources of one trial, from its config: the GPU share goes to real-data domains when
    the request mixes them with embedded ones (those run on CPU beside them)."""

    cpus: float
    gpus: float
    cpu_only_domains: frozenset[str] = frozenset()

    def __call__(self, config: dict[str, Any]) -> dict[str, float]:
        gpus = 0.0 if config.get("domain") in self.cpu_only_domains else self.gpus
        return {"cpu": self.cpus, "gpu": gpus}


def trainable_for(request: SearchRequest) -> Callable[..., Any]:
    from dabs_lib.datasets import REAL_DOMAINS

    real = {d for d in request.domains if d in REAL_DOMAINS}
    cpu_only = frozenset(set(request.domains) - real) if real and request.gpus_per_trial else frozenset()
    return tune.with_resources(
        pretrain_transfer, TrialResources(request.cpus_per_trial, request.gpus_per_trial, cpu_only)
    )


def build_tuner(request: SearchRequest, experiment_uri: str, journal: str) -> tune.Tuner:
    """The one Tuner of an experiment: every study, one searcher, one scheduler per study."""
    plans, max_t = load_plans(request)
    metric, mode = metrics(request)
    sampler = "nsga2" if request.multi_objective and request.sampler == "tpe" else request.sampler
    searcher = MultiStudySearcher(plans, journal, metric, mode, sampler, request.seed)
    scheduler = PerStudyScheduler(
        "fifo" if request.multi_objective else request.scheduler,
        max_t,
        request.grace_period,
        request.reduction_factor,
        {p.name: p.domains for p in plans if p.shared},
        prune_warm=request.prune_warm,
    )
    searcher.attach(scheduler)
    single = not request.multi_objective
    namer = TrialNamer()
    parent, name = experiment_uri.rstrip("/").rsplit("/", 1)
    tune_config = tune.TuneConfig(
        num_samples=-1,
        search_alg=searcher,
        scheduler=scheduler,
        metric=metric if single else None,
        mode=mode if single else None,
        max_concurrent_trials=request.max_concurrent or None,
        reuse_actors=request.reuse_actors,
        trial_name_creator=namer,
        trial_dirname_creator=namer,
    )
    run_config = tune.RunConfig(
        name=name,
        storage_path=parent,
        checkpoint_config=tune.CheckpointConfig(num_to_keep=request.keep_checkpoints),
        sync_config=tune.SyncConfig(sync_artifacts=True),
        failure_config=tune.FailureConfig(max_failures=request.max_failures),
        callbacks=[
            ProgressPrinter(total=sum(p.trials * max(1, len(p.domains)) for p in plans)),
            StepTBXLogger({p.name: tuple(p.distributions) for p in plans}),
            DiskGuard(storage.local_path(storage_abs(request.storage_path))),
            *result_loggers(),
        ],
        verbose=0,
    )
    return tune.Tuner(trainable_for(request), tune_config=tune_config, run_config=run_config)


def storage_abs(path: str) -> str:
    return path if "://" in path else storage.resolve(path)[1]
