"""Seeded randomness, split indices and standardization shared by the embedded domains.

Every random draw of a domain comes from `seeded_rng(seed, purpose)`: a numpy Generator
whose stream depends only on the domain seed and a purpose string ("tokens/grammar",
"digits/split", ...), never on the global RNG or on the order in which other draws ran.

Split convention (the same for every embedded domain):
- `test` rows are never seen by the encoder during pretraining, nor by the probe's training;
- `val` is carved from the labelled training pool with its own seeded stream; it is not
  pretrained on either, so `transfer/val` scores rows the encoder never saw;
- `train` rows are the probe's training rows, and the encoder pretrains on them (as DABS
  pretrains and probes on the same train split), together with `extra` rows that only
  pretraining sees. So risk decomposition's "seen by the encoder, not by the probe"
  subset S can be drawn from `train`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from dabs_lib.domains.base import TensorSplit, TransferTask


def seeded_rng(seed: int, purpose: str) -> np.random.Generator:
    """A Generator seeded by (seed, purpose); crc32 keeps the purpose stable across processes."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"a domain seed must be a non-negative int, but got seed={seed!r}")
    return np.random.default_rng([int(seed), zlib.crc32(purpose.encode())])


@dataclass(frozen=True)
class SplitSizes:
    """Row counts of a synthetic domain's splits."""

    train: int  # labelled rows the probe trains on; also pretrained on
    val: int  # labelled rows for model selection; carved from the training pool, never pretrained on
    test: int  # labelled rows for the final score; never pretrained on
    extra: int  # unlabelled rows only pretraining sees (pretrain = train + extra)

    @property
    def total(self) -> int:
        return self.train + self.val + self.test + self.extra


@dataclass(frozen=True)
class SplitIndex:
    """Disjoint row indices into one generated (or loaded) table."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    extra: np.ndarray

    @property
    def pretrain(self) -> np.ndarray:
        return np.concatenate([self.train, self.extra])

    def restrict(self, keep: np.ndarray) -> "SplitIndex":
        """Only the rows where the boolean row mask `keep` is True (e.g. some classes)."""
        return SplitIndex(*(part[keep[part]] for part in (self.train, self.val, self.test, self.extra)))


def carve(index: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Split `index` into (rest, carved) with `count` rows carved at random."""
    if not 0 <= count <= len(index):
        raise ValueError(f"cannot carve {count} rows out of {len(index)}")
    order = rng.permutation(len(index))
    return np.sort(index[order[count:]]), np.sort(index[order[:count]])


def random_split(sizes: SplitSizes, seed: int, purpose: str) -> SplitIndex:
    """Split rows 0..sizes.total-1 of i.i.d. generated data; val is carved from the train pool."""
    order = seeded_rng(seed, f"{purpose}/split").permutation(sizes.total)
    test = np.sort(order[: sizes.test])
    pool = order[sizes.test : sizes.test + sizes.train + sizes.val]
    extra = np.sort(order[sizes.test + sizes.train + sizes.val :])
    train, val = carve(pool, sizes.val, seeded_rng(seed, f"{purpose}/val"))
    return SplitIndex(train, val, test, extra)


def stratified_split(
    labels: np.ndarray, test_fraction: float, val_fraction: float, seed: int, purpose: str
) -> SplitIndex:
    """Per-class split of a real labelled table: test first, then val carved from the rest."""
    test_rng = seeded_rng(seed, f"{purpose}/split")
    val_rng = seeded_rng(seed, f"{purpose}/val")
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        pool, test = carve(rows, round(len(rows) * test_fraction), test_rng)
        train, val = carve(pool, round(len(rows) * val_fraction), val_rng)
        for name, part in (("train", train), ("val", val), ("test", test)):
            parts[name].append(part)
    joined = {name: np.sort(np.concatenate(p)) for name, p in parts.items()}
    return SplitIndex(joined["train"], joined["val"], joined["test"], np.zeros(0, dtype=np.int64))


def stratified_subsample(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted rows keeping `fraction` of every class (smoke versions of real tables)."""
    keep = [
        rng.permutation(np.flatnonzero(labels == c))[: max(1, round((labels == c).sum() * fraction))]
        for c in np.unique(labels)
    ]
    return np.sort(np.concatenate(keep))


def balanced_labels(count: int, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """`count` labels with every class as equally often as possible, in random order."""
    return rng.permutation(np.arange(count) % num_classes)


def standardize(x: Tensor, reference: Tensor, dims: tuple[int, ...]) -> Tensor:
    """(x - mean) / std with statistics of `reference` reduced over `dims`, as float32.

    Statistics come from numpy in float64: its pairwise sums do not depend on the number of
    threads, so the data (and their fingerprints) are bit-identical in every process.
    """
    ref = reference.double().numpy()
    mean = ref.mean(axis=dims, keepdims=True)
    std = np.maximum(ref.std(axis=dims, ddof=1, keepdims=True), 1e-6)
    return torch.from_numpy((x.double().numpy() - mean) / std).float()


def make_split(inputs: tuple[Tensor, ...], labels: Tensor | None, rows: np.ndarray, name: str) -> TensorSplit:
    """The rows `rows` of full-table tensors as a TensorSplit (labels None -> unlabelled, -1)."""
    index = torch.as_tensor(rows, dtype=torch.long)
    picked = None if labels is None else labels[index]
    return TensorSplit(tuple(x[index] for x in inputs), picked, name)


def make_task(
    domain: str,
    name: str,
    kind: str,
    num_classes: int,
    inputs: tuple[Tensor, ...],
    labels: Tensor,
    index: SplitIndex,
) -> TransferTask:
    """A TransferTask scored by accuracy on the train/val/test rows of `index`."""
    splits = {
        part: make_split(inputs, labels, getattr(index, part), f"{domain}/{name}/{part}")
        for part in ("train", "val", "test")
    }
    return TransferTask(name=name, kind=kind, metric="accuracy", num_classes=num_classes, **splits)
