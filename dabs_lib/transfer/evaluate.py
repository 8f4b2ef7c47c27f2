"""evaluate_transfer and probe_val: featurize through the cache, probe, score.

Order of use of the splits: features of train and val (val carved from train when the
task has none, or when `protocol.val_source == "carve"`) fit the L2 path and choose the
strength; test is featurized and scored once at the end, and never by `probe_val`.
`probe_val` runs inside every search trial at every evaluation, so it featurizes only a
fixed, seeded sample of `protocol.search_rows` train (and val) examples: the same rows for
every trial and step, so scores stay comparable, at a cost that does not grow with the task.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from dabs_lib.checkpoints import encoder_fingerprint, load_encoder
from dabs_lib.domains.base import TransferTask
from dabs_lib.encoder import Encoder
from dabs_lib.transfer.cache import DEFAULT_CACHE_DIR, FeatureCache, cached_features, resolve_cache
from dabs_lib.transfer.features import FeatureSet, resolve_device
from dabs_lib.transfer.fewshot import run_fewshot
from dabs_lib.transfer.probes import cpu_threads_for
from dabs_lib.transfer.protocol import ProbeProtocol, ProbeScore, TransferResult
from dabs_lib.transfer.selection import carve, score_probe, select_probe
from typing import Any


def as_encoder(checkpoint_or_encoder: str | os.PathLike[str] | Encoder) -> Encoder:
    if isinstance(checkpoint_or_encoder, Encoder):
        return checkpoint_or_encoder
    if isinstance(checkpoint_or_encoder, (str, os.PathLike)):
        return load_encoder(checkpoint_or_encoder)
    raise TypeError(
        f"checkpoint_or_encoder must be a checkpoint path or an Encoder, but got {type(checkpoint_or_encoder).__name__}"
    )


@dataclass
class _Featurizer:
    """Featurizes the splits of one task with one encoder, counting time and cache hits."""

    encoder: Encoder
    fingerprint: str
    task: TransferTask
    protocol: ProbeProtocol
    cache: FeatureCache
    rows: int = 0  # featurize at most this many examples of train and val (a seeded sample); 0 = all
    seconds: float = 0.0
    all_hits: bool = True

    def split(self, name: str) -> FeatureSet:
        per_token = self.task.kind == "per_token"
        pooling = "none" if per_token else (self.protocol.pooling or self.encoder.config.pooling)
        data = getattr(self.task, name)
        if name != "test":
            data = sample_rows(data, self.rows, self.protocol.val_seed)
        features, hit, seconds = cached_features(
            self.encoder,
            self.fingerprint,
            data,
            name,
            cache=self.cache,
            pooling=pooling,
            per_token=per_token,
            ignore_index=self.task.ignore_index,
            batch_size=self.protocol.batch_size,
            device=self.protocol.device,
            where=f"task {self.task.name!r} split {name!r}",
        )
        self.seconds += seconds
        self.all_hits = self.all_hits and hit
        return features

    def train_and_val(self) -> tuple[FeatureSet, FeatureSet]:
        train = self.split("train")
        val_data = self.task.val
        if self.protocol.val_source == "task" and val_data is not None and len(val_data) > 0:
            return train, self.split("val")
        fit, val = carve(train.id_span, self.protocol.val_fraction, self.protocol.val_seed)
        return train.take(fit), train.take(val)


def sample_rows(data: Dataset[Any], rows: int, seed: int) -> Dataset[Any]:
    """A fixed, seeded sample of `rows` examples in their original order; the whole split when
    rows is 0 or the split is no larger."""
    if rows <= 0 or len(data) <= rows:
        return data
    index = torch.from_numpy(np.sort(np.random.default_rng(seed).permutation(len(data))[:rows]))
    if hasattr(data, "subset"):  # keeps the split's own type (and its fingerprint for the cache)
        return data.subset(index, f"{getattr(data, 'name', 'split')}[sample {rows}, seed {seed}]")
    return Subset(data, index.tolist())


def _linear_transfer(
    encoder: Encoder,
    fingerprint: str,
    task: TransferTask,
    protocol: ProbeProtocol,
    cache: FeatureCache,
    score_test: bool,
    rows: int = 0,
) -> TransferResult:
    featurizer = _Featurizer(encoder, fingerprint, task, protocol, cache, rows)
    train, val = featurizer.train_and_val()
    test = featurizer.split("test") if score_test else None
    start = time.perf_counter()
    device = resolve_device(protocol.device)
    with cpu_threads_for(train.features, device):
        fit = select_probe(train, val, task.kind, task.metric, task.num_classes, protocol, device)
        score = score_probe(fit.probe, test, task.metric) if test is not None else float("nan")
        fewshot = run_fewshot(train, val, test, task.kind, task.metric, task.num_classes, protocol, device)
    return TransferResult(
        task=task.name,
        metric=task.metric,
        higher_is_better=task.higher_is_better,
        score=score,
        val_score=fit.val_score,
        l2=fit.l2,
        featurize_seconds=featurizer.seconds,
        probe_seconds=time.perf_counter() - start,
        cache_hit=featurizer.all_hits,
        kind="linear",
        l2_path=fit.l2_path,
        val_path=fit.val_path,
        n_train=train.num_examples,
        n_val=val.num_examples,
        n_test=test.num_examples if test is not None else 0,
        fewshot=fewshot,
    )


def evaluate_transfer(
    checkpoint_or_encoder: str | os.PathLike[str] | Encoder,
    task: TransferTask,
    protocol: ProbeProtocol = ProbeProtocol(),
    cache_dir: str | os.PathLike[str] | FeatureCache | None = DEFAULT_CACHE_DIR,
    *,
    score_test: bool = True,
    fingerprint: str | None = None,
    rows: int = 0,
) -> TransferResult:
    """Score `task` on a checkpoint (path) or an Encoder.

    cache_dir: a folder, DEFAULT_CACHE_DIR ($DABS_TUNE_CACHE or ~/.cache/dabs-tune/features),
    None (in-process memory) or a FeatureCache. `fingerprint` skips re-hashing the weights
    when the caller already has encoder_fingerprint(encoder). `rows` > 0 featurizes a seeded
    sample of that many train and val examples (probe_val's search signal); 0 = whole splits.
    """
    encoder = as_encoder(checkpoint_or_encoder)
    if protocol.kind == "finetune":
        from dabs_lib.transfer.finetune import finetune_transfer  # Lightning only when fine-tuning

        return finetune_transfer(encoder, task, protocol, score_test=score_test)
    fingerprint = fingerprint or encoder_fingerprint(encoder)
    return _linear_transfer(encoder, fingerprint, task, protocol, resolve_cache(cache_dir), score_test, rows)


def probe_val(
    encoder: Encoder,
    task: TransferTask,
    protocol: ProbeProtocol = ProbeProtocol(),
    cache_dir: str | os.PathLike[str] | FeatureCache | None = None,
) -> ProbeScore:
    """The in-trial signal: featurize (a seeded sample of `protocol.search_rows` examples of)
    train + val only, return (val_score, l2, seconds)."""
    if protocol.fewshot_sizes:
        raise ValueError("probe_val never touches the test split, so ProbeProtocol.fewshot_sizes must be ()")
    result = evaluate_transfer(encoder, task, protocol, cache_dir, score_test=False, rows=protocol.search_rows)
    return ProbeScore(result.val_score, result.l2, result.seconds)
