"""Fine-tuning (an option, not the default score): unfrozen encoder + linear head, Lightning.

The caller's encoder is copied, never changed. Hyperparameters come from the protocol
(`finetune_lr`, `finetune_weight_decay`, `finetune_epochs`); there is no L2 path, so the
validation score is reported but chooses nothing, and the test split is scored once.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import time
import warnings
from typing import Iterator

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset

from dabs_lib.domains.base import TransferTask
from dabs_lib.encoder import Encoder
from dabs_lib.transfer.features import iterate_batches, resolve_device
from dabs_lib.transfer.metrics import compute_metric
from dabs_lib.transfer.probes import link_scores
from dabs_lib.transfer.protocol import ProbeProtocol, TransferResult
from dabs_lib.transfer.selection import carve
from typing import Any


def task_loss(kind: str, logits: Tensor, labels: Tensor, ignore_index: int) -> Tensor:
    if kind == "multiclass":
        return F.cross_entropy(logits, labels.long())
    if kind == "per_token":  # logits (B, L, C), labels (B, L)
        return F.cross_entropy(logits.flatten(0, 1), labels.long().flatten(), ignore_index=ignore_index)
    target = labels.float().reshape(logits.shape)
    if kind in ("binary", "multilabel"):
        return F.binary_cross_entropy_with_logits(logits, target)
    return F.mse_loss(logits, target)


class FineTuner(L.LightningModule):
    def __init__(
        self, encoder: Encoder, kind: str, num_outputs: int, ignore_index: int, protocol: ProbeProtocol
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.config.embed_dim, num_outputs)
        self.kind, self.ignore_index, self.protocol = kind, ignore_index, protocol

    def forward(self, inputs: list[Tensor]) -> Tensor:
        output = self.encoder(inputs)
        return self.head(output.tokens if self.kind == "per_token" else output.pooled)  # (B, [L,] K)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        inputs, labels = batch
        return task_loss(self.kind, self(list(inputs)), labels, self.ignore_index)

    def configure_optimizers(self) -> torch.optim.AdamW:
        return torch.optim.AdamW(
            self.parameters(), lr=self.protocol.finetune_lr, weight_decay=self.protocol.finetune_weight_decay
        )


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    logger = logging.getLogger("lightning.pytorch")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")
            warnings.filterwarnings("ignore", message=".*treespec.*")
            yield
    finally:
        logger.setLevel(level)


def predict(
    model: FineTuner, dataset: Dataset[Any], batch_size: int, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, labels) over the whole split in eval mode; per-token rows drop ignore_index."""
    model.eval().to(device)
    scores, labels = [], []
    with torch.no_grad():
        for inputs, y in iterate_batches(dataset, batch_size):
            logits = model([x.to(device) for x in inputs])
            if model.kind == "per_token":
                keep = y != model.ignore_index  # (B, L)
                logits, y = logits[keep.to(device)], y[keep]
            scores.append(link_scores(model.kind, logits.reshape(len(logits), -1)))
            labels.append(y.numpy())
    return np.concatenate(scores), np.concatenate(labels)


def _fit_and_val(task: TransferTask, protocol: ProbeProtocol) -> tuple[Dataset[Any], Dataset[Any]]:
    has_val = task.val is not None and len(task.val) > 0
    if protocol.val_source == "task" and has_val:
        return task.train, task.val
    fit, val = carve(len(task.train), protocol.val_fraction, protocol.val_seed)
    return Subset(task.train, fit.tolist()), Subset(task.train, val.tolist())


def finetune_transfer(
    encoder: Encoder, task: TransferTask, protocol: ProbeProtocol, score_test: bool = True
) -> TransferResult:
    start = time.perf_counter()
    device = resolve_device(protocol.device)
    model_encoder = copy.deepcopy(encoder)
    if protocol.pooling is not None:
        model_encoder.config = dataclasses.replace(model_encoder.config, pooling=protocol.pooling)
    torch.manual_seed(protocol.seed)
    outputs = 1 if task.kind == "binary" else task.num_classes
    model = FineTuner(model_encoder.train(), task.kind, outputs, task.ignore_index, protocol)
    train, val = _fit_and_val(task, protocol)
    loader = DataLoader(
        train,
        batch_size=protocol.finetune_batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(protocol.seed),
    )
    with _quiet_lightning():
        trainer = L.Trainer(
            max_epochs=protocol.finetune_epochs,
            accelerator="gpu" if device.type == "cuda" else "cpu",
            devices=1,
            precision="bf16-mixed" if device.type == "cuda" else "32-true",
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        trainer.fit(model, loader)
    val_score = compute_metric(task.metric, task.kind, *predict(model, val, protocol.batch_size, device))
    score = float("nan")
    if score_test:
        score = compute_metric(task.metric, task.kind, *predict(model, task.test, protocol.batch_size, device))
    return TransferResult(
        task=task.name,
        metric=task.metric,
        higher_is_better=task.higher_is_better,
        score=score,
        val_score=val_score,
        l2=float("nan"),
        featurize_seconds=0.0,
        probe_seconds=time.perf_counter() - start,
        cache_hit=False,
        kind="finetune",
        n_train=len(train),
        n_val=len(val),
        n_test=len(task.test) if score_test else 0,
    )
