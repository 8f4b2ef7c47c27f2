"""Linear probes on standardized cached features, fitted along a path of L2 strengths.

Objective per strength l2 (bias never penalized):
- multiclass / per_token: mean softmax cross-entropy + l2/2 * ||W||^2 (full-batch L-BFGS,
  dabs_lib.transfer.lbfgs, with analytic gradients);
- binary / multilabel: sum over heads of the mean BCE + l2/2 * ||W||^2 (one sigmoid head per label);
- regression: ridge, mean squared error / 2 + l2/2 * ||w||^2, i.e. per strength
  w = (Xc^T Xc / N + l2 I)^-1 Xc^T yc / N on centered X, y; all strengths from one
  eigendecomposition of the covariance.
The logistic path runs from the strongest to the weakest strength, each fit warm-started
from the previous one, so the weak-L2 fits (the slow ones) start near their optimum.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, NamedTuple, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from dabs_lib.transfer.lbfgs import Objective, minimize

SIGMOID_KINDS = ("binary", "multilabel")
SMALL_PROBLEM = 1 << 21  # feature-matrix elements (N x D) below which CPU probes use one thread


class LinearProbe(NamedTuple):
    weight: Tensor  # (D, K)
    bias: Tensor  # (K,)
    mean: Tensor  # (D,) standardization statistics of the fitting split
    std: Tensor  # (D,)
    kind: str  # task kind: decides the link (softmax, sigmoid, identity)

    def scores(self, features: np.ndarray | Tensor) -> np.ndarray:
        """Probabilities or predictions in the format dabs_lib.transfer.metrics expects."""
        device = self.weight.device
        raw = features.to(device) if isinstance(features, Tensor) else as_tensor(features, device)
        x = standardize(raw, self.mean, self.std)
        return link_scores(self.kind, x @ self.weight + self.bias)


def link_scores(kind: str, logits: Tensor) -> np.ndarray:
    """(N, K) logits -> probabilities (softmax / sigmoid) or predictions, as float64 numpy."""
    if kind in ("multiclass", "per_token"):
        out = logits.float().softmax(dim=-1)
    elif kind in SIGMOID_KINDS:
        out = logits.float().sigmoid()
    else:
        out = logits.float()
    if kind in ("binary", "regression") and out.shape[1] == 1:
        out = out[:, 0]  # (N,): the format of single-output labels
    return out.double().cpu().numpy()


def as_tensor(array: np.ndarray, device: torch.device, dtype: torch.dtype = torch.float32) -> Tensor:
    """A copy on `device` (memory-mapped arrays are read-only, so never share them)."""
    return torch.tensor(np.asarray(array), dtype=dtype, device=device)


def standard_stats(x: Tensor) -> tuple[Tensor, Tensor]:
    mean, std = x.mean(dim=0), x.std(dim=0, unbiased=False)
    return mean, torch.where(std > 1e-8, std, torch.ones_like(std))  # constant features stay 0


def standardize(x: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    return (x - mean) / std


def label_tensor(labels: np.ndarray, kind: str, device: torch.device) -> Tensor:
    """Targets for the loss: class ids (N,) or floats (N, K)."""
    if kind in ("multiclass", "per_token"):
        return torch.tensor(np.asarray(labels), dtype=torch.long, device=device)
    y = torch.tensor(np.asarray(labels), dtype=torch.float32, device=device)
    return y.reshape(len(y), -1)


def _logistic_objective(x1: Tensor, targets: Tensor, kind: str, l2: float) -> Objective:
    """Loss and analytic gradient of W1 = [W; b] (flat), x1 = [x, 1]; the bias row is not penalized.
    Written for few tensor operations per call: a path fit makes about a thousand calls."""
    n, k = len(x1), targets.shape[1]
    x1_t = x1.T.contiguous()

    def fun(w: Tensor) -> tuple[Tensor, Tensor]:
        weight = w.view(x1.shape[1], k)  # (D+1, K)
        logits = x1 @ weight  # (N, K)
        if kind in SIGMOID_KINDS:
            data = F.binary_cross_entropy_with_logits(logits, targets, reduction="sum")
            residual = torch.sigmoid(logits).sub_(targets)
        else:
            lse = torch.logsumexp(logits, dim=1, keepdim=True)
            data = torch.sum(lse - (logits * targets).sum(dim=1, keepdim=True))  # per row first: no cancellation
            residual = torch.exp(logits.sub_(lse)).sub_(targets)  # softmax - targets
        coef = weight[:-1].reshape(-1)  # the bias row is the last
        loss = data / n + 0.5 * l2 * torch.dot(coef, coef)
        grad = torch.mm(x1_t, residual).div_(n)
        grad[:-1].add_(weight[:-1], alpha=l2)
        return loss, grad.reshape(-1)

    return fun


def logistic_path(
    x: Tensor, y: Tensor, kind: str, num_outputs: int, l2s: Sequence[float], max_iter: int
) -> list[tuple[Tensor, Tensor]]:
    """(W (D, K), b (K,)) per strength, warm-started along `l2s` (strongest first)."""
    x1 = torch.cat([x, x.new_ones(len(x), 1)], dim=1)  # (N, D+1): the bias as a constant feature
    targets = F.one_hot(y, num_outputs).float() if kind not in SIGMOID_KINDS else y  # (N, K)
    w = torch.zeros(x1.shape[1] * num_outputs, device=x.device)
    path = []
    for l2 in l2s:
        w = minimize(_logistic_objective(x1, targets, kind, l2), w, max_iter=max_iter)
        weight = w.view(x1.shape[1], num_outputs)
        path.append((weight[:-1].clone(), weight[-1].clone()))
    return path


def ridge_path(x: Tensor, y: Tensor, l2s: Sequence[float]) -> list[tuple[Tensor, Tensor]]:
    """Closed-form ridge for every strength from one eigendecomposition (float64)."""
    x64, y64 = x.double(), y.double()
    x_mean, y_mean = x64.mean(dim=0), y64.mean(dim=0)
    xc, yc = x64 - x_mean, y64 - y_mean
    n = len(x64)
    eigenvalues, eigenvectors = torch.linalg.eigh(xc.T @ xc / n)  # (D,), (D, D)
    projected = eigenvectors.T @ (xc.T @ yc / n)  # (D, K)
    path = []
    for l2 in l2s:
        w = eigenvectors @ (projected / (eigenvalues.clamp_min(0.0) + l2).unsqueeze(1))  # (D, K)
        path.append((w.float(), (y_mean - x_mean @ w).float()))
    return path


def num_outputs(kind: str, labels: np.ndarray, num_classes: int) -> int:
    if kind in ("multiclass", "per_token"):
        return max(int(num_classes), int(np.max(labels)) + 1)
    return int(np.prod(np.shape(labels)[1:], dtype=np.int64)) if np.ndim(labels) > 1 else 1


@contextlib.contextmanager
def cpu_threads_for(features: np.ndarray | Tensor, device: torch.device) -> Iterator[None]:
    """One CPU thread for small problems: their many tiny matmuls are dominated by thread
    synchronization, which gets 10-50x slower when the cores are shared with other work."""
    small = device.type == "cpu" and np.prod(features.shape) < SMALL_PROBLEM
    threads = torch.get_num_threads()
    if small:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if small:
            torch.set_num_threads(threads)


def fit_path(
    features: np.ndarray,
    labels: np.ndarray,
    kind: str,
    num_classes: int,
    l2s: Sequence[float],
    max_iter: int,
    device: torch.device,
) -> list[LinearProbe]:
    """One LinearProbe per strength, standardized with the statistics of `features`."""
    raw = as_tensor(features, device)
    with cpu_threads_for(raw, device):
        return _fit_path(raw, labels, kind, num_classes, l2s, max_iter)


def _fit_path(
    raw: Tensor, labels: np.ndarray, kind: str, num_classes: int, l2s: Sequence[float], max_iter: int
) -> list[LinearProbe]:
    device = raw.device
    mean, std = standard_stats(raw)
    x = standardize(raw, mean, std)
    y = label_tensor(labels, kind, device)
    if kind == "regression":
        path = ridge_path(x, y, l2s)
    else:
        path = logistic_path(x, y, kind, num_outputs(kind, labels, num_classes), l2s, max_iter)
    return [LinearProbe(w, b, mean, std, kind) for w, b in path]
