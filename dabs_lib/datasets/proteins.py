"""Proteins (DABS 2.0): Pfam pretraining; Pfam clans, SCOP folds, secondary structure,
stability and fluorescence transfer, from TAPE's JSON releases (no LMDB needed).

Files (TAPE's `data_raw_pytorch/<task>.tar.gz`, each extracted in `<data_root>/<task>/`):
`pfam/pfam/pfam_{train,valid}.json` (required) and, for the optional tasks,
`<task>/<task>/<task>_{train,valid}.json`. JSON arrays of records are streamed
(jsonrecords.py), never loaded whole.

Inputs: the first 128 residues, one token each: 0 is padding and the 26 letters
"XARNDCQEGHILKMFPSTWYVUOBZJ" (DABS's order) are 1..26, so the vocabulary is 27. DABS used
ids 0..25 and padded with "X" (id 0), which made the unknown residue X and padding the same
token; ours keeps them apart so padding is masked.

Splits as DABS: Pfam pretraining is pfam_train (labels = clan, classes = pfam_train's sorted
clans, for the online probe); the Pfam transfer task is the last 200,000 rows of pfam_valid
shuffled with seed 42 (head ceil 90% train, tail floor 10% test; rows of a clan absent from
pfam_train dropped). The other tasks train on `*_train.json` and test on `*_valid.json`
(DABS's "val"; DABS's SCOP read remote_homology_valid.json for train too, we read train).
Validation is carved from train with the builder's seed. Secondary structure is per token
(ss3, 3 classes; positions past the sequence are -100, DABS used a 4th class); stability
(`stability_score`) and fluorescence (`log_fluorescence`) are regression scored by Spearman.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from dabs_lib.datasets.cache import ensure_processed, source_signature
from dabs_lib.datasets.catalog_text import FLUORESCENCE, PFAM, REMOTE_HOMOLOGY, SECONDARY_STRUCTURE, STABILITY
from dabs_lib.datasets.common import Source, make_task, optional_task, resolve_root, shrink
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.jsonrecords import iter_records
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.splits import dabs_shuffle, head_tail
from dabs_lib.datasets.transforms import AsType
from dabs_lib.domains.base import Domain, TransferTask
from dabs_lib.specs import TokensSpec
from dabs_lib.datasets.cache import ArrayWriter
from dabs_lib.datasets.cache import Processed
from pathlib import Path
from typing import Any, Callable

SEQ_LEN = 128
AMINO_ACIDS = "XARNDCQEGHILKMFPSTWYVUOBZJ"
VOCAB_SIZE = len(AMINO_ACIDS) + 1  # + padding (id 0)
NUM_PFAM_TRANSFER = 200_000  # DABS's Pfam transfer rows (the tail of shuffled pfam_valid)
SMOKE_RECORDS = 400  # smoke builds read this many records per file
CHUNK = 100_000  # records tokenized at a time
IGNORE = -100

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProteinTask:
    source: Source
    label: str  # the JSON field holding the label
    kind: str  # TASK_KINDS entry
    metric: str  # METRIC_DIRECTIONS entry
    num_classes: int


TASKS = {
    "remote_homology": ProteinTask(REMOTE_HOMOLOGY, "fold_label", "multiclass", "accuracy", 1195),
    "secondary_structure": ProteinTask(SECONDARY_STRUCTURE, "ss3", "per_token", "accuracy", 3),
    "stability": ProteinTask(STABILITY, "stability_score", "regression", "spearman", 1),
    "fluorescence": ProteinTask(FLUORESCENCE, "log_fluorescence", "regression", "spearman", 1),
}

_LOOKUP = np.full(256, 255, dtype=np.uint8)
for _i, _a in enumerate(AMINO_ACIDS):
    _LOOKUP[ord(_a)] = _i + 1


def tokenize(sequence: str, path: Path) -> np.ndarray:
    """(128,) uint8 ids of the first 128 residues, 0-padded; unknown letters raise DatasetFileError."""
    head = sequence[:SEQ_LEN].encode("ascii", "replace")
    ids = _LOOKUP[np.frombuffer(head, dtype=np.uint8)]
    if (ids == 255).any():
        raise DatasetFileError(path, f"sequence {sequence[:20]!r}... has a letter outside {AMINO_ACIDS}")
    out = np.zeros(SEQ_LEN, dtype=np.uint8)
    out[: len(ids)] = ids
    return out


def _label(record: dict[str, Any], field: str, kind: str, path: Path) -> np.ndarray | float | int:
    value = record.get(field)
    if value is None:
        raise DatasetFileError(path, f"every record must have a {field!r} field (keys: {sorted(record)})")
    if kind == "per_token":
        out = np.full(SEQ_LEN, IGNORE, dtype=np.int64)
        values = np.asarray(value[:SEQ_LEN], dtype=np.int64)
        out[: len(values)] = values
        return out
    if kind == "regression":
        return float(value[0] if isinstance(value, list) else value)
    return value


def _store(path: Path, field: str, kind: str, limit: int | None) -> Callable[[ArrayWriter], None]:
    """build(writer): tokens (N, 128) uint8 and labels of one JSON file, streamed in chunks."""

    def build(writer: ArrayWriter) -> None:
        raw = writer.folder / "tokens.bin"
        labels, count = [], 0
        with open(raw, "wb") as out:
            records = iter_records(path, limit)
            while True:
                chunk = [r for _, r in zip(range(CHUNK), records)]
                if not chunk:
                    break
                try:
                    out.write(np.stack([tokenize(str(r["primary"]), path) for r in chunk]).tobytes())
                except KeyError as error:
                    raise DatasetFileError(path, "every record must have a 'primary' sequence") from error
                labels.append(np.asarray([_label(r, field, kind, path) for r in chunk]))
                count += len(chunk)
        tokens = writer.create("tokens", (count, SEQ_LEN), np.uint8)
        if count:
            tokens[:] = np.memmap(raw, dtype=np.uint8, mode="r", shape=(count, SEQ_LEN))
        raw.unlink()
        values = np.concatenate(labels) if labels else np.zeros(0)
        writer.save("labels", values.astype(np.float32 if kind == "regression" else values.dtype))

    return build


def _processed(root: str | Path, source: Source, split: str, field: str, kind: str, smoke: bool) -> Processed:
    path = source.folder(root) / source.required[0 if split == "train" else 1]
    limit = SMOKE_RECORDS if smoke else None
    params = {"version": 1, "field": field, "kind": kind, "limit": limit, "source": source_signature([path])}
    return ensure_processed(root, source.name, split, params, _store(path, field, kind, limit))


def _split(processed: Processed, name: str, rows: np.ndarray, labels: np.ndarray, smoke: bool) -> MemmapSplit:
    field = Field(str(processed.path("tokens")), transform=AsType("int64"))
    return shrink(MemmapSplit(name, (field,), rows, labels, processed.fingerprint), smoke)


def _pfam(root: str | Path, seed: int, smoke: bool) -> tuple[MemmapSplit, int, TransferTask]:
    """(pretraining split, number of clans, Pfam clan task)."""
    PFAM.check(root)
    train = _processed(root, PFAM, "train", "clan", "multiclass", smoke)
    clans = np.unique(train.load("labels", mmap=False))
    pretrain_labels = np.searchsorted(clans, train.load("labels", mmap=False)).astype(np.int64)
    pretrain = _split(train, "pfam/pretrain", np.arange(len(pretrain_labels)), pretrain_labels, smoke)
    valid = _processed(root, PFAM, "valid", "clan", "multiclass", smoke)
    raw = valid.load("labels", mmap=False)
    order = dabs_shuffle(len(raw))[-NUM_PFAM_TRANSFER:]
    known = np.isin(raw[order], clans)
    if not known.all():
        _log.warning("pfam: dropped %d transfer rows whose clan is not in pfam_train", int((~known).sum()))
    head, _ = head_tail(len(order))
    labels = np.searchsorted(clans, raw).astype(np.int64)
    parts = [rows[known[s]] for rows, s in ((order[:head], slice(0, head)), (order[head:], slice(head, None)))]
    task = make_task(
        "pfam",
        "multiclass",
        "accuracy",
        len(clans),
        *(_split(valid, f"pfam/{p}", rows, labels[rows], smoke) for p, rows in zip(("train", "test"), parts)),
        seed,
    )
    return pretrain, len(clans), task


def _task(name: str, root: str | Path, seed: int, smoke: bool) -> dict[str, TransferTask]:
    task = TASKS[name]
    splits = []
    for split in ("train", "valid"):
        processed = _processed(root, task.source, split, task.label, task.kind, smoke)
        labels = processed.load("labels", mmap=False)
        if task.kind == "multiclass" and labels.size and (labels.min() < 0 or labels.max() >= task.num_classes):
            raise DatasetFileError(
                task.source.folder(root) / task.source.required[split == "valid"],
                f"{task.label} must lie in 0..{task.num_classes - 1}",
            )
        labels = labels.astype(np.float32 if task.kind == "regression" else np.int64)
        splits.append(
            _split(processed, f"{name}/{'test' if split == 'valid' else split}", np.arange(len(labels)), labels, smoke)
        )
    return {name: make_task(name, task.kind, task.metric, task.num_classes, *splits, seed)}


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """Pfam -> Pfam clans, SCOP folds (1195), secondary structure (per token, 3), stability, fluorescence."""
    root = resolve_root(data_root)
    pretrain, num_clans, pfam_task = _pfam(root, seed, smoke)
    tasks = {"pfam": pfam_task}
    for name, task in TASKS.items():
        tasks.update(optional_task(_task, task.source, root, name, root, seed, smoke) or {})
    return Domain(
        name="proteins",
        specs=(TokensSpec(seq_len=SEQ_LEN, vocab_size=VOCAB_SIZE, pad_id=0),),
        pretrain=pretrain,
        tasks=tasks,
        pretrain_num_classes=num_clans,
        supervised_task="pfam",
        batch_size=128,
    )
