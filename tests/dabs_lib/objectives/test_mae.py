"""Masked prediction: only masked tokens count, every input kind routes to its own head."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dabs_lib.encoder import Encoder
from dabs_lib.objectives.corruption import choose_positions
from dabs_lib.objectives.mae import MaskedPrediction, TiedTokenHead, masked_regression_loss, masked_token_loss
from tests.dabs_lib.objectives.batches import SPEC_SETS, TINY, make_batch

MASKED = torch.tensor([[True, False, False, True], [False, True, False, False]])


@pytest.mark.parametrize("loss", ["l2", "mse", "l1"])
def test_regression_loss_ignores_unmasked_tokens(loss):
    pred, target = torch.randn(2, 4, 3), torch.randn(2, 4, 3)
    other_pred, other_target = pred.clone(), target.clone()
    other_pred[~MASKED] = 50.0
    other_target[~MASKED] = -50.0
    assert torch.allclose(
        masked_regression_loss(pred, target, MASKED, loss),
        masked_regression_loss(other_pred, other_target, MASKED, loss),
    )


def test_regression_loss_values():
    pred = torch.zeros(1, 2, 2)
    target = torch.tensor([[[3.0, 4.0], [9.0, 9.0]]])
    masked = torch.tensor([[True, False]])
    assert masked_regression_loss(pred, target, masked, "l2").item() == pytest.approx(5.0)  # un-squared
    assert masked_regression_loss(pred, target, masked, "mse").item() == pytest.approx(12.5)
    assert masked_regression_loss(pred, target, masked, "l1").item() == pytest.approx(3.5)


def test_token_loss_ignores_unmasked_tokens():
    logits, target = torch.randn(2, 4, 7), torch.randint(0, 7, (2, 4))
    other_logits, other_target = logits.clone(), target.clone()
    other_logits[~MASKED] = torch.randn(5, 7) * 10
    other_target[~MASKED] = 0
    loss = masked_token_loss(logits, target, MASKED)
    assert torch.allclose(loss, masked_token_loss(other_logits, other_target, MASKED))
    assert torch.allclose(loss, F.cross_entropy(logits[MASKED], target[MASKED]))


def test_heads_follow_the_inputs_and_token_logits_are_tied_to_the_embedding():
    encoder = Encoder(SPEC_SETS["image+tokens"], TINY)
    objective = MaskedPrediction(encoder)
    image_spec = SPEC_SETS["image+tokens"][0]
    assert objective.heads[0].out_features == image_spec.token_size
    assert isinstance(objective.heads[1], TiedTokenHead)
    own = {id(p) for p in objective.parameters()} - {id(p) for p in encoder.parameters()}
    assert sum(p.numel() for p in objective.parameters() if id(p) in own) == (
        TINY.embed_dim * image_spec.token_size + image_spec.token_size + 16  # image head + token bias
    )


def test_an_input_without_masked_tokens_is_left_out_of_the_mean():
    # every caption is padding: only the image can be masked, and the loss must stay finite
    torch.manual_seed(0)
    objective = MaskedPrediction(Encoder(SPEC_SETS["image+tokens"], TINY))
    inputs, _ = make_batch(SPEC_SETS["image+tokens"])
    inputs[1] = torch.zeros_like(inputs[1])
    loss, metrics = objective(inputs)
    assert torch.isfinite(loss) and "acc" not in metrics
    loss.backward()
    assert objective.heads[0].weight.grad.abs().sum() > 0
    assert objective.heads[1].bias.grad is None or objective.heads[1].bias.grad.abs().sum() == 0


def _loss_scoring_every_position(objective: MaskedPrediction, inputs, seed: int) -> torch.Tensor:
    """The former route: heads on all (B, N) positions, then the masked ones picked."""
    torch.manual_seed(seed)
    encoder = objective.encoder
    tokens, padding_mask = encoder.embed(inputs)
    chosen = choose_positions(padding_mask, objective.config.corruption_rate)
    states = encoder.encode(torch.where(chosen.unsqueeze(-1), 0.0, tokens), padding_mask).tokens
    targets, losses = encoder.embedding.targets(inputs), []
    for index, (start, end) in enumerate(encoder.embedding.segments):
        masked, head = chosen[:, start:end], objective.heads[index]
        if isinstance(head, TiedTokenHead):
            logits = head(states[:, start:end], encoder.embedding.parts[index].table.weight)  # (B, N, V)
            losses.append(masked_token_loss(logits, targets[index], masked))
        else:
            losses.append(masked_regression_loss(head(states[:, start:end]), targets[index], masked))
    return torch.stack(losses).mean()


@pytest.mark.parametrize("kind", ["tokens", "image+tokens", "2d"])
def test_heads_score_only_masked_positions_with_the_same_loss(kind):
    torch.manual_seed(0)
    objective = MaskedPrediction(Encoder(SPEC_SETS[kind], TINY))
    inputs, _ = make_batch(SPEC_SETS[kind])
    shapes = []
    for head in objective.heads:
        head.register_forward_hook(lambda module, args, out: shapes.append(tuple(out.shape)))
    torch.manual_seed(1)
    loss, _ = objective(inputs)
    expected = _loss_scoring_every_position(objective, inputs, seed=1)
    assert torch.allclose(loss, expected, atol=1e-5)
    torch.manual_seed(1)
    chosen = choose_positions(objective.encoder.embed(inputs)[1], objective.config.corruption_rate)
    for index, (start, end) in enumerate(objective.encoder.embedding.segments):
        spec = SPEC_SETS[kind][index]
        width = spec.vocab_size if spec.kind == "tokens" else spec.token_size
        assert shapes[index] == (int(chosen[:, start:end].sum()), width)  # (num_masked, V), not (B, L, V)
