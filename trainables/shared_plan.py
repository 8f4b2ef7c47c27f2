"""The plan of a cross-domain study (`search --shared-config`): one space for every domain.

A name is searched in the shared study when every domain searches it with the same Optuna
distribution; a name whose range differs between domains (e.g. a domain's own batch-size
choices) stays at each domain's own default, as do every domain's fixed values (its model size,
its budget). `shared_names` says which is which, so the CLI can print it before Ray starts.
"""

from __future__ import annotations

from typing import Any

from dabs_lib.experiment import SHARED


def shared_names(per_domain: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(names searched jointly, names left at each domain's default) from domain -> distributions."""
    domains = list(per_domain)
    first = per_domain[domains[0]] if domains else {}
    common = [n for n in first if all(per_domain[d].get(n) == first[n] for d in domains)]
    every = sorted({n for dists in per_domain.values() for n in dists})
    return common, [n for n in every if n not in common]


def shared_plan(objective: str, trials: int, spaces: dict[str, Any]) -> tuple[Any, int]:
    """The StudyPlan of `shared-<objective>` over spaces (domain -> SearchSpace), and its max_t
    (the largest of the domains' full budgets in evaluations)."""
    from ray.tune.search.optuna import OptunaSearch

    from search_spaces import default_point, to_tune
    from trainables.optuna_search import StudyPlan
    from trainables.search import max_evaluations

    per_domain = {}
    for domain, space in spaces.items():
        searched = {k: v for k, v in to_tune(space).items() if k in space.search}
        per_domain[domain] = OptunaSearch.convert_search_space(searched)
    common, _ = shared_names(per_domain)
    first = next(iter(spaces))
    distributions = {n: per_domain[first][n] for n in common}
    fixed_by_domain = {}
    for domain, space in spaces.items():
        defaults = {k: v for k, v in default_point(space).items() if k not in common}
        fixed_by_domain[domain] = {**space.fixed, **defaults}
    default = {n: default_point(spaces[first])[n] for n in common}
    plan = StudyPlan(SHARED, objective, trials, {}, distributions, default, tuple(spaces), fixed_by_domain)
    return plan, max(max_evaluations(space) for space in spaces.values())
