"""A table's feature cells, converted as the table is read: numbers into one float32 buffer,
categories into one list of shared strings per column.

Holding every cell as the reader's Python string until the inputs were encoded took about 1.8 KB
of memory per row of a table of 20 numbers and 3 categories (a 10-million-row CSV about 19 GB); a
number here takes 4 bytes and a category one reference to a string shared by every row of that level.

A cell is a number (CSV text, JSON or Parquet value; a bool is not), a category (named as written:
JSON's 3 and 3.0 are one level), or missing (schema.MISSING_CELLS, a null, NaN), which is refused
at once, naming the row, unless the input says `missing: mean` (stored as NaN; inputs.fill_array
fills it later with the feature's pretraining mean).
"""

from __future__ import annotations

import re
from array import array
from typing import Any

import numpy as np

from dabs_lib.userdomain.errors import DomainDataError
from dabs_lib.userdomain.schema import MISSING_CELLS, InputDecl

DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")
FLOAT32_MAX = float(np.finfo(np.float32).max)


def is_missing(value: Any) -> bool:
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    return value is None or str(value).strip().lower() in MISSING_CELLS


def refuse_missing(value: Any, where: str, feature: str, decl: InputDecl, what: str) -> DomainDataError:
    return DomainDataError(
        where,
        f"column {feature!r} must be {what}, but got {value!r}, a missing value "
        f"(`missing: mean` on input {decl.name!r} fills it with the feature's mean)",
    )


def number(value: Any, where: str, feature: str, decl: InputDecl) -> float:
    """A table cell as a number; a missing cell is NaN under `missing: mean`."""
    if is_missing(value):
        if decl.missing == "mean":
            return float("nan")
        raise refuse_missing(value, where, feature, decl, "a number")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > FLOAT32_MAX:
        digits = len(str(abs(value)))
        raise DomainDataError(
            where, f"column {feature!r} must be a number a float32 holds, but got a {digits}-digit integer"
        )
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


def category(value: Any) -> str:
    """A category's name: numbers as written in the table (JSON's 3 and 3.0 are one level)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class TableFeatures:
    """One tabular input's feature cells of one table, row by row (`add`), in compact form."""

    def __init__(self, decl: InputDecl, names: list[str], path: str, typed: bool):
        unknown = [c for c in decl.categorical if c not in names]
        if unknown:
            raise DomainDataError(
                path, f"input {decl.name!r}: categorical names {unknown}, which are not its feature columns {names}"
            )
        self.decl, self.names, self.path = decl, names, path
        self.typed = typed  # cells may be JSON/Parquet values (a CSV's are text)
        self.numeric = [n for n in names if n not in decl.categorical]
        self.numbers = array("f")  # row-major (rows, len(numeric)) float32
        self.categories: dict[str, list[str | None]] = {n: [] for n in names if n in decl.categorical}
        self._levels: dict[tuple[type, Any], str | None] = {}  # a cell as read -> its level (None: missing)
        self._shared: dict[str, str] = {}  # a level's one string, shared by its rows
        self.rows = 0

    def add(self, record: dict[str, Any], row: int) -> None:
        cells = [record.get(n) for n in self.numeric]
        try:
            values = [float(v) for v in cells]  # type: ignore[arg-type]  # TypeError/ValueError: the slow path
            total = sum(values)
            exact = total == total  # a NaN (a missing cell) makes the sum NaN, and NaN != NaN
            if exact and self.typed:
                exact = not any(type(v) is bool for v in cells)  # JSON's true is not the number 1
        except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON integer past any float
            exact = False
        if not exact:  # a missing or malformed cell in the row: cell by cell
            values = [self._number(v, name, row) for v, name in zip(cells, self.numeric)]
        self.numbers.extend(values)
        for name, kept in self.categories.items():
            kept.append(self._category(record.get(name), name, row))
        self.rows += 1

    def _number(self, value: Any, name: str, row: int) -> float:
        if type(value) is not bool:
            try:
                x = float(value)
                if x == x:
                    return x
            except (TypeError, ValueError, OverflowError):
                pass
        return number(value, f"{self.path} row {row}", name, self.decl)

    def _category(self, value: Any, name: str, row: int) -> str | None:
        key = (type(value), value)  # JSON's true and 1 are different levels
        try:
            return self._levels[key]
        except (KeyError, TypeError):  # TypeError: a JSON list or object, named by its text
            pass
        if is_missing(value):
            if self.decl.missing != "mean":
                raise refuse_missing(value, f"{self.path} row {row}", name, self.decl, "a category")
            level = None
        else:
            level = category(value)
            level = self._shared.setdefault(level, level)
        try:
            self._levels[key] = level
        except TypeError:
            pass
        return level

    def array(self) -> np.ndarray:
        """The numeric columns, (rows, len(numeric)) float32."""
        return np.frombuffer(self.numbers, dtype=np.float32).reshape(self.rows, len(self.numeric))
