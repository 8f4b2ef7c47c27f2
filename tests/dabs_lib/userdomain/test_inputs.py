"""The statistics that z-score a user's inputs, and the folder listing that finds the files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dabs_lib.userdomain.inputs import Stats
from dabs_lib.userdomain.rows import DomainDataError, IMAGE_SUFFIXES, _folder_files


def _stats(chunks: list[np.ndarray], keeps: list[np.ndarray], axis: int) -> dict:
    stats = Stats(axis)
    for chunk, keep in zip(chunks, keeps):
        stats.add(chunk, keep)
    return stats.result("x", "here")


@pytest.mark.parametrize("axis", [3, 1])
def test_uint8_histogram_matches_float_sums(axis):
    """Images are counted in a histogram; the result equals numpy's mean and std of the kept rows."""
    rng = np.random.default_rng(0)
    chunks = [rng.integers(0, 256, (n, 6, 5, 3) if axis == 3 else (n, 3, 7), dtype=np.uint8) for n in (9, 4, 11)]
    keeps = [rng.random(len(c)) < 0.6 for c in chunks]
    kept = np.concatenate([c[k] for c, k in zip(chunks, keeps)]).astype(np.float64)
    axes = tuple(a for a in range(kept.ndim) if a != axis)
    got = _stats(chunks, keeps, axis)
    assert np.allclose(got["mean"], kept.mean(axis=axes)) and np.allclose(got["std"], kept.std(axis=axes))
    as_float = _stats([c.astype(np.float32) for c in chunks], keeps, axis)
    assert np.allclose(got["mean"], as_float["mean"]) and np.allclose(got["std"], as_float["std"])


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_constant_or_empty_input_is_refused(dtype):
    with pytest.raises(DomainDataError, match="constant over every pretraining row"):
        _stats([np.full((4, 2, 2, 3), 7, dtype=dtype)], [np.ones(4, bool)], 3)
    with pytest.raises(DomainDataError, match="constant over every pretraining row"):
        _stats([np.arange(48, dtype=dtype).reshape(4, 2, 2, 3)], [np.zeros(4, bool)], 3)


def test_folder_listing_skips_hidden_and_sorts_like_paths(tmp_path):
    for name in ["b/2.png", "b/10.PNG", "a-b/1.png", "a/x/3.jpg", ".cache/4.png", "a/.5.png", "a/notes.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = _folder_files(tmp_path, IMAGE_SUFFIXES)
    expected = sorted(
        p.relative_to(tmp_path).parts
        for p in tmp_path.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and not any(s.startswith(".") for s in p.relative_to(tmp_path).parts)
    )
    assert found == expected == [("a", "x", "3.jpg"), ("a-b", "1.png"), ("b", "10.PNG"), ("b", "2.png")]
    assert [Path(*parts) for parts in found] == sorted(Path(*parts) for parts in found)


@pytest.mark.parametrize("save", ["savez", "savez_compressed"])
def test_npz_members_are_memory_mapped_when_stored(save, tmp_path):
    """np.savez members are mapped in place (memory stays flat while a large array is prepared);
    compressed ones are read; both give numpy's own values, Fortran order and text labels included."""
    from dabs_lib.userdomain.rows import _npz_arrays

    pixels = np.random.default_rng(0).integers(0, 256, (7, 4, 4, 3), dtype=np.uint8)
    arrays = {"x": pixels, "f": np.asfortranarray(np.arange(12.0).reshape(3, 4)), "y": np.array(["a", "bb", "c"])}
    getattr(np, save)(tmp_path / "d.npz", **arrays)
    got = _npz_arrays(tmp_path / "d.npz")
    assert sorted(got) == sorted(arrays)
    for key, value in arrays.items():
        assert np.array_equal(got[key], value) and got[key].dtype == value.dtype
    assert isinstance(got["x"], np.memmap) == (save == "savez")
