"""Reading pickled dataset files (CIFAR batches) without running arbitrary pickled code.

Only the globals a pickled numpy array needs are allowed; anything else in the file is
refused as corrupt. Truncated or garbled files raise DatasetFileError naming the file.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from dabs_lib.datasets.errors import DatasetFileError
from typing import Any

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a data file")
        return super().find_class(module, name)


def load_pickle(path: Path | str, encoding: str = "bytes") -> Any:
    """Unpickle a data file that holds only dicts, lists, strings, numbers and numpy arrays."""
    try:
        with open(path, "rb") as handle:
            return _ArrayUnpickler(handle, encoding=encoding).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise DatasetFileError(path, f"is truncated or corrupt ({type(error).__name__}: {error})") from error
