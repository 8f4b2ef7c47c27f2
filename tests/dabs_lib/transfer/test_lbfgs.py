"""The L-BFGS fast paths equal their textbook forms: the compact inverse-Hessian product equals
the two-loop recursion, the fused objective the op-by-op one, its gradient autograd's, and a
whole path fit the reference fit (bench/probe_fit.py)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dabs_lib.transfer.lbfgs import History, direction, minimize
from dabs_lib.transfer.probes import SIGMOID_KINDS, _logistic_objective


def _reference():
    """bench/probe_fit.py: the textbook forms the fast paths are measured against."""
    path = Path(__file__).resolve().parents[3] / "bench" / "probe_fit.py"
    spec = importlib.util.spec_from_file_location("probe_fit", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("memory, added", [(1, 3), (5, 2), (10, 13)])
def test_compact_direction_equals_the_two_loop_recursion(memory, added):
    torch.manual_seed(memory)
    p = 40
    a = torch.randn(p, p, dtype=torch.float64)
    hessian = a @ a.T / p + 0.1 * torch.eye(p, dtype=torch.float64)
    reference = _reference()
    history, pairs = History(memory), reference.PairHistory(memory)
    for _ in range(added):
        s = torch.randn(p, dtype=torch.float64)
        history.add(s, hessian @ s)
        pairs.add(s, hessian @ s)
    g = torch.randn(p, dtype=torch.float64)
    assert len(history) == len(pairs) == min(memory, added)
    torch.testing.assert_close(direction(g, history), reference.two_loop_direction(g, pairs), rtol=1e-9, atol=1e-12)


def test_minimize_finds_a_quadratic_minimum():
    torch.manual_seed(0)
    a = torch.randn(20, 20, dtype=torch.float64)
    hessian, b = a @ a.T / 20 + torch.eye(20, dtype=torch.float64), torch.randn(20, dtype=torch.float64)
    w = minimize(
        lambda w: (0.5 * w @ hessian @ w - b @ w, hessian @ w - b), torch.zeros(20, dtype=torch.float64), tol=1e-10
    )
    # it stops when the loss stalls (relative change 1e-10), short of the exact solution
    torch.testing.assert_close(w, torch.linalg.solve(hessian, b), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel"])
def test_analytic_objective_equals_autograd(kind):
    torch.manual_seed(1)
    n, d, k = 50, 6, 1 if kind == "binary" else 4
    x1 = torch.cat([torch.randn(n, d, dtype=torch.float64), torch.ones(n, 1, dtype=torch.float64)], 1)
    if kind in SIGMOID_KINDS:
        targets = (torch.rand(n, k) > 0.5).double()
    else:
        targets = F.one_hot(torch.randint(0, k, (n,)), k).double()
    l2 = 0.3
    w = torch.randn((d + 1) * k, dtype=torch.float64, requires_grad=True)
    weight = w.view(d + 1, k)
    logits = x1 @ weight
    if kind in SIGMOID_KINDS:
        data = F.binary_cross_entropy_with_logits(logits, targets, reduction="sum") / n
    else:
        data = -(torch.log_softmax(logits, 1) * targets).sum() / n
    expected = data + 0.5 * l2 * (weight[:-1] ** 2).sum()  # the bias row is not penalized
    expected.backward()
    loss, grad = _logistic_objective(x1, targets, kind, l2)(w.detach().clone())
    torch.testing.assert_close(loss, expected.detach())
    torch.testing.assert_close(grad, w.grad)
    old_loss, old_grad = _reference().unfused_objective(x1, targets, kind, l2)(w.detach().clone())
    torch.testing.assert_close(loss, old_loss)
    torch.testing.assert_close(grad, old_grad)


def test_path_fit_equals_the_reference_fit():
    """The whole warm-started path, fast paths on vs the textbook forms: the same probes."""
    reference = _reference()
    x, y = reference.problem(300, 12, 4, seed=3)
    ours = reference.ours_fit(x, y, 4, reference.ProbeProtocol().l2_path)
    old = reference.reference_fit(x, y, 4, reference.ProbeProtocol().l2_path)
    for a, b in zip(ours, old):
        np.testing.assert_allclose(a.weight.numpy(), b.weight.numpy(), rtol=1e-3, atol=1e-3)
