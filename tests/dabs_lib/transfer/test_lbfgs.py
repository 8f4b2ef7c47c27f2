"""The L-BFGS fast paths equal their textbook forms: the compact inverse-Hessian product equals
the two-loop recursion, and the probe objective's analytic gradient equals autograd's."""
import pytest
import torch
import torch.nn.functional as F

from dabs_lib.transfer.lbfgs import History, direction, minimize
from dabs_lib.transfer.probes import SIGMOID_KINDS, _logistic_objective


def _two_loop(g, pairs):
    """-H g by the two-loop recursion (Nocedal and Wright, Algorithm 7.4), H0 = s.y / y.y I."""
    q, alphas = g.clone(), []
    for s, y in reversed(pairs):
        alpha = torch.dot(s, q) / torch.dot(s, y)
        q -= alpha * y
        alphas.append(alpha)
    s, y = pairs[-1]
    q *= torch.dot(s, y) / torch.dot(y, y)
    for (s, y), alpha in zip(pairs, reversed(alphas)):
        q += (alpha - torch.dot(y, q) / torch.dot(s, y)) * s
    return -q


@pytest.mark.parametrize("memory, added", [(1, 3), (5, 2), (10, 13)])
def test_compact_direction_equals_the_two_loop_recursion(memory, added):
    torch.manual_seed(memory)
    p = 40
    a = torch.randn(p, p, dtype=torch.float64)
    hessian = a @ a.T / p + 0.1 * torch.eye(p, dtype=torch.float64)
    history, pairs = History(memory), []
    for _ in range(added):
        s = torch.randn(p, dtype=torch.float64)
        history.add(s, hessian @ s)
        pairs = (pairs + [(s, hessian @ s)])[-memory:]
    g = torch.randn(p, dtype=torch.float64)
    assert len(history) == len(pairs)
    torch.testing.assert_close(direction(g, history), _two_loop(g, pairs), rtol=1e-9, atol=1e-12)


def test_minimize_finds_a_quadratic_minimum():
    torch.manual_seed(0)
    a = torch.randn(20, 20, dtype=torch.float64)
    hessian, b = a @ a.T / 20 + torch.eye(20, dtype=torch.float64), torch.randn(20, dtype=torch.float64)
    w = minimize(lambda w: (0.5 * w @ hessian @ w - b @ w, hessian @ w - b), torch.zeros(20, dtype=torch.float64),
                 tol=1e-10)
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
