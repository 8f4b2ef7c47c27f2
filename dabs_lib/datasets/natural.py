"""Natural-image transfer sets: Aircraft, CU Birds, DTD, Traffic Sign (GTSRB), VGG Flower.

Each is decoded once into 224x224 RGB uint8 (Resize((224, 224)) as DABS, Aircraft cropped
to its bounding box first) and resized again on read for the 32x32 `_small` domains (DABS
resized the original straight to 32x32). Splits as DABS: Aircraft's official trainval/test
(we use its official train/val for validation), CU Birds' train_test_split.txt, DTD's
partition 1 (train1 + val1 / test1; val1 is our validation), Traffic Sign and VGG Flower
80/20 per class with one RandomState(42) (file names sorted first: DABS used glob's
arbitrary order). Aircraft has 100 variants (DABS declared 102 outputs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dabs_lib.datasets.cache import ensure_processed
from dabs_lib.datasets.catalog import AIRCRAFT, CU_BIRDS, DTD, TRAFFIC_SIGN, VGG_FLOWER
from dabs_lib.datasets.common import make_task, shrink
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.images import store_images
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.splits import DABS_SEED
from dabs_lib.datasets.textfiles import text_lines
from dabs_lib.datasets.transforms import Image
from dabs_lib.domains.base import TransferTask
from dabs_lib.datasets.cache import ArrayWriter

# (image paths, labels, parts (0 train, 1 val, 2 test), bounding boxes or None, number of classes)
Listing = tuple[list[Path], list[int], list[int], Sequence[tuple[int, ...] | None] | None, int]

STORE_SIZE = 224
SMOKE_IMAGES = 6  # smoke builds decode this many images per class and part


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise DatasetFileError(path, "is missing (incomplete extraction?)")
    return [line.strip() for line in text_lines(path)]


def aircraft(folder: Path) -> Listing:
    data = folder / "fgvc-aircraft-2013b" / "data"
    boxes = {n: tuple(map(int, b.split())) for n, b in (line.split(" ", 1) for line in _lines(data / "images_box.txt"))}
    rows = [
        (part, *line.split(" ", 1))
        for part, split in ((0, "train"), (1, "val"), (2, "test"))
        for line in _lines(data / f"images_variant_{split}.txt")
    ]
    variants = sorted({variant for _, _, variant in rows})
    return (
        [data / "images" / f"{name}.jpg" for _, name, _ in rows],
        [variants.index(v) for _, _, v in rows],
        [part for part, _, _ in rows],  # type: ignore[misc]  # mypy types a star-built tuple's items as object
        [boxes[name] for _, name, _ in rows],
        len(variants),
    )


def cu_birds(folder: Path) -> Listing:
    base = folder / "CUB_200_2011"
    names = dict(line.split(" ", 1) for line in _lines(base / "images.txt"))
    labels = dict(line.split(" ", 1) for line in _lines(base / "image_class_labels.txt"))
    is_train = dict(line.split(" ", 1) for line in _lines(base / "train_test_split.txt"))
    ids = list(names)
    return (
        [base / "images" / names[i] for i in ids],
        [int(labels[i]) - 1 for i in ids],
        [0 if is_train[i] == "1" else 2 for i in ids],
        None,
        200,
    )


def dtd(folder: Path) -> Listing:
    base = folder / "dtd"
    rows = [
        (part, rel)
        for part, name in ((0, "train1"), (1, "val1"), (2, "test1"))
        for rel in _lines(base / "labels" / f"{name}.txt")
    ]
    categories = sorted({rel.split("/")[0] for _, rel in rows})
    return (
        [base / "images" / rel for _, rel in rows],
        [categories.index(rel.split("/")[0]) for _, rel in rows],
        [part for part, _ in rows],
        None,
        len(categories),
    )


def _split_per_class(groups: list[tuple[int, list[Path]]]) -> tuple[list[Path], list[int], list[int]]:
    """DABS's 80/20 per class with one RandomState(42), in the given class order."""
    rng, paths, labels, parts = np.random.RandomState(DABS_SEED), [], [], []
    for label, files in groups:
        order = np.arange(len(files))
        rng.shuffle(order)
        cut = int(0.8 * len(files))
        paths += [files[i] for i in order]
        labels += [label] * len(files)
        parts += [0] * cut + [2] * (len(files) - cut)
    return paths, labels, parts


