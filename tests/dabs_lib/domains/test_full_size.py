"""Each embedded domain at full size: split sizes, token counts, shapes, every class present."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from dabs_lib.domains import EMBEDDED_DOMAINS, get_domain
from dabs_lib.encoder import Encoder
from dabs_lib.specs import total_tokens
from tests.dabs_lib.domains.helpers import SYNTHETIC, TINY, all_splits, assert_matches_specs, row_keys

# (pretrain rows, task train rows, val rows, test rows) each as an inclusive range: the sizes
# the brief asks for (real tables are as large as they are: digits and tabular are smaller).
SIZES = {
    "synthetic": ((1000, 3000), (500, 1500), (150, 300), (300, 500)),
    "digits": ((400, 700), (400, 1100), (100, 300), (200, 600)),
    "tabular": ((250, 400), (250, 400), (60, 120), (120, 200)),
}


@pytest.mark.parametrize("name", sorted(EMBEDDED_DOMAINS))
def test_full_size_splits_shapes_and_token_counts(name):
    domain = get_domain(name)
    pretrain, train, val, test = SIZES["synthetic" if name in SYNTHETIC else name]
    assert pretrain[0] <= len(domain.pretrain) <= pretrain[1]
    for task_name, task in domain.tasks.items():
        for (low, high), part in zip((train, val, test), ("train", "val", "test")):
            assert low <= len(getattr(task, part)) <= high, (task_name, part, len(getattr(task, part)))
        high = 2 if task.kind == "binary" else task.num_classes
        for part in ("train", "test"):
            assert len(getattr(task, part).labels.unique()) == high, f"{task_name}/{part} lacks a class"
        seen = row_keys(domain.pretrain)
        assert not row_keys(task.test) & seen and not row_keys(task.val) & seen, task_name
    assert 16 <= total_tokens(domain.specs) <= 64
    for where, split in all_splits(domain).items():
        assert_matches_specs(domain, split, f"{name}/{where}")
    encoder = Encoder(domain.specs, TINY).eval()
    inputs, _ = next(iter(DataLoader(domain.pretrain, batch_size=domain.batch_size)))
    with torch.no_grad():
        assert encoder(list(inputs)).pooled.shape == (domain.batch_size, TINY.embed_dim)


@pytest.mark.parametrize("name", sorted(EMBEDDED_DOMAINS))
def test_full_size_inputs_are_standardized_on_the_pretraining_split(name):
    domain = get_domain(name)
    for x, spec in zip(domain.pretrain.inputs, domain.specs):
        if spec.kind == "tokens":
            continue
        x = x.double()
        assert abs(float(x.mean())) < 0.05, name
        assert abs(float(x.std()) - 1) < 0.1, name
