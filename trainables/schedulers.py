"""Samplers and schedulers by name: plain dicts of factories, one lookup message."""
from __future__ import annotations

import importlib.util

import optuna
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, HyperBandScheduler, MedianStoppingRule

from dabs_lib.registry import lookup


def _cmaes(seed: int) -> optuna.samplers.BaseSampler:
    if importlib.util.find_spec("cmaes") is None:
        raise ValueError("sampler 'cmaes' needs the `cmaes` package: pip install cmaes")
    return optuna.samplers.CmaEsSampler(seed=seed)


# Explicit samplers with explicit settings, so behaviour does not drift between Optuna releases.
SAMPLERS = {
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True,
                                                   n_startup_trials=4),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "gp": lambda seed: optuna.samplers.GPSampler(seed=seed, n_startup_trials=4),
    "cmaes": _cmaes,
    "nsga2": lambda seed: optuna.samplers.NSGAIISampler(seed=seed, population_size=8),
}

# Each factory takes max_t (evaluations in a full-budget trial) and the ASHA knobs.
SCHEDULERS = {
    "asha": lambda max_t, grace, rf: ASHAScheduler(time_attr="training_iteration", max_t=max_t,
                                                   grace_period=min(grace, max_t), reduction_factor=rf),
    "hyperband": lambda max_t, grace, rf: HyperBandScheduler(time_attr="training_iteration", max_t=max_t,
                                                             reduction_factor=rf),
    "median": lambda max_t, grace, rf: MedianStoppingRule(time_attr="training_iteration",
                                                          grace_period=min(grace, max_t), min_samples_required=2),
    "fifo": lambda max_t, grace, rf: FIFOScheduler(),
}

REFUSED_SCHEDULERS = {
    "pbt": "PBT mutates running trials and refuses any search algorithm; use asha, hyperband, median or fifo",
    "pb2": "PB2 mutates running trials and refuses any search algorithm; use asha, hyperband, median or fifo",
}


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    return lookup(SAMPLERS, name, "sampler")(seed)


def make_scheduler(name: str, max_t: int, grace_period: int = 1, reduction_factor: int = 2):
    if name in REFUSED_SCHEDULERS:
        raise ValueError(f"scheduler {name!r} cannot be combined with the Optuna searcher: {REFUSED_SCHEDULERS[name]}")
    return lookup(SCHEDULERS, name, "scheduler")(max_t, grace_period, reduction_factor)
