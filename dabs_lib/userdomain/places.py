"""Where each row of a user domain comes from ("file row N", "file line N", a file's path), for
messages, without holding one string per row.

A table's rows are numbered runs of one file: `Numbered` keeps the file once and the numbers in an
int array (or a range), and makes a row's text when a message needs it. A string per row had been
the largest part of a large table's working memory (94 of about 300 bytes a row).
`Places` is several such runs (or lists of strings) one after another: one input's rows over
every source of a domain.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator, Sequence
from typing import overload


class _Lazy(Sequence[str]):
    """A sequence of place strings made on demand: subclasses give `__len__` and `_one(i)` for
    0 <= i < len; indexing (negative too) and slicing are here."""

    def _one(self, index: int) -> str:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._one(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"row {index} of {len(self)}")
        return self._one(index)


class Numbered(_Lazy):
    """`prefix` followed by each row's number: "data.csv row 2", "corpus.txt line 7"."""

    def __init__(self, prefix: str, numbers: Sequence[int] | None = None):
        self.prefix = prefix
        self.numbers: Sequence[int] = array("q") if numbers is None else numbers

    def add(self, number: int) -> None:
        self.numbers.append(number)  # type: ignore[attr-defined]  # the array made here; a range is given whole

    def __len__(self) -> int:
        return len(self.numbers)

    def _one(self, index: int) -> str:
        return f"{self.prefix} {self.numbers[index]}"

    def __iter__(self) -> Iterator[str]:
        return (f"{self.prefix} {n}" for n in self.numbers)


class Places(_Lazy):
    """Runs of places one after another (each a Numbered, a list of strings or another Places)."""

    def __init__(self, *runs: Sequence[str]):
        self._runs: list[Sequence[str]] = []
        self._starts: list[int] = []
        self._length = 0
        for run in runs:
            self.extend(run)

    def extend(self, run: Sequence[str]) -> None:
        if isinstance(run, Places):
            for inner in run._runs:
                self.extend(inner)
        elif len(run):
            self._starts.append(self._length)
            self._runs.append(run)
            self._length += len(run)

    def __len__(self) -> int:
        return self._length

    def _one(self, index: int) -> str:
        run = bisect.bisect_right(self._starts, index) - 1
        return self._runs[run][index - self._starts[run]]

    def __iter__(self) -> Iterator[str]:
        for run in self._runs:
            yield from run
