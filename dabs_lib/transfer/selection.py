"""Choose the L2 strength on a validation split, never on test.

The path is fitted on the training features, every strength is scored on the
validation features, and the best one wins (ties go to the stronger strength, which
comes first on the path). By default the probe at the chosen strength is the one fitted
on train along the path (`refit_on="train"`); `refit_on="train+val"` refits on both,
re-standardized, warm-starting down the path to the chosen strength.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dabs_lib.transfer.features import FeatureSet
from dabs_lib.transfer.metrics import better, compute_metric
from dabs_lib.transfer.probes import LinearProbe, as_tensor, fit_path
from dabs_lib.transfer.protocol import ProbeProtocol


@dataclass(frozen=True)
class ProbeFit:
    probe: LinearProbe  # fitted at the chosen strength
    l2: float  # the chosen strength
    val_score: float  # its validation score
    l2_path: tuple[float, ...]  # strengths tried, strongest first
    val_path: tuple[float, ...]  # validation score of each


def carve(num_examples: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit examples, validation examples): a fixed-seed random split of range(num_examples)."""
    if num_examples < 2:
        raise ValueError(f"carving a validation split needs at least 2 training examples, got {num_examples}")
    order = np.random.default_rng(seed).permutation(num_examples)
    n_val = min(num_examples - 1, max(1, int(round(num_examples * fraction))))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def concat(a: FeatureSet, b: FeatureSet) -> FeatureSet:
    """Rows of a then b; b's example ids are shifted so they stay distinct."""
    shift = a.id_span
    return FeatureSet(
        np.concatenate([np.asarray(a.features), np.asarray(b.features)]),
        np.concatenate([a.labels, b.labels]),
        np.concatenate([a.rows, b.rows + shift]),
    )


def best_index(metric: str, scores: list[float]) -> int:
    best = 0
    for i, score in enumerate(scores):
        if better(metric, score, scores[best]):
            best = i
    return best


def score_probe(probe: LinearProbe, split: FeatureSet, metric: str) -> float:
    return compute_metric(metric, probe.kind, probe.scores(split.features), split.labels)


def select_probe(
    train: FeatureSet,
    val: FeatureSet,
    kind: str,
    metric: str,
    num_classes: int,
    protocol: ProbeProtocol,
    device: torch.device,
) -> ProbeFit:
    """Fit the L2 path on train, choose on val, optionally refit on train+val."""
    l2s = protocol.l2_path
    probes = fit_path(train.features, train.labels, kind, num_classes, l2s, protocol.max_iter, device)
    val_x = as_tensor(val.features, device)
    val_scores = [compute_metric(metric, kind, p.scores(val_x), val.labels) for p in probes]
    best = best_index(metric, val_scores)
    probe = probes[best]
    if protocol.refit_on == "train+val":
        both = concat(train, val)
        probe = fit_path(both.features, both.labels, kind, num_classes, l2s[: best + 1], protocol.max_iter, device)[-1]
    return ProbeFit(probe, l2s[best], val_scores[best], tuple(l2s), tuple(val_scores))
