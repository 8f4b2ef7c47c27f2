"""ShED: Shuffled Embedding Detection, a domain-agnostic ELECTRA.

k = ceil(n_real * corruption_rate) real positions per example swap their embeddings
among themselves (none stays put); a per-token head says which tokens were moved.
Unlike the original, a token counts as moved only when its embedding actually changed
(identical tokens swapped, or k = 1, change nothing), and padding never counts.
"""

from __future__ import annotations


import torch.nn.functional as F
from torch import Tensor, nn

from dabs_lib.encoder import Encoder
from dabs_lib.objectives.corruption import changed, choose_positions, derange
from dabs_lib.objective_configs import ShEDConfig

IGNORE = -100  # label of padding positions: they never count in the loss


def shed_labels(original: Tensor, corrupted: Tensor, padding_mask: Tensor) -> Tensor:
    """(B, L) long: 1 where the embedding changed, 0 where it did not, IGNORE at padding."""
    labels = changed(original, corrupted).long()
    return labels.masked_fill(padding_mask, IGNORE)


def shed_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Cross-entropy averaged over the real tokens; logits (B, L, 2), labels (B, L)."""
    return F.cross_entropy(logits.reshape(-1, 2), labels.reshape(-1), ignore_index=IGNORE)


def detection_head(embed_dim: int, hidden_dim: int) -> nn.Module:
    if hidden_dim == 0:
        return nn.Linear(embed_dim, 2)
    return nn.Sequential(nn.Linear(embed_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, 2))


class ShED(nn.Module):
    Config = ShEDConfig
    trains = True
    needs_labels = False
    pooled: Tensor | None = None  # detached (B, D) pooled feature of the last forward (online probe)

    def __init__(self, encoder: Encoder, config: ShEDConfig = ShEDConfig()) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = config
        self.head = detection_head(encoder.config.embed_dim, config.head_hidden_dim)

    def forward(self, inputs: list[Tensor], labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        tokens, padding_mask = self.encoder.embed(inputs)  # (B, L, D), (B, L)
        chosen = choose_positions(padding_mask, self.config.corruption_rate)
        shuffled, _ = derange(tokens, chosen)
        targets = shed_labels(tokens, shuffled, padding_mask)  # (B, L)
        encoded = self.encoder.encode(shuffled, padding_mask)
        self.pooled = encoded.pooled.detach()
        logits = self.head(encoded.tokens)  # (B, L, 2)
        loss = shed_loss(logits, targets)
        real = targets != IGNORE
        acc = (logits.argmax(-1) == targets)[real].float().mean()
        moved = (targets == 1)[real].float().mean()
        return loss, {"acc": acc.detach(), "moved_frac": moved.detach()}
