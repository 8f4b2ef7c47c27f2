"""Probes recover known answers: separable classes, the ridge closed form, the L2 path."""

import dataclasses

import numpy as np
import pytest
import torch

from dabs_lib.transfer.metrics import compute_metric
from dabs_lib.transfer.probes import fit_path
from dabs_lib.transfer.protocol import ProbeProtocol

CPU = torch.device("cpu")
PATH = ProbeProtocol().l2_path


def _blobs(n=300, d=6, c=3, seed=0, spread=0.3):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(c, d)) * 4
    labels = rng.integers(0, c, n)
    return (centers[labels] + spread * rng.normal(size=(n, d))).astype(np.float32), labels


def test_path_is_decreasing_log_spaced_and_at_least_eight():
    assert len(PATH) >= 8 and all(a > b for a, b in zip(PATH, PATH[1:]))
    assert PATH[0] == pytest.approx(ProbeProtocol().l2_max) and PATH[-1] == pytest.approx(ProbeProtocol().l2_min)
    with pytest.raises(ValueError, match="l2_steps >= 8 must hold, but got l2_steps=4"):
        ProbeProtocol(l2_steps=4)


def test_separable_multiclass_reaches_full_accuracy():
    x, y = _blobs()
    probes = fit_path(x, y, "multiclass", 3, PATH, 100, CPU)
    weak = probes[-1]
    assert compute_metric("accuracy", "multiclass", weak.scores(x), y) == 1.0
    norms = [float(p.weight.norm()) for p in probes]
    assert norms[-1] > norms[0] * 10  # weaker L2 -> larger weights: the path really moves


def test_separable_binary_and_multilabel():
    x, y = _blobs(c=2)
    binary = fit_path(x, y, "binary", 1, PATH, 100, CPU)[-1]
    assert binary.scores(x).shape == (len(x),)
    assert compute_metric("accuracy", "binary", binary.scores(x), y) == 1.0
    multi = np.stack([y, 1 - y, (x[:, 0] > np.median(x[:, 0])).astype(int)], axis=1)
    heads = fit_path(x, multi, "multilabel", 3, PATH, 100, CPU)[-1]
    assert heads.scores(x).shape == (len(x), 3)
    assert compute_metric("auroc", "multilabel", heads.scores(x), multi) > 0.99


def test_ridge_path_matches_numpy_solve_per_strength():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 5)).astype(np.float32) * np.array([1, 2, 3, 0.5, 1], dtype=np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + rng.normal(size=120) + 7).astype(np.float32)
    probes = fit_path(x, y, "regression", 1, PATH, 100, CPU)
    z = (x - x.mean(0)) / x.std(0)  # the probe standardizes with the fitting split's statistics
    zc, yc = z - z.mean(0), y - y.mean()
    for l2, probe in zip(PATH, probes):
        w = np.linalg.solve(zc.T @ zc / len(z) + l2 * np.eye(5), zc.T @ yc / len(z))
        np.testing.assert_allclose(probe.weight.numpy()[:, 0], w, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(probe.scores(x), z @ w + y.mean() - z.mean(0) @ w, rtol=1e-4, atol=1e-3)


def test_logistic_optimum_has_zero_gradient():
    """The L-BFGS fit is the regularized optimum: X^T (P - Y) / N + l2 W = 0."""
    x, y = _blobs(spread=3.0, seed=2)  # overlapping classes: a finite optimum
    probe = fit_path(x, y, "multiclass", 3, PATH[:4], 200, CPU)[-1]
    z = (torch.tensor(x) - probe.mean) / probe.std
    residual = torch.softmax(z @ probe.weight + probe.bias, -1) - torch.eye(3)[torch.tensor(y)]
    gradient = z.T @ residual / len(z) + PATH[3] * probe.weight
    assert float(gradient.abs().max()) < 1e-4


def test_protocol_is_frozen_and_validates():
    protocol = ProbeProtocol()
    with pytest.raises(dataclasses.FrozenInstanceError):
        protocol.l2_min = 1.0
    with pytest.raises(ValueError, match="pooling None or in .* must hold, but got pooling=.max."):
        ProbeProtocol(pooling="max")
