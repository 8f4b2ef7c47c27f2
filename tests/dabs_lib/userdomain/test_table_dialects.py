"""A .csv as spreadsheets in other locales save it: separated by ';' (or a tab, or '|'), with a
byte-order mark and CRLF line ends, quoted fields holding the separator; and a decimal comma is
named as one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dabs_lib.userdomain.prepare import prepare
from dabs_lib.userdomain.rows import DomainDataError

ROWS = 30


def _write(folder: Path, sep: str, decimal: str = ".") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    header = sep.join(['"size, in cm"', "weight", "note", "label"])
    lines = [header] + [
        sep.join(
            [f"{rng.normal() + i % 2:.3f}".replace(".", decimal), f"{rng.normal():.3f}", f'"a{sep}b"', "xy"[i % 2]]
        )
        for i in range(ROWS)
    ]
    (folder / "rows.csv").write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())
    path = folder / "d.yaml"
    path.write_text(
        "name: dialect\ninputs:\n  - {name: features, kind: tabular, columns: ['size, in cm', weight]}\n"
        "data: {table: rows.csv}\ntasks:\n  - {name: label}\n"
    )
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"])
def test_a_csv_is_split_by_the_separator_its_header_holds(sep, tmp_path):
    processed = prepare(_write(tmp_path / "data", sep), str(tmp_path / "root"))
    stored = np.load(processed.path("input0"))
    assert stored.shape == (ROWS, 2)
    rng = np.random.default_rng(0)
    assert stored[0, 0] == pytest.approx(round(rng.normal(), 3), abs=1e-6)  # the first value of 'size, in cm'


def test_a_decimal_comma_is_named(tmp_path):
    with pytest.raises(
        DomainDataError, match=r"column 'size, in cm' must be a number, but got '.*,.*' \(a decimal comma"
    ):
        prepare(_write(tmp_path / "data", ";", decimal=","), str(tmp_path / "root"))


def _records() -> list[dict]:
    rng = np.random.default_rng(1)
    return [
        {"a": round(float(rng.normal()), 4), "b": round(float(rng.normal()), 4), "y": "pq"[i % 2]} for i in range(ROWS)
    ]


def _write_as(folder: Path, suffix: str, records: list[dict]) -> Path:
    import gzip
    import json

    folder.mkdir(parents=True, exist_ok=True)
    base = suffix.removesuffix(".gz")
    if base == ".json":
        text = json.dumps(records)
    elif base == ".jsonl":
        text = "".join(json.dumps(r) + "\n" for r in records)
    else:
        sep = "\t" if base == ".tsv" else ","
        text = "\n".join([sep.join(records[0])] + [sep.join(str(v) for v in r.values()) for r in records]) + "\n"
    data = text.encode()
    (folder / f"rows{suffix}").write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    path = folder / "d.yaml"
    path.write_text(
        f"name: formats\ninputs:\n  - {{name: x, kind: tabular}}\ndata: {{table: rows{suffix}}}\n"
        "tasks:\n  - {name: y, label: y}\n"
    )
    return path


@pytest.mark.parametrize("suffix", [".json", ".csv.gz", ".tsv.gz", ".jsonl.gz"])
def test_json_lists_and_gzip_compressed_tables_read_as_the_plain_ones(suffix, tmp_path):
    records = _records()
    processed = prepare(_write_as(tmp_path / "data", suffix, records), str(tmp_path / "root"))
    stored = np.load(processed.path("input0"))
    np.testing.assert_allclose(stored, [[r["a"], r["b"]] for r in records], rtol=1e-6)


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("rows.xlsx", b"PK\x03\x04", "is a spreadsheet: save it as CSV (UTF-8)"),
        ("rows.csv.gz", b"a,b,y\n1,2,p\n", "cannot be read as a gzip-compressed table"),
        ("rows.json", b'{"a": [1, 2]}', "must hold a JSON list of objects, one per row, but holds a dict"),
        ("rows.json", b'[{"a": 1, "y": "p"}, [1, 2]]', "row 2 must be a JSON object, but got list"),
    ],
    ids=["spreadsheet", "not gzip", "json object", "json row not an object"],
)
def test_unreadable_tables_are_named(name, content, expected, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / name).write_bytes(content)
    (folder / "d.yaml").write_text(
        f"name: formats\ninputs:\n  - {{name: x, kind: tabular}}\ndata: {{table: {name}}}\n"
        "tasks:\n  - {name: y, label: y}\n"
    )
    with pytest.raises(DomainDataError) as error:
        prepare(folder / "d.yaml", str(tmp_path / "root"))
    assert expected in str(error.value) and name in str(error.value), str(error.value)


def test_an_unlabelled_text_corpus_may_be_gzip_compressed(tmp_path):
    import gzip

    from dabs_lib.userdomain.load import build_user_domain
    from dabs_lib.userdomain import register
    from tests.dabs_lib.userdomain import files

    path = files.write("text", tmp_path / "data")
    corpus = path.with_name("corpus.txt")
    path.with_name("corpus.txt.gz").write_bytes(gzip.compress(corpus.read_bytes()))
    lines = len([line for line in corpus.read_text().splitlines() if line.strip()])
    corpus.unlink()
    path.write_text(path.read_text().replace("corpus.txt", "corpus.txt.gz"))
    prepare(path, str(tmp_path / "root"))
    register(path)
    domain = build_user_domain("reviews", str(tmp_path / "root"))
    labelled_train = len(domain.tasks["topic"].train)
    assert len(domain.pretrain) == labelled_train + lines


def _plain(folder: Path, header: str, cell: str = "{a},{b},{y}") -> Path:
    """A CSV with the given header line; rows of two numbers and a label written by `cell`."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [cell.format(**r) for r in _records()]
    (folder / "rows.csv").write_text("\n".join([header, *rows]) + "\n")
    path = folder / "d.yaml"
    path.write_text(
        "name: plain\ninputs:\n  - {name: features, kind: tabular}\ndata: {table: rows.csv}\n"
        "tasks:\n  - {name: y, label: y}\n"
    )
    return path


