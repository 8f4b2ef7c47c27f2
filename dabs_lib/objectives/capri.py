"""Capri: contrastive prediction of masked embeddings ("contpred" in the DABS README).

The encoder sees a masked sequence; a Linear(D, D) head turns each masked position's
state into a prediction p_i that must pick out the original embedding t_i among the
real positions of the same sequence: logits[b, i, j] = p_{b,i} . t_{b,j} / temperature.
Unlike the original, only masked positions are scored, targets are detached (the
embedding learns through the encoder's input, not by moving the answers), and padding
is never a candidate.
"""

from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dabs_lib.encoder import Encoder
from dabs_lib.objectives.corruption import (
    choose_positions,
    make_mask_vector,
    mask_tokens,
    replacement_for,
)
from dabs_lib.objective_configs import CapriConfig


def capri_logits(pred: Tensor, targets: Tensor, temperature: float, normalize: bool) -> Tensor:
    """(B, L, L) logits of prediction i against target j, targets detached.

    Computed in float32 even under mixed precision: at temperature 0.07 unnormalized
    logits reach the hundreds, where bfloat16 rounds by whole units.
    """
    pred, targets = pred.float(), targets.detach().float()
    if normalize:
        pred, targets = F.normalize(pred, dim=-1), F.normalize(targets, dim=-1)
    with torch.autocast(device_type=pred.device.type, enabled=False):
        return pred @ targets.transpose(1, 2) / temperature  # (B, L, L)


def capri_loss(
    pred: Tensor,
    targets: Tensor,
    masked: Tensor,
    padding_mask: Tensor | None = None,
    temperature: float = 0.07,
    normalize: bool = False,
    symmetric: bool = False,
) -> Tensor:
    """Mean over masked positions i of CE(logits[b, i, real j], i); pred, targets (B, L, D), masked (B, L).

    With `symmetric`, the mean also includes CE(logits[b, real i, j], j) over masked targets
    j, whose candidates are the predictions at every real position.
    """
    if padding_mask is None:
        padding_mask = torch.zeros_like(masked)
    logits = capri_logits(pred, targets, temperature, normalize)
    position = torch.arange(masked.shape[1], device=masked.device).expand_as(masked)  # (B, L)
    rows = logits.masked_fill(padding_mask.unsqueeze(1), float("-inf"))[masked]  # (M, L) over targets
    loss = F.cross_entropy(rows, position[masked])
    if symmetric:
        columns = logits.transpose(1, 2).masked_fill(padding_mask.unsqueeze(1), float("-inf"))
        loss = (loss + F.cross_entropy(columns[masked], position[masked])) / 2  # (M, L) over predictions
    return loss


def capri_accuracy(pred: Tensor, targets: Tensor, masked: Tensor, padding_mask: Tensor, config: CapriConfig) -> Tensor:
    """Share of masked positions whose best-scoring real target is their own."""
    logits = capri_logits(pred.detach(), targets, config.temperature, config.normalize)
    logits = logits.masked_fill(padding_mask.unsqueeze(1), float("-inf"))
    position = torch.arange(masked.shape[1], device=masked.device).expand_as(masked)
    return (logits.argmax(-1) == position)[masked].float().mean()


class Capri(nn.Module):
    Config = CapriConfig
    trains = True
    needs_labels = False
    pooled: Tensor | None = None  # detached (B, D) pooled feature of the last forward (online probe)

    def __init__(self, encoder: Encoder, config: CapriConfig = CapriConfig()) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = config
        d = encoder.config.embed_dim
        self.mask_vector = make_mask_vector(config.mask_token, d)
        self.head = nn.Linear(d, d)

    def forward(self, inputs: list[Tensor], labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        tokens, padding_mask = self.encoder.embed(inputs)  # (B, L, D), (B, L)
        chosen = choose_positions(padding_mask, self.config.corruption_rate)
        corrupted = mask_tokens(tokens, chosen, replacement_for(self.mask_vector, tokens))
        encoded = self.encoder.encode(corrupted, padding_mask)
        self.pooled = encoded.pooled.detach()
        pred = self.head(encoded.tokens)  # (B, L, D)
        cfg = self.config
        loss = capri_loss(pred, tokens, chosen, padding_mask, cfg.temperature, cfg.normalize, cfg.symmetric)
        acc = capri_accuracy(pred, tokens, chosen, padding_mask, cfg)
        return loss, {"acc": acc}
