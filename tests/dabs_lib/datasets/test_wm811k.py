import math

import numpy as np
import pytest
import torch

from dabs_lib.datasets import cache, wm811k
from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError
from dabs_lib.datasets.splits import dabs_shuffle
from dabs_lib.embeddings import MultiEmbedding
from tests.dabs_lib.datasets.miniature_more import WAFER_TYPES, wafer_rows, write_wm811k


def test_wm811k_maps_labels_and_splits(tmp_path):
    write_wm811k(tmp_path, n=80)
    domain = wm811k.build(data_root=str(tmp_path))
    spec = domain.specs[0]
    assert (spec.input_size, spec.patch_size, spec.in_channels) == (32, 4, 3)
    task = domain.tasks["wm811k"]
    assert (task.kind, task.metric, task.num_classes) == ("multiclass", "f1_weighted", 9)
    maps, types = wafer_rows(80)
    labelled = np.flatnonzero([bool(t) for t in types])
    unlabelled = np.flatnonzero([not t for t in types])
    assert len(domain.pretrain) == math.ceil(0.9 * 40)
    assert sorted(domain.pretrain.rows.tolist()) == sorted(unlabelled[dabs_shuffle(40)][:36].tolist())
    assert task.test.rows.tolist() == labelled[dabs_shuffle(40)][36:].tolist()
    assert len(task.train) + len(task.val) == 36 and len(task.val) == 4
    (image,), label = task.test[1]
    row = int(task.test.rows[1])
    assert int(label) == WAFER_TYPES.index(types[row])
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32
    assert set(torch.unique(image).tolist()) <= {0.0, 0.5, 1.0}
    assert torch.equal(image[0], image[2])
    expected = torch.from_numpy(wm811k.resize_nearest(maps[row]).astype(np.float32) / 2)
    assert torch.equal(image[1], expected)
    assert int(domain.pretrain[0][1]) == -1
    tokens, _ = MultiEmbedding(domain.specs, 8)([image.unsqueeze(0)])
    assert tokens.shape == (1, 64, 8)


def test_resize_nearest_keeps_blocks():
    wafer = np.kron(np.array([[0, 1], [2, 1]], np.uint8), np.ones((8, 8), np.uint8))  # 16x16, four 8x8 blocks
    out = wm811k.resize_nearest(wafer)
    assert out.shape == (32, 32) and out[0, 0] == 0 and out[0, 31] == 1 and out[31, 0] == 2 and out[16, 16] == 1


def test_pickle_needs_opt_in(tmp_path, monkeypatch):
    folder = write_wm811k(tmp_path, n=40, pickle_too=True)
    (folder / "wm811k.npz").unlink()
    monkeypatch.delenv(wm811k.TRUST_ENV, raising=False)
    with pytest.raises(DatasetFileError, match=r"LSWMD.pkl.*pickle.*np.savez.*DABS_TUNE_TRUST_PICKLES"):
        wm811k.build(data_root=str(tmp_path))
    monkeypatch.setenv(wm811k.TRUST_ENV, "1")
    from_pickle = wm811k.build(data_root=str(tmp_path))
    write_wm811k(tmp_path / "other", n=40)
    from_npz = wm811k.build(data_root=str(tmp_path / "other"))
    assert from_pickle.tasks["wm811k"].test.labels.tolist() == from_npz.tasks["wm811k"].test.labels.tolist()
    assert torch.equal(from_pickle.tasks["wm811k"].test[0][0][0], from_npz.tasks["wm811k"].test[0][0][0])


def test_second_build_cached_missing_and_corrupt(tmp_path):
    with pytest.raises(ManualDownloadError, match="kaggle.com/datasets/qingyi/wm811k"):
        wm811k.build(data_root=str(tmp_path))
    folder = write_wm811k(tmp_path, n=40)
    wm811k.build(data_root=str(tmp_path))
    before = dict(cache.PREPROCESS_COUNT)
    wm811k.build(data_root=str(tmp_path), seed=5)
    assert dict(cache.PREPROCESS_COUNT) == before
    path = folder / "wm811k.npz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DatasetFileError, match="wm811k.npz"):
        wm811k.build(data_root=str(tmp_path))
    maps, types = wafer_rows(10)
    np.savez(
        path,
        maps=np.concatenate([m.ravel() for m in maps])[:-5],
        shapes=np.array([m.shape for m in maps]),
        failureType=np.array(types),
    )
    with pytest.raises(DatasetFileError, match="wm811k.npz.*do not agree"):
        wm811k.build(data_root=str(tmp_path))
