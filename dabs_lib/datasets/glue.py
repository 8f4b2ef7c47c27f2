"""The 10 GLUE transfer tasks from GLUE's own TSV files (the layout of `download_glue_data.py`).

DABS loads GLUE through Hugging Face `datasets`, trains on `train` and reports on
`validation` (which we call test, since GLUE's test labels are hidden); we read the same
rows from `<data_root>/glue/<TASK>/{train,dev}.tsv` and carve validation from train.
Metrics fixed against DABS: CoLA is MCC (DABS computed Pearson), STS-B is Spearman over
the whole split (DABS averaged it over batches). Binary tasks have one output.
"""

from __future__ import annotations

import logging

import numpy as np

from dabs_lib.datasets.cache import ensure_processed, source_signature
from dabs_lib.datasets.catalog_text import GLUE as SOURCE, GLUE_TASKS, GlueTask
from dabs_lib.datasets.common import make_task, shrink
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.textfiles import text_lines
from dabs_lib.datasets.tokenizer import encode
from dabs_lib.datasets.transforms import AsType
from dabs_lib.datasets.cache import ArrayWriter
from dabs_lib.datasets.cache import Processed
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:  # for annotations only
    from tokenizers import Tokenizer

_log = logging.getLogger(__name__)


MAX_BAD_ROWS = 0.01  # share of malformed rows tolerated (QQP's train.tsv has a few)


def read_tsv(path: Path, header: bool) -> tuple[list[str], list[list[str]]]:
    """(columns, rows) of a GLUE TSV: tab-split, no quoting (quotes are text), BOM and CRLF as shipped;
    malformed rows are dropped."""
    rows = [line.split("\t") for line in text_lines(path)]
    if not rows:
        raise DatasetFileError(path, "is empty")
    columns = rows.pop(0) if header else [str(i) for i in range(len(rows[0]))]
    if rows and len(rows[-1]) != len(columns):
        raise DatasetFileError(path, f"its last line has {len(rows[-1])} fields, expected {len(columns)} (truncated?)")
    good = [row for row in rows if len(row) == len(columns)]
    if len(rows) - len(good) > MAX_BAD_ROWS * max(len(rows), 1):
        raise DatasetFileError(path, f"{len(rows) - len(good)} of {len(rows)} rows do not have {len(columns)} fields")
    return columns, good


def _column(columns: list[str], name: str, path: Path) -> int:
    if name not in columns:
        raise DatasetFileError(path, f"must have a column {name!r}, but the header is {columns}")
    return columns.index(name)


def parse(task: GlueTask, path: Path) -> tuple[list[Any], np.ndarray]:
    """Texts (strings or pairs) and labels of one file; rows with empty text are dropped, as DABS does."""
    columns, rows = read_tsv(path, task.header)
    text_at = [_column(columns, c, path) for c in task.texts]
    label_at = _column(columns, task.label, path)
    texts, labels = [], []
    for row in rows:
        parts = [row[i] for i in text_at]
        value = row[label_at]
        if any(not p.strip() for p in parts) or (task.names and value not in task.names):
            continue
        texts.append(parts[0] if len(parts) == 1 else tuple(parts))
        labels.append(task.names.index(value) if task.names else value)
    try:
        dtype = np.float32 if task.kind == "regression" else np.int64
        label_array = np.asarray([float(v) if isinstance(v, str) else v for v in labels]).astype(dtype)
    except ValueError as error:
        raise DatasetFileError(path, f"column {task.label!r} must be numeric ({error})") from error
    if len(labels) < len(rows):
        _log.info("%s: dropped %d rows with empty text or an unknown label", path, len(rows) - len(labels))
    return texts, label_array


def _processed_file(
    root: str | Path, task: GlueTask, filename: str, tokenizer: Tokenizer, tokenizer_id: str, seq_len: int
) -> Processed:
    path = SOURCE.folder(root) / task.folder / filename

    def build(writer: ArrayWriter) -> None:
        texts, labels = parse(task, path)
        writer.save("tokens", encode(tokenizer, texts, seq_len))
        writer.save("labels", labels)

    params = {
        "version": 1,
        "tokenizer": tokenizer_id,
        "seq_len": seq_len,
        "parse": task.parse_key(),
        "source": source_signature([path]),
    }
    return ensure_processed(root, SOURCE.name, f"{task.folder}-{filename.rsplit('.', 1)[0]}", params, build)


def _split(processed: Processed, name: str, smoke: bool) -> MemmapSplit:
    labels = processed.load("labels", mmap=False)
    field = Field(str(processed.path("tokens")), transform=AsType("int64"))
    return shrink(MemmapSplit(name, (field,), np.arange(len(labels)), labels, processed.fingerprint), smoke)


def glue_tasks(
    root: str | Path, tokenizer: Tokenizer, tokenizer_id: str, seq_len: int, seed: int, smoke: bool
) -> dict[str, Any]:
    """name -> TransferTask for the 10 GLUE tasks, tokenized with `tokenizer`."""
    SOURCE.check(root)
    tasks = {}
    for name, task in GLUE_TASKS.items():
        train = _split(_processed_file(root, task, "train.tsv", tokenizer, tokenizer_id, seq_len), name, smoke)
        test = _split(_processed_file(root, task, task.test_file, tokenizer, tokenizer_id, seq_len), name, smoke)
        tasks[name] = make_task(name, task.kind, task.metric, task.num_classes, train, test, seed)
    return tasks
