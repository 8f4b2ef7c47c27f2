"""Supervised twin: every task kind trains, labels are required, class counts are checked."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dabs_lib.encoder import Encoder
from dabs_lib.objectives.supervised import Supervised, SupervisedConfig, supervised_loss
from tests.dabs_lib.objectives.batches import SPEC_SETS, TINY, make_batch

LABELS = {
    "multiclass": (3, torch.tensor([0, 1, 2, 1])),
    "binary": (0, torch.tensor([0, 1, 1, 0])),
    "multilabel": (2, torch.tensor([[0, 1], [1, 1], [0, 0], [1, 0]])),
    "regression": (0, torch.tensor([0.5, -1.0, 2.0, 0.0])),
}


@pytest.mark.parametrize("task_kind", LABELS)
def test_every_task_kind_gives_a_finite_loss_and_gradients(task_kind):
    num_classes, labels = LABELS[task_kind]
    encoder = Encoder(SPEC_SETS["tabular"], TINY)
    objective = Supervised(encoder, SupervisedConfig(num_classes=num_classes, task_kind=task_kind))
    inputs, _ = make_batch(SPEC_SETS["tabular"], batch=4)
    loss, _ = objective(inputs, labels)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert encoder.blocks[0].attn.qkv.weight.grad.abs().sum() > 0


def test_losses_match_torch():
    logits = torch.randn(4, 3)
    labels = torch.tensor([0, 2, 1, 1])
    assert torch.allclose(
        supervised_loss(logits, labels, "multiclass", 0.1), F.cross_entropy(logits, labels, label_smoothing=0.1)
    )
    binary_logits = torch.randn(4, 1)
    binary = torch.tensor([0, 1, 1, 0])
    smoothed = binary.float() * 0.8 + 0.1
    assert torch.allclose(
        supervised_loss(binary_logits, binary, "binary", 0.2),
        F.binary_cross_entropy_with_logits(binary_logits.squeeze(-1), smoothed),
    )
    values = torch.randn(4)
    assert torch.allclose(supervised_loss(binary_logits, values, "regression"), F.mse_loss(binary_logits[:, 0], values))


def test_labels_are_required():
    objective = Supervised(Encoder(SPEC_SETS["tabular"], TINY), SupervisedConfig(num_classes=3))
    inputs, _ = make_batch(SPEC_SETS["tabular"])
    with pytest.raises(ValueError, match="needs labels"):
        objective(inputs)


def test_a_class_count_that_was_never_filled_in_is_an_error():
    with pytest.raises(ValueError, match=r"num_classes must be >= 2 for task_kind='multiclass', but got 0"):
        Supervised(Encoder(SPEC_SETS["tabular"], TINY), SupervisedConfig())
