"""The cross-domain study's score: the one owner of its formula. No Ray, no torch.

One configuration is evaluated on every chosen domain; its score is the mean over domains of
the normalized gain over that domain's random-init baseline:

    gain_d = (score_d - random_init_d) / max(1 - random_init_d, HEADROOM_FLOOR)
    score  = mean_d gain_d

Why this normalization: every validation score (`transfer/val`) is accuracy or AUROC, bounded
above by 1, so `1 - random_init_d` is the headroom pretraining can win on domain d and gain_d
is the share of it won (0: no better than random init, 1: perfect, < 0: worse than random init).
Raw means would let the domain with the widest spread of scores pick the configuration; the
baseline's spread over seeds would be the other choice, but a search runs one random-init trial
per domain, which has no spread. HEADROOM_FLOOR keeps a domain that random init already
saturates from dividing by ~0.

`SharedBook` keeps every domain's reports of each shared trial and answers "what is the
aggregate at evaluation k" once every domain has reported evaluation k (or finished before it:
its last score counts), so early stopping and the sampler use every domain's evaluations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

HEADROOM_FLOOR = 0.01
AGGREGATE_ATTR = "domain_scores"  # Optuna user attribute of a shared trial: {domain: final val score}
BASELINE_FALLBACK = 0.0  # random_init_d when a domain's baseline trial errored (gain = raw score)


def normalized_gain(score: float, random_init: float) -> float:
    """gain_d: the share of the headroom above random init that `score` wins (see the module doc)."""
    return (score - random_init) / max(1.0 - random_init, HEADROOM_FLOOR)


def aggregate(scores: dict[str, float], baselines: dict[str, float]) -> float:
    """The cross-domain score of one configuration: mean over domains of normalized_gain.
    A non-finite domain score (a diverged trial) makes the aggregate NaN."""
    gains = [normalized_gain(float(s), baselines.get(d, BASELINE_FALLBACK)) for d, s in scores.items()]
    if not gains or any(not math.isfinite(g) for g in gains):
        return math.nan
    return sum(gains) / len(gains)


@dataclass
class SharedBook:
    """Reports of shared trials per domain, and the domains' random-init scores."""

    domains: tuple[str, ...]
    baselines: dict[str, float] = field(default_factory=dict)
    reports: dict[int, dict[str, dict[int, float]]] = field(default_factory=dict)  # number -> domain -> step -> score
    finished: dict[int, set[str]] = field(default_factory=dict)  # number -> domains whose trial ended

    def record(self, number: int, domain: str, step: int, score: float) -> None:
        self.reports.setdefault(number, {}).setdefault(domain, {})[int(step)] = float(score)

    def end(self, number: int, domain: str) -> None:
        self.finished.setdefault(number, set()).add(domain)

    def all_ended(self, number: int) -> bool:
        return set(self.domains) <= self.finished.get(number, set())

    def score_at(self, number: int, domain: str, step: int) -> float | None:
        """The domain's score at `step`: its report there, or its last one if its trial ended before."""
        steps = self.reports.get(number, {}).get(domain, {})
        if step in steps:
            return steps[step]
        earlier = [s for s in steps if s < step]
        if earlier and domain in self.finished.get(number, set()):
            return steps[max(earlier)]
        return None

    def aggregate_at(self, number: int, step: int) -> float | None:
        """The aggregate at evaluation `step` once every domain has it, else None."""
        scores = {d: self.score_at(number, d, step) for d in self.domains}
        if any(v is None for v in scores.values()):
            return None
        return aggregate({d: float(v) for d, v in scores.items() if v is not None}, self.baselines)

    def last_scores(self, number: int) -> dict[str, float]:
        """Each domain's last reported score of a shared trial."""
        return {d: steps[max(steps)] for d, steps in self.reports.get(number, {}).items() if steps}
