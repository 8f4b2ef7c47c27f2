"""EuroSAT (DABS 2.0): 13-band Sentinel-2 patches, 64x64, 10 land-use classes.

Files: the multispectral release (EuroSAT_MS.zip, or the older EuroSATallBands.zip) extracted
under `<data_root>/eurosat/`: any `<Class>/<Class>_<n>.tif` below it, one 13-band uint16
GeoTIFF per patch, read with `tifffile`. Classes are the 10 folder names in sorted order
(tfds's label order). Files are ordered by class, then by number; DABS (through tfds) shuffled
the rows with seed 42, took the first ceil 90% for pretraining and the last floor 10% for
transfer, and within each part the first ceil 90% as train and the last floor 10% as "val"
(our test); we do the same on our file order, so which patch lands where differs from DABS.
Items are 13x64x64 float32, z-scored per band with the mean/std of the pretraining train
rows (DABS hard-coded statistics of the whole set), patch 8 (64 tokens).
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from dabs_lib.datasets.cache import ensure_processed
from dabs_lib.datasets.catalog import EUROSAT as SOURCE
from dabs_lib.datasets.common import make_task, shrink
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.splits import dabs_shuffle, head_tail
from dabs_lib.datasets.transforms import Standardize
from dabs_lib.domains.base import Domain
from dabs_lib.specs import Image2dSpec
from dabs_lib.datasets.cache import ArrayWriter
from pathlib import Path
from typing import Any, Callable

CLASSES = (
    "AnnualCrop",
    "Forest",
    "HerbaceousVegetation",
    "Highway",
    "Industrial",
    "Pasture",
    "PermanentCrop",
    "Residential",
    "River",
    "SeaLake",
)
BANDS, SIZE, PATCH = 13, 64, 8
SMOKE_FILES = 12  # smoke builds read this many files per class


def _number(path: Path) -> int:
    found = re.search(r"(\d+)$", path.stem)
    return int(found.group(1)) if found else -1


def list_files(folder: Path, limit: int | None = None) -> tuple[list[Any], np.ndarray]:
    """(tif paths, labels): classes in CLASSES order, files by their number."""
    by_class = {name: [] for name in CLASSES}
    for path in folder.rglob("*.tif"):
        if path.parent.name in by_class and "processed" not in path.parts:
            by_class[path.parent.name].append(path)
    empty = [name for name, files in by_class.items() if not files]
    if empty:
        raise DatasetFileError(
            folder,
            f"must hold <Class>/*.tif for all 10 EuroSAT classes; none found for {empty}",
            SOURCE.how_to_get.format(dir=folder),
        )
    paths, labels = [], []
    for label, name in enumerate(CLASSES):
        files = sorted(by_class[name], key=lambda p: (_number(p), p.name))[:limit]
        paths += files
        labels += [label] * len(files)
    return paths, np.asarray(labels, dtype=np.int64)


def read_tif(path: Path) -> np.ndarray:
    """(13, 64, 64) uint16 bands of one patch (stored band-last or band-first)."""
    import tifffile

    try:
        array = tifffile.imread(path)
    except Exception as error:  # tifffile raises TiffFileError, ValueError, struct.error, ...
        raise DatasetFileError(path, f"cannot be read as a GeoTIFF ({type(error).__name__}: {error})") from error
    if array.shape == (SIZE, SIZE, BANDS):
        array = array.transpose(2, 0, 1)
    if array.shape != (BANDS, SIZE, SIZE):
        raise DatasetFileError(path, f"must hold {BANDS} bands of {SIZE}x{SIZE}, but has shape {array.shape}")
    return array.astype(np.uint16)


def dabs_rows(n: int) -> dict[str, np.ndarray]:
    """DABS's rows: shuffle (seed 42), head ceil 90% pretraining / tail transfer, each head 90% train / tail test."""
    order = dabs_shuffle(n)
    n_pre, _ = head_tail(n)
    out = {}
    for name, part in (("pretrain", order[:n_pre]), ("transfer", order[n_pre:])):
        head, _ = head_tail(len(part))
        out[f"{name}_train"], out[f"{name}_test"] = part[:head], part[head:]
    return out


def _preprocess(paths: list[Path], labels: np.ndarray) -> Callable[[ArrayWriter], None]:
    def build(writer: ArrayWriter) -> None:
        out = writer.create("bands", (len(paths), BANDS, SIZE, SIZE), np.uint16)
        for i, path in enumerate(paths):
            out[i] = read_tif(path)
        writer.save("labels", labels)
        rows = np.sort(dabs_rows(len(paths))["pretrain_train"])
        total = np.zeros(BANDS)
        squares = np.zeros(BANDS)
        for start in range(0, len(rows), 1024):  # per-band mean/std of the pretraining train rows, in chunks
            chunk = out[rows[start : start + 1024]].astype(np.float64)
            total += chunk.sum(axis=(0, 2, 3))
            squares += (chunk**2).sum(axis=(0, 2, 3))
        count = max(len(rows), 1) * SIZE * SIZE
        mean = total / count
        writer.meta["mean"] = mean.tolist()
        writer.meta["std"] = np.sqrt(np.maximum(squares / count - mean**2, 1e-12)).tolist()

    return build


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """EuroSAT: 13x64x64, patch 8; 90% pretraining, 10% transfer (10 classes, accuracy)."""
    folder = SOURCE.check(data_root)
    paths, labels = list_files(folder, SMOKE_FILES if smoke else None)
    listing = "\n".join(f"{p.relative_to(folder)}:{p.stat().st_size}" for p in paths)
    params = {"version": 1, "count": len(paths), "files": hashlib.sha256(listing.encode()).hexdigest()[:16]}
    processed = ensure_processed(folder.parent, SOURCE.name, "bands", params, _preprocess(paths, labels))
    labels = processed.load("labels", mmap=False)
    rows = dabs_rows(len(labels))
    stats = Standardize(tuple(processed.meta["mean"]), tuple(processed.meta["std"]))
    fields = (Field(str(processed.path("bands")), transform=stats),)

    def split(name: str, key: str) -> MemmapSplit:
        return shrink(
            MemmapSplit(f"eurosat/{name}", fields, rows[key], labels[rows[key]], processed.fingerprint), smoke
        )

    task = make_task(
        "eurosat",
        "multiclass",
        "accuracy",
        len(CLASSES),
        split("train", "transfer_train"),
        split("test", "transfer_test"),
        seed,
    )
    return Domain(
        name="eurosat",
        specs=(Image2dSpec(input_size=SIZE, patch_size=PATCH, in_channels=BANDS),),
        pretrain=split("pretrain", "pretrain_train"),
        tasks={"eurosat": task},
        pretrain_num_classes=len(CLASSES),
        supervised_task="eurosat",
        batch_size=256,
    )
