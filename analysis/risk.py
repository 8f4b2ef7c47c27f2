"""Risk decomposition per checkpoint: featurize each split once (cached), decompose, tabulate.

    table = decompose("runs/emix/encoder.pt", domain.tasks["novel"], supervised="runs/sup/encoder.pt")
    table = risk_table({"emix": "runs/emix/encoder.pt", "shed": ...}, domain, supervised_checkpoint=...)

The definitions (error per metric, S, full-shot and few-shot components) are in
analysis.risk_core, whose pure functions are re-exported here. The probe pool is the
task's train split (minus the carved validation rows when `protocol.val_source ==
"carve"` or the task has no val split); L2 strengths are chosen on val, never on S or test.

Encoder generalization (r(fit -> test) - r(heldout -> S)) only means what Dubois et al.
mean when S was seen by the encoder during pretraining, i.e. when the probe pool is
(part of) the pretraining split. `s_pretrained` reports the share of S whose inputs occur
in `pretrain` (NaN when not given): near 1 the component is the encoder's train/test gap;
near 0 (e.g. digits `novel`, whose classes the encoder never saw) S and test are alike to
the encoder and the component only measures sampling noise and any shift between them.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd
from torch.utils.data import Dataset, Subset

from analysis.risk_core import (  # noqa: F401  (re-exported: the pure API)
    COMPONENTS,
    ERRORS,
    STRATIFIED_KINDS,
    ProbeSetup,
    SplitFeatures,
    choose_s,
    components_from_risks,
    decompose_features,
    error_of,
    fewshot_fit_ids,
    risk_components,
    stratified_subset,
    subset_size,
    summarize_draws,
    training_error,
)
from dabs_lib.checkpoints import encoder_fingerprint
from dabs_lib.domains.base import Domain, TransferTask
from dabs_lib.encoder import Encoder
from dabs_lib.transfer.cache import DEFAULT_CACHE_DIR, FeatureCache, cached_features, resolve_cache
from dabs_lib.transfer.evaluate import as_encoder
from dabs_lib.transfer.features import FeatureSet, iterate_batches, resolve_device
from dabs_lib.transfer.probes import cpu_threads_for
from dabs_lib.transfer.protocol import ProbeProtocol
from dabs_lib.transfer.selection import carve

__all__ = [
    "COMPONENTS",
    "ERRORS",
    "FEWSHOT",
    "ProbeSetup",
    "SplitFeatures",
    "check_twin",
    "choose_s",
    "components_from_risks",
    "decompose",
    "decompose_features",
    "error_of",
    "fewshot_fit_ids",
    "pretrained_fraction",
    "risk_components",
    "risk_table",
    "stratified_subset",
    "subset_size",
    "summarize_draws",
    "task_features",
    "training_error",
]

FEWSHOT = (1, 5, 10)  # examples per class of the default few-shot settings
ARCHITECTURE = (
    "embed_dim",
    "depth",
    "num_heads",
    "head_dim",
    "mlp_dim",
    "final_norm",
    "pooling",
    "mean_pool_cls",
)  # what a twin must share


def task_features(encoder: Encoder, task: TransferTask, protocol: ProbeProtocol, cache: FeatureCache) -> SplitFeatures:
    """Pool, val and test features of `task`, each featurized at most once (through the cache)."""
    fingerprint = encoder_fingerprint(encoder)
    per_token = task.kind == "per_token"
    pooling = "none" if per_token else (protocol.pooling or encoder.config.pooling)

    def split(name: str) -> FeatureSet:
        return cached_features(
            encoder,
            fingerprint,
            getattr(task, name),
            name,
            cache=cache,
            pooling=pooling,
            per_token=per_token,
            ignore_index=task.ignore_index,
            batch_size=protocol.batch_size,
            device=protocol.device,
            where=f"task {task.name!r} split {name!r}",
        )[0]

    pool = split("train")
    if protocol.val_source == "task" and task.val is not None and len(task.val) > 0:
        return SplitFeatures(pool, split("val"), split("test"))
    fit, val = carve(pool.id_span, protocol.val_fraction, protocol.val_seed)
    return SplitFeatures(pool.take(fit), pool.take(val), split("test"))


def check_twin(encoder: Encoder, twin: Encoder) -> None:
    """The supervised twin must have the encoder's inputs and architecture."""
    ours = (encoder.specs, *(getattr(encoder.config, k) for k in ARCHITECTURE))
    theirs = (twin.specs, *(getattr(twin.config, k) for k in ARCHITECTURE))
    if ours != theirs:
        raise ValueError(
            f"the supervised twin must share the encoder's specs and {ARCHITECTURE}, but the encoder has "
            f"{ours} and the twin {theirs} (argument `supervised`)"
        )


