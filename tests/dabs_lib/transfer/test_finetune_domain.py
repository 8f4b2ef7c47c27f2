"""Fine-tuning option, evaluate_domain's tidy table and probe_val (no test split)."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import Dataset

from dabs_lib.domains.base import Domain
from dabs_lib.transfer import ProbeProtocol, evaluate_domain, evaluate_transfer, probe_val
from tests.dabs_lib.transfer.helpers import tabular_task, tiny_encoder


class ForbiddenSplit(Dataset):
    """A test split that fails on any read: probe_val must never touch it."""

    def __len__(self):
        return 10

    def __getitem__(self, index):
        raise AssertionError("the test split was read")


def test_finetune_one_epoch_returns_a_score():
    encoder = tiny_encoder()
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    protocol = ProbeProtocol(kind="finetune", finetune_epochs=1, finetune_lr=1e-3, finetune_batch_size=32)
    result = evaluate_transfer(encoder, tabular_task(n_train=96, n_val=32, n_test=32), protocol, cache_dir=None)
    assert result.kind == "finetune" and 0.0 <= result.score <= 1.0 and 0.0 <= result.val_score <= 1.0
    assert math.isnan(result.l2)
    assert all(torch.equal(before[k], v) for k, v in encoder.state_dict().items())  # caller's encoder untouched


def test_probe_val_never_reads_test():
    task = tabular_task()
    task.test = ForbiddenSplit()
    score = probe_val(tiny_encoder(), task)
    assert 0.5 < score.val_score <= 1.0 and score.l2 > 0
    val_score, l2, seconds = score
    assert seconds >= 0


def test_evaluate_domain_tidy_table_with_averages():
    tasks = {
        "a": tabular_task(seed=0),
        "b": tabular_task(seed=1, kind="binary", metric="auroc", num_classes=1),
        "r": tabular_task(
            seed=2,
            kind="regression",
            metric="spearman",
            num_classes=1,
            label_fn=lambda x: (x[:, 0] * 2 + x[:, 1]).float(),
        ),
    }
    for name, task in tasks.items():
        task.name = name
    domain = Domain("toy", (), pretrain=None, tasks=tasks, averages={"ab": ("a", "b")})
    table = evaluate_domain(tiny_encoder(), domain, ProbeProtocol(), cache_dir=None)
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns[:9]) == [
        "domain",
        "task",
        "metric",
        "higher_is_better",
        "val_score",
        "test_score",
        "l2",
        "seconds",
        "cache_hit",
    ]
    assert table["task"].tolist() == ["a", "b", "r", "ab"]
    assert table.set_index("task").loc["r", "test_score"] > 0.8
    full = table.set_index("task")
    expected = np.mean([full.loc["a", "test_score"], full.loc["b", "test_score"]])
    assert full.loc["ab", "test_score"] == pytest.approx(expected)
    fewshot = evaluate_domain(
        tiny_encoder(), domain, ProbeProtocol(fewshot_sizes=(2,), fewshot_draws=2), cache_dir=None, tasks=("a",)
    )
    assert fewshot["task"].tolist() == ["a", "a@2shot"] and fewshot["shots"].tolist() == [0, 2]
    assert fewshot["test_std"].notna().tolist() == [False, True]
    val_only = evaluate_domain(tiny_encoder(), domain, ProbeProtocol(), splits=("val",), cache_dir=None, tasks=("a",))
    assert val_only["test_score"].isna().all() and len(val_only) == 1
    with pytest.raises(ValueError, match="splits must be a non-empty subset"):
        evaluate_domain(tiny_encoder(), domain, ProbeProtocol(), splits=("train",))
