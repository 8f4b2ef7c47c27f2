"""The data door: a real domain whose files are there but broken is one line, exit 2, before
Ray starts, with no experiment folder and nothing half-written in the cache; `datasets status
--check` says the same. The files are the tests' miniatures in the real on-disk format, broken
the way downloads and extractions break them."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import ray

import run_search
from dabs_lib.datasets.__main__ import main as datasets_main
from tests.dabs_lib.datasets.miniature import write_cifar, write_glue, write_higgs, write_wikitext
from tests.dabs_lib.datasets.miniature_media import write_librispeech


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _text_only(root: Path) -> Path:
    write_wikitext(root)
    return write_glue(root)


def _glue_file(root: Path, task: str, name: str = "train.tsv") -> Path:
    return _text_only(root) / task / name


def _drop_label_column(path: Path) -> Path:
    path.write_text("".join(line.split("\t")[0] + "\n" for line in path.read_text().splitlines()))
    return path


def _latin1(path: Path) -> Path:
    path.write_bytes(path.read_bytes() + "sentence caf\xe9\t1\n".encode("latin-1"))
    return path


# case -> (domain, break the files under root and return the file the line must name)
BROKEN: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "truncated CIFAR pickle": ("cifar10_small", lambda root: _cut(write_cifar(root) / "data_batch_1")),
    "truncated HIGGS.csv.gz": ("higgs", lambda root: _cut(write_higgs(root))),
    "empty LibriSpeech transcript": (
        "librispeech",
        lambda root: _empty(sorted(write_librispeech(root).rglob("*.trans.txt"))[0]),
    ),
    "GLUE TSV without its label column": ("wikitext103", lambda root: _drop_label_column(_glue_file(root, "SST-2"))),
    "empty wiki.train.tokens": ("wikitext103", lambda root: _empty(write_wikitext(root), glue=True)),
    "GLUE TSV that is not UTF-8": ("wikitext103", lambda root: _latin1(_glue_file(root, "RTE"))),
}


def _cut(path: Path) -> Path:
    _truncate(path)
    return path


def _empty(path: Path, glue: bool = False) -> Path:
    if glue:
        write_glue(path.parents[2])
    path.write_text("")
    return path


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_contents_stop_the_search_at_the_door(case, tmp_path, monkeypatch, capsys):
    domain, breaker = BROKEN[case]
    data = tmp_path / "data"
    named = breaker(data)
    monkeypatch.chdir(tmp_path)
    code = run_search.main(
        [
            "search",
            "--domain",
            domain,
            "--objective",
            "mae",
            "--num-samples",
            "1",
            "--smoke-test",
            "--set",
            f"data_root={data}",
            "--storage-path",
            str(tmp_path / "runs"),
        ]
    )
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("preprocessing ")]
    assert code == 2, err
    assert len(lines) == 1 and str(named) in lines[0] and "Traceback" not in err, err
    assert not (tmp_path / "runs").exists(), "no experiment folder for a search that cannot start"
    assert not ray.is_initialized()
    leftovers = [p for p in data.rglob("processed/*") if not (p / "COMPLETE.json").exists() and p.suffix != ".lock"]
    assert not leftovers, f"half-written cache folders: {leftovers}"


def test_status_check_reads_the_contents_that_status_only_sees(tmp_path, capsys):
    root = tmp_path / "data"
    named = _cut(write_higgs(root))
    assert datasets_main(["status", "higgs", "--data-root", str(root)]) == 0  # the file is there
    assert "higgs: present" in capsys.readouterr().out
    assert datasets_main(["status", "higgs", "--check", "--data-root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "higgs: BROKEN" in out and str(named) in out


def test_status_check_passes_sound_files(tmp_path, capsys):
    root = tmp_path / "data"
    write_higgs(root)
    assert datasets_main(["status", "higgs", "--check", "--data-root", str(root)]) == 0
    assert "higgs: present, contents checked" in capsys.readouterr().out
