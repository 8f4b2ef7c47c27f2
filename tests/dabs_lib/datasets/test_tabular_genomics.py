import math

import numpy as np
import pytest
import torch

from dabs_lib.datasets import cache, genomics, higgs
from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError
from tests.dabs_lib.datasets.miniature import write_genomics, write_higgs


def test_higgs_splits_follow_dabs(tmp_path):
    write_higgs(tmp_path, rows=200)
    domain = higgs.build(data_root=str(tmp_path))
    assert domain.specs[0].num_features == 28
    task = domain.tasks["higgs"]
    assert (task.kind, task.metric, task.num_classes) == ("binary", "accuracy", 1)
    # 200 rows: pretraining part = rows 0..179, transfer part = rows 180..199.
    assert len(domain.pretrain) == math.ceil(0.9 * 180)
    assert len(task.train) + len(task.val) == 18 and len(task.test) == 2
    expected_test = 180 + np.random.RandomState(42).permutation(20)[18:]
    assert sorted(float(task.test[i][0][0][0]) for i in range(2)) == sorted(expected_test.tolist())
    (features,), label = task.test[0]
    assert features.shape == (28,) and features.dtype == torch.float32
    assert int(label) == int(features[0]) % 2
    pre_rows = {int(domain.pretrain[i][0][0][0]) for i in range(len(domain.pretrain))}
    assert max(pre_rows) < 180


def test_higgs_truncated_gzip_and_second_build(tmp_path):
    path = write_higgs(tmp_path, rows=50)
    higgs.build(data_root=str(tmp_path))
    count = cache.PREPROCESS_COUNT["higgs/table"]
    higgs.build(data_root=str(tmp_path), smoke=True)
    assert cache.PREPROCESS_COUNT["higgs/table"] == count
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(DatasetFileError, match="HIGGS.csv.gz.*truncated"):
        higgs.build(data_root=str(tmp_path))


def test_higgs_missing_says_where(tmp_path):
    with pytest.raises(ManualDownloadError, match="00280/HIGGS.csv.gz"):
        higgs.build(data_root=str(tmp_path))


def test_genomics_tokens_labels_and_splits(tmp_path):
    folder = write_genomics(tmp_path)
    domain = genomics.build(data_root=str(tmp_path))
    spec = domain.specs[0]
    assert (spec.seq_len, spec.vocab_size, spec.pad_id) == (250, 5, 0)
    assert set(domain.tasks) == {"genomics_id", "genomics_ood"}
    ood = domain.tasks["genomics_ood"]
    assert (ood.kind, ood.metric, ood.num_classes) == ("multiclass", "accuracy", 60)
    assert len(ood.train) + len(ood.val) == 27 and len(ood.test) == 3 and len(domain.pretrain) == 36
    row = int(ood.test.rows[0])
    line = (folder / "genomicsTransferOOD.csv").read_text().splitlines()[1 + row]
    seq = line.split(",")[3][2:-1]
    (tokens,), label = ood.test[0]
    assert tokens.tolist() == ["_ACGT".index(b) for b in seq]
    assert int(label) == row % 60  # stored 10 + row % 60, shifted down by 10


def test_genomics_bad_rows(tmp_path):
    folder = write_genomics(tmp_path)
    path = folder / "genomicsTransferID.csv"
    path.write_text(path.read_text().replace("b'A", "b'N", 1))
    with pytest.raises(DatasetFileError, match="genomicsTransferID.csv.*ACGT"):
        genomics.build(data_root=str(tmp_path))
    write_genomics(tmp_path)
    text = path.read_text()
    path.write_text(text[: len(text) - 100])
    with pytest.raises(DatasetFileError, match="genomicsTransferID.csv"):
        genomics.build(data_root=str(tmp_path))
