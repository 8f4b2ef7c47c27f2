"""Decoding image files (PIL) into fixed-size uint8 arrays during preprocessing.

Images are resized to size x size with PIL's bilinear filter (antialiased), as DABS's
torchvision `Resize((size, size))` on a PIL image does, optionally after cropping a box
(Aircraft's bounding boxes). Grayscale sets are stored with one channel and repeated to
three on read. Decoding runs in a thread pool (PIL releases the GIL while decoding).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from dabs_lib.datasets.errors import DatasetFileError, not_a_file
from dabs_lib.datasets.cache import ArrayWriter
from typing import Any

CHUNK = 512


def load_image(
    path: Path | str, size: int, mode: str = "RGB", box: tuple[int, int, int, int] | None = None
) -> np.ndarray:
    """(size, size, C) uint8 with C = 3 for "RGB", 1 for "L"; unreadable files raise DatasetFileError."""
    try:
        with Image.open(path) as image:
            image.load()  # decode now, so truncated files fail here
            image = image.convert(mode)
    except (FileNotFoundError, IsADirectoryError) as error:
        raise not_a_file(path, "an image file") from error
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as error:
        raise DatasetFileError(path, f"cannot be decoded as an image ({error})") from error
    if box is not None:
        image = image.crop(box)
    array = np.asarray(image.resize((size, size), Image.BILINEAR), dtype=np.uint8)
    return array[..., None] if array.ndim == 2 else array


def store_images(
    writer: ArrayWriter,
    name: str,
    paths: list[Any],
    size: int,
    mode: str = "RGB",
    boxes: Sequence[tuple[int, ...] | None] | None = None,
) -> None:
    """Decode every path into writer array `name` of shape (N, size, size, C), uint8."""
    channels = 1 if mode == "L" else 3
    out = writer.create(name, (len(paths), size, size, channels), np.uint8)
    boxes = boxes or [None] * len(paths)
    with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as pool:
        for start in range(0, len(paths), CHUNK):
            stop = start + CHUNK
            arrays = pool.map(
                lambda job: load_image(job[0], size, mode, job[1]), zip(paths[start:stop], boxes[start:stop])
            )
            for offset, array in enumerate(arrays):
                out[start + offset] = array
