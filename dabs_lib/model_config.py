"""The encoder's size and shape settings: a plain dataclass, importable without torch (the CLI
checks a configuration before anything heavy is imported)."""

from __future__ import annotations

from dataclasses import dataclass

from dabs_lib.settings_rules import check_fields


@dataclass(frozen=True)
class ModelConfig:
    embed_dim: int = 256  # D, the width of every token; DABS default
    depth: int = 12  # number of transformer blocks
    num_heads: int = 8  # attention heads (DABS: 8)
    head_dim: int = 64  # width of each head, independent of D (DABS: 64, so 8 x 64 = 512 inner width)
    mlp_dim: int = 512  # hidden width of each block's MLP (DABS uses 2 x D, not 4 x D)
    dropout: float = 0.1  # on embeddings, attention output and MLP; off in eval mode (DABS: 0.1)
    attention_dropout: float = 0.0  # on attention probabilities; DABS has none, and > 0 forces the slow kernel
    final_norm: bool = True  # LayerNorm after the last block (DABS: none); keeps token states on one scale
    pooling: str = "mean"  # "mean" over non-padding tokens, or "cls"
    mean_pool_cls: bool = False  # mean pooling also averages CLS (DABS: True); False = real tokens only
    out_dim: int = 128  # width of the projection head (LN -> Linear(D, out_dim))

    def __post_init__(self) -> None:
        check_fields(self)  # bounds and choices: dabs_lib.settings_rules

    @property
    def inner_dim(self) -> int:
        """Width of attention's queries, keys and values: num_heads x head_dim."""
        return self.num_heads * self.head_dim
