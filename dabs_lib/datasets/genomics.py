"""Genomics OOD (DABS 2.0) from the three CSVs DABS writes out of TensorFlow Datasets.

DABS exports tfds `genomics_ood` splits `train`, `validation` and `validation_ood` to
`genomicsPretrain.csv`, `genomicsTransferID.csv` and `genomicsTransferOOD.csv` (pandas
`to_csv` of `tfds.as_dataframe`: an index column, then `domain`, `label`, `seq`, ...). We
read the same files by column name. Each is shuffled with seed 42; its first 90% (ceil) is
train and its last 10% DABS's "val" (our test). A sequence is 250 bases; since id 0 is the
padding id of our token embedding, bases map to A=1, C=2, G=3, T=4 (DABS used 0..3), so
the vocabulary is 5. OOD labels 10..69 become 0..59.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dabs_lib.datasets.cache import ensure_processed, source_signature
from dabs_lib.datasets.catalog import FILES, GENOMICS as SOURCE
from dabs_lib.datasets.common import make_task, shrink
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.splits import dabs_shuffle, head_tail
from dabs_lib.datasets.transforms import AsType
from dabs_lib.domains.base import Domain
from dabs_lib.specs import TokensSpec
from dabs_lib.datasets.cache import ArrayWriter
from pathlib import Path
from typing import Callable

SEQ_LEN = 250
BASES = "ACGT"
LABEL_OFFSET = {"pretrain": 0, "id": 0, "ood": 10}
NUM_CLASSES = {"pretrain": 10, "id": 10, "ood": 60}


_LOOKUP = np.full(256, 255, dtype=np.uint8)
for _i, _b in enumerate(BASES):
    _LOOKUP[ord(_b)] = _i + 1


def _strip_bytes_repr(seq: str) -> str:
    """tfds stores text as bytes, which to_csv writes as "b'ACGT...'"."""
    return seq[2:-1] if seq.startswith(("b'", 'b"')) else seq


def read_csv(path: Path, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """(tokens (N, 250) uint8 with A..T = 1..4, labels (N,) int64) of one exported split."""
    try:
        frame = pd.read_csv(path, usecols=["label", "seq"], dtype={"seq": str})
    except (ValueError, pd.errors.ParserError, EOFError) as error:
        raise DatasetFileError(path, f"must be a CSV with columns label and seq ({error})") from error
    seqs = [_strip_bytes_repr(s) for s in frame["seq"].astype(str)]
    if any(len(s) != SEQ_LEN for s in seqs):
        raise DatasetFileError(path, f"every seq must have {SEQ_LEN} bases (truncated row?)")
    tokens = _LOOKUP[np.frombuffer("".join(seqs).encode("ascii", "replace"), dtype=np.uint8)].reshape(-1, SEQ_LEN)
    if (tokens == 255).any():
        raise DatasetFileError(path, f"seq must contain only {BASES}")
    labels = frame["label"].to_numpy(np.int64) - offset
    return tokens, labels


def _preprocess(folder: Path, key: str) -> Callable[[ArrayWriter], None]:
    def build(writer: ArrayWriter) -> None:
        tokens, labels = read_csv(folder / FILES[key], LABEL_OFFSET[key])
        if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES[key]):
            raise DatasetFileError(
                folder / FILES[key],
                f"labels must lie in {LABEL_OFFSET[key]}..{LABEL_OFFSET[key] + NUM_CLASSES[key] - 1}",
            )
        writer.save("tokens", tokens)
        writer.save("labels", labels)

    return build


def _splits(folder: Path, key: str, smoke: bool) -> tuple[MemmapSplit, MemmapSplit]:
    """DABS's (train, test) of one CSV: shuffle with seed 42, head ceil 90% / tail floor 10%."""
    params = {"version": 1, "source": source_signature([folder / FILES[key]])}
    processed = ensure_processed(folder.parent, SOURCE.name, key, params, _preprocess(folder, key))
    labels = processed.load("labels", mmap=False)
    order = dabs_shuffle(len(labels))
    head, _ = head_tail(len(labels))
    field = Field(str(processed.path("tokens")), transform=AsType("int64"))
    return tuple(
        shrink(MemmapSplit(f"genomics_{key}/{name}", (field,), rows, labels[rows], processed.fingerprint), smoke)
        for name, rows in (("train", order[:head]), ("test", order[head:]))
    )


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """Genomics: 250 ACGT tokens; in-distribution (10 classes) and OOD (60 classes) transfer."""
    folder = SOURCE.check(data_root)
    pretrain, _ = _splits(folder, "pretrain", smoke)
    tasks = {
        f"genomics_{key}": make_task(
            f"genomics_{key}", "multiclass", "accuracy", NUM_CLASSES[key], *_splits(folder, key, smoke), seed
        )
        for key in ("id", "ood")
    }
    return Domain(
        name="genomics",
        specs=(TokensSpec(seq_len=SEQ_LEN, vocab_size=len(BASES) + 1, pad_id=0),),
        pretrain=pretrain,
        tasks=tasks,
        pretrain_num_classes=NUM_CLASSES["pretrain"],
        supervised_task="genomics_id",
        batch_size=128,
    )
