"""The errors a real dataset raises, each naming the file and saying what to do.

`ManualDownloadError` is a FileNotFoundError: the raw files are missing (it says what to
download, from where, and where to put it). `DatasetFileError` is a ValueError: a file is
there but truncated, corrupt or not in the expected layout (it names the file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _rebuild(cls: type["DatasetError"], args: tuple[Any, ...], state: dict[str, Any]) -> "DatasetError":
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class DatasetError(Exception):
    """Base class of every dataset problem a user can fix.

    Subclasses take several arguments but hand Exception only the message, so the default
    pickling (`cls(*args)`) would call them with the message alone and fail. Errors cross
    Ray workers by pickle and are copied by copy.copy: rebuild them from args and attributes.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), self.args, dict(self.__dict__))


class ManualDownloadError(DatasetError, FileNotFoundError):
    """Raw files are missing: `how_to_get` says what to fetch, from where, and where it goes."""

    def __init__(self, dataset: str, missing: Path | str, how_to_get: str) -> None:
        self.dataset = dataset
        self.missing = Path(missing)
        self.how_to_get = how_to_get
        super().__init__(f"{dataset}: {missing} is missing. {how_to_get}")


class DatasetFileError(DatasetError, ValueError):
    """A file exists but cannot be used: truncated, corrupt, or not the documented layout."""

    def __init__(self, path: Path | str, problem: str, fix: str = "") -> None:
        self.path = Path(path)
        self.problem = problem
        tail = f" {fix}" if fix else " Delete it and download it again."
        super().__init__(f"{path}: {problem}.{tail}")


class ChecksumError(DatasetFileError):
    """A downloaded or raw file does not have its published checksum."""

    def __init__(self, path: Path | str, algorithm: str, expected: str, actual: str) -> None:
        super().__init__(
            path,
            f"{algorithm} must be {expected}, but got {actual} (truncated or corrupt download)",
            "It was removed; download it again.",
        )


def not_a_file(path: Path | str, what: str) -> DatasetFileError:
    """The error for a data file that is not there as a file: missing, or a directory in its place."""
    path = Path(path)
    if path.is_dir():
        return DatasetFileError(path, f"is a directory, but must be {what}", "Remove it and put the file there.")
    return DatasetFileError(path, "is missing (incomplete download or extraction?)", "Download the dataset again.")
