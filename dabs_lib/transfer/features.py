"""Featurize a split once: eval mode (no dropout), no grad, batched, bf16 autocast on CUDA.

Pooled features are one (D,) row per example. Per-token features keep one row per
position whose label is not `ignore_index` (padding and unlabelled positions are
dropped here, so no probe ever sees them); `rows` says which example each row came from.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from dabs_lib.divergence import check_features
from dabs_lib.encoder import Encoder
from dabs_lib.progress import stage
from typing import Any

LARGE_SPLIT = 20_000  # examples; featurizing a smaller split takes seconds and shows no progress


@dataclass(frozen=True)
class FeatureSet:
    features: np.ndarray  # (M, D) float32; may be a read-only memory map
    labels: np.ndarray  # (M,) or (M, K), as the dataset gives them
    rows: np.ndarray  # (M,) int64: the example each row belongs to

    @property
    def id_span(self) -> int:
        """One past the largest example id: ids of a whole split are range(id_span)."""
        return int(self.rows.max()) + 1 if len(self.rows) else 0

    @property
    def num_examples(self) -> int:
        """Distinct examples (per-token: sequences) that have at least one row."""
        return len(np.unique(self.rows))

    def take(self, examples: np.ndarray) -> "FeatureSet":
        """The rows of the given examples (in row order), e.g. a carved or few-shot subset."""
        keep = np.isin(self.rows, examples)
        return FeatureSet(np.asarray(self.features[keep]), np.asarray(self.labels[keep]), self.rows[keep])


def resolve_device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _module_device(module: torch.nn.Module) -> torch.device:
    return next(module.parameters()).device


@contextlib.contextmanager
def frozen_eval(encoder: Encoder, device: torch.device, pooling: str | None) -> Iterator[Encoder]:
    """Eval mode on `device` with the requested pooling; restores mode, device and config after."""
    was_training, old_device, old_config = encoder.training, _module_device(encoder), encoder.config
    if pooling is not None and pooling != old_config.pooling:
        encoder.config = dataclasses.replace(old_config, pooling=pooling)
    encoder.eval().to(device)
    try:
        yield encoder
    finally:
        encoder.config = old_config
        encoder.to(old_device).train(was_training)


def autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def iterate_batches(dataset: Dataset[Any], batch_size: int) -> Iterator[tuple[list[Tensor], Tensor]]:
    """(inputs, labels) batches in dataset order; tensor-backed splits are sliced directly."""
    inputs, labels = getattr(dataset, "inputs", None), getattr(dataset, "labels", None)
    if isinstance(inputs, tuple) and isinstance(labels, Tensor):
        for start in range(0, len(labels), batch_size):
            yield [x[start : start + batch_size] for x in inputs], labels[start : start + batch_size]
        return
    for batch_inputs, batch_labels in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        yield list(batch_inputs), batch_labels


def _per_token_rows(
    tokens: Tensor, labels: Tensor, ignore_index: int, offset: int, where: str
) -> tuple[Tensor, Tensor, Tensor]:
    if labels.shape != tokens.shape[:2]:
        raise ValueError(
            f"per-token labels must have shape (N, L) = {tuple(tokens.shape[:2])} to match the "
            f"encoder's tokens, but got {tuple(labels.shape)} in {where}"
        )
    keep = labels != ignore_index  # (B, L): False at padding / unlabelled positions
    example = torch.arange(offset, offset + len(labels)).unsqueeze(1).expand_as(labels)
    return tokens[keep.to(tokens.device)], labels[keep], example[keep]  # (M_b, D), (M_b,), (M_b,)


def featurize(
    encoder: Encoder,
    dataset: Dataset[Any],
    *,
    pooling: str | None = None,
    per_token: bool = False,
    ignore_index: int = -100,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    where: str = "dataset",
    progress: bool | None = None,
) -> FeatureSet:
    """Run the frozen encoder over `dataset` once and return float32 features on the CPU.
    `progress`: show a bar (on a terminal); None shows one for splits of LARGE_SPLIT examples or more."""
    device = resolve_device(device)
    features, labels, rows, offset = [], [], [], 0
    size = len(dataset) if hasattr(dataset, "__len__") else 0
    progress = stage(
        f"featurizing {where}", size, "examples", enabled=size >= LARGE_SPLIT if progress is None else progress
    )
    with frozen_eval(encoder, device, pooling), torch.no_grad(), progress as bar:
        for batch_inputs, batch_labels in iterate_batches(dataset, batch_size):
            bar.update(len(batch_labels))
            with autocast(device):
                output = encoder([x.to(device) for x in batch_inputs])
            if per_token:
                f, y, r = _per_token_rows(output.tokens, batch_labels, ignore_index, offset, where)
            else:
                f, y, r = output.pooled, batch_labels, torch.arange(offset, offset + len(batch_labels))
            features.append(f.float().cpu().numpy())
            labels.append(y.cpu().numpy())
            rows.append(r.numpy().astype(np.int64))
            offset += len(batch_labels)
    if not features:
        raise ValueError(f"cannot featurize an empty split: {where} has no examples")
    features = np.concatenate(features)
    check_features(features, where)  # a diverged encoder's NaNs would score as chance, never cached
    return FeatureSet(features, np.concatenate(labels), np.concatenate(rows))
