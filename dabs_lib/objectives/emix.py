"""e-Mix: i-Mix applied to embeddings (DABS's domain-agnostic contrastive objective).

Each example's embeddings are mixed with another example's (a batch permutation),
lam_i e_i + (1 - lam_i) stopgrad(e_perm(i)); the mixed view must pick out both of its
sources among the clean views, with soft labels lam_i and 1 - lam_i. Unlike the
original, each example's lam_i weights its own cross-entropy (DABS broadcast a
(B, 1, 1) lam against a (B,) loss, which loses the per-example weights).
"""

from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dabs_lib.encoder import Encoder
from dabs_lib.objectives.corruption import mix_tokens
from dabs_lib.objective_configs import EMixConfig


def sample_mixing(batch_size: int, mix_alpha: float, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """lam = max(u, 1 - u), u ~ Beta(alpha, alpha), one per example, and a batch permutation.

    Drawn on the CPU (not every accelerator samples Beta), so a seed gives the same draws anywhere.
    """
    alpha = torch.tensor(float(mix_alpha))
    u = torch.distributions.Beta(alpha, alpha).sample((batch_size,))  # (B,)
    lam = torch.maximum(u, 1.0 - u)
    perm = torch.randperm(batch_size)
    return lam.to(device), perm.to(device)


def emix_loss(logits: Tensor, perm: Tensor, lam: Tensor) -> Tensor:
    """mean_i [lam_i CE(S_i, i) + (1 - lam_i) CE(S_i, perm_i)]; logits S is (B, B), mixed x clean."""
    own = torch.arange(logits.shape[0], device=logits.device)
    ce_own = F.cross_entropy(logits, own, reduction="none")  # (B,)
    ce_mix = F.cross_entropy(logits, perm, reduction="none")  # (B,)
    lam = lam.to(logits.dtype)
    return (lam * ce_own + (1.0 - lam) * ce_mix).mean()


class EMix(nn.Module):
    Config = EMixConfig
    trains = True
    needs_labels = False
    pooled: Tensor | None = None  # detached (B, D) pooled feature of the last forward (online probe)

    def __init__(self, encoder: Encoder, config: EMixConfig = EMixConfig()) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = config

    def _embed_views(self, tokens: Tensor, padding_mask: Tensor, keep: bool = False) -> Tensor:
        pooled = self.encoder.encode(tokens, padding_mask).pooled  # (B, D)
        if keep:  # the clean view: what the online probe reads
            self.pooled = pooled.detach()
        return F.normalize(self.encoder.project(pooled), dim=-1)  # (B, out_dim)

    def forward(self, inputs: list[Tensor], labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        tokens, padding_mask = self.encoder.embed(inputs)  # (B, L, D), (B, L)
        b = tokens.shape[0]
        if b < 2:
            raise ValueError(f"e-Mix contrasts examples within a batch, so batch size must be >= 2, but got {b}")
        lam, perm = sample_mixing(b, self.config.mix_alpha, tokens.device)
        mixed = mix_tokens(tokens, lam, perm)
        # a mixed position is padding only when both of its sources are
        mixed_padding = padding_mask & padding_mask[perm]
        z_mixed = self._embed_views(mixed, mixed_padding)
        z_clean = self._embed_views(tokens, padding_mask, keep=True)
        logits = z_mixed @ z_clean.T / self.config.temperature  # (B, B)
        loss = emix_loss(logits, perm, lam)
        own = torch.arange(b, device=logits.device)
        acc = (logits.argmax(dim=1) == own).float().mean()  # the dominant source (lam >= 0.5)
        return loss, {"acc": acc.detach(), "lam": lam.mean().detach()}
