"""Progress of long work: one line per stage in a log (not a TTY), a redrawn bar on a terminal."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
import time
import zipfile

import numpy as np
import torch
from filelock import FileLock

from dabs_lib.datasets import cache
from dabs_lib.datasets.download import download_url, extract_archive, file_digest
from dabs_lib.domains.base import TensorSplit
from dabs_lib.progress import stage
from dabs_lib.transfer.features import LARGE_SPLIT, featurize
from tests.dabs_lib.datasets.test_download import PAYLOAD, server  # noqa: F401 (fixture)
from tests.dabs_lib.transfer.helpers import tiny_encoder


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_one_line_per_stage():
    log = io.StringIO()
    with stage("checking x", 3 * 2**20, "B", stream=log) as bar:
        for _ in range(3):
            bar.update(2**20)
    with stage("building", stream=log) as bar:
        bar.update(5)
    assert log.getvalue() == "checking x (3.0 MiB)\nbuilding\n"


def test_a_terminal_gets_a_redrawn_bar():
    screen = Terminal()
    with stage("featurizing", 100, "examples", stream=screen) as bar:
        for _ in range(4):
            bar.update(25)
    assert "\r" in screen.getvalue() and "featurizing" in screen.getvalue()
    assert "0/100" in screen.getvalue()  # tqdm redraws at most every 0.1 s


def test_disabled_stage_is_silent_everywhere():
    for stream in (io.StringIO(), Terminal()):
        with stage("quiet", 10, stream=stream, enabled=False) as bar:
            bar.update(10)
        assert stream.getvalue() == ""


def test_download_checksum_and_extraction_log_one_line_each(tmp_path, server, capsys):  # noqa: F811
    path = download_url(server + "/data.bin", tmp_path / "data.bin", sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert path.read_bytes() == PAYLOAD
    assert capsys.readouterr().err.splitlines() == [
        "downloading data.bin (100.0 KiB)",
        "checking the sha256 of data.bin (100.0 KiB)",
    ]
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as handle:
        for i in range(3):
            handle.writestr(f"d/{i}.txt", str(i))
    with tarfile.open(tmp_path / "b.tar.gz", "w:gz") as handle:
        handle.add(tmp_path / "data.bin", arcname="data.bin")
    extract_archive(tmp_path / "a.zip", tmp_path / "out")
    extract_archive(tmp_path / "b.tar.gz", tmp_path / "out")
    assert capsys.readouterr().err.splitlines() == ["extracting a.zip (3 files)", "extracting b.tar.gz (1 files)"]
    assert (tmp_path / "out" / "d" / "2.txt").read_text() == "2"
    assert file_digest(tmp_path / "out" / "data.bin", "md5") == hashlib.md5(PAYLOAD).hexdigest()


def test_preprocessing_logs_its_stage_once(tmp_path, capsys):
    def build(writer):
        writer.save("x", np.arange(5))

    cache.ensure_processed(tmp_path, "toy", "train", {"v": 1}, build)
    first = capsys.readouterr().err.splitlines()
    assert len(first) == 1 and first[0].startswith("preprocessing toy/train into ")
    cache.ensure_processed(tmp_path, "toy", "train", {"v": 1}, build)
    assert capsys.readouterr().err == ""  # reused: nothing to report


def test_the_cache_lock_is_a_portable_filelock(tmp_path):
    """A build waits for a lock held through `filelock` (what the cache itself uses)."""
    import ast
    from pathlib import Path

    source = Path(cache.__file__).read_text()
    imported = {a.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import) for a in n.names}
    assert "fcntl" not in imported
    key = cache.params_key({"v": 2})
    root = tmp_path / "toy" / "processed"
    root.mkdir(parents=True)
    built = []
    with FileLock(root / f".train-{key}.lock"):
        worker = threading.Thread(
            target=cache.ensure_processed,
            args=(tmp_path, "toy", "train", {"v": 2}, lambda w: built.append(w.save("x", np.ones(2)))),
        )
        worker.start()
        time.sleep(1.0)
        assert not built  # waiting for the lock
    worker.join(timeout=30)
    assert len(built) == 1


def test_featurizing_a_large_split_logs_one_line(capsys):
    x = torch.randn(LARGE_SPLIT, 4)
    split = TensorSplit((x,), torch.zeros(LARGE_SPLIT, dtype=torch.long), "big")
    featurize(tiny_encoder(), split, batch_size=2048, where="big/train")
    assert capsys.readouterr().err.splitlines() == [f"featurizing big/train ({LARGE_SPLIT} examples)"]
    featurize(tiny_encoder(), TensorSplit((x[:100],), torch.zeros(100, dtype=torch.long), "small"), where="small")
    assert capsys.readouterr().err == ""
