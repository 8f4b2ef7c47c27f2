"""Batching for pretraining: the batch of each global step is a function of (seed, step).

One "epoch" here is `steps_per_epoch` optimizer steps, not a pass over the data: search
trials evaluate and checkpoint every `eval_every` steps, which is also the epoch length.
Epochs carry no meaning for the data: each iteration of the sampler yields the batches of
the next `steps_per_epoch` global steps, starting at the step its clock reads (the trainer's
global step in `pretrain`). So a resumed run, one with another `steps_per_epoch`, and the
in-memory and row-by-row paths all see the same batch at the same step. (Lightning calls
`set_epoch` only on `loader.sampler` or `loader.batch_sampler.sampler`, never on a
`batch_sampler`: an epoch counter would stay 0 for sets read row by row.)
"""

from __future__ import annotations

from typing import Callable, Iterator, TypeVar

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from dabs_lib.domains.base import TensorSplit
from typing import Any

T = TypeVar("T")


class StepBatchSampler(Sampler[list[int]]):
    """Row indices of the batches of global steps `start, start + 1, ...` (`steps_per_epoch`
    of them per iteration). `start` is `clock()` when one is set (see `follow`), else the
    step after the last one this sampler yielded (first `start_step`)."""

    def __init__(self, num_rows: int, batch_size: int, steps_per_epoch: int, seed: int, start_step: int = 0) -> None:
        if num_rows < 1:
            raise ValueError("cannot pretrain on an empty split")
        if steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be >= 1, but got {steps_per_epoch}")
        self.num_rows = num_rows
        self.batch_size = min(batch_size, num_rows)
        self.steps_per_epoch = steps_per_epoch
        self.seed = seed
        self.next_step = start_step
        self.clock: Callable[[], int] | None = None

    def follow(self, clock: Callable[[], int]) -> None:
        """Start every iteration at `clock()` (the trainer's global step): whatever Lightning
        restores or restarts, the batches are those of the steps it is about to run."""
        self.clock = clock

    def __len__(self) -> int:
        return self.steps_per_epoch

    def __iter__(self) -> Iterator[list[int]]:
        # A generator, so nothing moves until a batch is taken: a multi-process loader
        # calls iter() twice per epoch and drops the first iterator unused.
        first = self.clock() if self.clock is not None else self.next_step
        for offset, rows in enumerate(self.batches(first, self.steps_per_epoch).tolist()):
            self.next_step = first + offset + 1
            yield rows

    def batches(self, first_step: int, count: int) -> torch.Tensor:
        """(count, batch_size) row indices of global steps first_step .. first_step + count - 1.

        Rows come from an endless chain of seeded permutations, permutation j seeded by
        (seed, j); step s reads the batch_size rows that start at s * batch_size."""
        start = first_step * self.batch_size
        stop = start + count * self.batch_size
        first, last = start // self.num_rows, (stop - 1) // self.num_rows
        chain = torch.cat([self._permutation(j) for j in range(first, last + 1)])
        offset = start - first * self.num_rows
        return chain[offset : offset + stop - start].view(count, self.batch_size)

    def _permutation(self, index: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        return torch.randperm(self.num_rows, generator=generator)


def _collate_rows(items: list[tuple[tuple[torch.Tensor, ...], Any]]) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    inputs = tuple(torch.stack(parts) for parts in zip(*(item[0] for item in items)))
    labels = torch.stack([torch.as_tensor(item[1]) for item in items])
    return inputs, labels


def _whole_batch(batch: T) -> T:
    return batch


def step_sampler(loader: DataLoader[Any]) -> StepBatchSampler:
    """The StepBatchSampler of a loader built by `pretrain_loader` (either path)."""
    sampler = loader.batch_sampler if isinstance(loader.batch_sampler, StepBatchSampler) else loader.sampler
    assert isinstance(sampler, StepBatchSampler), type(sampler)
    return sampler


def pretrain_loader(
    split: Dataset[Any], batch_size: int, steps_per_epoch: int, seed: int, workers: int = 0, start_step: int = 0
) -> DataLoader[Any]:
    """Seeded batches of `split`, those of steps `start_step, start_step + 1, ...`. In-memory
    splits are sliced whole batches at a time; sets read row by row (memory-mapped or
    decoded files) use `workers` loader processes when > 0."""
    if workers < 0:
        raise ValueError(f"loader_workers must be >= 0, but got {workers}")
    sampler = StepBatchSampler(len(split), batch_size, steps_per_epoch, seed, start_step)
    # Its own generator: creating a loader iterator draws a seed, which must not move the
    # global RNG that corruption sampling uses (a resumed run restores that RNG).
    generator = torch.Generator().manual_seed(seed)
    if isinstance(split, TensorSplit):
        # Whole batches by fancy indexing: one __getitem__ per batch instead of per row.
        return DataLoader(split, sampler=sampler, batch_size=None, collate_fn=_whole_batch, generator=generator)
    return DataLoader(
        split,
        batch_sampler=sampler,
        collate_fn=_collate_rows,
        num_workers=workers,
        persistent_workers=workers > 0,
        generator=generator,
    )
