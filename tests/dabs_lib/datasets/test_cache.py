import os
import stat
import json
import pickle

import numpy as np
import pytest
import torch

from dabs_lib.datasets import cache
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.transforms import AsType


def _writer(values):
    def build(writer):
        writer.save("x", values)
        out = writer.create("y", (len(values), 2), np.float32)
        out[:] = 1.5
        writer.meta["n"] = len(values)

    return build


def test_build_once_then_reuse(tmp_path):
    params = {"version": 1}
    first = cache.ensure_processed(tmp_path, "toy", "a", params, _writer(np.arange(5)))
    count = cache.PREPROCESS_COUNT["toy/a"]
    second = cache.ensure_processed(tmp_path, "toy", "a", params, _writer(np.arange(99)))
    assert cache.PREPROCESS_COUNT["toy/a"] == count
    assert second.fingerprint == first.fingerprint and second.meta == {"n": 5}
    assert np.array_equal(second.load("x"), np.arange(5))
    assert json.loads((first.folder / cache.MARKER).read_text())["files"]["y.npy"]["shape"] == [5, 2]


def test_new_params_build_a_new_folder(tmp_path):
    a = cache.ensure_processed(tmp_path, "toy", "a", {"v": 1}, _writer(np.arange(3)))
    b = cache.ensure_processed(tmp_path, "toy", "a", {"v": 2}, _writer(np.arange(4)))
    assert a.folder != b.folder and len(b.load("x")) == 4


def test_folder_without_marker_is_rebuilt(tmp_path):
    done = cache.ensure_processed(tmp_path, "toy", "a", {}, _writer(np.arange(3)))
    (done.folder / cache.MARKER).unlink()  # as if the process died before writing the marker
    before = cache.PREPROCESS_COUNT["toy/a"]
    again = cache.ensure_processed(tmp_path, "toy", "a", {}, _writer(np.arange(7)))
    assert cache.PREPROCESS_COUNT["toy/a"] == before + 1
    assert np.array_equal(again.load("x"), np.arange(7)) and again.fingerprint != done.fingerprint


def test_truncated_array_is_rebuilt(tmp_path):
    done = cache.ensure_processed(tmp_path, "toy", "a", {}, _writer(np.arange(1000)))
    path = done.path("x")
    path.write_bytes(path.read_bytes()[:200])
    again = cache.ensure_processed(tmp_path, "toy", "a", {}, _writer(np.arange(1000)))
    assert np.array_equal(again.load("x"), np.arange(1000))


def test_interrupted_build_leaves_nothing_reusable(tmp_path):
    def crash(writer):
        writer.save("x", np.arange(3))
        raise KeyboardInterrupt  # killed mid-preprocessing

    with pytest.raises(KeyboardInterrupt):
        cache.ensure_processed(tmp_path, "toy", "a", {}, crash)
    processed = tmp_path / "toy" / "processed"
    assert [p.name for p in processed.iterdir() if not p.name.endswith(".lock")] == []
    done = cache.ensure_processed(tmp_path, "toy", "a", {}, _writer(np.arange(2)))
    assert np.array_equal(done.load("x"), np.arange(2))


def test_stale_temporary_folder_is_removed(tmp_path):
    folder = tmp_path / "toy" / "processed"
    done = cache.ensure_processed(tmp_path, "toy", "a", {}, _writer(np.arange(2)))
    stale = folder / f".{done.folder.name}.tmp-dead"
    stale.mkdir()
    (done.folder / cache.MARKER).unlink()
    cache.ensure_processed(tmp_path, "toy", "a", {}, _writer(np.arange(2)))
    assert not stale.exists()


def test_memmap_split_items_subset_fingerprint_and_pickle(tmp_path):
    done = cache.ensure_processed(tmp_path, "toy", "a", {}, _writer(np.arange(10)))
    fields = (Field(str(done.path("x")), transform=AsType("float32")), Field(str(done.path("y"))))
    split = MemmapSplit("toy", fields, np.arange(10), np.arange(10) % 3, done.fingerprint)
    (x, y), label = split[4]
    assert x.dtype == torch.float32 and float(x) == 4.0 and y.shape == (2,) and int(label) == 1
    sub = split.subset([7, 8], "toy/sub")
    assert len(sub) == 2 and float(sub[0][0][0]) == 7.0
    assert sub.fingerprint != split.fingerprint
    copy = pickle.loads(pickle.dumps(split))
    assert copy._arrays is None and copy.fingerprint == split.fingerprint and float(copy[9][0][0]) == 9.0


def test_windowed_field_reads_a_slice(tmp_path):
    def build(writer):
        writer.save("series", np.arange(40, dtype=np.float32).reshape(20, 2))

    done = cache.ensure_processed(tmp_path, "toy", "w", {}, build)
    split = MemmapSplit(
        "w", (Field(str(done.path("series")), window=5),), np.array([3]), np.array([0]), done.fingerprint
    )
    (window,), _ = split[0]
    assert window.shape == (5, 2) and float(window[0, 0]) == 6.0


def test_corrupt_npy_names_the_file(tmp_path):
    done = cache.ensure_processed(tmp_path, "toy", "a", {}, _writer(np.arange(4)))
    path = done.path("x")
    path.write_bytes(b"\x00" * path.stat().st_size)  # same size, garbage header
    split = MemmapSplit("toy", (Field(str(path)),), np.arange(4), np.zeros(4), done.fingerprint)
    with pytest.raises(DatasetFileError, match="x.npy"):
        split[0]


@pytest.mark.parametrize("umask, dir_mode, file_mode", [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)])
def test_processed_folders_follow_the_umask(tmp_path, umask, dir_mode, file_mode):
    previous = os.umask(umask)
    try:
        done = cache.ensure_processed(tmp_path, "toy", "a", {}, _writer(np.arange(3)))
    finally:
        os.umask(previous)
    for folder in (tmp_path / "toy", tmp_path / "toy" / "processed", done.folder):
        assert stat.S_IMODE(folder.stat().st_mode) == dir_mode, folder
    for path in done.folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == file_mode, path
