"""Shared pieces of the captioned-image domain: COCO image decoding, the caption tokenizer,
and a split whose inputs come from different rows of their arrays (image i with caption j).

Images follow DABS's transform: Resize((640, 480)) (height 640, width 480), CenterCrop(480),
Resize((224, 224)), all bilinear; they are decoded once into 224x224x3 uint8 (about 150 kB
each: ~18 GB for train2017) and scaled to [0, 1] on read, without normalization.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor
from PIL import Image, UnidentifiedImageError

from dabs_lib.datasets.cache import ensure_processed
from dabs_lib.datasets.errors import DatasetFileError, not_a_file
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.tokenizer import load_tokenizer, train_wordpiece
from dabs_lib.datasets.download import file_digest
from dabs_lib.datasets.cache import ArrayWriter

if TYPE_CHECKING:  # for annotations only
    from tokenizers import Tokenizer

SIZE = 224
CHUNK = 256
BERT_VOCAB = 30522


def coco_image(path: Path) -> np.ndarray:
    """(224, 224, 3) uint8: resize to 480 wide x 640 high, centre 480x480 crop, resize to 224."""
    try:
        with Image.open(path) as image:
            image.load()
            image = image.convert("RGB")
    except (FileNotFoundError, IsADirectoryError) as error:
        raise not_a_file(path, "an image file") from error
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as error:
        raise DatasetFileError(path, f"cannot be decoded as an image ({error})") from error
    image = image.resize((480, 640), Image.BILINEAR).crop((0, 80, 480, 560))
    return np.asarray(image.resize((SIZE, SIZE), Image.BILINEAR), dtype=np.uint8)


def store_coco_images(writer: ArrayWriter, name: str, paths: list[Path]) -> None:
    """Decode every path into writer array `name` of shape (N, 224, 224, 3) uint8."""
    out = writer.create(name, (len(paths), SIZE, SIZE, 3), np.uint8)
    with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as pool:
        for start in range(0, len(paths), CHUNK):
            for offset, array in enumerate(pool.map(coco_image, paths[start : start + CHUNK])):
                out[start + offset] = array


def caption_tokenizer(
    root: Path, bert_json: Path, dataset: str, texts: list[str], signature: list[tuple[str, int, int]]
) -> tuple[Tokenizer, str]:
    """(tokenizer, identity): BERT-uncased's tokenizer.json if present, else WordPiece trained on `texts`."""
    if bert_json.exists():
        return load_tokenizer(bert_json), "sha256:" + file_digest(bert_json, "sha256")

    def build(writer: ArrayWriter) -> None:
        train_wordpiece(iter(texts), BERT_VOCAB, writer.folder / "tokenizer.json")

    params = {"version": 1, "vocab": BERT_VOCAB, "count": len(texts), "source": signature}
    processed = ensure_processed(root, dataset, "wordpiece", params, build)
    return load_tokenizer(processed.folder / "tokenizer.json"), "trained:" + processed.fingerprint


class RowMapSplit(MemmapSplit):
    """A MemmapSplit whose item i reads row `maps[k][rows[i]]` of field k (e.g. image and caption rows differ)."""

    def __init__(
        self,
        name: str,
        fields: tuple[Field, ...],
        rows: np.ndarray,
        labels: np.ndarray,
        identity: str,
        maps: tuple[np.ndarray, ...],
    ) -> None:
        super().__init__(name, fields, rows, labels, identity)
        if len(maps) != len(self.fields):
            raise ValueError(f"{name}: one row map per field must hold, got {len(maps)} for {len(self.fields)}")
        self.maps = tuple(np.asarray(m, dtype=np.int64) for m in maps)

    def __getitem__(self, index: int) -> tuple[tuple[Tensor, ...], Tensor]:
        row = int(self.rows[index])
        inputs = tuple(
            field.transform(array[int(m[row])]) for field, array, m in zip(self.fields, self._open(), self.maps)
        )
        return inputs, torch.as_tensor(self.labels[index])

    def subset(self, index: npt.ArrayLike, name: str | None = None) -> "RowMapSplit":
        index = np.asarray(index, dtype=np.int64)
        return RowMapSplit(
            name or self.name, self.fields, self.rows[index], self.labels[index], self.identity, self.maps
        )

    @property
    def fingerprint(self) -> str:
        """MemmapSplit's fingerprint, plus the row maps."""
        if getattr(self, "_mapped_fingerprint", None) is None:
            digest = hashlib.sha256(super().fingerprint.encode())
            for m in self.maps:
                digest.update(m.tobytes())
            self._mapped_fingerprint = digest.hexdigest()[:16]
        return self._mapped_fingerprint
