"""The probe's L2-path fit: ours vs its textbook form, side by side in one process.

Ours (dabs_lib.transfer): the compact L-BFGS inverse-Hessian product and a fused logistic
objective. Reference: the same minimizer with the two-loop recursion (Nocedal and Wright,
Algorithm 7.4) and the objective written op by op, as this project ran them before. Both fit
the same multiclass path (10 strengths, warm-started, max_iter 100) on the same standardized
features; every round times one fit of each, the order alternating; ratio = median reference
CPU time / median ours. One torch thread by default (a search trial's share under Ray). The last
columns compare the two fits over the path: the largest weight difference relative to the
largest weight, and the largest difference of accuracy on held-out rows of the same classes
(float32 rounding of two equal formulas drifts a little through the weakest strengths' 100
iterations, which stop short of convergence).

    python bench/probe_fit.py                     # 1k and 10k rows at D 64 and 256, 10 classes
    python bench/probe_fit.py --smoke-test        # for the test suite
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from dabs_lib.transfer import lbfgs, probes  # noqa: E402
from dabs_lib.transfer.protocol import ProbeProtocol  # noqa: E402


class PairHistory(list):
    """The reference's history: (s, y) pairs, oldest first, the newest `memory` kept."""

    def __init__(self, memory: int):
        super().__init__()
        self.memory = memory

    def add(self, s, y) -> None:
        self.append((s, y))
        del self[: -self.memory]


def two_loop_direction(g: torch.Tensor, pairs) -> torch.Tensor:
    """-H g by the two-loop recursion, H0 = s.y / y.y I of the newest pair (steepest descent,
    scaled to a unit first step, without pairs)."""
    if not pairs:
        return g * -min(1.0, 1.0 / float(g.abs().sum().clamp_min(1e-12)))
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


def unfused_objective(x1, targets, kind, l2):
    """The logistic loss and gradient written op by op, the bias row masked out of the penalty."""
    n, k = len(x1), targets.shape[1]
    penalized = torch.ones(x1.shape[1], 1, dtype=x1.dtype)
    penalized[-1] = 0.0

    def fun(w):
        weight = w.view(x1.shape[1], k)
        logits = x1 @ weight
        if kind in probes.SIGMOID_KINDS:
            data = F.binary_cross_entropy_with_logits(logits, targets, reduction="sum") / n
            residual = torch.sigmoid(logits) - targets
        else:
            log_p = torch.log_softmax(logits, dim=1)
            data = -(log_p * targets).sum() / n
            residual = log_p.exp() - targets
        penalty = weight * penalized
        return data + 0.5 * l2 * (penalty * penalty).sum(), (x1.T @ residual / n + l2 * penalty).reshape(-1)

    return fun


def reference_fit(x, y, classes, l2s):
    with (
        mock.patch.object(lbfgs, "History", PairHistory),
        mock.patch.object(lbfgs, "direction", two_loop_direction),
        mock.patch.object(probes, "_logistic_objective", unfused_objective),
    ):
        return probes.fit_path(x, y, "multiclass", classes, l2s, 100, torch.device("cpu"))


def ours_fit(x, y, classes, l2s):
    return probes.fit_path(x, y, "multiclass", classes, l2s, 100, torch.device("cpu"))


def problem(rows: int, dim: int, classes: int, seed: int = 0, sample: int = 0):
    """Overlapping Gaussian classes (centers from `seed`, rows from `sample`): a finite optimum
    at every strength, as real features give."""
    centers = torch.randn(classes, dim, generator=torch.Generator().manual_seed(seed))
    g = torch.Generator().manual_seed(1000 + sample)
    labels = torch.randint(classes, (rows,), generator=g)
    return (centers[labels] + 2.0 * torch.randn(rows, dim, generator=g)).numpy(), labels.numpy()


def agreement(ours: list, reference: list, x, y) -> tuple[float, float]:
    """(largest relative weight difference, largest held-out accuracy difference) over the path."""
    weights = max(float((a.weight - b.weight).abs().max() / b.weight.abs().max()) for a, b in zip(ours, reference))
    accuracy = max(
        abs(float((a.scores(x).argmax(1) == y).mean()) - float((b.scores(x).argmax(1) == y).mean()))
        for a, b in zip(ours, reference)
    )
    return weights, accuracy


def cpu_time(fit, *args) -> tuple[float, list]:
    start = time.process_time()
    out = fit(*args)
    return time.process_time() - start, out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", default="1000,10000")
    p.add_argument("--dims", default="64,256")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--smoke-test", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    sizes = (
        [(1000, 16)]
        if args.smoke_test
        else [(int(n), int(d)) for n in args.rows.split(",") for d in args.dims.split(",")]
    )
    rounds = 2 if args.smoke_test else args.rounds
    l2s = ProbeProtocol().l2_path
    print(
        "| rows | D | classes | ours s | reference s | ratio | max weight difference (relative) | "
        "max held-out accuracy difference |\n|---|---|---|---|---|---|---|---|"
    )
    for rows, dim in sizes:
        x, y = problem(rows, dim, args.classes)
        times = {"ours": [], "reference": []}
        fits = {}
        for r in range(rounds):
            order = ["ours", "reference"] if r % 2 == 0 else ["reference", "ours"]
            for name in order:
                seconds, fits[name] = cpu_time(ours_fit if name == "ours" else reference_fit, x, y, args.classes, l2s)
                times[name].append(seconds)
        ours, ref = statistics.median(times["ours"]), statistics.median(times["reference"])
        held_x, held_y = problem(rows, dim, args.classes, sample=1)
        weights, accuracy = agreement(fits["ours"], fits["reference"], held_x, held_y)
        print(
            f"| {rows} | {dim} | {args.classes} | {ours:.3g} | {ref:.3g} | {ref / ours:.2f} | {weights:.2g} | "
            f"{accuracy:.2g} |",
            flush=True,
        )
    print(f"\nCommand: `python bench/probe_fit.py {' '.join(argv if argv is not None else sys.argv[1:])}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
