"""Captioned images: MSCOCO 2017 pretraining; mismatched caption and VQA v1 (binary) transfer.

Inputs: a 3x224x224 image in [0, 1] (patch 16, 196 tokens; see captioned.py for DABS's
resize/crop) and 32 caption tokens ([CLS] text [SEP], padded), BERT-uncased's tokenizer when
`<data_root>/bert-base-uncased/tokenizer.json` exists, else a WordPiece trained once on the
train2017 captions (tokenizer.py says how that differs from DABS).

MSCOCO (`<data_root>/mscoco/`: train2017/, val2017/, annotations/captions_{train,val}2017.json):
images in order of their first caption, each with its last caption (as DABS's dict). DABS
also kept only images with an instance label (instances_*.json); we keep every captioned
image and pretraining is unlabelled. Mismatched caption (binary, accuracy): label 1 when the
image keeps its own caption, 0 when swapped, as DABS: random.Random(42) marks each image
swapped with probability 1/2 and the swapped captions are rolled by randint(1, k - 1) among
the k swapped images (DABS's randint(1, k) could roll by k, giving every image its own
caption back). train2017 is train (validation carved with the builder's seed), val2017 test.

VQA v1 (optional, `<data_root>/vqa/`): MultipleChoice_mscoco_{train,val}2014_questions.json,
mscoco_{train,val}2014_annotations.json and COCO's train2014/, val2014/ images. As DABS, the
tokens are the pair (question, answer) and the label says whether the answer is right:
questions whose answer is not among their choices are dropped, and with probability 1/2
(random.Random(42), DABS's was unseeded) the answer is replaced by a wrong choice (label 0).
"""

from __future__ import annotations

import json
import random

import numpy as np

from dabs_lib.datasets.cache import ensure_processed, source_signature
from dabs_lib.datasets.captioned import RowMapSplit, caption_tokenizer, store_coco_images
from dabs_lib.datasets.catalog_text import BERT_TOKENIZER, MSCOCO, VQA
from dabs_lib.datasets.common import make_task, optional_task, resolve_root, shrink
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.memmap import Field
from dabs_lib.datasets.splits import DABS_SEED
from dabs_lib.datasets.textfiles import read_text
from dabs_lib.datasets.tokenizer import encode, pad_id
from dabs_lib.datasets.transforms import AsType, Image
from dabs_lib.domains.base import Domain, TransferTask
from dabs_lib.specs import Image2dSpec, TokensSpec
from dabs_lib.datasets.cache import ArrayWriter
from dabs_lib.datasets.cache import Processed
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:  # for annotations only
    from tokenizers import Tokenizer

SEQ_LEN = 32
SMOKE_IMAGES = 40  # smoke builds decode this many images (or questions) per split


def _load_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise DatasetFileError(path, f"is not valid JSON ({error.msg} at line {error.lineno}; truncated?)") from error


def read_captions(path: Path, limit: int | None) -> tuple[list[str], list[str], list[str]]:
    """(image file names, one caption each (the last), every caption) of a captions_*.json."""
    data = _load_json(path)
    try:
        files = {image["id"]: image["file_name"] for image in data["images"]}
        last = {}
        for note in data["annotations"]:
            last[note["image_id"]] = note["caption"].strip()
        every = [note["caption"] for note in data["annotations"]]
    except (KeyError, TypeError) as error:
        raise DatasetFileError(
            path, f"must hold images (id, file_name) and annotations (image_id, caption): {error!r}"
        ) from error
    ids = list(last)[:limit]
    missing = [i for i in ids if i not in files]
    if missing:
        raise DatasetFileError(path, f"annotation for image id {missing[0]} has no entry in images")
    return [files[i] for i in ids], [last[i] for i in ids], every


