"""A reference DABS training step, written here from the published facts (shared/reference/DABS.md).

Only the benchmark uses it: bench/throughput.py runs it side by side with ours for the
speed ratio. It follows the original where that costs time and is cheap to restate:
einsum attention (the score matrix materialized), no padding mask, no final LayerNorm,
mean pooling over CLS and all tokens, 8 heads x 64 with QKV bias-free, AdamW (not fused),
fp16 autocast + GradScaler on a GPU and fp32 on a CPU. Its objective steps:

- e-Mix: two forward passes (mixed, clean), lambda of shape (B, 1, 1) broadcast against the
  per-example CE (the original's defect; the cost is the same);
- ShED: the k chosen embeddings rolled by one, Linear(D, 2) on every token, CE on all tokens;
- masked prediction (DABS 2.0): zeros at k positions, heads on every position (token logits
  (B, L, V)), then the masked ones scored (un-squared L2, or CE);
- Capri: Linear(D, D) predictions against undetached embeddings, CE at all positions.

Position choice is vectorized (argsort of uniform noise), which can only make the
reference faster than a per-example loop: the ratio it gives is conservative.

With `dabs_trunk(path, ...)` the transformer blocks (where a step's time goes) are DABS's own
`Transformer` class, imported unchanged from a checkout of github.com/alextamkin/dabs at
`path` (it needs `einops`, as DABS does); nothing of DABS is copied here.
"""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dabs_lib.specs import Spec


class RefAttention(nn.Module):
    def __init__(self, dim: int, heads: int, head_dim: int, dropout: float):
        super().__init__()
        self.heads, self.scale = heads, head_dim**-0.5
        self.to_qkv = nn.Linear(dim, 3 * heads * head_dim, bias=False)
        self.to_out = nn.Sequential(nn.Linear(heads * head_dim, dim), nn.Dropout(dropout))

    def forward(self, x: Tensor) -> Tensor:
        b, n, _ = x.shape
        q, k, v = (t.reshape(b, n, self.heads, -1).transpose(1, 2) for t in self.to_qkv(x).chunk(3, dim=-1))
        attn = (torch.einsum("bhid,bhjd->bhij", q, k) * self.scale).softmax(dim=-1)  # (B, H, N, N)
        out = torch.einsum("bhij,bhjd->bhid", attn, v)
        return self.to_out(out.transpose(1, 2).reshape(b, n, -1))


class RefBlock(nn.Module):
    def __init__(self, dim: int, heads: int, head_dim: int, mlp_dim: int, dropout: float):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), RefAttention(dim, heads, head_dim, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp_dim, dim), nn.Dropout(dropout)
        )

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def _embedding(spec: Spec, dim: int) -> nn.Module:
    if spec.kind == "tokens":
        return nn.Embedding(spec.vocab_size, dim)
    return nn.Linear(spec.token_size, dim)


def _raw_tokens(spec: Spec, x: Tensor) -> Tensor:
    """What each embedding reads: ids (B, L), or patches/segments/scalars (B, N, P)."""
    if spec.kind == "2d":
        p, (b, c, h, w) = spec.patch_size, x.shape
        x = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
        return x.reshape(b, (h // p) * (w // p), p * p * c)
    if spec.kind == "1d":
        b, length, c = x.shape
        return x.reshape(b, length // spec.segment_size, spec.segment_size * c)
    if spec.kind == "tabular":
        return x.unsqueeze(-1)
    return x


def dabs_trunk(path: str, dim: int, depth: int, heads: int, head_dim: int, mlp_dim: int, dropout: float) -> nn.Module:
    """DABS's own transformer blocks (`src.models.pytorch.transformer.Transformer`) from a checkout."""
    if not (Path(path) / "src" / "models" / "pytorch" / "transformer.py").is_file():
        raise SystemExit(
            f"--dabs-code must be a checkout of github.com/alextamkin/dabs (with src/models/pytorch/transformer.py), "
            f"but got {path!r}"
        )
    try:
        import einops  # noqa: F401  (DABS's transformer imports it)
    except ImportError:
        raise SystemExit("--dabs-code: DABS's transformer imports einops; install it (`pip install einops`)") from None
    sys.path.insert(0, str(Path(path).resolve()))
    transformer = importlib.import_module("src.models.pytorch.transformer")
    return transformer.Transformer(dim, depth, heads, head_dim, mlp_dim, dropout)


class RefEncoder(nn.Module):
    def __init__(
        self,
        specs: tuple[Spec, ...],
        dim=256,
        depth=12,
        heads=8,
        head_dim=64,
        mlp_dim=512,
        dropout=0.1,
        out_dim=128,
        trunk: nn.Module | None = None,
    ):
        super().__init__()
        self.specs = specs
        self.embeds = nn.ModuleList(_embedding(spec, dim) for spec in specs)
        length = sum(spec.num_tokens for spec in specs)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, length + 1, dim) * 0.02)
        self.drop = nn.Dropout(dropout)
        # the blocks: DABS's own (dabs_trunk) or the restatement above, same arithmetic
        self.blocks = trunk or nn.Sequential(*(RefBlock(dim, heads, head_dim, mlp_dim, dropout) for _ in range(depth)))
        self.head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, out_dim))

    def embed(self, inputs: list[Tensor]) -> Tensor:
        return torch.cat([e(_raw_tokens(s, x)) for e, s, x in zip(self.embeds, self.specs, inputs)], dim=1)

    def encode(self, tokens: Tensor) -> tuple[Tensor, Tensor]:
        """(B, L, D) embeddings -> per-token states (B, L, D) and mean pool over CLS + tokens."""
        x = torch.cat([self.cls.expand(len(tokens), -1, -1), tokens], dim=1) + self.pos
        x = self.blocks(self.drop(x))
        return x[:, 1:], x.mean(dim=1)


