"""One small embedding module per input kind: raw input -> (B, L, D) tokens + padding mask.

Every module also exposes `targets(x)`: what masked prediction reconstructs at each
token position (the raw preprocessed patch/segment/feature, or the token id).
`padding_mask` is True where a position is padding (PyTorch's key_padding_mask
convention); only token inputs ever pad.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dabs_lib.specs import Image2dSpec, Sequence1dSpec, Spec, TabularSpec, TokensSpec


class TokensEmbedding(nn.Module):
    def __init__(self, spec: TokensSpec, embed_dim: int) -> None:
        super().__init__()
        self.spec = spec
        self.table = nn.Embedding(spec.vocab_size, embed_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.table(x), x == self.spec.pad_id  # (B, L, D), (B, L)

    def targets(self, x: Tensor) -> Tensor:
        return x  # (B, L) token ids


class Sequence1dEmbedding(nn.Module):
    def __init__(self, spec: Sequence1dSpec, embed_dim: int) -> None:
        super().__init__()
        self.spec = spec
        self.proj = nn.Linear(spec.token_size, embed_dim)

    def targets(self, x: Tensor) -> Tensor:
        b, length, c = x.shape  # (B, L, C)
        return x.reshape(b, length // self.spec.segment_size, self.spec.segment_size * c)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        segments = self.targets(x)  # (B, L/s, s*C)
        return self.proj(segments), _no_padding(segments)


class Image2dEmbedding(nn.Module):
    def __init__(self, spec: Image2dSpec, embed_dim: int) -> None:
        super().__init__()
        self.spec = spec
        self.proj = nn.Linear(spec.token_size, embed_dim)

    def targets(self, x: Tensor) -> Tensor:
        p = self.spec.patch_size
        b, c, h, w = x.shape  # (B, C, H, W)
        patches = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
        return patches.reshape(b, (h // p) * (w // p), p * p * c)  # (B, N, p*p*C)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        patches = self.targets(x)
        return self.proj(patches), _no_padding(patches)


class TabularEmbedding(nn.Module):
    """One shared Linear(1, D) for every scalar; the positional embedding says which feature."""

    def __init__(self, spec: TabularSpec, embed_dim: int) -> None:
        super().__init__()
        self.spec = spec
        self.proj = nn.Linear(1, embed_dim)

    def targets(self, x: Tensor) -> Tensor:
        return x.unsqueeze(-1)  # (B, F, 1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        values = self.targets(x)
        return self.proj(values), _no_padding(values)


EMBEDDINGS = {
    "tokens": TokensEmbedding,
    "1d": Sequence1dEmbedding,
    "2d": Image2dEmbedding,
    "tabular": TabularEmbedding,
}


def _no_padding(tokens: Tensor) -> Tensor:
    return torch.zeros(tokens.shape[:2], dtype=torch.bool, device=tokens.device)


def build_embedding(spec: Spec, embed_dim: int) -> nn.Module:
    return EMBEDDINGS[spec.kind](spec, embed_dim)


class MultiEmbedding(nn.Module):
    """Embeds every input of a dataset and concatenates the token sequences in spec order."""

    def __init__(self, specs: tuple[Spec, ...], embed_dim: int) -> None:
        super().__init__()
        self.specs = tuple(specs)
        self.parts = nn.ModuleList(build_embedding(spec, embed_dim) for spec in self.specs)
        bounds, start = [], 0
        for spec in self.specs:
            bounds.append((start, start + spec.num_tokens))
            start += spec.num_tokens
        self.segments: tuple[tuple[int, int], ...] = tuple(bounds)  # token range of each input

    def forward(self, inputs: list[Tensor] | tuple[Tensor, ...]) -> tuple[Tensor, Tensor]:
        if len(inputs) != len(self.parts):
            raise ValueError(f"expected {len(self.parts)} inputs for specs {self.specs}, got {len(inputs)}")
        pieces = [part(x) for part, x in zip(self.parts, inputs)]
        tokens = torch.cat([t for t, _ in pieces], dim=1)  # (B, L, D)
        padding_mask = torch.cat([m for _, m in pieces], dim=1)  # (B, L)
        return tokens, padding_mask

    def targets(self, inputs: list[Tensor] | tuple[Tensor, ...]) -> list[Tensor]:
        return [part.targets(x) for part, x in zip(self.parts, inputs)]
