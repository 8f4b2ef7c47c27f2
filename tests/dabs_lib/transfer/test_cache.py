"""The feature cache: a hit never runs the encoder; any change of key misses."""

import contextlib

import numpy as np
import pytest
import torch

from dabs_lib.checkpoints import encoder_fingerprint, save_encoder
from dabs_lib.encoder import Encoder
from dabs_lib.transfer import FeatureCache, ProbeProtocol, evaluate_transfer
from dabs_lib.transfer.cache import cache_key, cached_features, default_cache_dir
from tests.dabs_lib.transfer.helpers import tabular_task, tiny_encoder

FAST = ProbeProtocol(l2_steps=8, max_iter=30)  # these tests are about features, not probe quality
FAST_CLS = ProbeProtocol(l2_steps=8, max_iter=30, pooling="cls")


@contextlib.contextmanager
def count_encoder_forwards():
    """Counts forward calls of every Encoder (also ones loaded from a checkpoint inside the call)."""
    calls = []
    handle = torch.nn.modules.module.register_module_forward_hook(
        lambda module, args, output: calls.append(1) if isinstance(module, Encoder) else None
    )
    try:
        yield calls
    finally:
        handle.remove()


def test_second_evaluation_of_a_checkpoint_never_runs_the_encoder(tmp_path):
    path = save_encoder(tmp_path / "encoder.pt", tiny_encoder())
    task = tabular_task(n_train=120, n_val=40, n_test=40)
    cache = tmp_path / "features"
    with count_encoder_forwards() as calls:
        first = evaluate_transfer(path, task, FAST, cache_dir=cache)
    assert len(calls) > 0 and not first.cache_hit and first.featurize_seconds > 0
    with count_encoder_forwards() as calls:
        second = evaluate_transfer(path, task, FAST, cache_dir=cache)
    assert calls == [] and second.cache_hit and second.featurize_seconds == 0.0
    assert second.score == first.score and second.l2 == first.l2
    entries = list(cache.iterdir())
    assert len(entries) == 3  # train, val, test
    features = np.load(entries[0] / "features.npy", mmap_mode="r")
    assert isinstance(features, np.memmap) and features.dtype == np.float32
    assert not list(cache.rglob("*.tmp"))  # written atomically: no temp file left behind


def test_changed_weights_split_or_pooling_miss(tmp_path):
    encoder, task = tiny_encoder(), tabular_task(n_train=120, n_val=40, n_test=40)
    cache = FeatureCache(tmp_path)
    evaluate_transfer(encoder, task, FAST, cache_dir=cache)
    assert evaluate_transfer(encoder, task, FAST, cache_dir=cache).cache_hit
    with torch.no_grad():
        other = tiny_encoder()
        other.load_state_dict(encoder.state_dict())
        other.head[1].bias.add_(1.0)  # even an unused weight changes the checkpoint
    assert not evaluate_transfer(other, task, FAST, cache_dir=cache).cache_hit
    assert not evaluate_transfer(encoder, task, FAST_CLS, cache_dir=cache).cache_hit
    assert evaluate_transfer(encoder, task, FAST_CLS, cache_dir=cache).cache_hit
    fingerprint = encoder_fingerprint(encoder)
    assert cached_features(encoder, fingerprint, task.val, "val", cache=cache, pooling="mean")[1]
    # the same data under another split name is another entry
    assert not cached_features(encoder, fingerprint, task.val, "test", cache=cache, pooling="mean")[1]


def test_cache_key_changes_with_every_part():
    base = ("enc", "data", "train", "mean", False, -100)
    keys = {cache_key(*base)}
    for i, value in enumerate(("enc2", "data2", "test", "cls", True)):
        changed = list(base)
        changed[i] = value
        keys.add(cache_key(*changed))
    assert len(keys) == 6


def test_in_memory_mode_and_default_root(tmp_path, monkeypatch):
    encoder, task = tiny_encoder(), tabular_task(n_train=120, n_val=40, n_test=40)
    memory = FeatureCache(None, max_entries=3)
    evaluate_transfer(encoder, task, FAST, cache_dir=memory)
    with count_encoder_forwards() as calls:
        assert evaluate_transfer(encoder, task, FAST, cache_dir=memory).cache_hit
    assert calls == []
    monkeypatch.setenv("DABS_TUNE_CACHE", str(tmp_path / "env-root"))
    assert default_cache_dir() == tmp_path / "env-root"
    evaluate_transfer(encoder, task, FAST)  # default cache_dir: the env root
    assert len(list((tmp_path / "env-root").iterdir())) == 3


def test_eval_mode_no_dropout_and_state_restored():
    encoder = tiny_encoder(dropout=0.5)
    encoder.train()
    task = tabular_task(n_train=120, n_val=40, n_test=40)
    a = evaluate_transfer(encoder, task, FAST, cache_dir=None)
    b = evaluate_transfer(encoder, task, FAST, cache_dir=FeatureCache(None))
    assert a.score == b.score  # deterministic features although dropout is 0.5
    assert encoder.training and encoder.config.pooling == "mean"


def test_disk_cache_needs_a_fingerprint(tmp_path):
    task = tabular_task(n_train=120, n_val=40, n_test=40)
    task.train = torch.utils.data.Subset(task.train, range(100))
    with pytest.raises(ValueError, match="needs a `fingerprint`"):
        evaluate_transfer(tiny_encoder(), task, FAST, cache_dir=tmp_path)
    assert evaluate_transfer(tiny_encoder(), task, FAST, cache_dir=None).n_train == 100
