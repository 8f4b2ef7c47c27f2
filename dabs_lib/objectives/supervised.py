"""Supervised pretraining: the encoder trained on a labelled task, the upper reference.

A linear head on the pooled pre-head feature (the one probes read) fits the domain's
supervised task; comparing SSL transfer with this twin shows how much of the labelled
signal an objective recovers without labels.
"""

from __future__ import annotations


import torch.nn.functional as F
from torch import Tensor, nn

from dabs_lib.encoder import Encoder
from dabs_lib.objectives.corruption import check_choice
from dabs_lib.objective_configs import SupervisedConfig
from dabs_lib.settings_rules import SUPERVISED_KINDS


def supervised_loss(logits: Tensor, labels: Tensor, task_kind: str, label_smoothing: float = 0.0) -> Tensor:
    """The loss of one task kind; logits (B, C) (C = 1 for binary and regression)."""
    check_choice("task_kind", task_kind, SUPERVISED_KINDS)
    if task_kind == "multiclass":
        return F.cross_entropy(logits, labels.long(), label_smoothing=label_smoothing)
    if task_kind == "regression":
        return F.mse_loss(logits.squeeze(-1), labels.to(logits.dtype))
    targets = labels.to(logits.dtype).reshape(logits.shape)  # binary (B, 1), multilabel (B, K)
    targets = targets * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return F.binary_cross_entropy_with_logits(logits, targets)


class Supervised(nn.Module):
    Config = SupervisedConfig
    trains = True
    needs_labels = True
    pooled: Tensor | None = None  # detached (B, D) pooled feature of the last forward (online probe)

    def __init__(self, encoder: Encoder, config: SupervisedConfig = SupervisedConfig()) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = config
        self.head = nn.Linear(encoder.config.embed_dim, config.out_dim)

    def forward(self, inputs: list[Tensor], labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        if labels is None:
            raise ValueError("objective 'supervised' needs labels, but forward got labels=None")
        pooled = self.encoder(inputs).pooled
        self.pooled = pooled.detach()
        logits = self.head(pooled)  # (B, C)
        kind = self.config.task_kind
        loss = supervised_loss(logits, labels, kind, self.config.label_smoothing)
        metrics = {}
        if kind == "multiclass":
            metrics["acc"] = (logits.argmax(-1) == labels).float().mean().detach()
        elif kind == "binary":
            metrics["acc"] = ((logits.squeeze(-1) > 0) == (labels > 0.5)).float().mean().detach()
        return loss, metrics
