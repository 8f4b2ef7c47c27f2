"""Few-shot draws and per-token probes."""

import numpy as np
import pytest
import torch

from dabs_lib.domains.base import TensorSplit, TransferTask
from dabs_lib.encoder import Encoder
from dabs_lib.specs import TokensSpec
from dabs_lib.transfer import ProbeProtocol, evaluate_transfer, featurize
from dabs_lib.transfer.features import FeatureSet
from dabs_lib.transfer.fewshot import fewshot_draw, run_fewshot
from tests.dabs_lib.transfer.helpers import TINY, tabular_task, tiny_encoder


def test_draws_have_n_per_class_and_differ_across_seeds():
    labels = np.repeat(np.arange(3), 20)
    draws = [fewshot_draw(labels, 5, seed) for seed in range(5)]
    for draw in draws:
        assert np.bincount(labels[draw]).tolist() == [5, 5, 5] and len(set(draw)) == 15
    assert len({tuple(d) for d in draws}) == 5
    np.testing.assert_array_equal(fewshot_draw(labels, 5, 0), draws[0])


class RecordingFeatures(FeatureSet):
    """Train features that remember which examples each few-shot draw took."""

    taken: list = []

    def take(self, examples):
        RecordingFeatures.taken.append(np.asarray(examples))
        return super().take(examples)


def test_run_fewshot_draws_only_train_examples():
    rng = np.random.default_rng(0)
    labels = np.tile([0, 1, 2], 30)
    x = (np.eye(3)[labels] * 3 + rng.normal(size=(90, 3))).astype(np.float32)
    train = RecordingFeatures(x[:60], labels[:60], np.arange(60) * 10)  # ids 0, 10, ..., 590
    val = FeatureSet(x[60:75], labels[60:75], np.arange(15))
    test = FeatureSet(x[75:], labels[75:], np.arange(15))
    RecordingFeatures.taken = []
    results = run_fewshot(
        train,
        val,
        test,
        "multiclass",
        "accuracy",
        3,
        ProbeProtocol(fewshot_sizes=(2,), fewshot_draws=4),
        torch.device("cpu"),
    )
    assert len(RecordingFeatures.taken) == 4
    for examples in RecordingFeatures.taken:
        assert set(examples) <= set(train.rows) and len(examples) == 6
    assert len({tuple(e) for e in RecordingFeatures.taken}) == 4  # each seed draws differently
    assert len(results[0].scores) == 4 and results[0].mean > 0.6


def test_fewshot_draws_come_from_train_and_are_scored_on_test():
    task = tabular_task(n_train=120, n_val=60, n_test=90)
    protocol = ProbeProtocol(fewshot_sizes=(1, 5), fewshot_draws=3)
    result = evaluate_transfer(tiny_encoder(), task, protocol, cache_dir=None)
    assert [f.shots for f in result.fewshot] == [1, 5]
    for few in result.fewshot:
        assert len(few.scores) == 3 and few.mean == pytest.approx(np.mean(few.scores))
        assert few.std == pytest.approx(np.std(few.scores)) and all(0 <= s <= 1 for s in few.scores)
    # the drawn examples are train rows: none of them is a test row
    train_rows = {tuple(r) for r in task.train.inputs[0].numpy().round(6)}
    test_rows = {tuple(r) for r in task.test.inputs[0].numpy().round(6)}
    assert train_rows.isdisjoint(test_rows)
    with pytest.raises(ValueError, match="few-shot needs a task of kind"):
        evaluate_transfer(
            tiny_encoder(),
            tabular_task(kind="regression", metric="pearson", num_classes=1, label_fn=lambda x: x[:, 0]),
            protocol,
            cache_dir=None,
        )


def _token_task(seed=0, n=120, length=12, vocab=20):
    """Label of a real token = (token id is even); padding (id 0) is labelled ignore_index.
    Padding positions also get a garbage label in `garbage`, which must never be scored."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (n, length), generator=g)
    lengths = torch.randint(3, length + 1, (n,), generator=g)
    pad = torch.arange(length)[None, :] >= lengths[:, None]
    ids[pad] = 0
    labels = torch.where(pad, torch.full_like(ids, -100), ids % 2)
    cuts = [(0, 60), (60, 90), (90, n)]
    parts = [TensorSplit((ids[a:b],), labels[a:b], name) for (a, b), name in zip(cuts, ("train", "val", "test"))]
    return TransferTask("tok", "per_token", "accuracy", 2, *parts), pad


def test_per_token_probe_ignores_padding():
    task, pad = _token_task()
    torch.manual_seed(0)
    encoder = Encoder((TokensSpec(seq_len=12, vocab_size=20),), TINY)
    features = featurize(encoder, task.test, per_token=True)
    n_real = int((task.test.labels != -100).sum())
    assert features.features.shape == (n_real, 32) and set(np.unique(features.labels)) <= {0, 1}
    result = evaluate_transfer(encoder, task, ProbeProtocol(), cache_dir=None)
    assert result.score > 0.95  # token identity is in its own state: parity is linearly readable
    assert result.n_test == 30
