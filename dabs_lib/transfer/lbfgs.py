"""A lean full-batch L-BFGS in torch for the probe objectives (smooth and strictly convex).

torch.optim.LBFGS works too, but for probe-sized problems (a few thousand parameters)
its per-iteration Python and autograd overhead dominates the arithmetic. This version
works on one flat parameter vector with an analytic gradient, the standard two-loop
recursion with the gamma = s.y / y.y initial scaling, and a backtracking Armijo line search
starting at the unit step (which L-BFGS accepts almost always on these problems).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

Objective = Callable[[Tensor], tuple[Tensor, Tensor]]  # w (P,) -> (loss (), gradient (P,))


def _direction(g: Tensor, history: list[tuple[Tensor, Tensor, Tensor]]) -> Tensor:
    """-H g by the two-loop recursion over (s, y, 1 / s.y) pairs, oldest first."""
    q = g.clone()
    alphas = []
    for s, y, rho in reversed(history):
        alpha = rho * torch.dot(s, q)
        q.sub_(alpha * y)
        alphas.append(alpha)
    if history:
        s, y, _ = history[-1]
        q.mul_(torch.dot(s, y) / torch.dot(y, y))
    else:
        q.mul_(min(1.0, 1.0 / float(g.abs().sum().clamp_min(1e-12))))
    for (s, y, rho), alpha in zip(history, reversed(alphas)):
        beta = rho * torch.dot(y, q)
        q.add_((alpha - beta) * s)
    return q.neg_()


def minimize(fun: Objective, w0: Tensor, max_iter: int = 100, tol: float = 1e-5, memory: int = 10) -> Tensor:
    """Minimize fun from w0; stops when max |gradient| <= tol, the loss stalls, or at max_iter."""
    w = w0.detach().clone()
    loss, g = fun(w)
    history: list[tuple[Tensor, Tensor, Tensor]] = []
    for _ in range(max_iter):
        if float(g.abs().max()) <= tol:
            break
        d = _direction(g, history)
        slope = float(torch.dot(g, d))
        if slope >= 0:  # not a descent direction (numerical trouble): restart from steepest descent
            history.clear()
            d = -g
            slope = -float(torch.dot(g, g))
        step, value = 1.0, float(loss)
        while True:
            w_new = w + step * d
            loss_new, g_new = fun(w_new)
            if float(loss_new) <= value + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, y = w_new - w, g_new - g
        sy = torch.dot(s, y)
        if float(sy) > 1e-10:
            history.append((s, y, 1.0 / sy))
            del history[:-memory]
        stalled = abs(value - float(loss_new)) <= 1e-10 * max(1.0, abs(value))
        w, loss, g = w_new, loss_new, g_new
        if stalled:
            break
    return w