def traffic_sign(folder: Path) -> Listing:
    base = folder / "GTSRB" / "Final_Training" / "Images"
    groups = [(c, sorted((base / f"{c:05d}").glob("*.ppm"))) for c in range(43)]
    return (*_split_per_class(groups), None, 43)


def vgg_flower(folder: Path) -> Listing:
    from scipy.io import loadmat

    try:
        labels = loadmat(folder / "imagelabels.mat")["labels"][0]
    except (ValueError, OSError, KeyError, TypeError) as error:
        raise DatasetFileError(
            folder / "imagelabels.mat", f"cannot be read as the flowers label file ({error})"
        ) from error
    groups: dict[int, list[Path]] = {}
    for i, label in enumerate(labels):  # classes in order of first appearance, as DABS's dict
        groups.setdefault(int(label) - 1, []).append(folder / "jpg" / f"image_{i + 1:05d}.jpg")
    return (*_split_per_class(list(groups.items())), None, 102)


SETS = {
    "aircraft": (AIRCRAFT, aircraft),
    "cu_birds": (CU_BIRDS, cu_birds),
    "dtd": (DTD, dtd),
    "traffic_sign": (TRAFFIC_SIGN, traffic_sign),
    "vgg_flower": (VGG_FLOWER, vgg_flower),
}


def _limit(labels: Sequence[int] | np.ndarray, parts: Sequence[int] | np.ndarray, smoke: bool) -> np.ndarray:
    keep = np.arange(len(labels))
    if smoke:
        key = np.asarray(labels) * 3 + np.asarray(parts)
        keep = np.concatenate([np.flatnonzero(key == k)[:SMOKE_IMAGES] for k in np.unique(key)])
    return np.sort(keep)


def transfer_task(name: str, root: str | Path, size: int, seed: int, smoke: bool) -> dict[str, TransferTask]:
    """{name: task} for one natural-image transfer set, items 3 x size x size."""
    source, lister = SETS[name]
    folder = source.check(root)
    paths, labels, parts, boxes, num_classes = lister(folder)
    keep = _limit(labels, parts, smoke)
    paths, labels, parts = [paths[i] for i in keep], np.asarray(labels, np.int64)[keep], np.asarray(parts)[keep]
    boxes = [boxes[i] for i in keep] if boxes else None

    def build(writer: ArrayWriter) -> None:
        store_images(writer, "images", paths, STORE_SIZE, "RGB", boxes)

    listing = "\n".join(f"{p.relative_to(folder)}:{b}" for p, b in zip(paths, boxes or [None] * len(paths)))
    params = {"version": 1, "size": STORE_SIZE, "files": hashlib.sha256(listing.encode()).hexdigest()[:16]}
    processed = ensure_processed(root, source.name, "images", params, build)
    field = Field(str(processed.path("images")), transform=Image(size))

    def split(part: int) -> MemmapSplit:
        rows = np.flatnonzero(parts == part)
        return MemmapSplit(
            f"{name}/{('train', 'val', 'test')[part]}", (field,), rows, labels[rows], processed.fingerprint
        )

    if (parts == 1).any():
        task = TransferTask(
            name,
            "multiclass",
            "accuracy",
            num_classes,
            shrink(split(0), smoke),
            shrink(split(1), smoke),
            shrink(split(2), smoke),
        )
    else:
        task = make_task(name, "multiclass", "accuracy", num_classes, split(0), split(2), seed)
    return {name: task}
