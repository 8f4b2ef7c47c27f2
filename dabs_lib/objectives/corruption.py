"""Corruptions of embedded token sequences, shared by the objectives and invariance analysis.

Every function works on embeddings `tokens` of shape (B, L, D) (after the embedding
module, before CLS and positions) and a boolean `padding_mask` (B, L), True = padding.
Padding positions are never chosen, so a corruption only ever touches real tokens.
Randomness comes from `generator` when given (reproducible analysis), else from
torch's global RNG (which Lightning seeds).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dabs_lib.settings_rules import MASK_TOKENS  # noqa: F401  (re-exported: the objectives import it here)


def check_rate(name: str, value: float) -> None:
    """Config validation shared by every objective with a corruption rate."""
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), but got {value}")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, but got {value!r}")


def check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, but got {value}")


def uniform(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> Tensor:
    """U(0, 1) draws on `device`, taken from `generator` on its own device when one is given."""
    if generator is None:
        return torch.rand(shape, device=device)
    return torch.rand(shape, generator=generator, device=generator.device).to(device)


def choose_positions(padding_mask: Tensor, rate: float, generator: torch.Generator | None = None) -> Tensor:
    """Per example, k = ceil(n_real * rate) (at least 1) positions among its real tokens.

    Returns a (B, L) bool tensor, True at the chosen positions; an all-padding row gets none.
    """
    b, length = padding_mask.shape
    n_real = padding_mask.logical_not().sum(1).cpu()  # (B,)
    # specs.ceil_count, vectorized; float64 (on CPU, as some GPUs lack it) equals Python's product
    k = torch.ceil(n_real.double() * rate - 1e-9).long().clamp(min=1 if rate > 0 else 0)
    k = torch.minimum(k, n_real).to(padding_mask.device)  # (B,)
    scores = uniform((b, length), generator, padding_mask.device)
    scores = scores.masked_fill(padding_mask, 2.0)  # padding sorts after every real position
    rank = scores.argsort(dim=1).argsort(dim=1)  # (B, L): rank of each position in its row
    return rank < k.unsqueeze(1)


def changed(original: Tensor, corrupted: Tensor) -> Tensor:
    """(B, L) bool: True where a token's embedding differs in value (exact comparison)."""
    return (original.detach() != corrupted.detach()).any(dim=-1)


def derange(tokens: Tensor, chosen: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Permute the embeddings at the chosen positions among themselves, none staying put.

    Each row's chosen positions are put in a random order and every one takes the value
    of the next in that order (a uniformly random single cycle), so no chosen position
    keeps its own embedding when a row has k >= 2. Returns the shuffled tokens (B, L, D),
    differentiable with respect to `tokens`, and `moved` (B, L): True only where the
    embedding changed value (swapping two identical tokens, or k = 1, moves nothing).
    """
    b, length, d = tokens.shape
    k = chosen.sum(1, keepdim=True)  # (B, 1)
    scores = uniform((b, length), generator, chosen.device)
    order = scores.masked_fill(chosen.logical_not(), 2.0).argsort(dim=1)  # (B, L): chosen first
    slot = torch.arange(length, device=chosen.device).expand(b, -1)  # (B, L)
    next_slot = torch.where(slot + 1 < k, slot + 1, torch.zeros_like(slot))
    from_next = order.gather(1, next_slot)  # (B, L): the position after order[j] in the cycle
    source = torch.empty_like(order)
    # position order[j] reads from order[j+1 mod k] for j < k, from itself otherwise
    source.scatter_(1, order, torch.where(slot < k, from_next, order))
    shuffled = tokens.gather(1, source.unsqueeze(-1).expand(-1, -1, d))  # (B, L, D)
    return shuffled, changed(tokens, shuffled)


def mask_tokens(tokens: Tensor, chosen: Tensor, replacement: Tensor) -> Tensor:
    """Replace the embeddings at the chosen positions by `replacement` (D,)."""
    fill = replacement.to(tokens.dtype).expand_as(tokens)  # (B, L, D)
    return torch.where(chosen.unsqueeze(-1), fill, tokens)


def mix_tokens(tokens: Tensor, lam: Tensor, perm: Tensor) -> Tensor:
    """lam_i e_i + (1 - lam_i) stopgrad(e_perm(i)), one weight per example: lam and perm are (B,)."""
    weight = lam.to(tokens.dtype).view(-1, 1, 1)  # (B, 1, 1)
    return weight * tokens + (1.0 - weight) * tokens[perm].detach()


def make_mask_vector(mask_token: str, embed_dim: int) -> nn.Parameter | None:
    """A learned mask embedding (starting at zeros, i.e. at DABS's choice), or None for zeros."""
    check_choice("mask_token", mask_token, MASK_TOKENS)
    return nn.Parameter(torch.zeros(embed_dim)) if mask_token == "learned" else None


def replacement_for(mask_vector: nn.Parameter | None, tokens: Tensor) -> Tensor:
    """The (D,) vector masked positions receive."""
    return mask_vector if mask_vector is not None else tokens.new_zeros(tokens.shape[-1])
