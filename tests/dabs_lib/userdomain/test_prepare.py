"""Every input kind prepared from files in its real format, read back as a Domain; the cache keys on content."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from dabs_lib.datasets.cache import PREPROCESS_COUNT
from dabs_lib.domains import get_domain
from dabs_lib.userdomain import register
from dabs_lib.userdomain.load import build_user_domain, open_prepared
from dabs_lib.userdomain.prepare import prepare
from tests.dabs_lib.userdomain import files

SHAPES = {  # kind -> (spec kinds, shape of one pretraining item's inputs)
    "image": (("2d",), [(3, 12, 12)]),
    "image_array": (("2d",), [(1, 8, 8)]),
    "audio": (("2d",), [(1, 16, 16)]),
    "timeseries": (("1d",), [(32, 2)]),
    "tabular": (("tabular",), [(4,)]),
    "text": (("tokens",), [(12,)]),
    "multi": (("2d", "tokens"), [(1, 8, 8), (8,)]),
}


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_every_kind_prepares_into_a_domain(kind, tmp_path):
    path = files.write(kind, tmp_path / "data")
    name = register(path)
    prepare(path, str(tmp_path / "root"))
    domain = get_domain(name, data_root=str(tmp_path / "root"))
    kinds, shapes = SHAPES[kind]
    assert tuple(s.kind for s in domain.specs) == kinds
    inputs, label = domain.pretrain[0]
    assert [tuple(x.shape) for x in inputs] == shapes
    assert int(label) == -1
    task = next(iter(domain.tasks.values()))
    assert min(len(task.train), len(task.val), len(task.test)) >= 1
    labels = torch.stack([task.train[i][1] for i in range(len(task.train))])
    assert len(torch.unique(labels)) >= 2  # both classes in train
    continuous = [x for x, s in zip(inputs, domain.specs) if s.kind != "tokens"]
    for x in continuous:
        assert torch.isfinite(x).all() and x.dtype == torch.float32


def test_pretraining_rows_set_the_zscore(tmp_path):
    path = files.write("timeseries", tmp_path / "data")
    register(path)
    prepare(path, str(tmp_path / "root"))
    domain = build_user_domain("motion", str(tmp_path / "root"))
    stacked = torch.stack([domain.pretrain[i][0][0] for i in range(len(domain.pretrain))])  # (N, L, C)
    assert torch.allclose(stacked.mean(dim=(0, 1)), torch.zeros(2), atol=1e-4)
    assert torch.allclose(stacked.std(dim=(0, 1), unbiased=False), torch.ones(2), atol=1e-3)


def test_unchanged_data_is_prepared_once_and_an_edit_is_read_again(tmp_path):
    path = files.write("tabular", tmp_path / "data")
    root = str(tmp_path / "root")
    first = prepare(path, root)
    count = PREPROCESS_COUNT["measurements/measurements"]
    assert prepare(path, root).folder == first.folder
    assert PREPROCESS_COUNT["measurements/measurements"] == count
    table = tmp_path / "data" / "measurements.parquet"
    os.utime(table, ns=(table.stat().st_atime_ns, table.stat().st_mtime_ns + 10**9))  # an edited file
    second = prepare(path, root)
    assert second.folder != first.folder and PREPROCESS_COUNT["measurements/measurements"] == count + 1
    assert open_prepared("measurements", root).folder == second.folder


def test_labels_follow_the_declared_class_order(tmp_path):
    path = files.write("tabular", tmp_path / "data")
    prepare(path, str(tmp_path / "root"))
    processed = open_prepared("measurements", str(tmp_path / "root"))
    labels = processed.load("task_target", mmap=False)
    assert processed.meta["tasks"][0]["classes"] == ["no", "yes"]
    assert np.array_equal(labels, np.arange(40) % 2)  # row i is "yes" when i is odd


def test_series_from_per_row_csv_files_and_a_user_tokenizer(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    rng = np.random.default_rng(0)
    rows = ["recording,label,note"]
    for i in range(24):
        (tmp_path / f"r{i}.csv").write_text(
            "x,y\n" + "\n".join(f"{a:.3f},{b:.3f}" for a, b in rng.normal(size=(20, 2)))
        )
        rows.append(f"r{i}.csv,{'ab'[i % 2]},word{i % 3} word{i % 5}")
    (tmp_path / "index.csv").write_text("\n".join(rows) + "\n")
    vocab = {"[PAD]": 0, "[UNK]": 1, **{f"word{i}": i + 2 for i in range(5)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(tmp_path / "tok.json"))
    (tmp_path / "d.yaml").write_text(
        "inputs:\n  - {name: recording, kind: timeseries}\n"
        "  - {name: note, kind: text, seq_len: 4, tokenizer: tok.json}\n"
        "data: {table: index.csv}\ntasks:\n  - {name: label}\nsplit: {val: 0.25, test: 0.25}\n"
    )
    register(tmp_path / "d.yaml")
    prepare(tmp_path / "d.yaml", str(tmp_path / "root"))
    domain = get_domain("d", data_root=str(tmp_path / "root"))
    series, note = domain.pretrain[0][0]
    assert tuple(series.shape) == (20, 2) and domain.specs[0].segment_size == 1
    assert domain.specs[1].vocab_size == 7 and set(note.tolist()) <= set(range(7))


def test_the_decoding_pool_decodes_the_same_rows_and_reports_errors(tmp_path, monkeypatch):
    from dabs_lib.userdomain import prepare as prepare_module
    from dabs_lib.userdomain.rows import DomainDataError

    path = files.write("image", tmp_path / "data")
    register(path)
    serial = np.array(prepare(path, str(tmp_path / "serial")).load("input0"))
    monkeypatch.setattr(prepare_module, "POOL_MIN_ROWS", 1)
    monkeypatch.setattr("dabs_lib.userdomain.inputs.CHUNK", 3)  # several chunks in flight
    pooled = np.array(prepare(path, str(tmp_path / "pooled")).load("input0"))
    assert np.array_equal(serial, pooled)
    (tmp_path / "data/photos/dog/7.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DomainDataError, match="7.jpg: cannot be decoded as an image"):
        prepare(path, str(tmp_path / "broken"))
    assert not list((tmp_path / "broken").rglob("*.npy"))
