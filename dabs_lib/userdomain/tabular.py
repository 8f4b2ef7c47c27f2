"""A tabular input: (N, F) float32 -> TabularSpec(F), z-scored per feature on read.

A table's feature columns hold numbers; a column listed under `categorical:` holds categories
and becomes one feature per level (one-hot, levels from the pretraining rows, sorted; a level
seen only in val or test rows is all zeros). A missing cell (schema.MISSING_CELLS, a null, NaN)
is refused unless the input says `missing: mean` (inputs.fill_array then fills it with the
feature's pretraining mean; a missing category fills its one-hot block with the levels' shares).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import numpy as np

from dabs_lib.specs import Spec, TabularSpec
from dabs_lib.userdomain.inputs import CHUNK, Column, fill_array
from dabs_lib.userdomain.rows import DomainDataError
from dabs_lib.userdomain.schema import MISSING_CELLS, InputDecl

DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")
MAX_LEVELS = 64  # distinct categories a categorical column may have (one feature, one token, each)
ROWS_PER_CHUNK = CHUNK * 64


def _is_missing(value: Any) -> bool:
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    return value is None or str(value).strip().lower() in MISSING_CELLS


def _refuse_missing(value: Any, where: str, feature: str, decl: InputDecl, what: str) -> DomainDataError:
    return DomainDataError(
        where,
        f"column {feature!r} must be {what}, but got {value!r}, a missing value "
        f"(`missing: mean` on input {decl.name!r} fills it with the feature's mean)",
    )


def _number(value: Any, where: str, feature: str, decl: InputDecl) -> float:
    """A table cell as a number; a missing cell is NaN under `missing: mean`."""
    if _is_missing(value):
        if decl.missing == "mean":
            return float("nan")
        raise _refuse_missing(value, where, feature, decl, "a number")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        hint = (
            f"a decimal comma? write {text.replace(',', '.')!r}"
            if DECIMAL_COMMA.fullmatch(text)
            else f"a column of categories? list it under `categorical:` on input {decl.name!r}"
        )
        raise DomainDataError(where, f"column {feature!r} must be a number, but got {value!r} ({hint})") from None


def _category(value: Any) -> str:
    """A category's name: numbers as written in the table (JSON's 3 and 3.0 are one level)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _levels(column: Column, j: int, feature: str) -> list[str]:
    seen = {_category(row[j]) for row, keep in zip(column.values, column.pretrain) if keep and not _is_missing(row[j])}
    if len(seen) > MAX_LEVELS:
        raise DomainDataError(
            column.where[0].split(" row ")[0],
            f"categorical column {feature!r} has {len(seen)} distinct values in the pretraining rows, "
            f"more than {MAX_LEVELS} (one feature each); leave it out with `columns:` or group its values",
        )
    if not seen:
        raise DomainDataError(
            column.where[0].split(" row ")[0], f"categorical column {feature!r} has no value in any pretraining row"
        )
    return sorted(seen)


class TableEncoder:
    """Rows of table cells -> float32 features: numbers as they are, categories one-hot."""

    def __init__(self, column: Column):
        decl, names = column.decl, list(column.names)
        unknown = [c for c in decl.categorical if c not in names]
        if unknown:
            raise DomainDataError(
                column.where[0].split(" row ")[0],
                f"input {decl.name!r}: categorical names {unknown}, which are not its feature columns {names}",
            )
        self.decl, self.names = decl, names
        self.levels = {j: _levels(column, j, names[j]) for j, name in enumerate(names) if name in decl.categorical}
        self.features: list[str] = []  # a numeric column's name, or `column=level`
        self.owners: list[str] = []  # per feature: its column
        for j, name in enumerate(names):
            self.features += [f"{name}={level}" for level in self.levels[j]] if j in self.levels else [name]
            self.owners += [name] * (len(self.features) - len(self.owners))
        self.index = {j: {level: k for k, level in enumerate(levels)} for j, levels in self.levels.items()}

    def row(self, cells: tuple[Any, ...], where: str) -> list[float]:
        out: list[float] = []
        for j, value in enumerate(cells):
            if j not in self.levels:
                out.append(_number(value, where, self.names[j], self.decl))
            elif _is_missing(value):
                if self.decl.missing != "mean":
                    raise _refuse_missing(value, where, self.names[j], self.decl, "a category")
                out += [float("nan")] * len(self.levels[j])
            else:
                hot = [0.0] * len(self.levels[j])
                k = self.index[j].get(_category(value))
                if k is not None:  # a level no pretraining row has: all zeros
                    hot[k] = 1.0
                out += hot
        return out


def tabular_input(
    writer: Any, name: str, column: Column, pool: Executor | None, tick: Callable[[int], None]
) -> tuple[Spec, dict[str, Any]]:
    del pool  # numbers only: nothing to decode in threads
    if column.array is not None:
        if column.decl.categorical:
            raise DomainDataError(
                column.where[0].split(" row ")[0],
                f"input {column.decl.name!r}: categorical applies to tables (CSV, TSV, JSONL, Parquet); "
                "an array holds numbers",
            )
        array = column.array if column.array.ndim == 2 else column.array.reshape(len(column.array), -1)
        rows = np.asarray(column.values, dtype=np.int64)
        features = owners = tuple(str(j) for j in range(array.shape[1]))

        def chunk(start: int) -> np.ndarray:
            return np.asarray(array[rows[start : start + ROWS_PER_CHUNK]], dtype=np.float32)
    else:
        encoder = TableEncoder(column)
        features, owners = tuple(encoder.features), tuple(encoder.owners)

        def chunk(start: int) -> np.ndarray:
            part = zip(column.values[start : start + ROWS_PER_CHUNK], column.where[start : start + ROWS_PER_CHUNK])
            return np.array([encoder.row(cells, where) for cells, where in part], dtype=np.float32)

    def produce(sink: Callable[[int, np.ndarray], None]) -> None:
        for start in range(0, len(column.values), ROWS_PER_CHUNK):
            part = chunk(start)
            sink(start, part)
            tick(len(part))

    stats = fill_array(writer, name, (len(column.values), len(features)), np.float32, 1, column, produce, features)
    if column.array is None:
        stats["features"] = list(features)
        stats["levels"] = {encoder.names[j]: levels for j, levels in encoder.levels.items()}
    if "filled" in stats:  # per feature -> per column: a missing category filled each of its levels
        first = {c: stats["filled"][owners.index(c)] for c in dict.fromkeys(owners)}
        stats["missing_cells"] = {c: n for c, n in first.items() if n}
    return TabularSpec(num_features=len(features)), stats
