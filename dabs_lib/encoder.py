"""The domain-agnostic encoder: a pre-LayerNorm transformer over embedded tokens.

Sizes are DABS's by default (D 256, 12 blocks, 8 heads x 64 = inner width 512, QKV
without bias, MLP 512, dropout 0.1, head LN -> Linear(D, 128)): 9.46M parameters in the
blocks. Departures from DABS, each a ModelConfig field: attention and pooling honour the
padding mask, so padding never changes what the real tokens produce; a final LayerNorm
(`final_norm`, DABS has none); mean pooling skips CLS (`mean_pool_cls`, DABS includes
it). Attention-probability dropout (`attention_dropout`) is off by default, as in DABS.
When a batch has no padding, attention runs without a mask, which lets PyTorch pick its
fused kernel, or in bf16 on a CPU with native bf16 matmuls, where it is faster, two plain
matmuls and a softmax (float32 up to CPU_PLAIN_ATTENTION_MAX_LEN tokens); the result is the
same to bf16 tolerance (tested).
"""

from __future__ import annotations

import contextlib
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from dabs_lib.embeddings import MultiEmbedding
from dabs_lib.model_config import ModelConfig
from dabs_lib.specs import Spec, total_tokens


class EncoderOutput(NamedTuple):
    tokens: Tensor  # (B, L, D) per-token states, CLS dropped
    pooled: Tensor  # (B, D) pre-head feature used by probes


def _attention_kernel(q: Tensor) -> contextlib.AbstractContextManager[None]:
    """bf16 on a CPU: the math kernel, whose backward is several times faster there than the fused
    CPU kernel's (2.3-2.5x at 65 and 257 tokens on an AVX2 EPYC too); elsewhere PyTorch's own choice."""
    if q.device.type == "cpu" and q.dtype == torch.bfloat16:
        return sdpa_kernel(SDPBackend.MATH)
    return contextlib.nullcontext()


CPU_PLAIN_ATTENTION_MAX_LEN = 200  # longest sequence (CLS included) measured faster with a float32 softmax


def cpu_has_bf16_matmul() -> bool:
    """Whether this CPU multiplies bf16 natively (AMX tiles or AVX512-BF16). Without it bf16 GEMMs are
    emulated: on an AVX2 EPYC, (64, 8, 257, 64) plain bf16 attention fwd+bwd took 9.6 s against 1.7 s
    for SDPA's math kernel, which computes in float32 (bench/attention_paths.py, BENCHMARKS.md)."""
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def plain_attention_fits(q: Tensor, attn_mask: Tensor | None, dropout_p: float) -> bool:
    """Whether `plain_attention` is the faster exact path: bf16 on a CPU that multiplies bf16
    natively, nothing masked or dropped.

    Forward + backward of (64, 8, L, 64) on one thread of an AMX CPU (bench/attention_paths.py):
    40 vs 69 ms (math kernel) at L 65, 110 vs 223 at 129, 338 vs 510 at 197; whole bf16 steps on
    2d64 about 19% faster (BENCHMARKS.md). fp32 keeps SDPA: plain was faster on attention alone up
    to about 96 tokens (41 vs 48 ms at 65) but not on whole steps (10% faster to 13% slower)."""
    return (
        q.device.type == "cpu"
        and q.dtype == torch.bfloat16
        and attn_mask is None
        and dropout_p == 0.0
        and cpu_has_bf16_matmul()
    )


def plain_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """softmax(q k^T / sqrt(d)) v. Up to CPU_PLAIN_ATTENTION_MAX_LEN tokens the softmax runs in
    float32 (as the fused kernels keep it); beyond, in q's dtype, as DABS's einsum attention runs
    under autocast: the (B, H, L, L) float32 copy and its casts cost a quarter of a bf16 step at
    257 tokens (issue 24), and bf16 keeps the maximum subtraction, so the result stays close."""
    scores = (q * q.shape[-1] ** -0.5) @ k.transpose(-1, -2)  # (B, H, L, L)
    if q.shape[-2] > CPU_PLAIN_ATTENTION_MAX_LEN:
        return scores.softmax(-1) @ v
    return scores.softmax(-1, dtype=torch.float32).to(v.dtype) @ v


