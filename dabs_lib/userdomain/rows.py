"""Sources of a domain file -> row records: per row, each input's raw value and each task's raw label.

A folder per class (image/audio files), a table (CSV, TSV, JSONL, Parquet) whose columns hold
text, numbers or paths relative to the table, an .npz/.npy array, or plain text (one example
per line). Tables are read with `utf-8-sig` (a byte-order mark is not part of the header) and
universal newlines (CRLF files read as LF). Every problem names the file and the row or key.
"""

from __future__ import annotations

import csv
import json
import os
import struct
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from dabs_lib.userdomain.cells import TableFeatures
from dabs_lib.userdomain.errors import DomainDataError
from dabs_lib.userdomain.places import Numbered
from dabs_lib.userdomain.schema import DomainFile, SourceDecl

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet", ".csv.gz", ".tsv.gz", ".jsonl.gz")
SPREADSHEETS = (".xlsx", ".xls", ".xlsm", ".ods", ".numbers")  # refused with "save it as CSV"
CSV_DELIMITERS = (",", ";", "\t", "|")  # a .csv is split by the one its header line holds most of


@dataclass
class Rows:
    """Rows of one source: values[input] and labels[task] are lists of raw values (one per row)."""

    source: Path
    where: Sequence[str]  # per row: "file" or "file row N" for messages (places.Numbered: no string per row)
    values: dict[str, Sequence[Any]] = field(default_factory=dict)  # arrays and tables: row indices (a range)
    labels: dict[str, list[Any]] = field(default_factory=dict)
    split: list[str] | None = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # array sources: input -> (N, ...) array
    categories: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # table: input -> column -> levels

    def __len__(self) -> int:
        return len(self.where)


