"""What a domain is: input specs, a pretraining split and labelled transfer tasks.

Every split is a torch Dataset whose items are `(inputs, label)`, `inputs` a tuple with
one tensor per spec. Unlabelled pretraining items carry label -1. Embedded domains hold
their tensors in memory (`TensorSplit`); real datasets may memory-map them, as long as
they expose the same item format and a `fingerprint` that changes when the data does
(the feature cache keys on it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import Tensor
from torch.utils.data import Dataset

from dabs_lib.specs import Spec
from typing import Any

# What a transfer label means, which decides the probe and the loss.
TASK_KINDS = ("multiclass", "binary", "multilabel", "regression", "per_token")

# Metric name -> True when larger is better. Tasks declare one of these.
METRIC_DIRECTIONS = {
    "accuracy": True,
    "auroc": True,
    "pearson": True,
    "spearman": True,
    "mcc": True,
    "f1_weighted": True,
}


class TensorSplit(Dataset[Any]):
    """A split held as tensors: inputs[i] has shape (N, ...), labels (N,) or (N, K) or (N, L)."""

    def __init__(self, inputs: tuple[Tensor, ...], labels: Tensor | None, name: str) -> None:
        n = len(inputs[0])
        if any(len(x) != n for x in inputs):
            raise ValueError(f"{name}: every input must have the same number of rows")
        self.inputs = tuple(inputs)
        self.labels = labels if labels is not None else torch.full((n,), -1, dtype=torch.long)
        if len(self.labels) != n:
            raise ValueError(f"{name}: {len(self.labels)} labels for {n} rows")
        self.name = name
        self._fingerprint: str | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[tuple[Tensor, ...], Tensor]:
        return tuple(x[index] for x in self.inputs), self.labels[index]

    def subset(self, index: Tensor, name: str | None = None) -> "TensorSplit":
        return TensorSplit(tuple(x[index] for x in self.inputs), self.labels[index], name or self.name)

    @property
    def fingerprint(self) -> str:
        """Content hash of inputs and labels; stable across processes."""
        if self._fingerprint is None:
            digest = hashlib.sha256()
            for tensor in (*self.inputs, self.labels):
                t = tensor.detach().contiguous().cpu()
                digest.update(f"{t.dtype}{tuple(t.shape)}".encode())
                digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint


@dataclass
class TransferTask:
    """A labelled task scored by a probe on frozen features."""

    name: str
    kind: str  # one of TASK_KINDS
    metric: str  # one of METRIC_DIRECTIONS
    num_classes: int  # classes (multiclass/per_token), labels (multilabel), 1 (binary/regression)
    train: Dataset[Any]
    val: Dataset[Any]
    test: Dataset[Any]
    ignore_index: int = -100  # per_token label that marks padding / unlabelled positions

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise ValueError(f"task {self.name}: kind must be one of {TASK_KINDS}, got {self.kind!r}")
        if self.metric not in METRIC_DIRECTIONS:
            raise ValueError(
                f"task {self.name}: metric must be one of {sorted(METRIC_DIRECTIONS)}, got {self.metric!r}"
            )

    @property
    def higher_is_better(self) -> bool:
        return METRIC_DIRECTIONS[self.metric]


@dataclass
class Domain:
    name: str
    specs: tuple[Spec, ...]
    pretrain: Dataset[Any]  # labels -1 unless `pretrain_num_classes` is set (online probe)
    tasks: dict[str, TransferTask]
    pretrain_num_classes: int | None = None  # labelled pretraining set -> online linear probe
    pretrain_metric: str = "accuracy"  # what the online probe logs (accuracy or auroc)
    pretrain_kind: str = "multiclass"  # pretraining labels: multiclass (class ids) or multilabel (multi-hot (K,))
    supervised_task: str | None = None  # task whose train split trains the `supervised` twin
    averages: dict[str, tuple[str, ...]] = field(default_factory=dict)  # e.g. {"glue": (...)}
    batch_size: int = 64  # pretraining batch size DABS uses for this kind of data

    @property
    def default_task(self) -> str:
        """The task whose validation score a search optimizes (`transfer/val`)."""
        return next(iter(self.tasks))


class DomainBuilder(Protocol):
    """What `DOMAINS[name]` is: a function (seed, data_root, smoke) -> Domain.

    `seed` fixes every random split and draw; `data_root` is where a real dataset's files are
    (embedded domains ignore it); `smoke` shrinks the domain for fast tests and `--smoke-test`.
    Adding a domain = write `build` with exactly this signature and register it (docs/development.md).
    """

    def __call__(self, seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain: ...
