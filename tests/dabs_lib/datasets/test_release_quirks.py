"""Files as the real releases ship them: byte-order marks, CRLF line ends, unbalanced quotes,
trailing blank lines, non-UTF-8 bytes. One test per quirk; each reader goes through
dabs_lib/datasets/textfiles.py, so a quirk handled there is handled for every loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from dabs_lib.datasets import glue, wikitext
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.textfiles import raw_lines, read_text, text_lines
from dabs_lib.domains.door import DomainPreparationError, check_splits, prepare_domain
from tests.dabs_lib.datasets.miniature import write_glue, write_wikitext


def _rewrite(paths, change) -> None:
    for path in paths:
        path.write_bytes(change(path.read_bytes()))


def test_text_lines_drop_the_bom_line_ends_and_blank_lines(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_bytes(b'\xef\xbb\xbfQuality\tText\r\n1\tsay "hi\r\n\r\n0\tbye\r\n\r\n\r\n')
    assert list(text_lines(path)) == ["Quality\tText", '1\tsay "hi', "0\tbye"]
    assert list(raw_lines(path))[:3] == ["Quality\tText", '1\tsay "hi', ""]
    assert read_text(path).startswith("Quality\tText\n1")


def test_undecodable_bytes_name_the_file_and_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("first\nsecond caf\xe9\n".encode("latin-1"))
    with pytest.raises(DatasetFileError, match=r"latin1.txt: line 1 is not UTF-8 text") as info:
        list(text_lines(path))
    assert info.value.path == path


def test_the_miniature_mrpc_begins_with_a_bom_like_the_release(tmp_path):
    folder = write_glue(tmp_path)
    assert (folder / "MRPC" / "train.tsv").read_bytes().startswith(b"\xef\xbb\xbfQuality\t")
    columns, rows = glue.read_tsv(folder / "MRPC" / "train.tsv", header=True)
    assert columns[0] == "Quality" and len(rows) == 30 and rows[0][-2].startswith('"')


def _build(root: Path) -> dict[str, int]:
    domain = wikitext.build(data_root=str(root), smoke=True)
    return {"pretrain": len(domain.pretrain), **{name: len(task.test) for name, task in domain.tasks.items()}}


BOM = b"\xef\xbb\xbf"
QUIRKS = {
    "bom on every file": lambda data: data if data.startswith(BOM) else BOM + data,
    "crlf line ends": lambda data: data.replace(b"\n", b"\r\n"),
    "trailing blank lines": lambda data: data + b"\n\n\r\n",
}


@pytest.fixture(scope="module")
def clean_sizes(tmp_path_factory) -> dict[str, int]:
    root = tmp_path_factory.mktemp("clean")
    write_wikitext(root)
    write_glue(root)
    return _build(root)


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_wikitext_and_glue_read_the_same_rows_whatever_the_quirk(quirk, tmp_path, clean_sizes):
    corpus = write_wikitext(tmp_path)
    folder = write_glue(tmp_path)
    _rewrite([corpus, *folder.rglob("*.tsv")], QUIRKS[quirk])
    assert _build(tmp_path) == clean_sizes


def test_an_empty_corpus_is_refused_before_anything_is_cached(tmp_path):
    corpus = write_wikitext(tmp_path)
    write_glue(tmp_path)
    corpus.write_text(" \n \n")  # blank lines only: what a truncated download can leave
    with pytest.raises(DatasetFileError, match="wiki.train.tokens: has no non-blank line"):
        wikitext.build(data_root=str(tmp_path), smoke=True)
    assert not (tmp_path / "wikitext103" / "processed").exists()


def test_a_domain_with_an_empty_split_is_refused_by_the_door(tmp_path):
    write_wikitext(tmp_path)
    folder = write_glue(tmp_path)
    rte = folder / "RTE" / "dev.tsv"
    rte.write_text(rte.read_text().splitlines()[0] + "\n")  # the header and no row
    with pytest.raises(DomainPreparationError, match=r"rte/test is empty") as info:
        prepare_domain("wikitext103", data_root=str(tmp_path), smoke=True)
    assert str(tmp_path) in str(info.value) and "\n" not in str(info.value)


def test_check_splits_accepts_a_sound_domain():
    from dabs_lib.domains import get_domain

    check_splits(get_domain("digits", smoke=True))  # raises on any empty split