def _folder_files(folder: Path, suffixes: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Files under `folder` ending in `suffixes` (as path components below `folder`), hidden
    files and folders left out, in path order.

    os.walk on strings: pathlib's rglob/relative_to cost about 100 us a file (7 s at 50k files)."""
    found: list[tuple[str, ...]] = []
    for top, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        parts = tuple(Path(top).relative_to(folder).parts)
        found.extend((*parts, n) for n in names if not n.startswith(".") and os.path.splitext(n)[1].lower() in suffixes)
    found.sort()  # by path components, as sorting Paths does
    return found


def read_folder(source: SourceDecl, domain: DomainFile, labelled: bool) -> Rows:
    decl = domain.inputs[0]
    suffixes = IMAGE_SUFFIXES if decl.kind == "image" else AUDIO_SUFFIXES
    found = _folder_files(source.path, suffixes)
    if not found:
        raise DomainDataError(source.path, f"holds no {decl.kind} files (must hold files ending in {list(suffixes)})")
    base = str(source.path)
    names = [os.path.join(base, *parts) for parts in found]
    rows = Rows(source.path, names, {decl.name: [Path(n) for n in names]})
    if labelled:
        loose = [n for n, parts in zip(names, found) if len(parts) == 1]
        if loose:
            raise DomainDataError(
                Path(loose[0]), "lies outside a class folder (a labelled folder holds one folder per class)"
            )
        classes = [parts[0] for parts in found]
        rows.labels = {task.name: classes for task in domain.tasks}
    return rows


def table_suffix(path: Path) -> str:
    """The table kind of `path`: one of TABLE_SUFFIXES (".csv.gz" is gzip-compressed CSV), or ""."""
    name = path.name.lower()
    return next((s for s in sorted(TABLE_SUFFIXES, key=len, reverse=True) if name.endswith(s)), "")


def _open_text(path: Path, compressed: bool, newline: str | None = "") -> Any:
    """UTF-8 text (a byte-order mark skipped), gzip-decompressed when `compressed`; newline="" for csv."""
    import gzip

    if compressed:
        return gzip.open(path, "rt", encoding="utf-8-sig", newline=newline)
    return open(path, encoding="utf-8-sig", newline=newline)


def _not_utf8(path: Path, compressed: bool) -> DomainDataError:
    """The error for a file that is not UTF-8, naming its first such line (the decoder's own byte
    offset counts from the chunk it was decoding, not from the file's start)."""
    import gzip

    with gzip.open(path, "rb") if compressed else open(path, "rb") as raw:
        for number, line in enumerate(raw, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                bad = line[error.start : error.end]
                convert = f"iconv -f cp1252 -t utf-8 {path.name} > utf8-{path.name}"
                if compressed:
                    convert = f"zcat {path.name} | iconv -f cp1252 -t utf-8 | gzip > utf8-{path.name}"
                return DomainDataError(
                    path,
                    f"must be UTF-8 text, but line {number} holds the byte(s) {bad!r} ({error.reason}); a file "
                    "saved by Excel or Windows is often Windows-1252",
                    f"Save it as 'CSV UTF-8', or convert it: {convert}",
                )
    return DomainDataError(path, "must be UTF-8 text, but is not")


def _json_records(handle: Any, path: Path) -> Iterator[dict[str, Any]]:
    """A .json table: one list of objects, a row each."""
    try:
        records = json.load(handle)
    except ValueError as error:
        raise DomainDataError(path, f"is not JSON ({error})") from None
    if not isinstance(records, list):
        raise DomainDataError(
            path, f"must hold a JSON list of objects, one per row, but holds a {type(records).__name__}"
        )
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise DomainDataError(path, f"row {number} must be a JSON object, but got {type(record).__name__}")
        yield record


def _table_records(path: Path) -> Iterator[dict[str, Any]]:
    full = table_suffix(path)
    suffix, compressed = full.removesuffix(".gz"), full.endswith(".gz")
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
                yield from batch.to_pylist()
        except (OSError, ValueError, pa.ArrowException) as error:  # ArrowInvalid is a ValueError
            raise DomainDataError(path, f"cannot be read as Parquet ({str(error).splitlines()[0]})") from None
        return
    with _open_text(path, compressed) as handle:
        try:
            if suffix == ".json":
                yield from _json_records(handle, path)
                return
            if suffix == ".jsonl":
                for number, line in enumerate(handle, 1):
                    if line.strip():
                        record = _json_line(line, path, number)
                        yield record
                return
            reader = csv.DictReader(
                handle, delimiter="\t" if suffix == ".tsv" else _delimiter(handle), skipinitialspace=True
            )
            reader.fieldnames = _header(list(reader.fieldnames or []), path)
            for record in reader:
                if None in record:
                    raise DomainDataError(
                        path, f"row {reader.line_num} has more fields than the header {reader.fieldnames}"
                    )
                if any(v for v in record.values() if v):
                    yield record
        except UnicodeDecodeError:
            raise _not_utf8(path, compressed) from None
        except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError; a cut .gz is an EOFError
            raise DomainDataError(path, f"cannot be read as a gzip-compressed table ({error})") from None
        except csv.Error as error:
            raise DomainDataError(path, f"is not a valid {suffix[1:].upper()} table ({error})") from None


def _header(names: list[str], path: Path) -> list[str]:
    """A CSV's column names, trimmed ("a, b" names a and b); a name given twice is refused (the
    reader would keep only the last column of that name)."""
    names = [n.strip() for n in names]
    seen: dict[str, int] = {}
    for position, name in enumerate(names, 1):
        if name and name in seen:
            raise DomainDataError(
                path, f"its header names the column {name!r} twice (columns {seen[name]} and {position}): rename one"
            )
        seen[name] = position
    return names


def _delimiter(handle: Any) -> str:
    """The separator of a .csv: of CSV_DELIMITERS, the one its header line holds most of (a comma when
    tied or none), read outside quotes: spreadsheets in many locales save ';'-separated .csv files."""
    start = handle.tell()
    header = handle.readline()
    handle.seek(start)
    outside = "".join(part for i, part in enumerate(header.split('"')) if i % 2 == 0)
    return max(CSV_DELIMITERS, key=lambda d: (outside.count(d), d == ","))


def _json_line(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError as error:
        raise DomainDataError(path, f"line {number} is not JSON ({error})") from None
    if not isinstance(record, dict):
        raise DomainDataError(path, f"line {number} must be a JSON object, but got {type(record).__name__}")
    return record


def _split_column(domain: DomainFile) -> list[str]:
    return [domain.split.column] if domain.split.column else []


def _shared_cells(domain: DomainFile, labelled: bool) -> dict[str, dict[Any, Any]]:
    """Class-label and split columns (few distinct values, one per row): column -> its cells seen so
    far. Not a regression label: its values are mostly distinct, so sharing would only add a dict."""
    if not labelled:
        return {}
    classes = [t.label for t in domain.tasks if t.kind != "regression"]
    regression = {t.label for t in domain.tasks if t.kind == "regression"}
    return {c: {} for c in classes + _split_column(domain) if c not in regression}


def _shared(value: Any, seen: dict[Any, Any]) -> Any:
    try:
        return seen.setdefault((type(value), value), value)  # JSON's true and 1 stay apart
    except TypeError:  # a JSON list (multilabel): kept as it is
        return value


def _plain_columns(domain: DomainFile, labelled: bool) -> list[str]:
    """The columns kept as they are read: non-tabular inputs, task labels, the split column."""
    plain = [d.name for d in domain.inputs if d.kind != "tabular"]
    if labelled:
        plain += [t.label for t in domain.tasks] + _split_column(domain)
    return list(dict.fromkeys(plain))


def _label_hint(domain: DomainFile, header: list[str]) -> str:
    """When a task's label column is missing but a column is named as the task: say how to read it."""
    for task in domain.tasks:
        if task.label not in header and task.name in header:
            return (
                f" (task {task.name!r} reads its labels from the column `label:` names, {task.label!r}; "
                f"for the column {task.name!r} write `label: {task.name}`)"
            )
    return ""


def _feature_names(decl: Any, header: list[str], domain: DomainFile, path: Path) -> list[str]:
    """A tabular input's feature columns: its `columns`, else every column not a label, split or input."""
    reserved = {t.label for t in domain.tasks} | {domain.split.column} | {d.name for d in domain.inputs}
    names = list(decl.columns) or [c for c in header if c and c not in reserved]  # "": a trailing separator
    if not names:
        raise DomainDataError(path, f"has no feature columns for the tabular input {decl.name!r} (columns: {header})")
    return names


def read_table(source: SourceDecl, domain: DomainFile, labelled: bool) -> Rows:
    path = source.path
    if path.suffix.lower() in SPREADSHEETS:
        raise DomainDataError(path, "is a spreadsheet: save it as CSV (UTF-8) and name the .csv file")
    if not table_suffix(path):
        raise DomainDataError(path, f"must be a table ending in {list(TABLE_SUFFIXES)}")
    plain = _plain_columns(domain, labelled)
    tabular = [d for d in domain.inputs if d.kind == "tabular"]
    places = Numbered(f"{path} row")
    rows = Rows(path, places)
    columns: dict[str, list[Any]] = {c: [] for c in plain}
    shared = _shared_cells(domain, labelled)  # label and split cells: one string per distinct value
    features: dict[str, TableFeatures] = {}
    kind = table_suffix(path).removesuffix(".gz")
    first = 2 if kind in (".csv", ".tsv") else 1  # a CSV's header is line 1
    for number, record in enumerate(_table_records(path), first):
        if not places:
            header = list(record)
            needed = plain + [c for d in tabular for c in d.columns]
            missing = [c for c in dict.fromkeys(needed) if c not in record]
            if missing:
                raise DomainDataError(
                    path,
                    f"must have the column(s) {missing}, but its columns are {header}{_label_hint(domain, header)}",
                )
            typed = kind not in (".csv", ".tsv")  # JSON and Parquet cells carry their types
            features = {
                d.name: TableFeatures(d, _feature_names(d, header, domain, path), str(path), typed) for d in tabular
            }
        for name, kept in columns.items():
            kept.append(_shared(record.get(name), shared[name]) if name in shared else record.get(name))
        for cells in features.values():
            cells.add(record, number)
        places.add(number)
    if not places:
        raise DomainDataError(path, "has no rows")
    _fill_table(rows, columns, features, domain, labelled)
    return rows


def _fill_table(
    rows: Rows, columns: dict[str, list[Any]], features: dict[str, TableFeatures], domain: DomainFile, labelled: bool
) -> None:
    for decl in domain.inputs:
        if decl.kind == "tabular":
            cells = features[decl.name]
            rows.arrays[decl.name] = cells.array()
            rows.arrays[decl.name + "/columns"] = np.array(cells.names)
            rows.categories[decl.name] = cells.categories
            rows.values[decl.name] = range(len(rows))
        elif decl.kind in ("image", "audio", "timeseries"):
            rows.values[decl.name] = [
                rows.source.parent / str(v) if v not in (None, "") else None for v in columns[decl.name]
            ]
        else:
            rows.values[decl.name] = columns[decl.name]
    if labelled:
        rows.labels = {t.name: columns[t.label] for t in domain.tasks}
        rows.split = [str(v or "") for v in columns[domain.split.column]] if domain.split.column else None


def _stored_member(raw: BinaryIO, info: zipfile.ZipInfo, path: Path) -> np.ndarray | None:
    """An uncompressed .npz member (np.savez) memory-mapped in place, or None (compressed, or a
    header this reader does not know: numpy then reads it)."""
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    raw.seek(info.header_offset)
    local = raw.read(30)
    if local[:4] != b"PK\x03\x04":
        return None
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    raw.seek(info.header_offset + 30 + name_length + extra_length)
    version = np.lib.format.read_magic(raw)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        return None
    shape, fortran, dtype = readers[version](raw)
    if dtype.hasobject:
        return None
    return np.memmap(path, dtype=dtype, mode="r", offset=raw.tell(), shape=shape, order="F" if fortran else "C")


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz. Members stored uncompressed (np.savez) are memory-mapped, so a
    large image array is read chunk by chunk as it is prepared, not all at once; compressed
    ones (np.savez_compressed) are read whole."""
    arrays = {}
    with np.load(path, allow_pickle=False) as loaded, zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
        members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
        for key in loaded.files:
            mapped = _stored_member(raw, members[key], path) if key in members else None
            arrays[key] = loaded[key] if mapped is None else mapped
    return arrays


def read_array(source: SourceDecl, domain: DomainFile, labelled: bool) -> Rows:
    path = source.path
    try:
        if path.suffix == ".npy":
            arrays = {domain.inputs[0].name: np.load(path, allow_pickle=False, mmap_mode="r")}
        else:
            arrays = _npz_arrays(path)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, struct.error) as error:
        raise DomainDataError(path, f"cannot be read as .npy/.npz ({error})") from None
    if path.suffix == ".npy" and (labelled or len(domain.inputs) != 1):
        raise DomainDataError(
            path, "a .npy holds one unlabelled input; use an .npz with a key per input and per task label"
        )
    keys = {d.name: d.key or d.name for d in domain.inputs}
    wanted = list(keys.values()) + ([t.label for t in domain.tasks] if labelled else [])
    missing = [k for k in wanted if k not in arrays]
    if missing:
        raise DomainDataError(path, f"must hold the key(s) {missing}, but holds {sorted(arrays)}")
    n = len(arrays[keys[domain.inputs[0].name]])
    for key in wanted:
        if len(arrays[key]) != n:
            raise DomainDataError(
                path, f"every array must have {n} rows (as {wanted[0]!r}), but {key!r} has {len(arrays[key])}"
            )
    rows = Rows(path, Numbered(f"{path} row", range(n)))
    rows.arrays = {d.name: arrays[keys[d.name]] for d in domain.inputs}
    rows.values = {d.name: range(n) for d in domain.inputs}
    if labelled:
        rows.labels = {
            t.name: [v.tolist() if isinstance(v, np.ndarray) else v for v in arrays[t.label]] for t in domain.tasks
        }
    return rows


def read_text(source: SourceDecl, domain: DomainFile) -> Rows:
    path, texts, where = source.path, [], Numbered(f"{source.path} line")
    with _open_text(path, path.name.lower().endswith(".gz"), newline=None) as handle:  # a corpus may be .gz
        try:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    texts.append(line.strip())
                    where.add(number)
        except UnicodeDecodeError:
            raise _not_utf8(path, path.name.lower().endswith(".gz")) from None
        except (OSError, EOFError) as error:
            raise DomainDataError(path, f"cannot be read as gzip-compressed text ({error})") from None
    if not texts:
        raise DomainDataError(path, "has no text (every line is blank)")
    return Rows(path, where, {domain.inputs[0].name: texts})


def read_rows(source: SourceDecl, domain: DomainFile, labelled: bool) -> Rows:
    """Every row of a source, labels included when `labelled`; one-line DomainDataError otherwise."""
    if source.kind == "folder":
        return read_folder(source, domain, labelled)
    if source.kind == "table":
        return read_table(source, domain, labelled)
    if source.kind == "array":
        return read_array(source, domain, labelled)
    return read_text(source, domain)
