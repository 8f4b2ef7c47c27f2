"""A prepared user domain -> `Domain` of memory-mapped splits (what trials and analysis read).

Trials never read the user's raw files: they open the folder the driver prepared and
registered (`<data_root>/user/<name>/domain.json`). Continuous inputs are z-scored on read
with the pretraining rows' statistics; images become (C, H, W) float32.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from dabs_lib.datasets.cache import MARKER, Processed
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.domains.base import Domain, TransferTask
from dabs_lib.specs import Spec, spec_from_dict
from dabs_lib.userdomain.defaults import batch_size_for
from dabs_lib.userdomain.prepare import REGISTRATION, UNLABELLED, user_folder

SMOKE_ROWS = 48  # rows per split of a --smoke-test run


@dataclass(frozen=True)
class ZScore:
    """A picklable transform: (values - mean) / std per channel, channels on `axis`; images to (C, H, W)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    kind: str

    def __call__(self, values: np.ndarray) -> Tensor:
        x = np.asarray(values, dtype=np.float32)
        mean, std = np.asarray(self.mean, np.float32), np.asarray(self.std, np.float32)
        if self.kind == "image":
            return torch.from_numpy(((x - mean) / std).transpose(2, 0, 1).copy())  # (H, W, C) -> (C, H, W)
        if self.kind == "audio":
            return torch.from_numpy((x - mean[0]) / std[0])  # (1, S, S)
        return torch.from_numpy((x - mean) / std)  # (L, C) or (F,)


def _ids(values: np.ndarray) -> Tensor:
    return torch.from_numpy(np.asarray(values, dtype=np.int64))


def open_prepared(name: str, data_root: str = "") -> Processed:
    """The prepared folder a user domain's registration points at (DatasetFileError when gone)."""
    folder = user_folder(data_root, name)
    registration = folder / REGISTRATION
    try:
        pointer = json.loads(registration.read_text())
        target = folder / "processed" / pointer["processed"]
        return Processed(target, json.loads((target / MARKER).read_text()))
    except (OSError, ValueError, KeyError) as error:
        raise DatasetFileError(
            registration,
            f"does not point at a prepared domain ({error})",
            "Run the search again (it prepares the domain first) or `dabs-tune domain check <file>`.",
        ) from None


def specs_of(processed: Processed) -> tuple[Spec, ...]:
    return tuple(spec_from_dict(s) for s in processed.meta["specs"])


def user_domain_specs(name: str, data_root: str = "") -> tuple[Spec, ...]:
    """The input specs of a prepared user domain (what rebuilds and feeds its encoder), without opening arrays."""
    return specs_of(open_prepared(name, data_root))


def _fields(processed: Processed, stats_of: list[dict[str, Any]] | None = None) -> tuple[Field, ...]:
    out = []
    for i, (kind, stats) in enumerate(zip(processed.meta["kinds"], stats_of or processed.meta["stats"])):
        transform = _ids if kind == "text" else ZScore(tuple(stats["mean"]), tuple(stats["std"]), kind)
        out.append(Field(str(processed.path(f"input{i}")), transform=transform))
    return tuple(out)


def _rows(parts: np.ndarray, codes: tuple[int, ...], smoke: bool) -> np.ndarray:
    rows = np.flatnonzero(np.isin(parts, codes))
    if smoke and len(rows) > SMOKE_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(rows, SMOKE_ROWS, replace=False))
    return rows


def build_user_domain(
    name: str, data_root: str = "", smoke: bool = False, stats: list[dict[str, Any]] | None = None
) -> Domain:
    """The registered, prepared user domain `name` as a Domain (splits memory-mapped); `stats`: per input,
    the z-score statistics to read it with instead of its own (a model's: dabs_lib.userdomain.portable)."""
    processed = open_prepared(name, data_root)
    fields, meta = _fields(processed, stats), processed.meta
    parts = processed.load("parts", mmap=False)
    identity = processed.fingerprint
    tasks = {}
    for task in meta["tasks"]:
        labels = processed.load(f"task_{task['name']}", mmap=False)
        splits = {}
        for code, part in enumerate(("train", "val", "test")):
            rows = _rows(parts, (code,), smoke)
            splits[part] = MemmapSplit(f"{name}/{task['name']}/{part}", fields, rows, labels[rows], identity)
        tasks[task["name"]] = TransferTask(
            name=task["name"], kind=task["kind"], metric=task["metric"], num_classes=task["num_classes"], **splits
        )
    rows = _rows(parts, (0, UNLABELLED), smoke)
    pretrain = MemmapSplit(f"{name}/pretrain", fields, rows, np.full(len(rows), -1, dtype=np.int64), identity)
    first = meta["tasks"][0]
    return Domain(
        name=name,
        specs=specs_of(processed),
        pretrain=pretrain,
        tasks=tasks,
        supervised_task=first["name"] if first["kind"] in ("multiclass", "binary") else None,
        batch_size=meta["batch_size"] or batch_size_for(int(np.isin(parts, (0, UNLABELLED)).sum())),
    )
