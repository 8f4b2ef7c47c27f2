"""A tabular input: (N, F) float32 -> TabularSpec(F), z-scored per feature on read.

A table's feature columns hold numbers; a column listed under `categorical:` holds categories
and becomes one feature per level (one-hot, levels from the pretraining rows, sorted; a level
seen only in val or test rows is all zeros). A missing cell (schema.MISSING_CELLS, a null, NaN)
is refused unless the input says `missing: mean` (inputs.fill_array then fills it with the
feature's pretraining mean; a missing category fills its one-hot block with the levels' shares).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import numpy as np

from dabs_lib.specs import Spec, TabularSpec
from dabs_lib.userdomain.inputs import CHUNK, Column, fill_array
from dabs_lib.userdomain.rows import DomainDataError

MAX_LEVELS = 64  # distinct categories a categorical column may have (one feature, one token, each)
ROWS_PER_CHUNK = CHUNK * 64


def _source(column: Column) -> str:
    return column.where[0].split(" row ")[0]


def _levels(column: Column, feature: str) -> list[str]:
    """A categorical column's levels: its values in the pretraining rows, sorted."""
    seen = {v for v, keep in zip(column.categories[feature], column.pretrain) if keep and v is not None}
    if len(seen) > MAX_LEVELS:
        raise DomainDataError(
            _source(column),
            f"categorical column {feature!r} has {len(seen)} distinct values in the pretraining rows, "
            f"more than {MAX_LEVELS} (one feature each); leave it out with `columns:` or group its values",
        )
    if not seen:
        raise DomainDataError(_source(column), f"categorical column {feature!r} has no value in any pretraining row")
    return sorted(seen)


class TableEncoder:
    """A table's feature columns -> float32 features, chunk by chunk: numbers as they are (the
    column's float32 cells, NaN where missing), categories one-hot (a missing one NaN in each of
    its levels; a level no pretraining row has: all zeros)."""

    def __init__(self, column: Column):
        decl, names = column.decl, list(column.names)
        self.column, self.names = column, names
        self.levels = {name: _levels(column, name) for name in names if name in decl.categorical}
        self.features: list[str] = []  # a numeric column's name, or `column=level`
        self.owners: list[str] = []  # per feature: its column
        for name in names:
            self.features += [f"{name}={level}" for level in self.levels[name]] if name in self.levels else [name]
            self.owners += [name] * (len(self.features) - len(self.owners))
        self.index = {name: {level: k for k, level in enumerate(levels)} for name, levels in self.levels.items()}

    def chunk(self, start: int, stop: int) -> np.ndarray:
        """Rows start..stop, (rows, features) float32."""
        numbers = self.column.array[start:stop] if self.column.array is not None else None
        out = np.empty((stop - start, len(self.features)), dtype=np.float32)
        at, numeric = 0, 0
        for name in self.names:
            if name not in self.levels:
                assert numbers is not None
                out[:, at] = numbers[:, numeric]
                at, numeric = at + 1, numeric + 1
                continue
            width, index = len(self.levels[name]), self.index[name]
            codes = np.array([-2 if v is None else index.get(v, -1) for v in self.column.categories[name][start:stop]])
            block = np.zeros((stop - start, width), dtype=np.float32)
            hot = np.flatnonzero(codes >= 0)
            block[hot, codes[hot]] = 1.0
            block[codes == -2] = np.nan  # missing (only under `missing: mean`): filled with the levels' shares
            out[:, at : at + width] = block
            at += width
        return out


def tabular_input(
    writer: Any, name: str, column: Column, pool: Executor | None, tick: Callable[[int], None]
) -> tuple[Spec, dict[str, Any]]:
    del pool  # numbers only: nothing to decode in threads
    n = len(column.values)
    if not column.names:  # an .npz/.npy array
        if column.decl.categorical:
            raise DomainDataError(
                _source(column),
                f"input {column.decl.name!r}: categorical applies to tables (CSV, TSV, JSONL, Parquet); "
                "an array holds numbers",
            )
        assert column.array is not None
        array = column.array if column.array.ndim == 2 else column.array.reshape(len(column.array), -1)
        rows = np.asarray(column.values, dtype=np.int64)
        features = owners = tuple(str(j) for j in range(array.shape[1]))

        def chunk(start: int) -> np.ndarray:
            return np.asarray(array[rows[start : start + ROWS_PER_CHUNK]], dtype=np.float32)

        encoder = None
    else:
        encoder = TableEncoder(column)
        features, owners = tuple(encoder.features), tuple(encoder.owners)

        def chunk(start: int) -> np.ndarray:
            return encoder.chunk(start, min(n, start + ROWS_PER_CHUNK))

    def produce(sink: Callable[[int, np.ndarray], None]) -> None:
        for start in range(0, n, ROWS_PER_CHUNK):
            part = chunk(start)
            sink(start, part)
            tick(len(part))

    stats = fill_array(writer, name, (n, len(features)), np.float32, 1, column, produce, features)
    if encoder is not None:
        stats["features"] = list(features)
        stats["levels"] = dict(encoder.levels)
    if "filled" in stats:  # per feature -> per column: a missing category filled each of its levels
        first = {c: stats["filled"][owners.index(c)] for c in dict.fromkeys(owners)}
        stats["missing_cells"] = {c: count for c, count in first.items() if count}
    return TabularSpec(num_features=len(features)), stats
