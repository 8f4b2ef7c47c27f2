"""Tiny specs and batches for objective tests: one spec set per input kind, plus image+tokens."""

from __future__ import annotations

import torch
from torch import Tensor

from dabs_lib.model_config import ModelConfig
from dabs_lib.objectives import OBJECTIVES
from dabs_lib.specs import Image2dSpec, Sequence1dSpec, Spec, TabularSpec, TokensSpec

TINY = ModelConfig(embed_dim=32, depth=2, num_heads=2, mlp_dim=64, dropout=0.0, out_dim=16)
BATCH = 8
NUM_CLASSES = 3

SPEC_SETS: dict[str, tuple[Spec, ...]] = {
    "tokens": (TokensSpec(seq_len=12, vocab_size=16),),
    "1d": (Sequence1dSpec(seq_len=32, segment_size=4, in_channels=3),),
    "2d": (Image2dSpec(input_size=8, patch_size=2, in_channels=3),),
    "tabular": (TabularSpec(num_features=10),),
    "image+tokens": (Image2dSpec(input_size=8, patch_size=4, in_channels=3), TokensSpec(seq_len=8, vocab_size=16)),
}

TRAINABLE = sorted(name for name, cls in OBJECTIVES.items() if cls.trains)


def make_input(spec: Spec, batch: int, generator: torch.Generator) -> Tensor:
    """Random input of one spec; token rows get trailing padding of varied length."""
    if spec.kind == "tokens":
        ids = torch.randint(1, spec.vocab_size, (batch, spec.seq_len), generator=generator)
        lengths = spec.seq_len - (torch.arange(batch) % 3) * (spec.seq_len // 4)  # some rows padded
        padded = torch.arange(spec.seq_len).unsqueeze(0) >= lengths.unsqueeze(1)  # (B, L)
        return ids.masked_fill(padded, spec.pad_id)
    if spec.kind == "1d":
        return torch.randn(batch, spec.seq_len, spec.in_channels, generator=generator)
    if spec.kind == "2d":
        return torch.randn(batch, spec.in_channels, spec.input_size, spec.input_size, generator=generator)
    return torch.randn(batch, spec.num_features, generator=generator)


def make_batch(specs: tuple[Spec, ...], batch: int = BATCH, seed: int = 0) -> tuple[list[Tensor], Tensor]:
    generator = torch.Generator().manual_seed(seed)
    inputs = [make_input(spec, batch, generator) for spec in specs]
    labels = torch.arange(batch) % NUM_CLASSES
    return inputs, labels


def default_config(name: str):
    """The objective's default Config, with the class count supervised needs filled in."""
    cls = OBJECTIVES[name]
    return cls.Config(num_classes=NUM_CLASSES) if cls.needs_labels else cls.Config()
