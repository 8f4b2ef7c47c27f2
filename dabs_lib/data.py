"""Batching for pretraining: a fixed number of seeded batches per epoch.

One "epoch" here is `steps_per_epoch` optimizer steps, not a pass over the data: search
trials evaluate and checkpoint at epoch ends, so an epoch boundary is also a clean resume
point. The batch of each global step depends only on the seed, so a resumed run, or one
with another `steps_per_epoch`, sees the same batches as an uninterrupted one.
"""
from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from dabs_lib.domains.base import TensorSplit


class EpochBatchSampler(Sampler[list[int]]):
    def __init__(self, num_rows: int, batch_size: int, steps_per_epoch: int, seed: int):
        if num_rows < 1:
            raise ValueError("cannot pretrain on an empty split")
        self.num_rows = num_rows
        self.batch_size = min(batch_size, num_rows)
        self.steps_per_epoch = steps_per_epoch
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:  # Lightning calls this at every epoch start
        self.epoch = epoch

    def __len__(self) -> int:
        return self.steps_per_epoch

    def __iter__(self):
        # Rows come from an endless chain of seeded permutations, permutation j seeded by
        # (seed, j); epoch e reads the slice that starts at its first global step. So the
        # batch of global step s is the same whatever `steps_per_epoch` (eval_every) is.
        start = self.epoch * self.steps_per_epoch * self.batch_size
        stop = start + self.steps_per_epoch * self.batch_size
        first, last = start // self.num_rows, (stop - 1) // self.num_rows
        chain = torch.cat([self._permutation(j) for j in range(first, last + 1)])
        offset = start - first * self.num_rows
        order = chain[offset: offset + stop - start].view(self.steps_per_epoch, self.batch_size)
        return iter(order.tolist())

    def _permutation(self, index: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        return torch.randperm(self.num_rows, generator=generator)


def _collate_rows(items):
    inputs = tuple(torch.stack(parts) for parts in zip(*(item[0] for item in items)))
    labels = torch.stack([torch.as_tensor(item[1]) for item in items])
    return inputs, labels


def pretrain_loader(split: Dataset, batch_size: int, steps_per_epoch: int, seed: int,
                    workers: int = 0) -> DataLoader:
    """Seeded batches of `split`. In-memory splits are sliced whole batches at a time;
    sets read row by row (decoded images) use `workers` loader processes when > 0."""
    if workers < 0:
        raise ValueError(f"loader_workers must be >= 0, but got {workers}")
    sampler = EpochBatchSampler(len(split), batch_size, steps_per_epoch, seed)
    if isinstance(split, TensorSplit):
        # Whole batches by fancy indexing: one __getitem__ per batch instead of per row.
        return DataLoader(split, sampler=sampler, batch_size=None, collate_fn=lambda batch: batch)
    return DataLoader(split, batch_sampler=sampler, collate_fn=_collate_rows, num_workers=workers,
                      persistent_workers=workers > 0)
