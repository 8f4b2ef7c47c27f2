"""e-Mix maths: per-example weights (the original's broadcasting defect) and sampling."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dabs_lib.encoder import Encoder
from dabs_lib.objectives.emix import EMix, emix_loss, sample_mixing
from tests.dabs_lib.objectives.batches import SPEC_SETS, TINY, make_batch


def per_example_reference(logits, perm, lam) -> torch.Tensor:
    terms = [
        lam[i] * F.cross_entropy(logits[i : i + 1], torch.tensor([i]))
        + (1 - lam[i]) * F.cross_entropy(logits[i : i + 1], perm[i : i + 1])
        for i in range(len(lam))
    ]
    return torch.stack(terms).mean()


def test_each_example_weight_multiplies_its_own_cross_entropy():
    # example 0 is confidently right about itself, example 1 confidently wrong: the per-example
    # weights then matter, and DABS's mean(lam) * mean(CE) broadcast gives another number
    logits = torch.tensor([[6.0, 0.0, 0.0], [0.0, 0.0, 6.0], [0.0, 3.0, 0.0]])
    perm = torch.tensor([1, 2, 0])
    lam = torch.tensor([1.0, 0.5, 0.6])
    loss = emix_loss(logits, perm, lam)
    assert torch.allclose(loss, per_example_reference(logits, perm, lam))
    own = torch.arange(3)
    ce_own = F.cross_entropy(logits, own, reduction="none")
    ce_mix = F.cross_entropy(logits, perm, reduction="none")
    broadcast = lam.mean() * ce_own.mean() + (1 - lam).mean() * ce_mix.mean()
    assert abs(loss.item() - broadcast.item()) > 0.1


def test_emix_loss_is_pure_identity_loss_when_lam_is_one():
    logits = torch.randn(5, 5)
    perm = torch.randperm(5)
    assert torch.allclose(emix_loss(logits, perm, torch.ones(5)), F.cross_entropy(logits, torch.arange(5)))


@pytest.mark.parametrize("alpha", [0.2, 1.0, 5.0])
def test_sample_mixing_gives_dominant_weights_and_a_permutation(alpha):
    torch.manual_seed(0)
    lam, perm = sample_mixing(64, alpha)
    assert lam.shape == (64,) and ((lam >= 0.5) & (lam <= 1.0)).all()
    assert lam.std() > 0  # one weight per example, not one per batch
    assert sorted(perm.tolist()) == list(range(64))


def test_emix_needs_two_examples():
    objective = EMix(Encoder(SPEC_SETS["2d"], TINY))
    inputs, _ = make_batch(SPEC_SETS["2d"], batch=1)
    with pytest.raises(ValueError, match="batch size must be >= 2, but got 1"):
        objective(inputs)
