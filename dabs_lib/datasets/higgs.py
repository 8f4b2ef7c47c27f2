"""HIGGS from UCI's `HIGGS.csv.gz` (11M rows: label, then 28 features; no header).

As in DABS: the first 90% of rows (ceil) are the pretraining part, the last 10% (floor)
the transfer part; each part is shuffled with seed 42 and its first 90% (ceil) is train,
its last 10% DABS's "val" (our test). Pretraining uses the pretraining part's train rows;
the transfer task carves validation from the transfer train rows. Features are raw
float32 in file order (DABS went through tfds, whose columns were sorted by name; the
order does not matter to a tabular embedding, which gives every feature its own position).
"""

from __future__ import annotations

import gzip
import zlib

import numpy as np
import pandas as pd

from dabs_lib.datasets.cache import ensure_processed, source_signature
from dabs_lib.datasets.catalog import FILE, HIGGS as SOURCE
from dabs_lib.datasets.common import make_task, shrink
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.splits import dabs_shuffle, head_tail
from dabs_lib.domains.base import Domain
from dabs_lib.specs import TabularSpec
from dabs_lib.datasets.cache import ArrayWriter
from pathlib import Path
from collections.abc import Callable

NUM_FEATURES = 28
CHUNK_ROWS = 1_000_000


def read_higgs(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(features (N, 28) float32, labels (N,) int64) from the gzipped CSV."""
    parts = []
    try:
        for chunk in pd.read_csv(path, header=None, dtype=np.float32, chunksize=CHUNK_ROWS, compression="gzip"):
            parts.append(chunk.to_numpy())
    except (EOFError, OSError, zlib.error, gzip.BadGzipFile, ValueError, pd.errors.ParserError) as error:
        raise DatasetFileError(path, f"is truncated or not a gzipped CSV ({type(error).__name__}: {error})") from error
    table = np.concatenate(parts) if parts else np.zeros((0, NUM_FEATURES + 1), np.float32)
    if table.shape[1] != NUM_FEATURES + 1 or np.isnan(table).any():
        raise DatasetFileError(path, f"every row must hold a label and {NUM_FEATURES} numbers (shape {table.shape})")
    labels = table[:, 0]
    if not np.isin(labels, (0.0, 1.0)).all():
        raise DatasetFileError(path, "the first column (label) must be 0 or 1")
    return np.ascontiguousarray(table[:, 1:]), labels.astype(np.int64)


def _preprocess(path: Path) -> Callable[[ArrayWriter], None]:
    def build(writer: ArrayWriter) -> None:
        features, labels = read_higgs(path)
        writer.save("features", features)
        writer.save("labels", labels)

    return build


def dabs_rows(n: int) -> dict[str, np.ndarray]:
    """Row indices of DABS's pretraining train rows, transfer train rows and transfer test rows."""
    n_pre, n_transfer = head_tail(n)
    out = {}
    for name, offset, size in (("pretrain", 0, n_pre), ("transfer", n_pre, n_transfer)):
        order = offset + dabs_shuffle(size)
        head, _ = head_tail(size)
        out[f"{name}_train"], out[f"{name}_test"] = order[:head], order[head:]
    return out


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """HIGGS: 28 tabular features; binary transfer on the last 10% of rows."""
    folder = SOURCE.check(data_root)
    path = folder / FILE
    processed = ensure_processed(
        folder.parent, SOURCE.name, "table", {"version": 1, "source": source_signature([path])}, _preprocess(path)
    )
    labels = processed.load("labels", mmap=False)
    rows = dabs_rows(len(labels))
    fields = (Field(str(processed.path("features"))),)

    def split(name: str, key: str) -> MemmapSplit:
        return shrink(MemmapSplit(f"higgs/{name}", fields, rows[key], labels[rows[key]], processed.fingerprint), smoke)

    task = make_task(
        "higgs", "binary", "accuracy", 1, split("train", "transfer_train"), split("test", "transfer_test"), seed
    )
    return Domain(
        name="higgs",
        specs=(TabularSpec(num_features=NUM_FEATURES),),
        pretrain=split("pretrain", "pretrain_train"),
        tasks={"higgs": task},
        pretrain_num_classes=2,
        supervised_task="higgs",
        batch_size=256,
    )
