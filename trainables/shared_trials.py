"""The searcher's side of a cross-domain study (`search --shared-config`).

One Optuna trial of study `shared-<objective>` is one configuration; it is handed to Tune as
one trial per domain, one after the other (scheduled together). Each domain's reports go to a
`dabs_lib.shared.SharedBook`; the Optuna trial gets the aggregate (dabs_lib.shared.aggregate)
as its intermediate value at evaluation k once every domain has reported k, and is told
COMPLETE with the aggregate of the final scores when every domain reached its full budget,
PRUNED when any domain's trial was stopped. Shared trials start only once every domain's
random-init baseline is known (the aggregate's reference).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dabs_lib.experiment import FINAL
from dabs_lib.shared import BASELINE_FALLBACK, SharedBook, aggregate


@dataclass
class SharedTrials:
    domains: tuple[str, ...]
    metric: str
    awaited: set[str] = field(default_factory=set)  # domains whose baseline is still to come
    book: SharedBook = field(init=False)
    pending: list[tuple[int, str]] = field(default_factory=list)  # (trial number, domain) not handed out yet
    live: dict[str, tuple[int, str]] = field(default_factory=dict)  # Tune trial id -> (number, domain)
    final: dict[int, dict[str, bool]] = field(default_factory=dict)  # number -> domain -> reached full budget

    def __post_init__(self) -> None:
        self.book = SharedBook(self.domains)
        self.awaited = set(self.awaited)

    def ready(self) -> bool:
        """Every domain's random-init score is known (or its baseline errored)."""
        return not self.awaited

    def baseline(self, domain: str, result: dict[str, Any] | None, errored: bool = False) -> None:
        value = (result or {}).get(self.metric)
        if errored or value is None or not math.isfinite(float(value)):
            self.book.baselines[domain] = BASELINE_FALLBACK
        else:
            self.book.baselines[domain] = float(value)
        self.awaited.discard(domain)

    def start(self, number: int) -> None:
        self.pending.extend((number, domain) for domain in self.domains)

    def hand_out(self, trial_id: str) -> tuple[int, str] | None:
        if not self.pending:
            return None
        number, domain = self.pending.pop(0)
        self.live[trial_id] = (number, domain)
        return number, domain

    def result(self, trial_id: str, result: dict[str, Any]) -> tuple[int, int, float] | None:
        """(number, step, aggregate at step) once every domain has that step, else None."""
        value = result.get(self.metric)
        if trial_id not in self.live or value is None:
            return None
        number, domain = self.live[trial_id]
        step = int(result.get("training_iteration", 0))
        self.book.record(number, domain, step, float(value) if math.isfinite(float(value)) else math.nan)
        agg = self.book.aggregate_at(number, step)
        return None if agg is None else (number, step, agg)

    def complete(
        self, trial_id: str, result: dict[str, Any] | None
    ) -> tuple[int, bool, float, dict[str, float]] | None:
        """When the last domain of a shared trial ends: (number, complete?, aggregate, domain scores)."""
        number, domain = self.live[trial_id]
        if result is not None:
            self.result(trial_id, result)
        self.final.setdefault(number, {})[domain] = bool((result or {}).get(FINAL))
        self.book.end(number, domain)
        if not self.book.all_ended(number):
            return None
        scores = self.book.last_scores(number)
        complete = all(self.final[number].get(d, False) for d in self.domains) and len(scores) == len(self.domains)
        return number, complete, aggregate(scores, self.book.baselines), scores
