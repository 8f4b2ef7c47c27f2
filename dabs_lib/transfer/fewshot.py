"""Few-shot probes: n examples per class drawn from train, several seeded draws.

Each draw fits the L2 path on its n x C examples, chooses the strength on the
validation split (disjoint from train, hence from every draw) and scores the test split
once. Mean and spread over draws are reported, per size.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from dabs_lib.transfer.features import FeatureSet
from dabs_lib.transfer.protocol import FewShotResult, ProbeProtocol
from dabs_lib.transfer.selection import score_probe, select_probe

FEWSHOT_KINDS = ("multiclass", "binary")


def fewshot_draw(labels: np.ndarray, shots: int, seed: int) -> np.ndarray:
    """Sorted example ids: `shots` per class (all of a class when it has fewer), without replacement."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels).reshape(len(labels))
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        chosen.append(rng.choice(members, size=min(shots, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))


def run_fewshot(
    train: FeatureSet,
    val: FeatureSet,
    test: FeatureSet | None,
    kind: str,
    metric: str,
    num_classes: int,
    protocol: ProbeProtocol,
    device: torch.device,
) -> tuple[FewShotResult, ...]:
    if not protocol.fewshot_sizes:
        return ()
    if kind not in FEWSHOT_KINDS:
        raise ValueError(
            f"few-shot needs a task of kind {FEWSHOT_KINDS} (n examples per class), but the task kind is "
            f"{kind!r}; set fewshot_sizes=() in ProbeProtocol"
        )
    if test is None:
        raise ValueError(
            "few-shot scores the test split, so it needs score_test=True (splits with 'test'; not probe_val)"
        )
    protocol = dataclasses.replace(protocol, refit_on="train")  # a draw is the whole fitting set
    results = []
    for shots in protocol.fewshot_sizes:
        scores, l2s = [], []
        for draw in range(protocol.fewshot_draws):
            examples = train.rows[fewshot_draw(train.labels, shots, protocol.fewshot_seed + draw)]
            fit = select_probe(train.take(examples), val, kind, metric, num_classes, protocol, device)
            scores.append(score_probe(fit.probe, test, metric))
            l2s.append(fit.l2)
        results.append(FewShotResult(shots, float(np.mean(scores)), float(np.std(scores)), tuple(scores), tuple(l2s)))
    return tuple(results)
