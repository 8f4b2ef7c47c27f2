"""A lean full-batch L-BFGS in torch for the probe objectives (smooth and strictly convex).

torch.optim.LBFGS works too, but for probe-sized problems (a few thousand parameters)
its per-iteration Python and autograd overhead dominates the arithmetic. This version
works on one flat parameter vector with an analytic gradient and a backtracking Armijo line
search starting at the unit step (which L-BFGS accepts almost always on these problems).

The direction -H g uses the compact representation of the L-BFGS inverse Hessian (Byrd,
Nocedal and Schnabel 1994, as in L-BFGS-B) with H0 = gamma I, gamma = s.y / y.y of the newest
pair: the same matrix as the textbook two-loop recursion, in about 15 tensor operations
instead of 4 per stored pair (the loop's per-operation overhead was a third of a probe fit).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

Objective = Callable[[Tensor], tuple[Tensor, Tensor]]  # w (P,) -> (loss (), gradient (P,))


class History:
    """The newest `memory` curvature pairs (s, y) with s.y > 0, as (m, P) row stacks."""

    def __init__(self, memory: int) -> None:
        self.memory = memory
        self.s: Tensor | None = None
        self.y: Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.s is None else len(self.s)

    def add(self, s: Tensor, y: Tensor) -> None:
        if self.s is None:
            self.s, self.y = s.unsqueeze(0), y.unsqueeze(0)
        else:
            self.s = torch.cat([self.s, s.unsqueeze(0)])[-self.memory :]
            self.y = torch.cat([self.y, y.unsqueeze(0)])[-self.memory :]

    def clear(self) -> None:
        self.s = self.y = None


def direction(g: Tensor, history: History) -> Tensor:
    """-H g, H the L-BFGS inverse-Hessian approximation of `history` (steepest descent, scaled
    to a unit first step, when it is empty)."""
    if not len(history):
        return g * -min(1.0, 1.0 / float(g.abs().sum().clamp_min(1e-12)))
    s, y = history.s, history.y
    sy = s @ y.T  # (m, m): s_i . y_j
    gamma = sy[-1, -1] / torch.dot(y[-1], y[-1])
    r = torch.triu(sy)  # R: s_i . y_j for i <= j
    a, b = s @ g, y @ g  # (m,)
    q = torch.linalg.solve_triangular(r, a.unsqueeze(1), upper=True)  # R^-1 S^T g
    inner = sy.diagonal().unsqueeze(1) * q + gamma * (y @ (y.T @ q)) - gamma * b.unsqueeze(1)
    top = torch.linalg.solve_triangular(r.T, inner, upper=False)  # R^-T ((D + gamma Y^T Y) q - gamma Y^T g)
    hg = gamma * g + (s.T @ top).squeeze(1) - gamma * (y.T @ q).squeeze(1)
    return hg.neg_()


def minimize(fun: Objective, w0: Tensor, max_iter: int = 100, tol: float = 1e-5, memory: int = 10) -> Tensor:
    """Minimize fun from w0; stops when max |gradient| <= tol, the loss stalls, or at max_iter."""
    w = w0.detach().clone()
    loss, g = fun(w)
    history = History(memory)
    for _ in range(max_iter):
        if float(g.abs().max()) <= tol:
            break
        d = direction(g, history)
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
        if float(torch.dot(s, y)) > 1e-10:
            history.add(s, y)
        stalled = abs(value - float(loss_new)) <= 1e-10 * max(1.0, abs(value))
        w, loss, g = w_new, loss_new, g_new
        if stalled:
            break
    return w
