import pickle

import numpy as np
import pytest
import torch

from dabs_lib.datasets import cache, cifar
from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError
from tests.dabs_lib.datasets.miniature import write_cifar


@pytest.mark.parametrize("builder,size,patch", [(cifar.build, 224, 16), (cifar.build_small, 32, 4)])
def test_cifar_items_splits_and_metric(tmp_path, builder, size, patch):
    write_cifar(tmp_path, per_batch=12, test=20)
    domain = builder(seed=42, data_root=str(tmp_path))
    spec = domain.specs[0]
    assert (spec.input_size, spec.patch_size, spec.in_channels) == (size, patch, 3)
    assert len(domain.pretrain) == 60
    task = domain.tasks["cifar10"]
    assert (task.kind, task.metric, task.num_classes) == ("multiclass", "accuracy", 10)
    assert len(task.train) + len(task.val) == 60 and len(task.val) == 6 and len(task.test) == 20
    (image,), label = task.test[3]
    assert image.shape == (3, size, size) and image.dtype == torch.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert int(label) == 3  # labels follow the batch's label list
    assert domain.pretrain_num_classes == 10 and domain.supervised_task == "cifar10"


def test_cifar_pixels_follow_the_channel_planes(tmp_path):
    folder = write_cifar(tmp_path, per_batch=2, test=2)
    with open(folder / "test_batch", "rb") as handle:
        raw = pickle.load(handle)[b"data"][1]
    (image,), _ = cifar.build_small(data_root=str(tmp_path)).tasks["cifar10"].test[1]
    expected = raw.reshape(3, 32, 32).astype(np.float32) / 255.0  # R plane, G plane, B plane
    assert torch.allclose(image, torch.from_numpy(expected))


def test_val_split_is_seeded(tmp_path):
    write_cifar(tmp_path, per_batch=12, test=4)
    a = cifar.build_small(seed=1, data_root=str(tmp_path)).tasks["cifar10"].val.rows
    b = cifar.build_small(seed=1, data_root=str(tmp_path)).tasks["cifar10"].val.rows
    c = cifar.build_small(seed=2, data_root=str(tmp_path)).tasks["cifar10"].val.rows
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_second_build_does_no_preprocessing(tmp_path):
    write_cifar(tmp_path, per_batch=2, test=2)
    before = cache.PREPROCESS_COUNT["cifar10/arrays"]
    first = cifar.build(data_root=str(tmp_path))
    assert cache.PREPROCESS_COUNT["cifar10/arrays"] == before + 1
    folder = next((tmp_path / "cifar10" / "processed").glob("arrays-*"))
    mtime = (folder / cache.MARKER).stat().st_mtime_ns
    second = cifar.build_small(data_root=str(tmp_path))  # shares the processed arrays
    assert cache.PREPROCESS_COUNT["cifar10/arrays"] == before + 1
    assert (folder / cache.MARKER).stat().st_mtime_ns == mtime
    assert first.pretrain.fingerprint != second.pretrain.fingerprint  # same rows, different resize -> new inputs


def test_missing_batch_names_the_file_and_the_url(tmp_path):
    folder = write_cifar(tmp_path, per_batch=2, test=2)
    (folder / "data_batch_3").unlink()
    with pytest.raises(ManualDownloadError, match="data_batch_3") as info:
        cifar.build(data_root=str(tmp_path))
    assert "cifar-10-python.tar.gz" in str(info.value) and str(tmp_path / "cifar10") in str(info.value)


def test_truncated_batch_is_a_dataset_file_error_and_nothing_is_cached(tmp_path):
    folder = write_cifar(tmp_path, per_batch=2, test=2)
    data = (folder / "test_batch").read_bytes()
    (folder / "test_batch").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetFileError, match="test_batch"):
        cifar.build(data_root=str(tmp_path))
    processed = tmp_path / "cifar10" / "processed"
    assert not list(processed.glob("arrays-*")) and not list(processed.glob(".arrays-*.tmp-*"))