def _choose(b: int, length: int, rate: float, device) -> Tensor:
    """(B, k) positions per example, k = ceil(L * rate)."""
    k = max(1, math.ceil(length * rate))
    return torch.rand(b, length, device=device).argsort(dim=1)[:, :k]


class RefObjective(nn.Module):
    """One DABS objective on a RefEncoder; forward(inputs) -> loss."""

    def __init__(self, name: str, encoder: RefEncoder, rate: float = 0.15):
        super().__init__()
        self.name, self.encoder, self.rate = name, encoder, rate
        dim = encoder.pos.shape[-1]
        if name == "shed":
            self.head = nn.Linear(dim, 2)
        elif name == "capri":
            self.head = nn.Linear(dim, dim)
        elif name == "mae":
            self.heads = nn.ModuleList(
                nn.Linear(dim, spec.vocab_size if spec.kind == "tokens" else spec.token_size) for spec in encoder.specs
            )

    def forward(self, inputs: list[Tensor]) -> Tensor:
        return getattr(self, f"_{self.name}")(inputs)

    def _emix(self, inputs: list[Tensor]) -> Tensor:
        e = self.encoder.embed(inputs)
        b = len(e)
        u = torch.distributions.Beta(1.0, 1.0).sample((b,)).to(e.device)
        lam = torch.maximum(u, 1 - u).view(b, 1, 1)
        perm = torch.randperm(b, device=e.device)
        mixed = lam * e + (1 - lam) * e[perm].detach()
        z_mixed = F.normalize(self.encoder.head(self.encoder.encode(mixed)[1]), dim=-1)
        z_clean = F.normalize(self.encoder.head(self.encoder.encode(e)[1]), dim=-1)
        logits = z_mixed @ z_clean.T / 0.2
        own = torch.arange(b, device=e.device)
        ce_own = F.cross_entropy(logits, own, reduction="none")
        ce_mix = F.cross_entropy(logits, perm, reduction="none")
        return (lam * ce_own + (1 - lam) * ce_mix).mean()  # (B, 1, B) broadcast, as the original

    def _shed(self, inputs: list[Tensor]) -> Tensor:
        e = self.encoder.embed(inputs)
        b, length, d = e.shape
        chosen = _choose(b, length, self.rate, e.device)  # (B, k)
        rolled = chosen.roll(1, dims=1)
        picked = e.gather(1, rolled.unsqueeze(-1).expand(-1, -1, d))
        shuffled = e.scatter(1, chosen.unsqueeze(-1).expand(-1, -1, d), picked)
        labels = torch.zeros(b, length, dtype=torch.long, device=e.device).scatter(1, chosen, 1)
        logits = self.head(self.encoder.encode(shuffled)[0])  # (B, L, 2)
        return F.cross_entropy(logits.reshape(-1, 2), labels.reshape(-1))

    def _masked(self, e: Tensor) -> tuple[Tensor, Tensor]:
        b, length, _ = e.shape
        masked = torch.zeros(b, length, dtype=torch.bool, device=e.device)
        masked.scatter_(1, _choose(b, length, self.rate, e.device), True)
        return torch.where(masked.unsqueeze(-1), torch.zeros_like(e), e), masked

    def _mae(self, inputs: list[Tensor]) -> Tensor:
        corrupted, masked = self._masked(self.encoder.embed(inputs))
        states, start, losses = self.encoder.encode(corrupted)[0], 0, []
        for spec, head, x in zip(self.encoder.specs, self.heads, inputs):
            end = start + spec.num_tokens
            out, m = head(states[:, start:end]), masked[:, start:end]  # every position, then masked
            if spec.kind == "tokens":
                losses.append(F.cross_entropy(out[m], x[m]))
            else:
                losses.append((out - _raw_tokens(spec, x))[m].norm(dim=-1).mean())
            start = end
        return torch.stack(losses).mean()

    def _capri(self, inputs: list[Tensor]) -> Tensor:
        e = self.encoder.embed(inputs)
        corrupted, _ = self._masked(e)
        pred = self.head(self.encoder.encode(corrupted)[0])  # (B, L, D)
        logits = pred @ e.transpose(1, 2) / 0.07  # (B, L, L), targets not detached
        labels = torch.arange(e.shape[1], device=e.device).expand(len(e), -1)
        return F.cross_entropy(logits.reshape(-1, e.shape[1]), labels.reshape(-1))


REFERENCE_OBJECTIVES = ("emix", "shed", "mae", "capri")
