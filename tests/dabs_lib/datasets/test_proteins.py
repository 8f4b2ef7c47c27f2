import json
import math

import numpy as np
import pytest
import torch

from dabs_lib.datasets import cache, proteins
from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError
from dabs_lib.datasets.jsonrecords import iter_records
from dabs_lib.datasets.splits import dabs_shuffle
from dabs_lib.embeddings import MultiEmbedding
from tests.dabs_lib.datasets.miniature_more import write_proteins

EXPECTED = {
    "pfam": ("multiclass", "accuracy", 4),
    "remote_homology": ("multiclass", "accuracy", 1195),
    "secondary_structure": ("per_token", "accuracy", 3),
    "stability": ("regression", "spearman", 1),
    "fluorescence": ("regression", "spearman", 1),
}


def test_proteins_domain_tokens_labels_splits(tmp_path):
    write_proteins(tmp_path)
    domain = proteins.build(data_root=str(tmp_path))
    spec = domain.specs[0]
    assert (spec.seq_len, spec.vocab_size, spec.pad_id) == (128, 27, 0)
    assert {n: (t.kind, t.metric, t.num_classes) for n, t in domain.tasks.items()} == EXPECTED
    assert len(domain.pretrain) == 60 and domain.pretrain_num_classes == 4
    records = json.loads((tmp_path / "pfam" / "pfam" / "pfam_train.json").read_text())
    (tokens,), label = domain.pretrain[5]
    seq = records[5]["primary"][:128]
    assert tokens.dtype == torch.int64 and tokens.shape == (128,)
    assert tokens[: len(seq)].tolist() == [1 + proteins.AMINO_ACIDS.index(a) for a in seq]
    assert (tokens[len(seq) :] == 0).all() and int(label) == [3, 7, 11, 20].index(records[5]["clan"])
    # Pfam transfer: pfam_valid shuffled with seed 42, head ceil 90% / tail floor 10%, clan 99 (row 0) dropped.
    pfam = domain.tasks["pfam"]
    order = dabs_shuffle(50)
    head = math.ceil(0.9 * 50)
    assert sorted(pfam.test.rows.tolist()) == sorted(r for r in order[head:].tolist() if r != 0)
    assert len(pfam.train) + len(pfam.val) == head - (0 in order[:head])
    MultiEmbedding(domain.specs, 8)([tokens.unsqueeze(0)])


def test_per_token_and_regression_labels(tmp_path):
    write_proteins(tmp_path)
    domain = proteins.build(data_root=str(tmp_path))
    ss = domain.tasks["secondary_structure"]
    assert len(ss.train) + len(ss.val) == 30 and len(ss.test) == 10 and len(ss.val) == 3
    (tokens,), labels = ss.test[0]
    length = int((tokens != 0).sum())
    assert labels.shape == (128,) and labels.dtype == torch.int64
    assert (labels[length:] == -100).all() and set(labels[:length].tolist()) <= {0, 1, 2}
    assert ss.ignore_index == -100
    stab = domain.tasks["stability"]
    _, value = stab.test[3]
    assert value.dtype == torch.float32 and abs(float(value) - round(3 / 7, 4)) < 1e-6
    folds = [int(domain.tasks["remote_homology"].test[i][1]) for i in range(3)]
    assert folds == [0, 5, 1194]


def test_optional_tasks_are_skipped_and_second_build_is_cached(tmp_path):
    write_proteins(tmp_path)
    (tmp_path / "stability" / "stability" / "stability_valid.json").unlink()
    domain = proteins.build(data_root=str(tmp_path), seed=1)
    assert "stability" not in domain.tasks and "fluorescence" in domain.tasks
    before = dict(cache.PREPROCESS_COUNT)
    again = proteins.build(data_root=str(tmp_path), seed=1)
    assert dict(cache.PREPROCESS_COUNT) == before
    assert np.array_equal(again.tasks["pfam"].val.rows, domain.tasks["pfam"].val.rows)
    other = proteins.build(data_root=str(tmp_path), seed=2)
    assert not np.array_equal(other.tasks["pfam"].val.rows, domain.tasks["pfam"].val.rows)


def test_missing_and_truncated_files(tmp_path):
    with pytest.raises(ManualDownloadError, match="pfam.tar.gz"):
        proteins.build(data_root=str(tmp_path))
    write_proteins(tmp_path)
    path = tmp_path / "fluorescence" / "fluorescence" / "fluorescence_train.json"
    path.write_text(path.read_text()[:-60])
    with pytest.raises(DatasetFileError, match="fluorescence_train.json.*truncated"):
        proteins.build(data_root=str(tmp_path))
    write_proteins(tmp_path)
    path = tmp_path / "pfam" / "pfam" / "pfam_train.json"
    path.write_text(path.read_text().replace('"primary": "', '"primary": "8', 1))
    with pytest.raises(DatasetFileError, match="pfam_train.json.*letter"):
        proteins.build(data_root=str(tmp_path))


def test_iter_records_streams_arrays_and_lines(tmp_path, monkeypatch):
    from dabs_lib.datasets import jsonrecords

    monkeypatch.setattr(jsonrecords, "CHUNK_CHARS", 7)  # force records to straddle buffer refills
    path = tmp_path / "a.json"
    records = [{"primary": "AR" * i, "x": [i, {"y": "]"}]} for i in range(20)]
    path.write_text(json.dumps(records, indent=2))
    assert list(iter_records(path)) == records
    assert list(iter_records(path, limit=3)) == records[:3]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert list(iter_records(path)) == records
    path.write_text(json.dumps(records)[:-1])
    with pytest.raises(DatasetFileError, match="a.json.*not closed|a.json.*truncated"):
        list(iter_records(path))
