"""ImageNet (ILSVRC-2012) from a manual folder: the natural-images pretraining set.

Layout: `<data_root>/imagenet/train/<wnid>/*.JPEG` (optionally `val/<wnid>/*.JPEG`, which
pretraining does not use). Class folders sorted by name give the label index (unused by the
SSL objectives, kept for the online probe). Images are too many to store as one array: each
is decoded when read, with the same transform as every other 224 natural-image set here
(PIL bilinear Resize((224, 224)) then [0, 1], no normalization: DABS's Resize + CenterCrop
+ ToTensor, whose crop of an already 224x224 image does nothing).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor
from torch.utils.data import Dataset

from dabs_lib.datasets.catalog import IMAGENET
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.images import load_image
from dabs_lib.datasets.transforms import Image

SUFFIXES = (".jpeg", ".jpg", ".png")  # ILSVRC ships .JPEG; compared in lower case
SMOKE_IMAGES = 6  # smoke builds list this many images per class


class ImageFileSplit(Dataset[Any]):
    """Items `((image (3, size, size) float in [0, 1],), label)`, decoded from an image file per read."""

    def __init__(self, name: str, folder: Path | str, files: np.ndarray, labels: np.ndarray, size: int) -> None:
        if len(files) != len(labels):
            raise ValueError(f"{name}: {len(labels)} labels for {len(files)} files")
        self.name = name
        self.folder = str(folder)
        self.files = np.asarray(files, dtype=np.bytes_)  # "<wnid>/<file>" as bytes: a third of str's memory
        self.labels = np.asarray(labels, dtype=np.int64)
        self.transform = Image(size)
        self._fingerprint: str | None = None

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[tuple[Tensor, ...], Tensor]:
        path = os.path.join(self.folder, self.files[index].decode())
        image = load_image(path, self.transform.size, "RGB")  # (size, size, 3) uint8
        return (self.transform(image),), torch.as_tensor(self.labels[index])

    def subset(self, index: npt.ArrayLike, name: str | None = None) -> "ImageFileSplit":
        index = np.asarray(index, dtype=np.int64)
        return ImageFileSplit(
            name or self.name, self.folder, self.files[index], self.labels[index], self.transform.size
        )

    @property
    def fingerprint(self) -> str:
        """Hash of the folder's name, the size and every file name and label (changes when the files do)."""
        if self._fingerprint is None:
            digest = hashlib.sha256(f"{Path(self.folder).name}:{self.transform!r}".encode())
            digest.update(b"\n".join(self.files.tolist()))
            digest.update(self.labels.tobytes())
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint


def _images(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if e.name.lower().endswith(SUFFIXES) and e.is_file())


def list_images(part_dir: Path, limit: int | None = None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(sorted class folders, "<wnid>/<file>" names as bytes, labels) of `train/` or `val/`."""
    if not part_dir.is_dir():
        raise DatasetFileError(
            part_dir, "is missing", "Extract the images so that <wnid>/*.JPEG folders are inside it."
        )
    with os.scandir(part_dir) as entries:
        classes = sorted(e.name for e in entries if e.is_dir())
    if not classes:
        tars = sorted(part_dir.glob("*.tar"))
        fix = (
            f"Extract each class archive into its own folder ({tars[0].name} -> {tars[0].stem}/)."
            if tars
            else "It must hold one folder of images per class (<wnid>/*.JPEG)."
        )
        raise DatasetFileError(part_dir, "holds no class folders", fix)
    files, labels = [], []
    for label, wnid in enumerate(classes):
        names = _images(part_dir / wnid)[:limit]
        files += [f"{wnid}/{name}".encode() for name in names]
        labels += [label] * len(names)
    if not files:
        raise DatasetFileError(part_dir, f"has {len(classes)} class folders but no .JPEG images in them")
    return classes, np.array(files, dtype=np.bytes_), np.array(labels, dtype=np.int64)


def pretrain_split(root: str | Path, size: int, smoke: bool) -> tuple[ImageFileSplit, int]:
    """(ImageNet's train images as 3 x size x size items, number of classes); smoke keeps a few per class."""
    folder = IMAGENET.check(root)
    classes, files, labels = list_images(folder / "train", SMOKE_IMAGES if smoke else None)
    return ImageFileSplit("imagenet/pretrain", folder / "train", files, labels, size), len(classes)
