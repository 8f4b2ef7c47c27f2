import pytest
import torch

from dabs_lib.data import StepBatchSampler, pretrain_loader, step_sampler
from dabs_lib.domains.base import TensorSplit


def _batches(steps_per_epoch: int, total: int, seed: int = 3) -> list[list[int]]:
    """Iterate a fresh sampler epoch after epoch, as a DataLoader does (no set_epoch)."""
    sampler, out = StepBatchSampler(10, 4, steps_per_epoch, seed), []
    for _ in range(total // steps_per_epoch):
        out.extend(iter(sampler))
    return out


def test_batch_of_each_step_does_not_depend_on_epoch_length():
    assert _batches(1, 12) == _batches(3, 12) == _batches(12, 12)


def test_each_epoch_reads_new_batches_and_a_restart_reads_the_same_ones():
    batches = _batches(3, 9)
    epochs = [batches[0:3], batches[3:6], batches[6:9]]
    assert epochs[0] != epochs[1] != epochs[2] != epochs[0]
    resumed = StepBatchSampler(10, 4, 3, seed=3, start_step=3)
    assert list(resumed) + list(resumed) == batches[3:9]


def test_a_clock_sets_where_each_iteration_starts():
    sampler, step = StepBatchSampler(10, 4, 3, seed=3), [0]
    sampler.follow(lambda: step[0])
    first = list(sampler)
    assert list(sampler) == first  # the clock did not move: same steps, same batches
    step[0] = 6
    assert list(sampler) == _batches(3, 9)[6:9]


def test_order_depends_on_seed_and_covers_every_row():
    assert _batches(5, 5, seed=0) != _batches(5, 5, seed=1)
    first_pass = [row for batch in _batches(5, 5) for row in batch][:10]
    assert sorted(first_pass) == list(range(10))


def test_loader_yields_whole_batches_from_a_tensor_split():
    split = TensorSplit((torch.arange(20).float().unsqueeze(1),), torch.arange(20), "t")
    loader = pretrain_loader(split, batch_size=8, steps_per_epoch=3, seed=0)
    batches = list(loader)
    assert len(batches) == 3
    inputs, labels = batches[0]
    assert inputs[0].shape == (8, 1) and torch.equal(inputs[0][:, 0].long(), labels)


class RowByRow(torch.utils.data.Dataset):
    """A set read one row at a time, as decoded-on-read images are."""

    def __len__(self):
        return 20

    def __getitem__(self, index):
        return (torch.full((2,), float(index)),), index


@pytest.mark.parametrize("workers", [0, 2])
def test_row_by_row_sets_give_the_same_batches_with_loader_workers(workers):
    batches = list(pretrain_loader(RowByRow(), 8, 3, seed=0, workers=workers))
    assert [labels.tolist() for _, labels in batches] == list(StepBatchSampler(20, 8, 3, seed=0))
    inputs, labels = batches[0]
    assert torch.equal(inputs[0][:, 0].long(), labels)


def test_negative_loader_workers_are_refused():
    with pytest.raises(ValueError, match="loader_workers must be >= 0, but got -1"):
        pretrain_loader(RowByRow(), 8, 3, seed=0, workers=-1)


def test_empty_split_is_refused():
    with pytest.raises(ValueError, match="empty split"):
        StepBatchSampler(0, 4, 1, 0)


@pytest.mark.parametrize(
    "split", [TensorSplit((torch.zeros(20, 1),), torch.arange(20), "t"), RowByRow()], ids=["in-memory", "row-by-row"]
)
def test_both_loader_paths_read_the_same_batches_epoch_after_epoch(split):
    """Iterating the loader as Lightning does (one iter per epoch, no set_epoch on a
    batch_sampler) moves on to new rows: the row-by-row path replayed epoch 0 before."""
    loader = pretrain_loader(split, 8, 3, seed=0)
    epochs = [[labels.tolist() for _, labels in loader] for _ in range(3)]
    assert epochs[0] != epochs[1] != epochs[2] != epochs[0]
    assert [b for epoch in epochs for b in epoch] == step_sampler(loader).batches(0, 9).tolist()