def _row_digests(dataset: Dataset) -> list[bytes]:
    """One content hash per example (all of its inputs), in dataset order."""
    digests = []
    for inputs, _ in iterate_batches(dataset, 512):
        flat = [x.reshape(len(x), -1).contiguous().cpu().numpy() for x in inputs]  # (B, prod(shape))
        digests.extend(hashlib.sha1(b"".join(f[i].tobytes() for f in flat)).digest() for i in range(len(flat[0])))
    return digests


def pretrained_fraction(dataset: Dataset, ids: np.ndarray, pretrain: Dataset) -> float:
    """Share of dataset[ids] whose inputs occur, value for value, in `pretrain`."""
    seen = set(_row_digests(pretrain))
    chosen = _row_digests(Subset(dataset, [int(i) for i in ids]))
    return float(np.mean([d in seen for d in chosen])) if chosen else float("nan")


def decompose(
    encoder_or_checkpoint: str | os.PathLike | Encoder,
    task: TransferTask,
    supervised: str | os.PathLike | Encoder | None = None,
    protocol: ProbeProtocol = ProbeProtocol(),
    fewshot: tuple[int, ...] = FEWSHOT,
    draws: int = 5,
    seed: int = 0,
    cache_dir: str | os.PathLike | FeatureCache | None = DEFAULT_CACHE_DIR,
    pretrain: Dataset | None = None,
    per_draw: bool = False,
) -> pd.DataFrame:
    """One row per setting (shots 0 = full-shot, then each few-shot size; or per draw)."""
    if protocol.kind != "linear":
        raise ValueError(
            f"risk decomposition uses frozen linear probes, so ProbeProtocol.kind must be 'linear', "
            f"but got {protocol.kind!r}"
        )
    encoder, cache = as_encoder(encoder_or_checkpoint), resolve_cache(cache_dir)
    features = task_features(encoder, task, protocol, cache)
    twin = None
    if supervised is not None:
        twin_encoder = as_encoder(supervised)
        check_twin(encoder, twin_encoder)
        twin = task_features(twin_encoder, task, protocol, cache)
    device = resolve_device(protocol.device)
    setup = ProbeSetup(task.kind, task.metric, task.num_classes, protocol, device)
    with cpu_threads_for(features.pool.features, device):
        table = decompose_features(features, setup, twin, tuple(fewshot), draws, seed)
    if not per_draw:
        table = summarize_draws(table)
    s_ids = choose_s(features.pool, features.test.num_examples, task.kind, seed)
    seen = pretrained_fraction(task.train, s_ids, pretrain) if pretrain is not None else float("nan")
    table.insert(0, "task", task.name)
    table.insert(1, "metric", task.metric)
    table["twin"] = twin is not None
    table["s_pretrained"] = seen
    return table


def risk_table(
    checkpoints: dict[str, str | os.PathLike | Encoder],
    domain: Domain,
    supervised_checkpoint: str | os.PathLike | Encoder | None = None,
    tasks: tuple[str, ...] | None = None,
    protocol: ProbeProtocol = ProbeProtocol(),
    fewshot: tuple[int, ...] = FEWSHOT,
    draws: int = 5,
    seed: int = 0,
    cache_dir: str | os.PathLike | FeatureCache | None = DEFAULT_CACHE_DIR,
) -> pd.DataFrame:
    """decompose() for every checkpoint x task of `domain`; few-shot only on multiclass/binary tasks."""
    if not checkpoints:
        raise ValueError("risk_table needs at least one checkpoint, but `checkpoints` is empty")
    names = tuple(domain.tasks) if tasks is None else tuple(tasks)
    missing = [n for n in names if n not in domain.tasks]
    if missing:
        raise KeyError(f"unknown task {missing[0]!r} of domain {domain.name!r}; choose from {sorted(domain.tasks)}")
    twin = as_encoder(supervised_checkpoint) if supervised_checkpoint is not None else None
    parts = []
    for label, checkpoint in checkpoints.items():
        encoder = as_encoder(checkpoint)
        for name in names:
            task = domain.tasks[name]
            sizes = tuple(fewshot) if task.kind in STRATIFIED_KINDS else ()
            part = decompose(encoder, task, twin, protocol, sizes, draws, seed, cache_dir, domain.pretrain)
            part.insert(0, "checkpoint", label)
            part.insert(1, "domain", domain.name)
            parts.append(part)
    return pd.concat(parts, ignore_index=True)
