"""Raw task labels -> arrays, and the train/val/test split of the labelled rows, with their checks.

multiclass: class ids (N,) int64 in the order of `classes` (declared, else sorted as found);
binary: 0/1 (N,) int64, the second class is 1; multilabel: (N, K) float32 multi-hot from
labels joined by `separator`; regression: (N,) float32. A label outside the declared
classes, an empty label, a split without rows or a class with too few rows in a split is
refused, naming the file and row (or the class and split).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dabs_lib.userdomain.rows import DomainDataError, Rows
from dabs_lib.userdomain.schema import SPLITS, DomainFile, TaskDecl

SPLIT_NAMES = {"train": 0, "val": 1, "valid": 1, "validation": 1, "dev": 1, "test": 2}
CLASS_KINDS = ("multiclass", "binary")


@dataclass
class EncodedTask:
    decl: TaskDecl
    labels: np.ndarray
    classes: list[str]  # [] for regression

    @property
    def num_classes(self) -> int:
        return 1 if self.decl.kind in ("binary", "regression") else len(self.classes)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() if value is not None else ""


def encode_task(task: TaskDecl, raw: list[Any], rows: Rows) -> EncodedTask:
    for value, where in zip(raw, rows.where):
        if _text(value) == "" and not isinstance(value, list):
            raise DomainDataError(
                where,
                f"task {task.name!r}: the label {task.label!r} is empty; a row without a label belongs in "
                "the `unlabelled:` source (pretraining rows)",
            )
    if task.kind == "regression":
        try:
            return EncodedTask(task, np.array([float(v) for v in raw], dtype=np.float32), [])
        except (TypeError, ValueError):
            bad = next(i for i, v in enumerate(raw) if not _is_number(v))
            raise DomainDataError(
                rows.where[bad],
                f"task {task.name!r} is a regression: the label must be a number, but got {str(raw[bad])!r}",
            ) from None
    if task.kind == "multilabel":
        sets = [
            [_text(x) for x in v] if isinstance(v, list) else [x.strip() for x in _text(v).split(task.separator)]
            for v in raw
        ]
        found = sorted({x for s in sets for x in s if x})
    else:
        sets = [[_text(v)] for v in raw]
        found = sorted({s[0] for s in sets})
    classes = list(task.classes) or found
    known = set(classes)
    for labels, where in zip(sets, rows.where):
        outside = [x for x in labels if x and x not in known]
        if outside:
            raise DomainDataError(
                where, f"task {task.name!r}: label {outside[0]!r} is not one of the declared classes {classes}"
            )
    if task.kind == "binary" and len(classes) != 2:
        raise DomainDataError(
            rows.source,
            f"task {task.name!r} is binary, so it needs exactly 2 classes, but has {len(classes)}: {classes[:10]}",
        )
    if len(classes) < 2:
        raise DomainDataError(rows.source, f"task {task.name!r} needs at least 2 classes, but every row has {classes}")
    index = {c: i for i, c in enumerate(classes)}
    if task.kind == "multilabel":
        hot = np.zeros((len(sets), len(classes)), dtype=np.float32)
        for row, labels in enumerate(sets):
            hot[row, [index[x] for x in labels if x]] = 1.0
        return EncodedTask(task, hot, classes)
    return EncodedTask(task, np.array([index[s[0]] for s in sets], dtype=np.int64), classes)


def _is_number(value: Any) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def _given_split(rows: Rows, column: str) -> np.ndarray:
    parts = np.zeros(len(rows), dtype=np.int8)
    for i, (value, where) in enumerate(zip(rows.split or [], rows.where)):
        key = value.strip().lower()
        if key not in SPLIT_NAMES:
            raise DomainDataError(where, f"column {column!r} must be one of {list(SPLITS)}, but got {value!r}")
        parts[i] = SPLIT_NAMES[key]
    return parts


def _drawn_split(domain: DomainFile, strata: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(domain.split.seed)
    parts = np.zeros(len(strata), dtype=np.int8)
    for value in np.unique(strata):
        rows = rng.permutation(np.flatnonzero(strata == value))
        n_test = max(1, round(len(rows) * domain.split.test))
        n_val = max(1, round(len(rows) * domain.split.val))
        parts[rows[:n_test]] = 2
        parts[rows[n_test : n_test + n_val]] = 1
    return parts


def split_rows(domain: DomainFile, rows: Rows, tasks: list[EncodedTask]) -> np.ndarray:
    """(N,) int8 part per labelled row: 0 train, 1 val, 2 test (given by a column, else drawn)."""
    classed = [t for t in tasks if t.decl.kind in CLASS_KINDS]
    if domain.split.column:
        parts = _given_split(rows, domain.split.column)
    else:
        strata = classed[0].labels if classed else np.zeros(len(rows), dtype=np.int64)
        parts = _drawn_split(domain, strata)
    where = f"{rows.source}" + (
        f" (column {domain.split.column!r})" if domain.split.column else f" (split drawn with seed {domain.split.seed})"
    )
    for code, name in enumerate(SPLITS):
        if not (parts == code).any():
            raise DomainDataError(
                where, f"the {name} split has no rows ({len(rows)} labelled rows in all); every split needs rows"
            )
    need = {0: domain.split.min_rows_per_class, 1: 1, 2: 1}
    for task in classed:
        for code, name in enumerate(SPLITS):
            counts = np.bincount(task.labels[parts == code], minlength=len(task.classes))
            low = int(np.argmin(counts))
            if counts[low] < need[code]:
                raise DomainDataError(
                    where,
                    f"task {task.decl.name!r}: class {task.classes[low]!r} has "
                    f"{counts[low]} row(s) in the {name} split, but needs at least "
                    f"{need[code]} (it has {(task.labels == low).sum()} labelled rows)",
                )
    return parts
