import numpy as np
import pytest
import torch

from dabs_lib.datasets import cache, pamap2
from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError
from tests.dabs_lib.datasets.miniature import write_pamap2


def test_pamap2_windows_splits_and_labels(tmp_path):
    write_pamap2(tmp_path, run=700)
    domain = pamap2.build(data_root=str(tmp_path))
    spec = domain.specs[0]
    assert (spec.seq_len, spec.segment_size, spec.in_channels, spec.num_tokens) == (320, 5, 52, 64)
    task = domain.tasks["pamap2"]
    assert (task.kind, task.metric, task.num_classes) == ("multiclass", "accuracy", 12)
    # A 700-row run: whole-run windows start at 0, 32, ..., 352 (12); validation is the last
    # 320 rows (1 window at 380); train windows end before row 380 (starts 0 and 32).
    per_run = {"pretrain": 12, "train": 2, "val": 1}
    assert len(domain.pretrain) == 7 * 2 * per_run["pretrain"]
    assert len(task.train) == 7 * 2 * per_run["train"] and len(task.val) == 7 * 2 * per_run["val"]
    assert len(task.test) == 2 * 12  # subject 5 only
    (window,), label = task.test[0]
    assert window.shape == (320, 52) and window.dtype == torch.float32
    assert not torch.isnan(window).any()  # interpolated, leading NaNs back-filled
    assert set(task.train.labels.tolist()) == {0, pamap2.ACTIVITY_IDS.index(17)}
    assert int(label) == 0


def test_pamap2_window_holds_the_file_rows(tmp_path):
    folder = write_pamap2(tmp_path, run=700)
    rows = np.loadtxt(folder / "subject105.dat")
    (window,), _ = pamap2.build(data_root=str(tmp_path)).tasks["pamap2"].test[1]
    expected = rows[15 + 32 : 15 + 32 + 320, 3:]  # second window of subject 5's first run, IMU columns
    assert np.allclose(window[:, 1:].numpy(), expected, atol=1e-5, equal_nan=False)
    assert np.allclose(window[:, 0].numpy()[:5], 105.0)  # heart rate, interpolated between samples


def test_pamap2_missing_subject_and_bad_file(tmp_path):
    folder = write_pamap2(tmp_path, run=700)
    (folder / "subject105.dat").unlink()
    with pytest.raises(ManualDownloadError, match="subject105.dat") as info:
        pamap2.build(data_root=str(tmp_path))
    assert "PAMAP2_Dataset.zip" in str(info.value)
    (folder / "subject105.dat").write_text("1 2 3\n4 5 6\n")
    with pytest.raises(DatasetFileError, match="subject105.dat.*54"):
        pamap2.build(data_root=str(tmp_path))


def test_pamap2_truncated_file_is_an_error_and_nothing_is_cached(tmp_path):
    folder = write_pamap2(tmp_path, run=700)
    text = (folder / "subject103.dat").read_text()
    (folder / "subject103.dat").write_text(text[: len(text) // 2 + 7])  # cut mid-line
    with pytest.raises(DatasetFileError, match="subject103.dat.*truncated"):
        pamap2.build(data_root=str(tmp_path))
    assert not list((tmp_path / "pamap2" / "processed").glob("windows-*"))


def test_pamap2_second_build_reuses_the_cache(tmp_path):
    write_pamap2(tmp_path, run=700)
    pamap2.build(data_root=str(tmp_path))
    count = cache.PREPROCESS_COUNT["pamap2/windows"]
    domain = pamap2.build(data_root=str(tmp_path), smoke=True)
    assert cache.PREPROCESS_COUNT["pamap2/windows"] == count
    assert len(domain.tasks["pamap2"].test) == 24
