"""Shared helpers for the domain tests: split walking, row identity, spec shapes."""

from __future__ import annotations

import torch

from dabs_lib.domains.base import Domain, TensorSplit
from dabs_lib.model_config import ModelConfig

TINY = ModelConfig(embed_dim=32, depth=2, num_heads=2, mlp_dim=64, out_dim=16)
SYNTHETIC = ("captions", "sensor", "speech", "tokens")


def all_splits(domain: Domain) -> dict[str, TensorSplit]:
    """'pretrain' and '<task>/<part>' -> split."""
    splits = {"pretrain": domain.pretrain}
    for name, task in domain.tasks.items():
        splits.update({f"{name}/{part}": getattr(task, part) for part in ("train", "val", "test")})
    return splits


def row_keys(split: TensorSplit) -> set[bytes]:
    """Identity of each row by the bytes of its first input (the image / sequence / table row)."""
    first = split.inputs[0].contiguous()
    return {first[i].numpy().tobytes() for i in range(len(first))}


def expected_item_shape(spec) -> tuple[int, ...]:
    if spec.kind == "tokens":
        return (spec.seq_len,)
    if spec.kind == "1d":
        return (spec.seq_len, spec.in_channels)
    if spec.kind == "2d":
        return (spec.in_channels, spec.input_size, spec.input_size)
    return (spec.num_features,)


def assert_matches_specs(domain: Domain, split: TensorSplit, where: str) -> None:
    inputs, label = split[0]
    assert len(inputs) == len(domain.specs), where
    for x, spec in zip(split.inputs, domain.specs):
        assert tuple(x.shape[1:]) == expected_item_shape(spec), (where, spec)
        if spec.kind == "tokens":
            assert x.dtype == torch.long, where
            assert int(x.min()) >= 0 and int(x.max()) < spec.vocab_size, where
            assert (x != spec.pad_id).any(dim=1).all(), f"{where}: a row is all padding"
        else:
            assert x.dtype == torch.float32, where
            assert torch.isfinite(x).all(), where
    assert label.dtype == torch.long and label.dim() == 0, where
