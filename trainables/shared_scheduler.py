"""Early stopping of a cross-domain study: asynchronous successive halving on the aggregate.

A shared trial is one configuration run as one Tune trial per domain. At each rung
(grace_period x reduction_factor^k evaluations) its score is the aggregate over every domain
(dabs_lib.shared.aggregate, normalized gain over each domain's random-init score), known once
every domain has reached the rung. As in Tune's ASHA, it continues when that aggregate is in the
top 1/reduction_factor of the aggregates recorded at the rung so far; otherwise every domain's
trial of the configuration stops (a domain already past the rung stops at its next report). A
domain's trial that reaches the rung before the others continues until the decision.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from ray.tune.experiment import Trial
from ray.tune.schedulers import FIFOScheduler, TrialScheduler

from dabs_lib.experiment import FINAL, TRIAL_NUMBER
from dabs_lib.shared import SharedBook


def rungs(max_t: int, grace_period: int, reduction_factor: int) -> list[int]:
    """Rung milestones below max_t, ascending (as Tune's ASHA places them)."""
    out, milestone = [], max(1, grace_period)
    while milestone < max_t:
        out.append(milestone)
        milestone *= reduction_factor
    return out


class SharedASHA(FIFOScheduler):
    def __init__(
        self,
        domains: tuple[str, ...],
        baselines: dict[str, float],
        max_t: int,
        grace_period: int = 1,
        reduction_factor: int = 2,
        metric: str | None = None,
    ):
        super().__init__()
        self._book = SharedBook(tuple(domains), baselines)  # baselines: the PerStudyScheduler's dict, kept current
        self._rungs = rungs(max_t, grace_period, reduction_factor)
        self._rf = reduction_factor
        self._metric = metric
        self._recorded: dict[int, dict[int, float]] = {m: {} for m in self._rungs}  # rung -> number -> aggregate
        self._decided: dict[int, set[int]] = {}  # number -> rungs decided
        self._stopped: set[int] = set()  # numbers cut at some rung: every domain's trial stops

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: object) -> bool:
        self._metric = metric or self._metric
        return True

    @staticmethod
    def _key(trial: Trial) -> tuple[int, str]:
        return int(trial.config.get(TRIAL_NUMBER, 0)), str(trial.config.get("domain", ""))

    def on_trial_result(self, tune_controller: object, trial: Trial, result: dict[str, Any]) -> str:
        number, domain = self._key(trial)
        value = result.get(self._metric) if self._metric else None
        if value is not None:
            value = float(value) if math.isfinite(float(value)) else math.nan
            self._book.record(number, domain, int(result.get("training_iteration", 0)), value)
        if result.get(FINAL):
            self._book.end(number, domain)
        self._decide(number)
        return TrialScheduler.STOP if number in self._stopped else TrialScheduler.CONTINUE

    def on_trial_complete(self, tune_controller: object, trial: Trial, result: dict[str, Any]) -> None:
        number, domain = self._key(trial)
        self._book.end(number, domain)
        self._decide(number)

    def _decide(self, number: int) -> None:
        """Every rung whose aggregate is now known and not yet decided: record it, cut below the cutoff."""
        decided = self._decided.setdefault(number, set())
        for milestone in self._rungs:
            if milestone in decided or number in self._stopped:
                continue
            value = self._book.aggregate_at(number, milestone)
            if value is None:
                return  # a later rung cannot be decided before this one
            recorded = self._recorded[milestone]
            others = [v for v in recorded.values() if math.isfinite(v)]
            cutoff = float(np.percentile(others, (1 - 1 / self._rf) * 100)) if others else None
            recorded[number] = value
            decided.add(milestone)
            if not math.isfinite(value) or (cutoff is not None and value < cutoff):
                self._stopped.add(number)

    def debug_string(self) -> str:
        return f"shared ASHA: rungs {self._rungs}, {len(self._stopped)} configurations stopped"
