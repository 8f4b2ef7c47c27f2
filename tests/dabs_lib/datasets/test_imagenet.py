import logging
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from dabs_lib.datasets import cifar, dataset_status, imagenet
from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError
from tests.dabs_lib.datasets.miniature import write_cifar
from tests.dabs_lib.datasets.miniature_media import write_imagenet


@pytest.fixture
def root(tmp_path):
    write_cifar(tmp_path, per_batch=2, test=2)
    write_imagenet(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "builder,size,pretrain,classes",
    [
        (cifar.build, 224, "imagenet/pretrain", 3),
        (cifar.build_small, 32, "cifar10_small/pretrain", 10),
    ],
)
def test_imagenet_pretrains_the_224_domain_only(root, builder, size, pretrain, classes):
    domain = builder(data_root=str(root))
    assert domain.pretrain.name == pretrain and domain.pretrain_num_classes == classes
    assert len(domain.pretrain) == (9 if classes == 3 else 10)
    (image,), label = domain.pretrain[len(domain.pretrain) - 1]
    assert image.shape == (3, size, size) and image.dtype == torch.float32 and label.dtype == torch.int64
    assert float(image.min()) >= 0 and float(image.max()) <= 1
    assert domain.tasks["cifar10"].num_classes == 10 and domain.supervised_task == "cifar10"


def test_labels_follow_sorted_class_folders_and_pixels_the_other_sets(root):
    split, classes = imagenet.pretrain_split(root, 224, smoke=False)
    assert classes == 3 and split.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert split.files[3] == b"n01530575/n01530575_1.JPEG"  # the second wnid in sorted order
    (image,), label = split[3]
    assert int(label) == 1 and torch.equal(image[0], image[1])  # a grayscale JPEG is repeated to RGB
    path = root / "imagenet" / "train" / "n01530575" / "n01530575_2.JPEG"
    raw = np.asarray(Image.open(path).convert("RGB").resize((224, 224), Image.BILINEAR)) / 255.0
    assert np.allclose(split[4][0][0].permute(1, 2, 0).numpy(), raw, atol=1e-6)


def test_fingerprint_subset_and_pickling(root):
    split, _ = imagenet.pretrain_split(root, 224, smoke=False)
    again, _ = imagenet.pretrain_split(root, 224, smoke=False)
    small, _ = imagenet.pretrain_split(root, 32, smoke=False)
    assert split.fingerprint == again.fingerprint != small.fingerprint
    part = split.subset(np.array([8, 0]), "imagenet/two")
    assert part.name == "imagenet/two" and part.labels.tolist() == [2, 0] and part.fingerprint != split.fingerprint
    copy = pickle.loads(pickle.dumps(part))  # DataLoader workers get a pickled split
    assert torch.equal(copy[0][0][0], part[0][0][0])


def test_missing_imagenet_logs_and_keeps_cifar10(tmp_path, caplog):
    write_cifar(tmp_path, per_batch=2, test=2)
    present, how = dataset_status("cifar10", str(tmp_path))
    assert present and "[optional] imagenet:" in how and "ILSVRC2012_img_train.tar" in how
    with caplog.at_level(logging.WARNING):
        domain = cifar.build(data_root=str(tmp_path))
    assert domain.pretrain.name == "cifar10/pretrain" and domain.pretrain_num_classes == 10
    assert "pretraining on CIFAR-10" in caplog.text and "image-net.org/download-images" in caplog.text
    write_imagenet(tmp_path)
    with caplog.at_level(logging.INFO):
        cifar.build(data_root=str(tmp_path))
    assert "pretraining on ImageNet, 9 images of 3 classes" in caplog.text


def test_missing_folder_is_a_manual_download_error(tmp_path):
    with pytest.raises(ManualDownloadError, match="image-net.org/download-images") as info:
        imagenet.pretrain_split(tmp_path, 224, smoke=False)
    message = str(info.value)
    assert "ILSVRC2012_img_train.tar" in message and str(tmp_path / "imagenet" / "train" / "n01440764") in message


def test_unextracted_class_archives_and_a_broken_jpeg(tmp_path):
    train = tmp_path / "imagenet" / "train"
    train.mkdir(parents=True)
    (train / "n01440764.tar").write_bytes(b"")
    with pytest.raises(DatasetFileError, match="no class folders.*n01440764.tar -> n01440764/"):
        imagenet.pretrain_split(tmp_path, 224, smoke=False)
    write_imagenet(tmp_path)
    bad = train / "n02102040" / "n02102040_2.JPEG"
    bad.write_bytes(bad.read_bytes()[:60])
    split, _ = imagenet.pretrain_split(tmp_path, 224, smoke=False)
    with pytest.raises(DatasetFileError, match="n02102040_2.JPEG"):
        split[7]
