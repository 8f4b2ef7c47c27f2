"""Tiny encoders and hand-built tasks for the transfer tests."""

from __future__ import annotations

import torch

from dabs_lib.domains.base import TensorSplit, TransferTask
from dabs_lib.encoder import Encoder
from dabs_lib.model_config import ModelConfig
from dabs_lib.specs import TabularSpec

TINY = ModelConfig(embed_dim=32, depth=2, num_heads=2, mlp_dim=64, out_dim=16)


def tiny_encoder(num_features: int = 4, seed: int = 0, **config) -> Encoder:
    torch.manual_seed(seed)
    cfg = ModelConfig(**{**TINY.__dict__, **config})
    return Encoder((TabularSpec(num_features),), cfg)


def tabular_task(
    n_train: int = 240,
    n_val: int = 80,
    n_test: int = 120,
    num_features: int = 4,
    seed: int = 0,
    kind: str = "multiclass",
    metric: str = "accuracy",
    label_fn=None,
    num_classes: int = 2,
) -> TransferTask:
    """Gaussian rows; the label is x0 > 0 unless `label_fn(x)` says otherwise."""
    g = torch.Generator().manual_seed(seed)
    n = n_train + n_val + n_test
    x = torch.randn(n, num_features, generator=g)
    y = label_fn(x) if label_fn is not None else (x[:, 0] > 0).long()
    cuts = [0, n_train, n_train + n_val, n]
    bounds = zip(zip(cuts, cuts[1:]), ("train", "val", "test"))
    parts = [TensorSplit((x[a:b],), y[a:b], name) for (a, b), name in bounds]
    return TransferTask("toy", kind, metric, num_classes, *parts)
