"""What every real-dataset module shares: where files live, how to get them, task assembly."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dabs_lib.datasets.download import download_url, extract_archive
from dabs_lib.datasets.errors import ManualDownloadError
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.transforms import AsType
from dabs_lib.datasets.splits import carve_val
from dabs_lib.domains.base import TransferTask

SMOKE_ROWS = 48  # rows per split when a domain is built with smoke=True

_log = logging.getLogger(__name__)


def resolve_root(data_root: str | os.PathLike) -> Path:
    """--data-root, else $DABS_DATA_ROOT, else ./data."""
    return Path(str(data_root) or os.environ.get("DABS_DATA_ROOT", "") or "data").expanduser()


@dataclass(frozen=True)
class Archive:
    """A downloadable archive and its published checksum (None where none is published)."""

    url: str
    md5: str | None = None
    sha256: str | None = None
    extract: bool = True  # False: keep the file as downloaded (e.g. HIGGS.csv.gz)


@dataclass(frozen=True)
class Source:
    """A raw dataset: its folder under data_root, the files that must exist, how to get them."""

    name: str  # also the folder: <data_root>/<name>/ holds raw files and processed/
    required: tuple[str, ...]  # paths relative to the folder; "a|b" accepts either
    how_to_get: str  # instructions; "{dir}" becomes the folder path
    archives: tuple[Archive, ...] = ()  # empty: manual download only

    def folder(self, data_root) -> Path:
        return resolve_root(data_root) / self.name

    def missing(self, data_root) -> list[Path]:
        folder = self.folder(data_root)
        return [folder / rel.split("|")[0] for rel in self.required
                if not any((folder / option).exists() for option in rel.split("|"))]

    def find(self, data_root, rel: str) -> Path:
        """The first existing option of a required entry "a|b" (the first option if none exists)."""
        folder = self.folder(data_root)
        options = [folder / option for option in rel.split("|")]
        return next((path for path in options if path.exists()), options[0])

    def instructions(self, data_root) -> str:
        text = self.how_to_get.format(dir=self.folder(data_root))
        if self.archives:
            text += f" Or run: python -m dabs_lib.datasets download {self.name} --data-root {resolve_root(data_root)}"
        return text

    def check(self, data_root) -> Path:
        """The folder, or ManualDownloadError naming the first missing file."""
        missing = self.missing(data_root)
        if missing:
            raise ManualDownloadError(self.name, missing[0], self.instructions(data_root))
        return self.folder(data_root)

    def download(self, data_root, progress: bool = True) -> Path:
        """Fetch and extract every archive (manual-only sources raise ManualDownloadError)."""
        folder = self.folder(data_root)
        if not self.archives:
            raise ManualDownloadError(self.name, folder, self.instructions(data_root))
        for archive in self.archives:
            target = folder / archive.url.rsplit("/", 1)[-1]
            download_url(archive.url, target, md5=archive.md5, sha256=archive.sha256, progress=progress)
            if archive.extract:
                extract_archive(target, folder)
        return self.check(data_root)


def make_task(
    name: str, kind: str, metric: str, num_classes: int, train: MemmapSplit, test: MemmapSplit,
    seed: int, groups: np.ndarray | None = None, ignore_index: int = -100,
) -> TransferTask:
    """A TransferTask whose validation split is carved from `train` with `seed`."""
    train_index, val_index = carve_val(train.labels, seed, groups=groups)
    return TransferTask(
        name=name, kind=kind, metric=metric, num_classes=num_classes,
        train=train.subset(train_index, f"{name}/train"), val=train.subset(val_index, f"{name}/val"),
        test=test.subset(np.arange(len(test)), f"{name}/test"), ignore_index=ignore_index,
    )


def shrink(split: MemmapSplit, smoke: bool, rows: int = SMOKE_ROWS) -> MemmapSplit:
    """The first `rows` items in smoke mode (every item otherwise)."""
    if not smoke or len(split) <= rows:
        return split
    return split.subset(np.arange(rows))


def optional_task(builder, source: Source, data_root, *args):
    """builder(*args) when `source` is on disk; None (with a warning) when it is missing."""
    missing = source.missing(data_root)
    if missing:
        _log.warning("skipping transfer task %s: %s is missing. %s", source.name, missing[0], source.instructions(data_root))
        return None
    return builder(*args)


def token_pretrain_split(processed, name: str, smoke: bool) -> MemmapSplit:
    """The unlabelled pretraining split over a processed `tokens.npy` (text corpora)."""
    rows = np.arange(processed.marker["files"]["tokens.npy"]["shape"][0])
    field = Field(str(processed.path("tokens")), transform=AsType("int64"))
    return shrink(MemmapSplit(name, (field,), rows, np.full(len(rows), -1), processed.fingerprint), smoke)
