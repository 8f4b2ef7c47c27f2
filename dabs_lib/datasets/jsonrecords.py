"""Streaming the records of a large JSON file (a top-level array, or one object per line).

TAPE's Pfam JSON is several GB: loading it whole (json.load, pandas.read_json) needs many
times that in memory. `iter_records` decodes one object at a time from a sliding text
buffer, so memory stays bounded by the largest record. A file that ends inside a record,
or an array that is never closed, raises DatasetFileError naming the file (truncated).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from dabs_lib.datasets.errors import DatasetFileError, not_a_file
from dabs_lib.datasets.textfiles import ENCODING
from typing import Any

CHUNK_CHARS = 1 << 22  # characters read at a time
_SKIP = " \t\r\n,"


def iter_records(path: Path | str, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The objects of `[{...}, {...}]` or of JSON lines, in file order; at most `limit`."""
    decoder = json.JSONDecoder()
    count = 0
    try:
        handle = open(path, encoding=ENCODING)  # noqa: SIM115 (closed by the `with handle` below)
    except (FileNotFoundError, IsADirectoryError) as error:
        raise not_a_file(path, "a JSON file") from error
    with handle:
        buffer, pos, eof, in_array = "", 0, False, None
        while limit is None or count < limit:
            while pos < len(buffer) and buffer[pos] in _SKIP:
                pos += 1
            if pos >= len(buffer) - 1 and not eof:  # refill (keep one look-ahead character)
                more = handle.read(CHUNK_CHARS)
                eof = not more
                buffer, pos = buffer[pos:] + more, 0
                continue
            if pos >= len(buffer):
                if in_array:
                    raise DatasetFileError(path, "ends before its top-level array is closed (truncated?)")
                return
            if in_array is None:
                in_array = buffer[pos] == "["
                pos += in_array
                continue
            if buffer[pos] == "]" and in_array:
                return
            try:
                record, end = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError as error:
                if eof:
                    raise DatasetFileError(
                        path, f"is not valid JSON near a record's start ({error.msg}; truncated?)"
                    ) from error
                more = handle.read(CHUNK_CHARS)
                eof = not more
                buffer, pos = buffer[pos:] + more, 0
                continue
            if not isinstance(record, dict):
                raise DatasetFileError(path, f"must hold JSON objects (records), but got a {type(record).__name__}")
            yield record
            count += 1
            pos = end
