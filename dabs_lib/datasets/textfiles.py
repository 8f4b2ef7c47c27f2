"""Text files as the real releases ship them, read one way everywhere.

Real files differ from the miniatures people write: GLUE's MRPC TSVs begin with a UTF-8
byte-order mark, some archives were written on Windows (CRLF line ends), most end with
blank lines. Every loader reads text through these functions, so each quirk is handled
once: the BOM is dropped, `\\r\\n` and `\\n` both end a line, blank lines are skipped where
the format says so, and bytes that are not UTF-8 raise DatasetFileError naming the file and
the line (not a UnicodeDecodeError from inside a Ray trial).
"""

from __future__ import annotations

import gzip
from itertools import islice
from pathlib import Path
from typing import IO, Iterator

from dabs_lib.datasets.errors import DatasetFileError, not_a_file

ENCODING = "utf-8-sig"  # UTF-8; a leading byte-order mark, if any, is not part of the text


def open_text(path: Path | str, compressed: bool = False) -> IO[str]:
    """A text handle on `path` (gzip when `compressed`); universal newlines, BOM dropped."""
    try:
        if compressed:
            return gzip.open(path, "rt", encoding=ENCODING)
        return open(path, encoding=ENCODING)
    except (FileNotFoundError, IsADirectoryError) as error:
        raise not_a_file(path, "a text file") from error


def _undecodable(path: Path | str, number: int, error: UnicodeDecodeError) -> DatasetFileError:
    return DatasetFileError(
        path,
        f"line {number} is not UTF-8 text ({error.reason} at byte {error.start} of a read block)",
        "Convert it to UTF-8 (e.g. `iconv -t UTF-8`).",
    )


def raw_lines(path: Path | str, compressed: bool = False) -> Iterator[str]:
    """Every line of a text file without its line end (`\\n` or `\\r\\n`), blank ones included."""
    number = 0
    with open_text(path, compressed) as handle:
        try:
            for number, line in enumerate(handle, 1):  # noqa: B007 (the except names the line)
                yield line.rstrip("\r\n")
        except UnicodeDecodeError as error:
            raise _undecodable(path, number + 1, error) from error


def text_lines(path: Path | str, limit: int | None = None, compressed: bool = False) -> Iterator[str]:
    """The non-blank lines of a text file, line ends removed (at most `limit`)."""
    yield from islice((line for line in raw_lines(path, compressed) if line.strip()), limit)


def read_text(path: Path | str) -> str:
    """The whole file as one string, BOM dropped, line ends normalised to `\\n`."""
    return "\n".join(raw_lines(path))
