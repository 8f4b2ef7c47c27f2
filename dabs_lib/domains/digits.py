"""`digits`: sklearn's bundled 8x8 handwritten digits (1,797 images, no download).

Data: `sklearn.datasets.load_digits`, pixel values 0..16, divided by 16 to [0, 1], then
standardized with one mean and one std (the single channel's) computed on the pretraining
split. Input: Image2dSpec(input_size=8, patch_size=2, in_channels=1) -> 16 tokens.

Splits (stratified per class, seeded by `seed`): 30% of every class is test; 15% of every
class is carved from the rest as val; the remaining ~55% is train. Every task uses these
same rows, filtered by class, so no test or val row is ever pretrained on.
- pretraining: the train rows of classes 0-4 only, unlabelled (~490 rows): the encoder
  never sees a 5, 6, 7, 8 or 9.
- task `novel` (default search target): classes 5-9 relabelled 0-4, multiclass accuracy;
  ~495 train / ~135 val / ~270 test. It asks whether what was learnt on five digits
  transfers to five unseen ones.
- task `all`: the ten classes, multiclass accuracy; ~990 train / ~270 val / ~540 test.
smoke: a seeded, stratified 25% subsample of the 1,797 images, split the same way.
"""

from __future__ import annotations

import numpy as np
import torch

from dabs_lib.domains.base import Domain
from dabs_lib.domains.splits import (
    make_split,
    make_task,
    seeded_rng,
    standardize,
    stratified_split,
    stratified_subsample,
)
from dabs_lib.specs import Image2dSpec

SPEC = Image2dSpec(input_size=8, patch_size=2, in_channels=1)
PRETRAIN_CLASSES = (0, 1, 2, 3, 4)  # what the encoder may see; 5-9 are the novel classes
TEST_FRACTION = 0.30
VAL_FRACTION = 0.15
SMOKE_FRACTION = 0.25


def _load(seed: int, smoke: bool) -> tuple[np.ndarray, np.ndarray]:
    """(N, 8, 8) float pixels in [0, 1] and (N,) labels; a stratified subsample when smoke."""
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    bunch = load_digits()
    images = bunch.images.astype(np.float32) / 16.0
    labels = bunch.target.astype(np.int64)
    if smoke:
        rows = stratified_subsample(labels, SMOKE_FRACTION, seeded_rng(seed, "digits/smoke"))
        images, labels = images[rows], labels[rows]
    return images, labels


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """The digits domain; `data_root` is ignored (the data ship with scikit-learn)."""
    images, labels_np = _load(seed, smoke)
    index = stratified_split(labels_np, TEST_FRACTION, VAL_FRACTION, seed, "digits")
    seen = np.isin(labels_np, PRETRAIN_CLASSES)
    pretrain_rows = index.train[seen[index.train]]
    raw = torch.from_numpy(images).unsqueeze(1)  # (N, 1, 8, 8)
    pixels = standardize(raw, raw[torch.as_tensor(pretrain_rows)], dims=(0, 1, 2, 3))
    labels = torch.from_numpy(labels_np)
    inputs = (pixels,)
    novel_labels = torch.where(torch.from_numpy(~seen), labels - len(PRETRAIN_CLASSES), -1)
    tasks = {
        "novel": make_task(
            "digits", "novel", "multiclass", 10 - len(PRETRAIN_CLASSES), inputs, novel_labels, index.restrict(~seen)
        ),
        "all": make_task("digits", "all", "multiclass", 10, inputs, labels, index),
    }
    return Domain(
        name="digits",
        specs=(SPEC,),
        pretrain=make_split(inputs, None, pretrain_rows, "digits/pretrain"),
        tasks=tasks,
        supervised_task="novel",  # the twin trains on the search target (approximation error)
        batch_size=32 if smoke else 128,  # ~490 pretraining rows: 128 keeps a few steps per epoch
    )
