"""Where a raw dataset's files live, which must exist, and how to get them.

Torch-free on purpose: `python -m dabs_lib.datasets status`, `run_search.py list domains`
and the search preflight check files without importing torch or torchvision.

A required entry is a path relative to the source's folder; "a|b" accepts either option;
a trailing "/" marks a folder (every other entry must be a file), so a folder where a file
should be (or the reverse) is reported by name instead of failing later with
IsADirectoryError.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError

DATA_ROOT_ENV = "DABS_DATA_ROOT"
DEFAULT_DATA_ROOT = "data"


def resolve_root(data_root: str | os.PathLike[str]) -> Path:
    """--data-root, else $DABS_DATA_ROOT, else ./data."""
    return Path(str(data_root) or os.environ.get(DATA_ROOT_ENV, "") or DEFAULT_DATA_ROOT).expanduser()


def absolute_root(data_root: str | os.PathLike[str]) -> str:
    """resolve_root made absolute against the current folder: what a Ray trial, which runs in
    its own working folder, must be given."""
    return str(resolve_root(data_root).resolve())


@dataclass(frozen=True)
class Archive:
    """A downloadable archive and its published checksum (None where none is published)."""

    url: str
    md5: str | None = None
    sha256: str | None = None
    extract: bool = True  # False: keep the file as downloaded (e.g. HIGGS.csv.gz)


def _kind_problem(path: Path, option: str) -> str:
    """'' when path has the kind the entry asks for (folder if it ends in '/', else file)."""
    if option.endswith("/"):
        return "" if path.is_dir() else "is a file, but must be a folder"
    return "is a directory, but must be a file" if path.is_dir() else ""


@dataclass(frozen=True)
class Source:
    """A raw dataset: its folder under data_root, the files that must exist, how to get them."""

    name: str  # also the folder: <data_root>/<name>/ holds raw files and processed/
    required: tuple[str, ...]  # paths relative to the folder; "a|b" accepts either; "dir/" is a folder
    how_to_get: str  # instructions; "{dir}" becomes the folder path
    archives: tuple[Archive, ...] = ()  # empty: manual download only

    def folder(self, data_root: str | Path) -> Path:
        return resolve_root(data_root) / self.name

    def missing(self, data_root: str | Path) -> list[Path]:
        folder = self.folder(data_root)
        return [
            folder / rel.split("|")[0]
            for rel in self.required
            if not any((folder / option).exists() for option in rel.split("|"))
        ]

    def wrong_kind(self, data_root: str | Path) -> list[tuple[Path, str]]:
        """(path, problem) for each present entry that is a folder where a file must be, or the reverse."""
        folder, out = self.folder(data_root), []
        for rel in self.required:
            present = [option for option in rel.split("|") if (folder / option).exists()]
            problems = [_kind_problem(folder / option, option) for option in present]
            if present and all(problems):
                out.append((folder / present[0], problems[0]))
        return out

    def find(self, data_root: str | Path, rel: str) -> Path:
        """The first existing option of a required entry "a|b" (the first option if none exists)."""
        folder = self.folder(data_root)
        options = [folder / option for option in rel.split("|")]
        return next((path for path in options if path.exists()), options[0])

    def instructions(self, data_root: str | Path) -> str:
        text = self.how_to_get.format(dir=self.folder(data_root))
        if self.archives:
            text += f" Or run: python -m dabs_lib.datasets download {self.name} --data-root {resolve_root(data_root)}"
        return text

    def check(self, data_root: str | Path) -> Path:
        """The folder; ManualDownloadError naming the first missing file, DatasetFileError naming
        the first entry of the wrong kind."""
        missing = self.missing(data_root)
        if missing:
            raise ManualDownloadError(self.name, missing[0], self.instructions(data_root))
        wrong = self.wrong_kind(data_root)
        if wrong:
            path, problem = wrong[0]
            raise DatasetFileError(
                path,
                f"{problem} (required by {self.name})",
                f"Remove it and put the right one there. {self.instructions(data_root)}",
            )
        return self.folder(data_root)

    def download(self, data_root: str | Path, progress: bool = True) -> Path:
        """Fetch and extract every archive (manual-only sources raise ManualDownloadError)."""
        from dabs_lib.datasets.download import download_url, extract_archive

        folder = self.folder(data_root)
        if not self.archives:
            raise ManualDownloadError(self.name, folder, self.instructions(data_root))
        for archive in self.archives:
            target = folder / archive.url.rsplit("/", 1)[-1]
            download_url(archive.url, target, md5=archive.md5, sha256=archive.sha256, progress=progress)
            if archive.extract:
                extract_archive(target, folder)
        return self.check(data_root)
