"""`tabular`: sklearn's bundled Wisconsin breast-cancer table (569 rows, 30 features, no download).

Data: `sklearn.datasets.load_breast_cancer`, 30 real-valued cell-nucleus measurements per
row, label 1 = benign, 0 = malignant (212 malignant, 357 benign). Every feature is
standardized with the mean and std of the train rows. Input: TabularSpec(30) -> 30 tokens
(one per feature, as DABS embeds Higgs).

Splits (stratified per class, seeded by `seed`): 30% test (~171 rows), 15% carved from the
rest as val (~85), the remaining ~313 rows are train.
- pretraining: the train rows with their labels dropped (label -1).
- task `diagnosis`: binary (num_classes 1), accuracy, as DABS scores Higgs.
smoke: a seeded, stratified 40% subsample of the rows, split the same way.
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
from dabs_lib.specs import TabularSpec

SPEC = TabularSpec(num_features=30)
TEST_FRACTION = 0.30
VAL_FRACTION = 0.15
SMOKE_FRACTION = 0.40


def _load(seed: int, smoke: bool) -> tuple[np.ndarray, np.ndarray]:
    """(N, 30) float features and (N,) 0/1 labels; a stratified subsample when smoke."""
    from sklearn.datasets import load_breast_cancer  # imported here: scikit-learn is slow to import

    bunch = load_breast_cancer()
    features = bunch.data.astype(np.float64)
    labels = bunch.target.astype(np.int64)
    if smoke:
        rows = stratified_subsample(labels, SMOKE_FRACTION, seeded_rng(seed, "tabular/smoke"))
        features, labels = features[rows], labels[rows]
    return features, labels


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """The tabular domain; `data_root` is ignored (the data ship with scikit-learn)."""
    features_np, labels_np = _load(seed, smoke)
    index = stratified_split(labels_np, TEST_FRACTION, VAL_FRACTION, seed, "tabular")
    raw = torch.from_numpy(features_np)  # (N, 30) float64
    features = standardize(raw, raw[torch.as_tensor(index.train)], dims=(0,))
    inputs = (features,)
    labels = torch.from_numpy(labels_np)
    return Domain(
        name="tabular",
        specs=(SPEC,),
        pretrain=make_split(inputs, None, index.pretrain, "tabular/pretrain"),
        tasks={"diagnosis": make_task("tabular", "diagnosis", "binary", 1, inputs, labels, index)},
        supervised_task="diagnosis",
        batch_size=32 if smoke else 64,  # ~313 pretraining rows: 64 keeps about five steps per epoch
    )
