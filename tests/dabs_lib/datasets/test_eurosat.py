import math

import numpy as np
import pytest
import torch

from dabs_lib.datasets import cache, eurosat
from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError
from dabs_lib.datasets.splits import dabs_shuffle
from dabs_lib.embeddings import MultiEmbedding
from tests.dabs_lib.datasets.miniature_more import write_eurosat


def test_eurosat_bands_splits_and_zscore(tmp_path):
    write_eurosat(tmp_path, per_class=10)
    domain = eurosat.build(data_root=str(tmp_path))
    spec = domain.specs[0]
    assert (spec.input_size, spec.patch_size, spec.in_channels, spec.num_tokens) == (64, 8, 13, 64)
    n = 100
    pre, transfer = math.ceil(0.9 * n), n - math.ceil(0.9 * n)
    assert len(domain.pretrain) == math.ceil(0.9 * pre)
    task = domain.tasks["eurosat"]
    assert (task.kind, task.metric, task.num_classes) == ("multiclass", "accuracy", 10)
    assert len(task.train) + len(task.val) == math.ceil(0.9 * transfer) and len(task.test) == 1
    order = dabs_shuffle(n)
    assert task.test.rows.tolist() == order[pre:][math.ceil(0.9 * transfer) :].tolist()
    row = int(task.test.rows[0])
    label, number = divmod(row, 10)  # files are class-major, numbered 1..10
    (bands,), y = task.test[0]
    assert bands.shape == (13, 64, 64) and bands.dtype == torch.float32 and int(y) == label
    mean, std = np.array(domain.pretrain.fields[0].transform.mean), np.array(domain.pretrain.fields[0].transform.std)
    raw = 1000 * np.arange(13) + 10 * label + number + 1
    assert np.allclose(bands[:, 0, 0].numpy(), (raw - mean) / std, atol=1e-4)
    pre_values = np.stack([domain.pretrain[i][0][0][:, 0, 0].numpy() for i in range(len(domain.pretrain))])
    assert np.allclose(pre_values.mean(0), 0, atol=1e-4) and np.allclose(pre_values.std(0), 1, atol=1e-3)
    tokens, _ = MultiEmbedding(domain.specs, 8)([bands.unsqueeze(0)])
    assert tokens.shape == (1, 64, 8)


def test_eurosat_second_build_and_bad_files(tmp_path):
    base = write_eurosat(tmp_path, per_class=3)
    eurosat.build(data_root=str(tmp_path))
    before = dict(cache.PREPROCESS_COUNT)
    eurosat.build(data_root=str(tmp_path), seed=3)
    assert dict(cache.PREPROCESS_COUNT) == before
    path = base / "River" / "River_2.tif"
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DatasetFileError, match="River_2.tif"):
        eurosat.build(data_root=str(tmp_path))
    import tifffile

    tifffile.imwrite(path, np.zeros((64, 64, 3), np.uint16))
    with pytest.raises(DatasetFileError, match="River_2.tif.*13 bands"):
        eurosat.build(data_root=str(tmp_path))
    for file in (base / "Forest").iterdir():
        file.unlink()
    with pytest.raises(DatasetFileError, match="Forest"):
        eurosat.build(data_root=str(tmp_path))


def test_eurosat_missing_says_where(tmp_path):
    with pytest.raises(ManualDownloadError, match="EuroSAT_MS.zip"):
        eurosat.build(data_root=str(tmp_path))
