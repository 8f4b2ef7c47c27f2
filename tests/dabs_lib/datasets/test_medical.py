import numpy as np
import pytest
import torch
from PIL import Image

from dabs_lib.datasets import cache, medical
from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError
from tests.dabs_lib.datasets.miniature_media import write_chestx_ray8, write_chexpert


def test_chexpert_and_xray8_tasks(tmp_path):
    write_chexpert(tmp_path)
    write_chestx_ray8(tmp_path)
    domain = medical.build(data_root=str(tmp_path))
    assert (domain.specs[0].input_size, domain.specs[0].patch_size, domain.specs[0].in_channels) == (224, 16, 3)
    assert domain.pretrain_num_classes == 5 and domain.pretrain_metric == "auroc"
    chex, xray = domain.tasks["chexpert"], domain.tasks["chestx_ray8"]
    assert (chex.kind, chex.metric, chex.num_classes) == ("multilabel", "auroc", 5)
    assert (xray.kind, xray.metric, xray.num_classes) == ("multilabel", "auroc", 8)
    assert len(chex.train) + len(chex.val) == 20 and len(chex.test) == 4 and len(domain.pretrain) == 20
    assert len(xray.train) + len(xray.val) == 18 and len(xray.test) == 2
    (image,), label = chex.test[0]
    assert image.shape == (3, 224, 224) and image.dtype == torch.float32
    assert torch.equal(image[0], image[1]) and float(image.min()) >= 0 and float(image.max()) <= 1
    assert label.dtype == torch.float32 and label.shape == (5,)
    # Edema cycles 1.0, -1.0 (uncertain -> 0), 0.0, blank (-> 0); Atelectasis 1.0 on every first view.
    edema = medical.CHEXPERT_LABELS.index("Edema")
    assert chex.test.labels[:, edema].tolist() == [1, 0, 0, 0]
    assert chex.test.labels[:, 0].tolist() == [1, 1, 1, 1]


def test_validation_is_carved_by_patient(tmp_path):
    write_chexpert(tmp_path, train_patients=10)
    task = medical.build(data_root=str(tmp_path), seed=3).tasks["chexpert"]
    assert len(task.val) == 2  # one patient of ten, both views
    val_rows, train_rows = set(task.val.rows.tolist()), set(task.train.rows.tolist())
    assert all((r // 2 * 2 in val_rows) == (r // 2 * 2 + 1 in val_rows) for r in val_rows | train_rows)


def test_xray8_labels_and_dabs_order(tmp_path):
    write_chexpert(tmp_path)
    base = write_chestx_ray8(tmp_path, images=20)
    xray = medical.build(data_root=str(tmp_path)).tasks["chestx_ray8"]
    names = np.array(sorted(p.name for p in (base / "images").glob("*.png")))
    np.random.RandomState(42).shuffle(names)
    first_test = names[18]
    i = int(first_test[:8]) * 2 + int(first_test[9:12])
    expected = {1: ["Cardiomegaly", "Effusion"], 2: ["Mass"], 3: ["Nodule"]}.get(i % 4, [])
    assert [medical.XRAY8_LABELS[k] for k in np.flatnonzero(xray.test.labels[0])] == expected
    (image,), _ = xray.test[0]
    raw = np.asarray(Image.open(base / "images" / first_test).resize((224, 224), Image.BILINEAR)) / 255.0
    assert np.allclose(image[2].numpy(), raw, atol=1e-6)


def test_chexpert_errors_and_cache(tmp_path):
    with pytest.raises(ManualDownloadError, match="stanfordmlgroup"):
        medical.build(data_root=str(tmp_path))
    base = write_chexpert(tmp_path)
    medical.build(data_root=str(tmp_path))
    before = dict(cache.PREPROCESS_COUNT)
    medical.build(data_root=str(tmp_path), seed=5)
    assert dict(cache.PREPROCESS_COUNT) == before
    bad = base / "valid" / "patient64542" / "study1" / "view1_frontal.jpg"
    bad.write_bytes(bad.read_bytes()[:100])
    (base / "valid.csv").write_text((base / "valid.csv").read_text() + "\n")  # new csv size: rebuild
    with pytest.raises(DatasetFileError, match="patient64542"):
        medical.build(data_root=str(tmp_path))
