"""WM-811K semiconductor wafer maps (DABS 2.0): unlabelled maps pretrain, labelled maps transfer.

Files (`<data_root>/wm811k/`), either:
- `wm811k.npz` (safe; the default): arrays `maps` (every map's uint8 values {0, 1, 2}
  concatenated row-major), `shapes` (N, 2) int and `failureType` (N,) str ("" when
  unlabelled), converted by the user from the public pandas pickle with CONVERT below; or
- `LSWMD.pkl` (the public Kaggle/MIR pickle) read with pandas.read_pickle ONLY when the
  environment variable DABS_TUNE_TRUST_PICKLES=1 is set. Unpickling runs arbitrary code from
  the file: set it only for a file from a source you trust.

As DABS: a map of values {0, 1, 2} (no die, pass, fail) is resized to 32x32 and fed as
3x32x32 (the value repeated over three channels) scaled to [0, 1] (DABS: value * 127.5 / 255
after a bilinear resize of the grey image; we resize with nearest neighbour so values stay
{0, 0.5, 1}), patch 4. failureType "none" and the 8 defect types are the 9 classes (DABS's
order: none, random, donut, scratch, center, loc, edge-loc, edge-ring, near-full; "none" is
also what DABS mapped unlabelled maps to). Unlabelled maps, shuffled with seed 42, head ceil
90%, are pretraining; labelled maps shuffled with seed 42: head ceil 90% train (validation
carved, stratified), tail floor 10% test. Metric: weighted F1 over the test split.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from dabs_lib.datasets.cache import ensure_processed, source_signature
from dabs_lib.datasets.catalog import CONVERT, NPZ, PICKLE, TRUST_ENV, WM811K as SOURCE
from dabs_lib.datasets.common import make_task, shrink
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.splits import dabs_shuffle, head_tail
from dabs_lib.domains.base import Domain
from dabs_lib.specs import Image2dSpec
from dabs_lib.datasets.cache import ArrayWriter
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from torch import Tensor

SIZE, PATCH = 32, 4
CLASSES = ("none", "random", "donut", "scratch", "center", "loc", "edge-loc", "edge-ring", "near-full")


class WaferMaps:
    """Picklable transform: uint8 (32, 32) values {0, 1, 2} -> float (3, 32, 32) in {0, 0.5, 1}."""

    def __call__(self, values: np.ndarray) -> Tensor:
        import torch

        grey = torch.from_numpy(np.asarray(values, dtype=np.float32) / 2.0)
        return grey.unsqueeze(0).expand(3, -1, -1).contiguous()  # (32, 32) -> (3, 32, 32)

    def __repr__(self) -> str:
        return "WaferMaps()"


def resize_nearest(wafer: np.ndarray) -> np.ndarray:
    """(h, w) -> (32, 32) by nearest neighbour (pixel centres, as PIL's NEAREST)."""
    h, w = wafer.shape
    rows = np.minimum(((np.arange(SIZE) + 0.5) * h / SIZE).astype(np.int64), h - 1)
    cols = np.minimum(((np.arange(SIZE) + 0.5) * w / SIZE).astype(np.int64), w - 1)
    return wafer[rows][:, cols]


def _read_npz(path: Path) -> tuple[list[np.ndarray], list[str]]:
    try:
        with np.load(path, allow_pickle=False) as data:
            maps, shapes, types = data["maps"], data["shapes"], data["failureType"]
    except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise DatasetFileError(
            path,
            f"must be an .npz with arrays maps, shapes, failureType ({error})",
            f"Convert LSWMD.pkl again: {CONVERT}",
        ) from error
    sizes = shapes.prod(axis=1) if len(shapes) else np.zeros(0, np.int64)
    if shapes.ndim != 2 or shapes.shape[1] != 2 or len(types) != len(shapes) or sizes.sum() != maps.size:
        raise DatasetFileError(
            path, f"{len(shapes)} shapes, {len(types)} labels and {maps.size} values do not agree (truncated?)"
        )
    ends = np.cumsum(sizes)
    wafers = [maps[e - s : e].reshape(shape) for e, s, shape in zip(ends, sizes, shapes)]
    return wafers, [str(t) for t in types]


def _read_pickle(path: Path) -> tuple[list[np.ndarray], list[str]]:
    import sys

    import pandas as pd

    sys.modules.setdefault("pandas.indexes", pd.core.indexes)  # LSWMD.pkl was written by pandas 0.x
    try:
        frame = pd.read_pickle(path)  # runs code from the file: only reached with DABS_TUNE_TRUST_PICKLES=1
        wafers = [np.asarray(m, dtype=np.uint8) for m in frame["waferMap"]]
        types = [str(np.asarray(v).ravel()[0]) if np.asarray(v).size else "" for v in frame["failureType"]]
    except Exception as error:  # unpickling raises anything
        raise DatasetFileError(
            path, f"cannot be read as the WM-811K DataFrame ({type(error).__name__}: {error})"
        ) from error
    return wafers, types


def read_wafers(folder: Path) -> tuple[list[np.ndarray], list[str], object]:
    """(maps, failure types, the file read): the .npz, or the pickle when trusted."""
    npz, pkl = folder / NPZ, folder / PICKLE
    if npz.exists():
        return (*_read_npz(npz), npz)
    if os.environ.get(TRUST_ENV) != "1":
        raise DatasetFileError(
            pkl,
            "is a pickle, and unpickling runs code from the file, so it is not read by default",
            f'Convert it once to {npz}: python -c "{CONVERT}" (run in {folder}), '
            f"or set {TRUST_ENV}=1 if you trust the file.",
        )
    return (*_read_pickle(pkl), pkl)


def _preprocess(folder: Path) -> Callable[[ArrayWriter], None]:
    def build(writer: ArrayWriter) -> None:
        wafers, types, path = read_wafers(folder)
        labels = np.full(len(wafers), -1, dtype=np.int64)
        for i, (wafer, kind) in enumerate(zip(wafers, types)):
            if kind and kind.lower() not in CLASSES:
                raise DatasetFileError(path, f"failureType {kind!r} (row {i}) must be empty or one of {CLASSES}")
            if wafer.ndim != 2 or wafer.size == 0 or wafer.max(initial=0) > 2:
                raise DatasetFileError(path, f"wafer map {i} must be 2-D with values 0, 1, 2 (shape {wafer.shape})")
            labels[i] = CLASSES.index(kind.lower()) if kind else -1
        out = writer.create("maps", (len(wafers), SIZE, SIZE), np.uint8)
        for i, wafer in enumerate(wafers):
            out[i] = resize_nearest(wafer)
        writer.save("labels", labels)

    return build


def _head_tail(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = rows[dabs_shuffle(len(rows))]
    head, _ = head_tail(len(rows))
    return order[:head], order[head:]


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """WM-811K: 3x32x32 wafer maps, patch 4; 9 failure types, weighted F1."""
    folder = SOURCE.check(data_root)
    path = folder / NPZ if (folder / NPZ).exists() else folder / PICKLE
    processed = ensure_processed(
        folder.parent, SOURCE.name, "maps", {"version": 1, "source": source_signature([path])}, _preprocess(folder)
    )
    labels = processed.load("labels", mmap=False)
    fields = (Field(str(processed.path("maps")), transform=WaferMaps()),)

    def split(name: str, rows: np.ndarray) -> MemmapSplit:
        return shrink(MemmapSplit(f"wm811k/{name}", fields, rows, labels[rows], processed.fingerprint), smoke)

    pretrain_rows, _ = _head_tail(np.flatnonzero(labels < 0))
    train_rows, test_rows = _head_tail(np.flatnonzero(labels >= 0))
    task = make_task(
        "wm811k", "multiclass", "f1_weighted", len(CLASSES), split("train", train_rows), split("test", test_rows), seed
    )
    return Domain(
        name="wm811k",
        specs=(Image2dSpec(input_size=SIZE, patch_size=PATCH, in_channels=3),),
        pretrain=split("pretrain", pretrain_rows),
        tasks={"wm811k": task},
        batch_size=256,
    )
