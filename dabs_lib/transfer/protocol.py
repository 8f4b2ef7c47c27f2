"""How a transfer task is scored (ProbeProtocol) and what comes back (TransferResult).

The default protocol is the frozen linear probe: featurize once, standardize with
train statistics, fit a path of L2 strengths on `task.train`, choose the strength on
`task.val`, and score `task.test` once with the probe fitted at the chosen strength.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

from dabs_lib.probe_path import L2_MAX, L2_MIN, L2_STEPS

from dabs_lib.settings_rules import POOLINGS

PROBE_KINDS = ("linear", "finetune")
VAL_SOURCES = ("task", "carve")
REFIT_SPLITS = ("train", "train+val")


@dataclass(frozen=True)
class ProbeProtocol:
    kind: str = "linear"  # "linear" (frozen probe, the default score) or "finetune" (unfrozen encoder)
    l2_min: float = L2_MIN  # weakest L2 strength on the path (loss = mean loss + l2/2 * ||W||^2)
    l2_max: float = L2_MAX  # strongest L2 strength; the path starts here and warm-starts downwards
    l2_steps: int = L2_STEPS  # log-spaced strengths on the path; at least 8
    pooling: str | None = None  # "mean" | "cls" overrides the encoder's pooling; None keeps it
    max_iter: int = 100  # L-BFGS iterations per strength (warm starts make later ones cheap)
    batch_size: int = 256  # featurization batch; memory only, features do not depend on it
    device: str | None = None  # None = CUDA when present, else CPU
    val_source: str = "task"  # "task": task.val (carved when empty); "carve": always carve from train
    val_fraction: float = 0.1  # share of train carved as validation when carving
    val_seed: int = 0  # fixed seed of the carve, so every trial chooses on the same rows
    search_rows: int = 1000  # probe_val (the in-search signal) reads a fixed seeded sample of at most
    # this many train and val examples; 0 = whole splits. Final scores (evaluate_transfer) use whole splits.
    # 1,000: the probe stays under 10% of a DABS-size trial on a 50k-row task (2,000 was 15%;
    # bench/probe_share.py, BENCHMARKS.md), and the embedded domains (<= 1,000 train rows) are unchanged.
    refit_on: str = "train"  # refit at the chosen L2 on "train" (default) or "train+val"
    fewshot_sizes: tuple[int, ...] = ()  # examples per class, e.g. (1, 5, 10); () = no few-shot
    fewshot_draws: int = 5  # seeded draws per size; mean and spread are reported
    fewshot_seed: int = 0  # draw d uses seed fewshot_seed + d
    finetune_lr: float = 1e-4  # AdamW lr of encoder + head when kind == "finetune"
    finetune_weight_decay: float = 1e-4  # AdamW weight decay when fine-tuning
    finetune_epochs: int = 10  # fine-tuning epochs over task.train
    finetune_batch_size: int = 64  # fine-tuning minibatch size
    seed: int = 0  # fine-tuning head init and data order

    def __post_init__(self) -> None:
        checks = [  # (holds, what must hold, the fields it reads)
            (self.kind in PROBE_KINDS, f"kind in {PROBE_KINDS}", "kind"),
            (self.l2_steps >= 8, "l2_steps >= 8", "l2_steps"),
            (0 < self.l2_min < self.l2_max, "0 < l2_min < l2_max", "l2_min, l2_max"),
            (self.pooling is None or self.pooling in POOLINGS, f"pooling None or in {POOLINGS}", "pooling"),
            (self.max_iter >= 1, "max_iter >= 1", "max_iter"),
            (self.batch_size >= 1, "batch_size >= 1", "batch_size"),
            (self.val_source in VAL_SOURCES, f"val_source in {VAL_SOURCES}", "val_source"),
            (0 < self.val_fraction < 1, "0 < val_fraction < 1", "val_fraction"),
            (self.search_rows >= 0, "search_rows >= 0", "search_rows"),
            (self.refit_on in REFIT_SPLITS, f"refit_on in {REFIT_SPLITS}", "refit_on"),
            (all(n >= 1 for n in self.fewshot_sizes), "every fewshot_sizes entry >= 1", "fewshot_sizes"),
            (self.fewshot_draws >= 1, "fewshot_draws >= 1", "fewshot_draws"),
            (self.finetune_epochs >= 1, "finetune_epochs >= 1", "finetune_epochs"),
        ]
        for ok, rule, names in checks:
            if not ok:
                got = ", ".join(f"{n}={getattr(self, n)!r}" for n in names.split(", "))
                raise ValueError(f"{rule} must hold, but got {got} in ProbeProtocol")

    @property
    def l2_path(self) -> tuple[float, ...]:
        """Decreasing, log-spaced strengths from l2_max to l2_min."""
        lo, hi, n = math.log(self.l2_min), math.log(self.l2_max), self.l2_steps
        inner = tuple(math.exp(hi + (lo - hi) * i / (n - 1)) for i in range(1, n - 1))
        return (self.l2_max, *inner, self.l2_min)  # the ends exactly as given


@dataclass(frozen=True)
class FewShotResult:
    shots: int  # examples per class in each draw
    mean: float  # mean test score over draws
    std: float  # standard deviation over draws (ddof=0)
    scores: tuple[float, ...]  # one test score per draw
    l2s: tuple[float, ...]  # the L2 strength chosen on task.val for each draw


@dataclass(frozen=True)
class TransferResult:
    task: str  # task name
    metric: str  # one of METRIC_DIRECTIONS
    higher_is_better: bool  # the metric's direction
    score: float  # test score (NaN when the test split was not evaluated)
    val_score: float  # validation score at the chosen L2 (or after fine-tuning)
    l2: float  # chosen L2 strength (NaN for fine-tuning)
    featurize_seconds: float  # encoder time (near 0 on a cache hit)
    probe_seconds: float  # probe path, selection, refit and scoring
    cache_hit: bool  # every split's features came from the cache
    kind: str = "linear"  # the protocol kind that produced the score
    l2_path: tuple[float, ...] = ()  # strengths tried, strongest first
    val_path: tuple[float, ...] = ()  # validation score at each strength
    n_train: int = 0  # examples (per-token: sequences) the probe was fitted on
    n_val: int = 0  # examples the strength was chosen on
    n_test: int = 0  # examples scored for the final score
    fewshot: tuple[FewShotResult, ...] = field(default=())  # one entry per few-shot size

    @property
    def seconds(self) -> float:
        return self.featurize_seconds + self.probe_seconds


class ProbeScore(NamedTuple):
    """What `probe_val` returns inside a search trial (no test split involved)."""

    val_score: float
    l2: float
    seconds: float
