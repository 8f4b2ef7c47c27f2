"""ShED labels: true exactly where an embedding changed; padding never counts."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dabs_lib.encoder import Encoder
from dabs_lib.objectives.corruption import choose_positions, derange
from dabs_lib.objectives.shed import IGNORE, ShED, ShEDConfig, shed_labels, shed_loss
from tests.dabs_lib.objectives.batches import SPEC_SETS, TINY


def test_labels_count_exactly_the_changed_tokens_with_repeated_ids():
    # small vocabulary so swaps of identical ids happen; one-hot embeddings track the ids
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 4, (64, 12), generator=generator)
    ids[:, 9:] = 0  # trailing padding
    ids[0, :9] = 2  # a row of identical tokens: shuffling changes nothing
    padding = ids == 0
    tokens = F.one_hot(ids, 4).float()  # (B, L, 4)
    chosen = choose_positions(padding, 0.3, generator)
    shuffled, moved = derange(tokens, chosen, generator)
    labels = shed_labels(tokens, shuffled, padding)
    truly_changed = shuffled.argmax(-1) != ids
    assert torch.equal(labels == 1, truly_changed)
    assert torch.equal(labels == 1, moved)
    assert (labels[padding] == IGNORE).all() and (labels[~padding] >= 0).all()
    assert labels[0].eq(1).sum() == 0
    assert (labels[1:].eq(1).sum(1) < chosen[1:].sum(1)).any()  # some identical swaps did occur
    assert labels.eq(1).sum() > 0


def test_a_single_chosen_position_is_not_labelled_moved():
    tokens = torch.randn(1, 5, 3)
    padding = torch.zeros(1, 5, dtype=torch.bool)
    chosen = choose_positions(padding, 0.1)  # ceil(0.5) = 1 position
    assert chosen.sum() == 1
    shuffled, _ = derange(tokens, chosen)
    assert shed_labels(tokens, shuffled, padding).eq(1).sum() == 0


def test_loss_ignores_padding_positions():
    logits = torch.randn(2, 4, 2)
    labels = torch.tensor([[1, 0, IGNORE, IGNORE], [0, 1, 1, 0]])
    changed_logits = logits.clone()
    changed_logits[0, 2:] = torch.tensor([100.0, -100.0])
    assert torch.allclose(shed_loss(logits, labels), shed_loss(changed_logits, labels))
    real = labels != IGNORE
    assert torch.allclose(shed_loss(logits, labels), F.cross_entropy(logits[real], labels[real]))


def test_head_hidden_dim_selects_linear_or_mlp_head():
    encoder = Encoder(SPEC_SETS["tabular"], TINY)
    assert isinstance(ShED(encoder).head, nn.Linear)
    head = ShED(encoder, ShEDConfig(head_hidden_dim=16)).head
    assert isinstance(head, nn.Sequential) and head[0].out_features == 16 and head[-1].out_features == 2
