"""Transfer metrics over a whole split (never averaged over batches), in numpy.

Probe outputs ("scores") by task kind:
- multiclass / per_token: (N, C) class probabilities, labels (N,) class ids;
- binary: (N,) probability of class 1, labels (N,) in {0, 1};
- multilabel: (N, K) per-label probabilities, labels (N, K) in {0, 1};
- regression: (N,) or (N, K) predictions, labels of the same shape.
Hard predictions are the argmax (multiclass) or probability >= 0.5 (binary, multilabel).
Multi-label accuracy is the mean per-label accuracy, multi-label MCC is computed on the
flattened (micro) label matrix, and multi-label weighted F1 weighs each label's F1 by its
number of positives (as scikit-learn does).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dabs_lib.domains.base import METRIC_DIRECTIONS
from dabs_lib.registry import lookup

CLASSIFICATION = ("multiclass", "per_token", "binary", "multilabel")


def hard_predictions(kind: str, scores: np.ndarray) -> np.ndarray:
    if kind in ("multiclass", "per_token"):
        return scores.argmax(axis=-1)
    if kind in ("binary", "multilabel"):
        return (scores >= 0.5).astype(np.int64)
    return scores


def rankdata(values: np.ndarray) -> np.ndarray:
    """1-based ranks; tied values share the average of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    end = np.cumsum(counts).astype(np.float64)
    return ((end - counts + 1 + end) / 2.0)[inverse.reshape(-1)]


def _pearson_1d(a: np.ndarray, b: np.ndarray) -> float:
    a = a.astype(np.float64) - a.mean()
    b = b.astype(np.float64) - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else float("nan")


def _columns(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def _continuous(kind: str, scores: np.ndarray) -> np.ndarray:
    """What correlations compare with the labels: predictions, probabilities or class ids."""
    return scores.argmax(axis=-1) if kind in ("multiclass", "per_token") else scores


def pearson(kind: str, scores: np.ndarray, labels: np.ndarray) -> float:
    a, b = _columns(_continuous(kind, scores)), _columns(labels)
    return float(np.mean([_pearson_1d(a[:, k], b[:, k]) for k in range(a.shape[1])]))


def spearman(kind: str, scores: np.ndarray, labels: np.ndarray) -> float:
    a, b = _columns(_continuous(kind, scores)), _columns(labels)
    return float(np.mean([_pearson_1d(rankdata(a[:, k]), rankdata(b[:, k])) for k in range(a.shape[1])]))


def accuracy(kind: str, scores: np.ndarray, labels: np.ndarray) -> float:
    if kind not in CLASSIFICATION:
        raise ValueError(f"accuracy needs a classification task, but the task kind is {kind!r}")
    return float(np.mean(hard_predictions(kind, scores) == labels))


def binary_auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Mann-Whitney AUROC with ties counted half; NaN when one class is absent."""
    positive = positive.astype(bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def auroc(kind: str, scores: np.ndarray, labels: np.ndarray) -> float:
    """Binary AUROC, or the macro mean over classes (one-vs-rest) / labels that have both outcomes."""
    if kind == "binary":
        return binary_auroc(scores, labels)
    if kind in ("multiclass", "per_token"):
        columns = [binary_auroc(scores[:, c], labels == c) for c in range(scores.shape[1])]
    elif kind == "multilabel":
        columns = [binary_auroc(scores[:, k], labels[:, k]) for k in range(scores.shape[1])]
    else:
        raise ValueError(f"auroc needs a classification task, but the task kind is {kind!r}")
    defined = [c for c in columns if not np.isnan(c)]
    return float(np.mean(defined)) if defined else float("nan")


def _confusion(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    classes, index = np.unique(np.concatenate([truth, predicted]), return_inverse=True)
    k, n = len(classes), len(truth)
    matrix = np.zeros((k, k), dtype=np.float64)
    np.add.at(matrix, (index[:n], index[n:]), 1.0)  # rows: true class, columns: predicted
    return matrix


def mcc(kind: str, scores: np.ndarray, labels: np.ndarray) -> float:
    """Matthews correlation (multiclass form of Gorodkin 2004); 0 when undefined."""
    if kind not in CLASSIFICATION:
        raise ValueError(f"mcc needs a classification task, but the task kind is {kind!r}")
    matrix = _confusion(labels.reshape(-1), hard_predictions(kind, scores).reshape(-1))
    t, p = matrix.sum(axis=1), matrix.sum(axis=0)
    s, c = matrix.sum(), np.trace(matrix)
    denominator = np.sqrt((s * s - p @ p) * (s * s - t @ t))
    return float((c * s - t @ p) / denominator) if denominator > 0 else 0.0


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)


def f1_weighted(kind: str, scores: np.ndarray, labels: np.ndarray) -> float:
    """Per-class F1 weighted by the number of true examples of each class."""
    predicted = hard_predictions(kind, scores)
    if kind == "multilabel":
        tp = ((predicted == 1) & (labels == 1)).sum(0)
        fp = ((predicted == 1) & (labels == 0)).sum(0)
        fn = ((predicted == 0) & (labels == 1)).sum(0)
        support = labels.sum(0).astype(np.float64)
        f1 = _f1(tp, fp, fn)
    elif kind in CLASSIFICATION:
        matrix = _confusion(labels.reshape(-1), predicted.reshape(-1))
        tp = np.diag(matrix)
        support = matrix.sum(axis=1)
        f1 = _f1(tp, matrix.sum(axis=0) - tp, support - tp)
    else:
        raise ValueError(f"f1_weighted needs a classification task, but the task kind is {kind!r}")
    return float((f1 * support).sum() / support.sum()) if support.sum() > 0 else 0.0


MetricFn = Callable[[str, np.ndarray, np.ndarray], float]

METRICS: dict[str, MetricFn] = {
    "accuracy": accuracy,
    "auroc": auroc,
    "pearson": pearson,
    "spearman": spearman,
    "mcc": mcc,
    "f1_weighted": f1_weighted,
}
assert set(METRICS) == set(METRIC_DIRECTIONS), "every declared metric needs an implementation"


def compute_metric(metric: str, kind: str, scores: np.ndarray, labels: np.ndarray) -> float:
    """metric(kind, scores, labels) over the whole split; see the module doc for shapes."""
    return lookup(METRICS, metric, "metric")(kind, np.asarray(scores), np.asarray(labels))


def better(metric: str, a: float, b: float) -> bool:
    """True when score a beats score b in the metric's direction (NaN never wins)."""
    if np.isnan(a):
        return False
    if np.isnan(b):
        return True
    return a > b if METRIC_DIRECTIONS[metric] else a < b
