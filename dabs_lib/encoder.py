"""The domain-agnostic encoder: a pre-LayerNorm transformer over embedded tokens.

Defaults are DABS's (D 256, 12 blocks, 8 heads x 64, MLP 512, dropout 0.1, head
LN -> Linear(D, 128)). Unlike the original, attention and pooling honour the padding
mask, so padding never changes what the real tokens produce.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dabs_lib.embeddings import MultiEmbedding
from dabs_lib.specs import Spec, total_tokens


@dataclass(frozen=True)
class ModelConfig:
    embed_dim: int = 256  # D, the width of every token; DABS default
    depth: int = 12  # number of transformer blocks
    num_heads: int = 8  # attention heads; embed_dim must divide by it (8 x 32 at D=256)
    mlp_dim: int = 512  # hidden width of each block's MLP (DABS uses 2 x D, not 4 x D)
    dropout: float = 0.1  # on embeddings, attention output and MLP; off in eval mode
    pooling: str = "mean"  # "mean" over non-padding tokens, or "cls"
    out_dim: int = 128  # width of the projection head (LN -> Linear(D, out_dim))

    def __post_init__(self) -> None:
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"embed_dim must be divisible by num_heads, but got embed_dim={self.embed_dim}, "
                f"num_heads={self.num_heads}"
            )
        if self.pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', but got pooling={self.pooling!r}")


class EncoderOutput(NamedTuple):
    tokens: Tensor  # (B, L, D) per-token states, CLS dropped
    pooled: Tensor  # (B, D) pre-head feature used by probes


class Attention(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.num_heads = config.num_heads
        self.qkv = nn.Linear(config.embed_dim, 3 * config.embed_dim, bias=False)
        self.out = nn.Linear(config.embed_dim, config.embed_dim)
        self.dropout = config.dropout

    def forward(self, x: Tensor, attn_mask: Tensor) -> Tensor:
        b, length, d = x.shape
        qkv = self.qkv(x).reshape(b, length, 3, self.num_heads, d // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, H, L, d_head)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(y.transpose(1, 2).reshape(b, length, d))


class Block(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(config.embed_dim)
        self.attn = Attention(config)
        self.norm2 = nn.LayerNorm(config.embed_dim)
        self.mlp = nn.Sequential(
            nn.Linear(config.embed_dim, config.mlp_dim),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.mlp_dim, config.embed_dim),
        )
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, attn_mask: Tensor) -> Tensor:
        x = x + self.drop(self.attn(self.norm1(x), attn_mask))
        return x + self.drop(self.mlp(self.norm2(x)))


class Encoder(nn.Module):
    """embed(inputs) -> (tokens, padding_mask); encode(tokens, padding_mask) -> EncoderOutput."""

    def __init__(self, specs: tuple[Spec, ...], config: ModelConfig = ModelConfig()):
        super().__init__()
        self.specs = tuple(specs)
        self.config = config
        d = config.embed_dim
        self.embedding = MultiEmbedding(self.specs, d)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.zeros(1, total_tokens(self.specs) + 1, d))
        nn.init.trunc_normal_(self.cls, std=0.02)
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.depth))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, config.out_dim))

    def embed(self, inputs: list[Tensor] | tuple[Tensor, ...]) -> tuple[Tensor, Tensor]:
        """Raw inputs -> (B, L, D) embeddings (no CLS, no positions) and (B, L) padding mask."""
        return self.embedding(inputs)

    def encode(self, tokens: Tensor, padding_mask: Tensor) -> EncoderOutput:
        b, length, _ = tokens.shape
        x = torch.cat([self.cls.expand(b, -1, -1), tokens], dim=1) + self.pos[:, : length + 1]
        x = self.drop(x)  # (B, L+1, D)
        keep = torch.cat([padding_mask.new_zeros(b, 1), padding_mask], dim=1).logical_not()  # (B, L+1)
        attn_mask = keep[:, None, None, :]  # (B, 1, 1, L+1): every query sees CLS, so no row is empty
        for block in self.blocks:
            x = block(x, attn_mask)
        x = self.norm(x)
        per_token = x[:, 1:]
        if self.config.pooling == "cls":
            pooled = x[:, 0]
        else:
            weights = padding_mask.logical_not().unsqueeze(-1).to(x.dtype)  # (B, L, 1)
            pooled = (per_token * weights).sum(1) / weights.sum(1).clamp_min(1.0)
        return EncoderOutput(per_token, pooled)

    def forward(self, inputs: list[Tensor] | tuple[Tensor, ...]) -> EncoderOutput:
        return self.encode(*self.embed(inputs))

    def project(self, pooled: Tensor) -> Tensor:
        """The projection head used by contrastive objectives: (B, D) -> (B, out_dim)."""
        return self.head(pooled)
