"""What a search is asked to do: the request and the studies it names. Light (no Ray, no torch),
so the command line checks a request before anything heavy is imported."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from dabs_lib.experiment import BASELINE, PARAMS, SECONDS, SHARED, check_name

OBJECTIVE_METRICS = {SECONDS: "min", PARAMS: "min"}  # second objectives for NSGA-II


@dataclass(frozen=True)
class SearchRequest:
    domains: tuple[str, ...] = ("digits",)
    objectives: tuple[str, ...] = ("emix",)
    num_samples: int = 8  # trials per (domain, objective), the DABS default included
    sampler: str = "tpe"
    scheduler: str = "asha"
    seed: int = 0  # with domain and objective, seeds each study's sampler; trial seeds come from the space
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    max_concurrent: int = 0  # 0: as many as the resources allow
    max_failures: int = 1  # in-run retries of an errored trial (from its last checkpoint) before it counts as failed
    storage_path: str = "runs"
    name: str = ""  # experiment name (one folder name); default built from domains, objectives and time
    space_files: tuple[str, ...] = ()  # extra YAML merged over the built-in spaces
    overrides: dict[str, Any] = field(default_factory=dict)  # --set key=value, fixed
    baseline: bool = True  # also run the random-init (`none`) trial per domain
    multi_objective: str = ""  # "" or a key of OBJECTIVE_METRICS, searched with NSGA-II
    keep_checkpoints: int = 2
    grace_period: int = 1  # ASHA: evaluations before the first cut
    reduction_factor: int = 2  # ASHA/HyperBand: keep 1/rf at each rung
    reuse_actors: bool = True
    smoke_test: bool = False
    domain_files: dict[str, str] = field(default_factory=dict)  # user domain name -> its domain file (resume reads it)
    shared_config: bool = False  # one cross-domain study per objective (`shared-<objective>`) instead of one per domain
    warm_start: tuple[str, ...] = ()  # finished experiments whose studies' best configs seed the new studies
    prune_warm: bool = False  # let the scheduler stop --warm-start configs (default: they run their full budget)

    def experiment_name(self) -> str:
        if self.name:
            return check_name(self.name)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return f"{'+'.join(self.domains)}_{'+'.join(self.objectives)}_{stamp}"


def study_pairs(request: SearchRequest) -> list[tuple[str, str]]:
    """(domain, objective) of every study, baselines first: the order trials are handed out."""
    pairs = [(domain, BASELINE) for domain in request.domains] if request.baseline else []
    if request.shared_config:  # the baselines, then one shared study per objective: (SHARED, objective)
        return pairs + [(SHARED, o) for o in request.objectives if o != BASELINE]
    return pairs + [
        (d, o) for d in request.domains for o in request.objectives if o != BASELINE or not request.baseline
    ]


def study_overrides(request: SearchRequest, objective: str) -> dict[str, Any]:
    """What one study's space gets on top of its YAML: its --set values and `--smoke-test`'s flag.
    The random-init baseline has no objective settings: a key that only the searched objectives
    know (`corruption_rate`) is theirs, checked in their studies."""
    smoke = {"smoke_test": True} if request.smoke_test else {}
    if objective != BASELINE:
        return {**request.overrides, **smoke}
    from search_spaces.names import known_names

    own = known_names(objective)
    others = [known_names(o) for o in request.objectives if o != BASELINE]
    mine = {k: v for k, v in request.overrides.items() if k in own or not any(k in names for names in others)}
    return {**mine, **smoke}
