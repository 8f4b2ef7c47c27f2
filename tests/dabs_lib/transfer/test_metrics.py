"""Metrics over the whole split, checked against hand computations and scikit-learn."""

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from dabs_lib.domains.base import METRIC_DIRECTIONS
from dabs_lib.transfer.metrics import METRICS, better, compute_metric, rankdata


def _multiclass(seed=0, n=300, c=4):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, n)
    logits = rng.normal(size=(n, c)) + 1.5 * np.eye(c)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return probs, labels


def test_every_declared_metric_has_an_implementation():
    assert set(METRICS) == set(METRIC_DIRECTIONS)


def test_rankdata_averages_ties():
    np.testing.assert_allclose(rankdata(np.array([10.0, 20.0, 20.0, 5.0, 20.0])), [2, 4, 4, 1, 4])


def test_spearman_with_ties_by_hand():
    pred = np.array([1.0, 2.0, 2.0, 3.0])
    truth = np.array([1.0, 1.0, 2.0, 3.0])
    # ranks: pred (1, 2.5, 2.5, 4), truth (1.5, 1.5, 3, 4); Pearson of those ranks:
    a, b = np.array([1, 2.5, 2.5, 4]) - 2.5, np.array([1.5, 1.5, 3, 4]) - 2.5
    expected = (a @ b) / np.sqrt((a @ a) * (b @ b))
    assert compute_metric("spearman", "regression", pred, truth) == pytest.approx(expected)
    assert expected == pytest.approx(stats.spearmanr(pred, truth).statistic)


@pytest.mark.parametrize("seed", [0, 1])
def test_correlations_match_scipy_on_regression(seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 5, 200).astype(float)  # many ties
    pred = truth + rng.normal(size=200)
    pred[:20] = 1.0  # ties in the predictions too
    assert compute_metric("pearson", "regression", pred, truth) == pytest.approx(stats.pearsonr(pred, truth).statistic)
    expected = stats.spearmanr(pred, truth).statistic
    assert compute_metric("spearman", "regression", pred, truth) == pytest.approx(expected)


def test_multiclass_metrics_match_sklearn():
    probs, labels = _multiclass()
    hard = probs.argmax(1)
    assert compute_metric("accuracy", "multiclass", probs, labels) == pytest.approx(skm.accuracy_score(labels, hard))
    assert compute_metric("mcc", "multiclass", probs, labels) == pytest.approx(skm.matthews_corrcoef(labels, hard))
    assert compute_metric("f1_weighted", "multiclass", probs, labels) == pytest.approx(
        skm.f1_score(labels, hard, average="weighted")
    )
    assert compute_metric("auroc", "multiclass", probs, labels) == pytest.approx(
        skm.roc_auc_score(labels, probs, multi_class="ovr", average="macro")
    )


def test_binary_metrics_match_sklearn_with_tied_scores():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 150)
    probs = np.round(np.clip(0.5 * labels + rng.uniform(0, 0.6, 150), 0, 1), 1)  # coarse: ties
    hard = (probs >= 0.5).astype(int)
    assert compute_metric("auroc", "binary", probs, labels) == pytest.approx(skm.roc_auc_score(labels, probs))
    assert compute_metric("mcc", "binary", probs, labels) == pytest.approx(skm.matthews_corrcoef(labels, hard))
    assert compute_metric("f1_weighted", "binary", probs, labels) == pytest.approx(
        skm.f1_score(labels, hard, average="weighted")
    )


def test_multilabel_auroc_by_hand():
    labels = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    scores = np.array([[0.9, 0.2], [0.1, 0.3], [0.4, 0.8], [0.5, 0.4]])
    # label 0: positives {0.9, 0.4} vs negatives {0.1, 0.5}: pairs won 2 + 1 of 4 -> 0.75
    # label 1: positives {0.3, 0.8} vs negatives {0.2, 0.4}: pairs won 1 + 2 of 4 -> 0.75
    assert compute_metric("auroc", "multilabel", scores, labels) == pytest.approx(0.75)
    scores[3, 1] = 0.1  # label 1 now perfectly ranked: macro (0.75 + 1.0) / 2
    assert compute_metric("auroc", "multilabel", scores, labels) == pytest.approx(0.875)
    assert compute_metric("auroc", "multilabel", scores, labels) == pytest.approx(
        skm.roc_auc_score(labels, scores, average="macro")
    )


def test_multilabel_f1_matches_sklearn():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, (100, 3))
    scores = np.clip(labels * 0.4 + rng.uniform(0, 0.7, (100, 3)), 0, 1)
    assert compute_metric("f1_weighted", "multilabel", scores, labels) == pytest.approx(
        skm.f1_score(labels, (scores >= 0.5).astype(int), average="weighted")
    )


def test_mcc_hand_computed_and_degenerate():
    labels = np.array([1, 1, 1, 0, 0, 0])
    probs = np.array([0.9, 0.8, 0.2, 0.1, 0.7, 0.3])  # tp 2, fn 1, fp 1, tn 2 -> (4 - 1) / 9
    assert compute_metric("mcc", "binary", probs, labels) == pytest.approx(1 / 3)
    assert compute_metric("mcc", "binary", np.full(6, 0.9), labels) == 0.0  # undefined -> 0


def test_metric_errors_and_direction():
    with pytest.raises(KeyError, match="unknown metric 'r2'"):
        compute_metric("r2", "regression", np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="classification"):
        compute_metric("accuracy", "regression", np.zeros(3), np.zeros(3))
    assert better("accuracy", 0.9, 0.8) and not better("accuracy", float("nan"), 0.1)