class Attention(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.num_heads, self.head_dim = config.num_heads, config.head_dim
        self.qkv = nn.Linear(config.embed_dim, 3 * config.inner_dim, bias=False)
        self.out = nn.Linear(config.inner_dim, config.embed_dim)
        self.dropout = config.attention_dropout
        self.plain = True  # the plain CPU path where it is faster; False = always SDPA (tests compare)

    def forward(self, x: Tensor, attn_mask: Tensor | None) -> Tensor:
        """x (B, L, D); attn_mask (B, 1, 1, L) True = may attend, or None when nothing is padding."""
        b, length, _ = x.shape
        qkv = self.qkv(x).reshape(b, length, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, H, L, head_dim)
        dropout_p = self.dropout if self.training else 0.0
        if self.plain and plain_attention_fits(q, attn_mask, dropout_p):
            y = plain_attention(q, k, v)
        else:
            with _attention_kernel(q):
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p)
        # y: (B, H, L, head_dim)
        return self.out(y.transpose(1, 2).reshape(b, length, self.num_heads * self.head_dim))


class Block(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
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

    def forward(self, x: Tensor, attn_mask: Tensor | None) -> Tensor:
        x = x + self.drop(self.attn(self.norm1(x), attn_mask))
        return x + self.drop(self.mlp(self.norm2(x)))


class Encoder(nn.Module):
    """embed(inputs) -> (tokens, padding_mask); encode(tokens, padding_mask) -> EncoderOutput."""

    def __init__(self, specs: tuple[Spec, ...], config: ModelConfig = ModelConfig()) -> None:
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
        self.norm = nn.LayerNorm(d) if config.final_norm else nn.Identity()
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, config.out_dim))

    def embed(self, inputs: list[Tensor] | tuple[Tensor, ...]) -> tuple[Tensor, Tensor]:
        """Raw inputs -> (B, L, D) embeddings (no CLS, no positions) and (B, L) padding mask."""
        return self.embedding(inputs)

    def encode(self, tokens: Tensor, padding_mask: Tensor, padded: bool | None = None) -> EncoderOutput:
        """`padded`: whether any position is padding; None checks `padding_mask` (one host sync).

        Without padding the mask is dropped (attn_mask=None), which lets SDPA use its fused
        kernel; masked or not, the outputs agree to float tolerance.
        """
        b, length, _ = tokens.shape
        x = torch.cat([self.cls.expand(b, -1, -1), tokens], dim=1) + self.pos[:, : length + 1]
        x = self.drop(x)  # (B, L+1, D)
        padded = bool(padding_mask.any()) if padded is None else padded
        attn_mask = None
        if padded:
            keep = torch.cat([padding_mask.new_zeros(b, 1), padding_mask], dim=1).logical_not()  # (B, L+1)
            attn_mask = keep[:, None, None, :]  # (B, 1, 1, L+1): every query sees CLS, so no row is empty
        for block in self.blocks:
            x = block(x, attn_mask)
        x = self.norm(x)
        return EncoderOutput(x[:, 1:], self._pool(x, padding_mask, padded))

    def _pool(self, x: Tensor, padding_mask: Tensor, padded: bool) -> Tensor:
        """(B, L+1, D) states -> (B, D): CLS, or the mean over real tokens (and CLS if asked)."""
        if self.config.pooling == "cls":
            return x[:, 0]
        states = x if self.config.mean_pool_cls else x[:, 1:]
        if not padded:
            return states.mean(1)
        real = padding_mask.logical_not()
        if self.config.mean_pool_cls:
            real = torch.cat([real.new_ones(len(real), 1), real], dim=1)
        weights = real.unsqueeze(-1).to(x.dtype)  # (B, L or L+1, 1)
        return (states * weights).sum(1) / weights.sum(1).clamp_min(1.0)

    def forward(self, inputs: list[Tensor] | tuple[Tensor, ...]) -> EncoderOutput:
        return self.encode(*self.embed(inputs))

    def project(self, pooled: Tensor) -> Tensor:
        """The projection head used by contrastive objectives: (B, D) -> (B, out_dim)."""
        return self.head(pooled)


def block_parameters(config: ModelConfig = ModelConfig()) -> int:
    """Parameters in the transformer blocks alone (what DABS's 9.46M counts): no embeddings,
    CLS, positions, final norm or head, so it does not depend on the inputs."""
    return config.depth * sum(p.numel() for p in Block(config).parameters())
