"""Capri maths: loss on masked positions only, detached targets, padding never a candidate."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dabs_lib.objectives.capri import capri_loss

L = 6


def case(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    pred = torch.randn(2, L, 4, generator=generator)
    targets = torch.randn(2, L, 4, generator=generator)
    masked = torch.zeros(2, L, dtype=torch.bool)
    masked[0, [1, 3]] = True
    masked[1, 0] = True
    padding = torch.zeros(2, L, dtype=torch.bool)
    padding[1, 4:] = True
    return pred, targets, masked, padding


@pytest.mark.parametrize("normalize", [False, True])
def test_predictions_at_unmasked_positions_do_not_count(normalize):
    pred, targets, masked, padding = case()
    other = pred.clone()
    other[~masked] = torch.randn(int((~masked).sum()), 4) * 10
    kwargs = dict(padding_mask=padding, temperature=0.1, normalize=normalize)
    assert torch.allclose(capri_loss(pred, targets, masked, **kwargs), capri_loss(other, targets, masked, **kwargs))


@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("normalize", [False, True])
def test_padding_positions_never_count(normalize, symmetric):
    pred, targets, masked, padding = case()
    other_pred, other_targets = pred.clone(), targets.clone()
    other_pred[padding] = 30.0
    other_targets[padding] = 30.0
    kwargs = dict(padding_mask=padding, temperature=0.1, normalize=normalize, symmetric=symmetric)
    assert torch.allclose(
        capri_loss(pred, targets, masked, **kwargs), capri_loss(other_pred, other_targets, masked, **kwargs)
    )


def test_loss_value_is_cross_entropy_of_masked_rows_over_real_targets():
    pred, targets, masked, padding = case()
    logits = pred @ targets.transpose(1, 2) / 0.07  # (B, L, L)
    rows = [F.cross_entropy(logits[0, i : i + 1], torch.tensor([i])) for i in (1, 3)]
    rows.append(F.cross_entropy(logits[1, 0:1, :4], torch.tensor([0])))  # padding targets excluded
    expected = torch.stack(rows).mean()
    assert torch.allclose(capri_loss(pred, targets, masked, padding), expected)


def test_targets_are_detached():
    pred, targets, masked, padding = case()
    pred.requires_grad_(True)
    targets.requires_grad_(True)
    for symmetric in (False, True):
        capri_loss(pred, targets, masked, padding, symmetric=symmetric).backward()
    assert targets.grad is None
    assert pred.grad is not None and pred.grad[masked].abs().sum() > 0
    assert pred.grad[padding].abs().sum() == 0
