"""CIFAR-10 from the pickled batches in `cifar-10-batches-py/` (torchvision's on-disk layout).

Pretraining uses the 50,000 training images (labels kept for the online probe); the
transfer task trains on them minus a carved validation split and tests on `test_batch`
(DABS's "val"). DABS's other natural-image transfer sets (natural.py: Aircraft, CU Birds,
DTD, Traffic Sign, VGG Flower) are added as tasks when their files are present. Images are
stored once at 32x32 uint8; each item is resized on read to 3x224x224 with patch 16
(`cifar10`) or kept at 3x32x32 with patch 4 (`cifar10_small`), in [0, 1] without
normalization, as DABS feeds them.

`cifar10` pretrains on ImageNet (imagenet.py, DABS's natural-images pretraining set) when
`<data_root>/imagenet/train/` is present, and on CIFAR-10 otherwise; the log says which
(the pretraining split is named `imagenet/pretrain` or `cifar10/pretrain`). `cifar10_small`
always pretrains on CIFAR-10.
"""

from __future__ import annotations

import logging

import numpy as np

from dabs_lib.datasets.cache import ensure_processed, source_signature
from dabs_lib.datasets import imagenet, natural
from dabs_lib.datasets.catalog import CIFAR10 as SOURCE, FOLDER, TEST_BATCH, TRAIN_BATCHES
from dabs_lib.datasets.common import make_task, optional_task, shrink
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.pickles import load_pickle
from dabs_lib.datasets.transforms import Image
from dabs_lib.domains.base import Domain
from dabs_lib.specs import Image2dSpec
from dabs_lib.datasets.cache import ArrayWriter
from pathlib import Path
from typing import Callable


_log = logging.getLogger(__name__)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch -> images (N, 32, 32, 3) uint8 and labels (N,) int64."""
    batch = load_pickle(path)
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DatasetFileError(path, "is not a CIFAR-10 batch (a dict with b'data' and b'labels' must hold)")
    data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise DatasetFileError(
            path,
            f"data must be uint8 (N, 3072) with N labels, but got {data.dtype} {data.shape} and {len(labels)} labels",
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DatasetFileError(path, f"labels must be in 0..9, but got {labels.min()}..{labels.max()}")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels  # rows are R, G, B planes


def _preprocess(folder: Path) -> Callable[[ArrayWriter], None]:
    def build(writer: ArrayWriter) -> None:
        parts = [read_batch(folder / FOLDER / name) for name in (*TRAIN_BATCHES, TEST_BATCH)]
        writer.save("images", np.concatenate([images for images, _ in parts]))
        writer.save("labels", np.concatenate([labels for _, labels in parts]))
        writer.meta["num_train"] = int(sum(len(labels) for _, labels in parts[:-1]))

    return build


def _pretrain(
    name: str, size: int, cifar_train: MemmapSplit, data_root: str | Path, smoke: bool
) -> tuple[MemmapSplit | imagenet.ImageFileSplit, int]:
    """(split, classes): ImageNet when `name` is `cifar10` and it is on disk, else CIFAR-10's train images."""
    if name != "cifar10":
        return cifar_train, 10
    missing = imagenet.IMAGENET.missing(data_root)
    if missing:
        _log.warning(
            "%s: pretraining on CIFAR-10, since ImageNet's %s is missing. %s",
            name,
            missing[0],
            imagenet.IMAGENET.instructions(data_root),
        )
        return cifar_train, 10
    split, classes = imagenet.pretrain_split(data_root, size, smoke)
    _log.info("%s: pretraining on ImageNet, %d images of %d classes in %s", name, len(split), classes, split.folder)
    return shrink(split, smoke), classes


def _build(name: str, size: int, patch: int, batch_size: int, seed: int, data_root: str | Path, smoke: bool) -> Domain:
    folder = SOURCE.check(data_root)
    raw = [folder / rel for rel in SOURCE.required]
    processed = ensure_processed(
        folder.parent,
        SOURCE.name,
        "arrays",
        {"version": 1, "source": source_signature(raw)},
        _preprocess(folder),
    )
    labels = processed.load("labels", mmap=False)
    num_train = processed.meta["num_train"]
    fields = (Field(str(processed.path("images")), transform=Image(size)),)
    rows = np.arange(len(labels))
    train = MemmapSplit(f"{name}/pretrain", fields, rows[:num_train], labels[:num_train], processed.fingerprint)
    test = MemmapSplit(f"{name}/test", fields, rows[num_train:], labels[num_train:], processed.fingerprint)
    train, test = shrink(train, smoke), shrink(test, smoke)
    tasks = {"cifar10": make_task("cifar10", "multiclass", "accuracy", 10, train, test, seed)}
    pretrain, pretrain_classes = _pretrain(name, size, train, data_root, smoke)
    for other, (source, _) in natural.SETS.items():  # DABS's other natural-image transfer sets, when present
        tasks.update(optional_task(natural.transfer_task, source, data_root, other, data_root, size, seed, smoke) or {})
    return Domain(
        name=name,
        specs=(Image2dSpec(input_size=size, patch_size=patch, in_channels=3),),
        pretrain=pretrain,
        tasks=tasks,
        pretrain_num_classes=pretrain_classes,
        supervised_task="cifar10",
        batch_size=batch_size,
    )


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """CIFAR-10 at 3x224x224, patch 16 (196 tokens)."""
    return _build("cifar10", 224, 16, 64, seed, data_root, smoke)


def build_small(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """CIFAR-10 at 3x32x32, patch 4 (64 tokens)."""
    return _build("cifar10_small", 32, 4, 256, seed, data_root, smoke)