def swap_plan(n: int, seed: int = DABS_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(caption row of each image (n,), label (n,) 1 = own caption, 0 = swapped)."""
    rng = random.Random(seed)
    swapped = [i for i in range(n) if rng.random() < 0.5]
    source = np.arange(n)
    if len(swapped) > 1:
        roll = rng.randint(1, len(swapped) - 1)
        source[swapped] = swapped[roll:] + swapped[:roll]
    labels = (source == np.arange(n)).astype(np.int64)
    return source, labels


def _coco_part(root: str | Path, part: str, tokenizer: Tokenizer, tokenizer_id: str, limit: int | None) -> Processed:
    folder = MSCOCO.folder(root)
    captions = folder / "annotations" / f"captions_{part}.json"
    files, texts, _ = read_captions(captions, limit)

    def build(writer: ArrayWriter) -> None:
        store_coco_images(writer, "images", [folder / part / f for f in files])
        writer.save("captions", encode(tokenizer, texts, SEQ_LEN))

    params = {
        "version": 1,
        "tokenizer": tokenizer_id,
        "seq_len": SEQ_LEN,
        "limit": limit,
        "source": source_signature([captions]),
    }
    return ensure_processed(root, MSCOCO.name, part, params, build)


def _fields(processed: Processed, tokens: str) -> tuple[Field, Field]:
    return (
        Field(str(processed.path("images")), transform=Image(224)),
        Field(str(processed.path(tokens)), transform=AsType("int64")),
    )


def _mismatched(processed: Processed, name: str, smoke: bool) -> RowMapSplit:
    n = processed.marker["files"]["images.npy"]["shape"][0]
    source, labels = swap_plan(n)
    return shrink(
        RowMapSplit(
            name, _fields(processed, "captions"), np.arange(n), labels, processed.fingerprint, (np.arange(n), source)
        ),
        smoke,
    )


def vqa_questions(
    root: str | Path, split: str, limit: int | None
) -> tuple[list[str], np.ndarray, list[tuple[str, str]], np.ndarray]:
    """(image file names, unique image rows per question, (question, answer) pairs, labels)."""
    folder = VQA.folder(root)
    questions = _load_json(folder / f"MultipleChoice_mscoco_{split}2014_questions.json")
    answers = _load_json(folder / f"mscoco_{split}2014_annotations.json")
    try:
        index = {q["question_id"]: (q["question"], q["multiple_choices"]) for q in questions["questions"]}
        notes = [(a["question_id"], a["image_id"], a["multiple_choice_answer"]) for a in answers["annotations"]]
    except (KeyError, TypeError) as error:
        raise DatasetFileError(folder, f"VQA questions/annotations lack a field ({error!r})") from error
    rng, images, pairs, labels, image_rows = random.Random(DABS_SEED), {}, [], [], []
    for qid, image_id, answer in notes[:limit]:
        question, choices = index[qid]
        if answer not in choices:
            continue
        label = 1
        if rng.random() < 0.5:
            answer, label = rng.choice([c for c in choices if c != answer]), 0
        image_rows.append(images.setdefault(image_id, len(images)))
        pairs.append((question, answer))
        labels.append(label)
    files = [f"{split}2014/COCO_{split}2014_{i:012d}.jpg" for i in images]
    return files, np.asarray(image_rows, np.int64), pairs, np.asarray(labels, np.int64)


def _vqa(root: str | Path, tokenizer: Tokenizer, tokenizer_id: str, seed: int, smoke: bool) -> dict[str, TransferTask]:
    splits = []
    for split in ("train", "val"):
        files, image_rows, pairs, labels = vqa_questions(root, split, SMOKE_IMAGES if smoke else None)

        def build(writer: ArrayWriter, files: list[str] = files, pairs: list[tuple[str, str]] = pairs) -> None:
            store_coco_images(writer, "images", [VQA.folder(root) / f for f in files])
            writer.save("tokens", encode(tokenizer, pairs, SEQ_LEN))

        params = {
            "version": 1,
            "tokenizer": tokenizer_id,
            "seq_len": SEQ_LEN,
            "smoke": smoke,
            "source": source_signature([VQA.folder(root) / r for r in VQA.required[:4]]),
        }
        processed = ensure_processed(root, VQA.name, split, params, build)
        rows = np.arange(len(labels))
        splits.append(
            shrink(
                RowMapSplit(
                    f"vqa/{split}",
                    _fields(processed, "tokens"),
                    rows,
                    labels,
                    processed.fingerprint,
                    (image_rows, rows),
                ),
                smoke,
            )
        )
    return {"vqa": make_task("vqa", "binary", "accuracy", 1, splits[0], splits[1], seed)}


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """MSCOCO -> mismatched caption, VQA v1 binary; image 224 patch 16 + caption 32 tokens."""
    root = resolve_root(data_root)
    folder = MSCOCO.check(root)
    limit = SMOKE_IMAGES if smoke else None
    train_captions = folder / "annotations" / "captions_train2017.json"
    corpus = read_captions(train_captions, None)[2]
    tokenizer, tokenizer_id = caption_tokenizer(
        root, BERT_TOKENIZER.folder(root) / "tokenizer.json", MSCOCO.name, corpus, source_signature([train_captions])
    )
    train = _coco_part(root, "train2017", tokenizer, tokenizer_id, limit)
    test = _coco_part(root, "val2017", tokenizer, tokenizer_id, limit)
    n = train.marker["files"]["images.npy"]["shape"][0]
    pretrain = shrink(
        RowMapSplit(
            "mscoco/pretrain",
            _fields(train, "captions"),
            np.arange(n),
            np.full(n, -1),
            train.fingerprint,
            (np.arange(n), np.arange(n)),
        ),
        smoke,
    )
    tasks = {
        "mismatched_caption": make_task(
            "mismatched_caption",
            "binary",
            "accuracy",
            1,
            _mismatched(train, "mismatched_caption/train", smoke),
            _mismatched(test, "mismatched_caption/test", smoke),
            seed,
        )
    }
    tasks.update(optional_task(_vqa, VQA, root, root, tokenizer, tokenizer_id, seed, smoke) or {})
    specs = (
        Image2dSpec(input_size=224, patch_size=16, in_channels=3),
        TokensSpec(seq_len=SEQ_LEN, vocab_size=tokenizer.get_vocab_size(), pad_id=pad_id(tokenizer)),
    )
    return Domain(name="mscoco", specs=specs, pretrain=pretrain, tasks=tasks, batch_size=64)