def test_spaces_after_the_separator_are_not_part_of_names_or_cells(tmp_path):
    processed = prepare(_plain(tmp_path / "data", "a, b , y", "{a}, {b}, {y}"), str(tmp_path / "root"))
    assert processed.meta["stats"][0]["features"] == ["a", "b"]
    assert processed.meta["tasks"][0]["classes"] == ["p", "q"]  # ' p' read as 'p'


def test_a_column_named_twice_is_refused_naming_both_positions(tmp_path):
    with pytest.raises(DomainDataError, match=r"names the column 'a' twice \(columns 1 and 3\): rename one"):
        prepare(_plain(tmp_path / "data", "a,b,a,y", "{a},{b},{a},{y}"), str(tmp_path / "root"))


def test_an_unnamed_empty_last_column_is_ignored(tmp_path):
    """A trailing separator on every line (as some spreadsheets save): no feature, no error."""
    processed = prepare(_plain(tmp_path / "data", "a,b,y,", "{a},{b},{y},"), str(tmp_path / "root"))
    assert processed.meta["stats"][0]["features"] == ["a", "b"]


def test_a_non_utf8_byte_far_into_the_file_is_named_by_its_line(tmp_path):
    """The decoder reads 8 KB chunks and counts its offset from the chunk: the message counts lines."""
    path = _plain(tmp_path / "data", "a,b,y")
    header, body = (tmp_path / "data" / "rows.csv").read_bytes().split(b"\n", 1)
    data = header + b"\n" + body * 40 + "0.5,0.5,caf\xe9\n".encode("latin-1")
    (tmp_path / "data" / "rows.csv").write_bytes(data)
    last = len(data.splitlines())
    with pytest.raises(DomainDataError, match=rf"line {last} holds the byte\(s\) b'\\xe9'"):
        prepare(path, str(tmp_path / "root"))
