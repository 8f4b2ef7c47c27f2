"""The one error a user domain's data raises (names the file, and the row or key)."""

from __future__ import annotations

from pathlib import Path

from dabs_lib.datasets.errors import DatasetFileError


class DomainDataError(DatasetFileError):
    """A data file of a user's domain breaks a rule (names the file, and the row or key)."""

    def __init__(self, path: Path | str, problem: str, fix: str = ""):
        super().__init__(path, problem, fix or "Fix the file or the domain file.")
