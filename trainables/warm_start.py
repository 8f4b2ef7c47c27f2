"""`search --warm-start EXPERIMENT...`: seed each new study with the best configurations of the
finished studies of the same objective in other experiments (other domains, or a cross-domain study).

What is carried over is configurations only, never scores: the WARM_TOP best COMPLETE trials of
every source study (by its own validation score) are enqueued right after the study's DABS
default (trial 0), every source's best before any source's second (`interleave`), so they are
the study's trials 1, 2, ... and TPE learns from the target domain's own scores of them. Optuna
5's TPE takes no data prior (TPESampler's `prior_weight` weighs a flat prior over the range); its
CmaEsSampler does (`source_trials`, warm-starting CMA-ES), but needs the `cmaes` package, which
the pinned set does not hold, and `study.add_trials` would add the source domain's scores to the
target study as if measured there; scores of different domains are not comparable, so the
sampler would chase another domain's optimum. Enqueueing keeps the target study's history the
target domain's alone. The scheduler lets the enqueued configurations run their full budget
(trainables.schedulers.PerStudyScheduler) unless --prune-warm-start.

A parameter the source did not search, or whose value lies outside the target's range, is
left out of the enqueued configuration, and the target's sampler chooses it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.study._frozen import FrozenStudy

from dabs_lib.experiment import ExperimentError, open_storage, read_manifest, split_study

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from trainables.optuna_search import StudyPlan

WARM_TOP = 2  # best configurations taken from each source study


def check_warm_start(paths: tuple[str, ...], objectives: tuple[str, ...]) -> None:
    """Each path must be a dabs-tune experiment holding a completed trial of a requested objective;
    else ValueError naming the flag, what must hold and what was given (before Ray starts)."""
    for path in paths:
        try:
            read_manifest(path)
            storage = open_storage(path)
        except (ExperimentError, OSError, ValueError) as error:
            raise ValueError(f"--warm-start must name finished dabs-tune experiments, but {path!r}: {error}") from None
        found = sorted({split_study(s.study_name)[1] for s in storage.get_all_studies() if _best(storage, s)})
        if not set(found) & set(objectives):
            raise ValueError(
                f"--warm-start {path}: must hold a completed trial of objective "
                f"{' or '.join(objectives)}, but it has completed trials of {found or 'none'}"
            )


def _best(storage: optuna.storages.BaseStorage, summary: FrozenStudy) -> list[FrozenTrial]:
    """The completed trials of one study, best first (single-objective studies only)."""
    from optuna.trial import TrialState

    if len(summary.directions) != 1:
        return []
    trials = [
        t
        for t in storage.get_all_trials(summary._study_id, deepcopy=False)
        if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)
    ]
    return sorted(trials, key=lambda t: -t.value)  # type: ignore[operator]  # None filtered out above


def _fits(distribution: optuna.distributions.BaseDistribution, value: Any) -> bool:
    try:
        return bool(distribution._contains(distribution.to_internal_repr(value)))
    except (ValueError, TypeError):
        return False


def fit_config(params: dict[str, Any], distributions: dict[str, Any]) -> dict[str, Any]:
    """The part of a source configuration the target study can enqueue: its names, inside its ranges."""
    return {k: v for k, v in params.items() if k in distributions and _fits(distributions[k], v)}


def interleave(ranked: list[list[dict[str, Any]]]) -> tuple[dict[str, Any], ...]:
    """Each source's best configuration, then each source's second, ... (duplicates dropped): every
    source domain's best is tried before any source's runner-up, which is often a near copy of its best."""
    configs: list[dict[str, Any]] = []
    for rank in range(max((len(r) for r in ranked), default=0)):
        for source in ranked:
            if rank < len(source) and source[rank] and source[rank] not in configs:
                configs.append(source[rank])
    return tuple(configs)


def warm_configs(paths: tuple[str, ...], objective: str, distributions: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """The configurations to enqueue for a study of `objective`: WARM_TOP per source study (in the
    order of `paths`, then by study name), interleaved, fitted to the target's ranges."""
    ranked: list[list[dict[str, Any]]] = []
    for path in paths:
        storage = open_storage(Path(path))
        for summary in sorted(storage.get_all_studies(), key=lambda s: s.study_name):
            if split_study(summary.study_name)[1] == objective:
                ranked.append([fit_config(t.params, distributions) for t in _best(storage, summary)[:WARM_TOP]])
    return interleave(ranked)


def with_warm_start(plans: list[StudyPlan], paths: tuple[str, ...]) -> list[StudyPlan]:
    """Every searched plan with its warm configurations (no change without --warm-start)."""
    import dataclasses

    if not paths:
        return plans
    return [
        dataclasses.replace(p, warm=warm_configs(paths, p.objective, p.distributions)) if p.distributions else p
        for p in plans
    ]
