"""MemmapSplit: a Dataset of `(inputs_tuple, label)` read from processed .npy files.

Same item format as `dabs_lib.domains.base.TensorSplit`. Arrays are opened lazily and
memory-mapped in each process (a pickled split carries only paths, so DataLoader
workers do not copy the data); labels are small and held in memory. Item i reads row
`rows[i]` of every field (or the window `rows[i] : rows[i] + window` for time series)
and applies the field's transform (resize, z-score, ...).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor
from torch.utils.data import Dataset

from dabs_lib.datasets.errors import DatasetFileError
from typing import Any


@dataclass(frozen=True)
class Field:
    """One input: rows (or windows) of one .npy file, then a transform to a tensor."""

    path: str  # the processed .npy file
    window: int = 0  # > 0: the item is array[row : row + window] (sliding windows over a series)
    transform: Callable[[np.ndarray], Tensor] | None = None  # picklable; default: as a tensor


def _default_transform(values: np.ndarray) -> Tensor:
    return torch.from_numpy(np.array(values))  # copy: memmaps are read-only


class MemmapSplit(Dataset[Any]):
    """Items `(tuple(field tensors), label)`; `.fingerprint` changes when the data does."""

    def __init__(
        self, name: str, fields: tuple[Field, ...], rows: np.ndarray, labels: np.ndarray, identity: str
    ) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        labels = np.asarray(labels)
        if len(rows) != len(labels):
            raise ValueError(f"{name}: {len(labels)} labels for {len(rows)} rows")
        self.name = name
        self.fields = tuple(fields)
        self.rows = rows
        self.labels = labels
        self.identity = identity  # the processed folder's fingerprint
        self._arrays: list[np.ndarray] | None = None
        self._fingerprint: str | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def _open(self) -> list[np.ndarray]:
        if self._arrays is None:
            arrays = []
            for field in self.fields:
                try:
                    arrays.append(np.load(field.path, mmap_mode="r", allow_pickle=False))
                except (ValueError, OSError, EOFError) as error:
                    raise DatasetFileError(
                        field.path,
                        f"cannot be read as .npy ({error})",
                        "Delete its processed folder to preprocess again.",
                    ) from error
            self._arrays = arrays
        return self._arrays

    def __getitem__(self, index: int) -> tuple[tuple[Tensor, ...], Tensor]:
        row = int(self.rows[index])
        inputs = []
        for field, array in zip(self.fields, self._open()):
            values = array[row : row + field.window] if field.window else array[row]
            inputs.append((field.transform or _default_transform)(values))
        return tuple(inputs), torch.as_tensor(self.labels[index])

    def subset(self, index: npt.ArrayLike, name: str | None = None) -> "MemmapSplit":
        index = np.asarray(index, dtype=np.int64)
        return MemmapSplit(name or self.name, self.fields, self.rows[index], self.labels[index], self.identity)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_arrays"] = None  # reopen in the worker instead of pickling mapped data
        return state

    @property
    def fingerprint(self) -> str:
        """Hash of the processed folder's identity, the fields, the rows and the labels."""
        if self._fingerprint is None:
            digest = hashlib.sha256(self.identity.encode())
            for field in self.fields:
                digest.update(repr((field.path.rsplit("/", 2)[-2:], field.window, field.transform)).encode())
            digest.update(self.rows.tobytes())
            digest.update(f"{self.labels.dtype}{self.labels.shape}".encode())
            digest.update(np.ascontiguousarray(self.labels).tobytes())
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint
