"""What every real-dataset module shares: where files live, how to get them, task assembly."""

from __future__ import annotations

import logging

import numpy as np

from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.transforms import AsType
from dabs_lib.datasets.source import Archive, Source, resolve_root  # noqa: F401 (re-exported for loaders)
from dabs_lib.datasets.splits import carve_val
from dabs_lib.domains.base import TransferTask
from dabs_lib.datasets.cache import Processed
from pathlib import Path
from typing import Callable

SMOKE_ROWS = 48  # rows per split when a domain is built with smoke=True

_log = logging.getLogger(__name__)


def make_task(
    name: str,
    kind: str,
    metric: str,
    num_classes: int,
    train: MemmapSplit,
    test: MemmapSplit,
    seed: int,
    groups: np.ndarray | None = None,
    ignore_index: int = -100,
) -> TransferTask:
    """A TransferTask whose validation split is carved from `train` with `seed`."""
    train_index, val_index = carve_val(train.labels, seed, groups=groups)
    return TransferTask(
        name=name,
        kind=kind,
        metric=metric,
        num_classes=num_classes,
        train=train.subset(train_index, f"{name}/train"),
        val=train.subset(val_index, f"{name}/val"),
        test=test.subset(np.arange(len(test)), f"{name}/test"),
        ignore_index=ignore_index,
    )


def shrink(split: MemmapSplit, smoke: bool, rows: int = SMOKE_ROWS) -> MemmapSplit:
    """The first `rows` items in smoke mode (every item otherwise)."""
    if not smoke or len(split) <= rows:
        return split
    return split.subset(np.arange(rows))


def optional_task(
    builder: Callable[..., TransferTask], source: Source, data_root: str | Path, *args: object
) -> TransferTask | None:
    """builder(*args) when `source` is on disk; None (with a warning) when it is missing."""
    missing = source.missing(data_root)
    if missing:
        _log.warning(
            "skipping transfer task %s: %s is missing. %s", source.name, missing[0], source.instructions(data_root)
        )
        return None
    return builder(*args)


def token_pretrain_split(processed: Processed, name: str, smoke: bool) -> MemmapSplit:
    """The unlabelled pretraining split over a processed `tokens.npy` (text corpora)."""
    rows = np.arange(processed.marker["files"]["tokens.npy"]["shape"][0])
    field = Field(str(processed.path("tokens")), transform=AsType("int64"))
    return shrink(MemmapSplit(name, (field,), rows, np.full(len(rows), -1), processed.fingerprint), smoke)
