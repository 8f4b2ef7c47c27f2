"""Seeded splits: DABS's own splits (seed 42) and the validation split carved from train.

DABS shuffles with `DataFrame.sample(frac=1, random_state=42)`, which is exactly
`np.random.RandomState(42).permutation(n)`, then takes the first ceil(0.9 n) rows as
train and the last floor(0.1 n) as its "val" (which we call test). We add a validation
split carved from train with the builder's seed, stratified by class (or by group, e.g.
speaker or patient, so that no group is in both), so probe hyperparameters are never
chosen on test.
"""

from __future__ import annotations

import math

import numpy as np

DABS_SEED = 42  # the seed DABS's dataset code uses for every split it makes
VAL_FRACTION = 0.1  # share of a task's train split carved out as validation


def dabs_shuffle(n: int, seed: int = DABS_SEED) -> np.ndarray:
    """The row order DABS gets from pandas' sample(frac=1, random_state=seed)."""
    return np.random.RandomState(seed).permutation(n)


def head_tail(n: int, head_fraction: float = 0.9) -> tuple[int, int]:
    """(ceil(f n), floor((1 - f) n)): DABS's head/tail sizes; they add up to n."""
    head = math.ceil(head_fraction * n)
    return head, n - head


def _count(n: int, fraction: float) -> int:
    """Validation size: at least 1 and at most n - 1 when n >= 2."""
    if n < 2:
        return 0
    return min(n - 1, max(1, round(fraction * n)))


def _apportion(counts: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Split `total` across classes in proportion to `counts` (largest remainders, ties at random)."""
    exact = counts * (total / counts.sum())
    quotas = np.floor(exact).astype(np.int64)
    order = np.lexsort((rng.random(len(counts)), -(exact - quotas)))
    quotas[order[: total - quotas.sum()]] += 1
    return np.minimum(quotas, counts)


def carve_val(
    labels: np.ndarray,
    seed: int,
    fraction: float = VAL_FRACTION,
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(train_index, val_index), both sorted, carved from a split of len(labels) rows.

    With `groups`, whole groups go to validation. Otherwise integer class labels of shape
    (N,) are stratified (round(fraction * N) rows shared out by class counts); other labels
    (multi-label, regression, per-token) are split uniformly at random.
    """
    labels = np.asarray(labels)
    n = len(labels)
    rng = np.random.default_rng(seed)
    if groups is not None:
        names = np.unique(np.asarray(groups))
        chosen = rng.permutation(names)[: _count(len(names), fraction)]
        is_val = np.isin(groups, chosen)
    elif labels.ndim == 1 and np.issubdtype(labels.dtype, np.integer):
        is_val = np.zeros(n, dtype=bool)
        classes, counts = np.unique(labels, return_counts=True)
        quotas = _apportion(counts, _count(n, fraction), rng)
        for value, quota in zip(classes, quotas):
            members = rng.permutation(np.flatnonzero(labels == value))
            is_val[members[:quota]] = True
    else:
        is_val = np.zeros(n, dtype=bool)
        is_val[rng.permutation(n)[: _count(n, fraction)]] = True
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)
