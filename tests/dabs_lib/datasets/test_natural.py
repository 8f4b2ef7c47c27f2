import numpy as np
import pytest
import torch

from dabs_lib.datasets import cifar, natural
from dabs_lib.datasets.errors import DatasetFileError
from tests.dabs_lib.datasets.miniature import write_cifar
from tests.dabs_lib.datasets.miniature_media import (
    write_aircraft,
    write_cu_birds,
    write_dtd,
    write_traffic_sign,
    write_vgg_flower,
)

EXPECTED = {  # name -> (num_classes, train + val, val, test)
    "aircraft": (3, 12, 3, 6),
    "cu_birds": (200, 9, 1, 3),
    "dtd": (3, 9, 3, 3),
    "traffic_sign": (43, 43 * 4, 43 * 4 // 10 + 1, 43),
    "vgg_flower": (102, 7, 1, 3),
}


@pytest.fixture(scope="module")
def natural_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("natural")
    write_cifar(root, per_batch=4, test=4)
    for writer in (write_aircraft, write_cu_birds, write_dtd, write_traffic_sign, write_vgg_flower):
        writer(root)
    return root


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_transfer_sets(natural_root, name):
    domain = cifar.build_small(data_root=str(natural_root))
    task = domain.tasks[name]
    classes, train_val, val, test = EXPECTED[name]
    assert (task.kind, task.metric, task.num_classes) == ("multiclass", "accuracy", classes)
    assert (len(task.train) + len(task.val), len(task.test)) == (train_val, test)
    assert abs(len(task.val) - val) <= 1
    (image,), label = task.test[0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32 and 0 <= int(label) < classes


def test_aircraft_is_cropped_to_its_box(natural_root):
    task = cifar.build(data_root=str(natural_root)).tasks["aircraft"]
    (image,), _ = task.test[0]
    assert image.shape == (3, 224, 224) and float(image.min()) > 0.7  # only the bright box is left


def test_vgg_flower_split_follows_dabs(natural_root):
    paths, labels, parts, _, _ = natural.vgg_flower(natural_root / "vgg_flower")
    rng = np.random.RandomState(42)
    expected = []
    for members in ([0, 2, 7], [1, 4, 5, 9], [3, 6, 8]):  # classes 3, 1, 2 in order of first appearance
        order = np.arange(len(members))
        rng.shuffle(order)
        expected += [members[i] for i in order][int(0.8 * len(members)) :]
    test_files = sorted(p.name for p, part in zip(paths, parts) if part == 2)
    assert test_files == sorted(f"image_{i + 1:05d}.jpg" for i in expected)


def test_missing_list_file_and_broken_image(tmp_path):
    base = write_dtd(tmp_path)
    (base / "labels" / "val1.txt").unlink()
    with pytest.raises(DatasetFileError, match="val1.txt"):
        natural.transfer_task("dtd", tmp_path, 32, 0, False)
    write_dtd(tmp_path)
    (base / "images" / "dotted" / "dotted_0001.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DatasetFileError, match="dotted_0001.jpg"):
        natural.transfer_task("dtd", tmp_path, 32, 0, False)
