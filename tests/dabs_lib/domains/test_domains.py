"""Every embedded domain: determinism, shapes vs specs, disjoint splits, labels, fingerprints."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from dabs_lib.domains import EMBEDDED_DOMAINS, get_domain
from dabs_lib.domains.base import METRIC_DIRECTIONS, TASK_KINDS
from dabs_lib.encoder import Encoder
from dabs_lib.specs import total_tokens
from tests.dabs_lib.domains.helpers import SYNTHETIC, TINY, all_splits, assert_matches_specs, row_keys

NAMES = sorted(EMBEDDED_DOMAINS)
PINNED_TOKENS_PRETRAIN = "a61f730090fbfddd"  # tokens, seed 42, smoke: see the test below


def _tensors(domain):
    for name, split in all_splits(domain).items():
        for i, x in enumerate((*split.inputs, split.labels)):
            yield f"{name}[{i}]", x


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_gives_identical_tensors(name):
    first = EMBEDDED_DOMAINS[name](seed=3, smoke=True)
    second = EMBEDDED_DOMAINS[name](seed=3, smoke=True)
    for (where, a), (_, b) in zip(_tensors(first), _tensors(second), strict=True):
        assert a.dtype == b.dtype and torch.equal(a, b), where


@pytest.mark.parametrize("name", NAMES)
def test_other_seed_gives_other_data(name):
    first = EMBEDDED_DOMAINS[name](seed=3, smoke=True)
    second = EMBEDDED_DOMAINS[name](seed=4, smoke=True)
    assert first.pretrain.fingerprint != second.pretrain.fingerprint
    task = first.default_task
    assert first.tasks[task].test.fingerprint != second.tasks[task].test.fingerprint
    if name in SYNTHETIC:  # generated data change, not only which rows land where
        assert not row_keys(first.pretrain) & row_keys(second.pretrain)


@pytest.mark.parametrize("name", NAMES)
def test_domain_fields_are_consistent(name):
    domain = get_domain(name, smoke=True)
    assert domain.name == name
    assert domain.tasks and domain.default_task == next(iter(domain.tasks))
    assert domain.supervised_task in domain.tasks
    assert 0 < domain.batch_size <= len(domain.pretrain)
    assert domain.pretrain_metric in METRIC_DIRECTIONS
    for task_name, task in domain.tasks.items():
        assert task.name == task_name
        assert task.kind in TASK_KINDS and task.metric == "accuracy"
        assert task.num_classes == (1 if task.kind == "binary" else task.num_classes) >= 1


@pytest.mark.parametrize("name", NAMES)
def test_items_match_the_specs_and_a_batch_fits_the_encoder(name):
    domain = get_domain(name, smoke=True)
    for where, split in all_splits(domain).items():
        assert_matches_specs(domain, split, f"{name}/{where}")
    torch.manual_seed(0)
    encoder = Encoder(domain.specs, TINY).eval()
    inputs, labels = next(iter(DataLoader(domain.pretrain, batch_size=8)))
    with torch.no_grad():
        tokens, padding_mask = encoder.embed(list(inputs))
        out = encoder.encode(tokens, padding_mask)
    assert tokens.shape == (8, total_tokens(domain.specs), TINY.embed_dim)
    assert out.pooled.shape == (8, TINY.embed_dim) and torch.isfinite(out.pooled).all()
    assert labels.shape == (8,)


@pytest.mark.parametrize("name", NAMES)
def test_splits_are_disjoint_and_unseen_rows_stay_unseen(name):
    domain = get_domain(name, smoke=True)
    pretrain = row_keys(domain.pretrain)
    assert len(pretrain) == len(domain.pretrain), "duplicate rows in pretraining"
    for task_name, task in domain.tasks.items():
        train, val, test = (row_keys(getattr(task, p)) for p in ("train", "val", "test"))
        assert not train & val and not train & test and not val & test, task_name
        assert not test & pretrain, f"{task_name}: test rows were pretrained on"
        assert not val & pretrain, f"{task_name}: val rows were pretrained on"


@pytest.mark.parametrize("name", NAMES)
def test_labels_are_in_range(name):
    domain = get_domain(name, smoke=True)
    labels = domain.pretrain.labels
    if domain.pretrain_num_classes is None:
        assert (labels == -1).all()
    else:
        assert int(labels.min()) >= 0 and int(labels.max()) < domain.pretrain_num_classes
    for task_name, task in domain.tasks.items():
        high = 2 if task.kind == "binary" else task.num_classes
        for part in ("train", "val", "test"):
            y = getattr(task, part).labels
            assert y.dtype == torch.long and y.dim() == 1, (task_name, part)
            assert int(y.min()) >= 0 and int(y.max()) < high, (task_name, part)
        assert len(task.train.labels.unique()) == high, f"{task_name}: a class is missing from train"


@pytest.mark.parametrize("name", NAMES)
def test_fingerprints_do_not_depend_on_the_thread_count(name):
    """A Ray worker (often 1 thread) and the driver must agree on the data and its cache keys."""
    reference = {k: s.fingerprint for k, s in all_splits(get_domain(name, smoke=True)).items()}
    threads = torch.get_num_threads()
    torch.set_num_threads(1 if threads > 1 else 2)
    try:
        rebuilt = EMBEDDED_DOMAINS[name](smoke=True)
    finally:
        torch.set_num_threads(threads)
    assert {k: s.fingerprint for k, s in all_splits(rebuilt).items()} == reference


def test_tokens_fingerprint_is_pinned():
    """Integer-only generation: the bytes must be the same on every machine and run.

    If this fails after a deliberate change to the tokens generator, update the value:
    every cached feature keyed on the old fingerprint is then (rightly) invalidated.
    """
    domain = EMBEDDED_DOMAINS["tokens"](smoke=True)
    assert domain.pretrain.fingerprint == PINNED_TOKENS_PRETRAIN
