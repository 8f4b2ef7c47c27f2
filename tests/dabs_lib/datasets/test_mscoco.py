import json

import pytest
import torch

from dabs_lib.datasets import cache, mscoco
from dabs_lib.datasets.captioned import coco_image
from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError
from dabs_lib.datasets.tokenizer import encode, load_tokenizer
from dabs_lib.embeddings import MultiEmbedding
from tests.dabs_lib.datasets.miniature_more import write_mscoco, write_vqa


@pytest.fixture
def coco_root(tmp_path):
    write_mscoco(tmp_path)
    write_vqa(tmp_path)
    return tmp_path


def _tokenizer(root):
    (path,) = (root / "mscoco" / "processed").glob("wordpiece-*/tokenizer.json")
    return load_tokenizer(path)


def test_pretrain_items_and_mismatched_caption(coco_root):
    domain = mscoco.build(data_root=str(coco_root))
    image_spec, text_spec = domain.specs
    assert (image_spec.input_size, image_spec.patch_size, text_spec.seq_len, text_spec.pad_id) == (224, 16, 32, 0)
    assert len(domain.pretrain) == 12 and domain.pretrain_num_classes is None
    (image, caption), label = domain.pretrain[3]
    assert image.shape == (3, 224, 224) and image.dtype == torch.float32 and int(label) == -1
    expected = coco_image(coco_root / "mscoco" / "train2017" / f"{1000 + 21:012d}.jpg")
    assert torch.allclose(image, torch.from_numpy(expected.copy()).permute(2, 0, 1).float() / 255)
    tokenizer = _tokenizer(coco_root)
    notes = json.loads((coco_root / "mscoco" / "annotations" / "captions_train2017.json").read_text())["annotations"]
    last = [n["caption"] for n in notes if n["image_id"] == 1021][-1]
    assert caption.tolist() == encode(tokenizer, [last], 32)[0].tolist()
    tokens, _ = MultiEmbedding(domain.specs, 8)([image.unsqueeze(0), caption.unsqueeze(0)])
    assert tokens.shape == (1, 196 + 32, 8)
    task = domain.tasks["mismatched_caption"]
    assert (task.kind, task.metric, task.num_classes) == ("binary", "accuracy", 1)
    assert len(task.train) + len(task.val) == 12 and len(task.test) == 6
    source, labels = mscoco.swap_plan(6)
    assert task.test.labels.tolist() == labels.tolist() and 0 < labels.sum() < 6
    own = [mscoco.swap_plan(6)[0][i] == i for i in range(6)]
    assert own == [bool(v) for v in labels]
    captions = [task.test[i][0][1] for i in range(6)]
    assert len({tuple(c.tolist()) for c in captions}) == 6  # a permutation: every caption used once


def test_val_images_follow_first_caption_order(coco_root):
    files, texts, every = mscoco.read_captions(coco_root / "mscoco" / "annotations" / "captions_val2017.json", None)
    notes = json.loads((coco_root / "mscoco" / "annotations" / "captions_val2017.json").read_text())["annotations"]
    first_seen = list(dict.fromkeys(n["image_id"] for n in notes))
    assert files == [f"{i:012d}.jpg" for i in first_seen] and len(every) == 12
    assert all("caption" in t for t in texts)


def test_vqa_pairs_labels_and_images(coco_root):
    domain = mscoco.build(data_root=str(coco_root))
    task = domain.tasks["vqa"]
    assert (task.kind, task.metric, task.num_classes) == ("binary", "accuracy", 1)
    assert len(task.test) == 10 and len(task.train) + len(task.val) == 10  # answers not among the choices dropped
    files, image_rows, pairs, labels = mscoco.vqa_questions(coco_root, "val", None)
    assert task.test.labels.tolist() == labels.tolist() and set(labels.tolist()) == {0, 1}
    tokenizer = _tokenizer(coco_root)
    (image, tokens), label = task.test[4]
    assert tokens.tolist() == encode(tokenizer, [pairs[4]], 32)[0].tolist()
    assert int((tokens == tokenizer.token_to_id("[SEP]")).sum()) == 2
    expected = coco_image(coco_root / "vqa" / files[image_rows[4]])
    assert torch.allclose(image, torch.from_numpy(expected.copy()).permute(2, 0, 1).float() / 255)


def test_second_build_cached_and_errors(coco_root):
    mscoco.build(data_root=str(coco_root), smoke=True)
    before = dict(cache.PREPROCESS_COUNT)
    again = mscoco.build(data_root=str(coco_root), smoke=True)
    assert dict(cache.PREPROCESS_COUNT) == before and len(again.pretrain) == 12
    path = coco_root / "mscoco" / "val2017" / f"{5000 + 14:012d}.jpg"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(DatasetFileError, match=f"{5014:012d}.jpg"):
        mscoco.build(data_root=str(coco_root))
    path = coco_root / "mscoco" / "annotations" / "captions_train2017.json"
    path.write_text(path.read_text()[:-30])
    with pytest.raises(DatasetFileError, match="captions_train2017.json.*truncated"):
        mscoco.build(data_root=str(coco_root))


def test_missing_says_where(tmp_path):
    with pytest.raises(ManualDownloadError, match="train2017.zip"):
        mscoco.build(data_root=str(tmp_path))
