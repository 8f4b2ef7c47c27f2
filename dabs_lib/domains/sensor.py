"""`sensor`: synthetic PAMAP2-like windows whose activities differ only in cross-channel phase.

Input: Sequence1dSpec(seq_len=128, segment_size=4, in_channels=6) -> 32 tokens of 24 values.
Think of two 3-axis accelerometers sampled for 128 steps.

Every window of activity c, channel k (t = 0..127):
    x_k(t) = b_k + a_k * [sin(w t + phi + D_c[k]) + h * sin(2 w t + psi_k)] + noise
- w = 2 pi f / 128 with f ~ U(2, 6) cycles per window (the gait's cadence), shared by channels;
- phi ~ U(0, 2 pi): the window's start phase; b_k ~ N(0, 1): a gravity offset per channel;
- a_k = exp(U(log 0.5, log 2)): per-channel amplitude; h ~ U(0, 0.5) and psi_k ~ U(0, 2 pi):
  a class-independent second harmonic; noise ~ N(0, 0.5^2) i.i.d. per step and channel.
- D_c: the activity's phase offset per channel (D_c[0] = 0, the others ~ U(0, 2 pi)),
  seeded by `seed`, redrawn until every two activities differ by a mean (1 - cos) over
  channels of at least MIN_SEPARATION.
Every single channel therefore has the same distribution under every activity (same
cadence, amplitude, offset, harmonic and noise laws): per-channel statistics such as
means, variances or spectra carry no label. Only the relative phases between channels,
i.e. how the two limbs move together, tell activities apart.
Channels are z-scored with the per-channel mean and std of the pretraining split.

Sizes (full): pretraining 2,000 windows (train + 1,000 extra), labelled like PAMAP2's, so
the online probe runs; task `activity` (6 classes, multiclass accuracy) 1,000 train / 200 val
/ 400 test, balanced classes. smoke: pretraining 160 (96 train + 64 extra), 32 val, 48 test.
"""

from __future__ import annotations

import numpy as np
import torch

from dabs_lib.domains.base import Domain
from dabs_lib.domains.splits import (
    SplitSizes,
    balanced_labels,
    make_split,
    make_task,
    random_split,
    seeded_rng,
    standardize,
)
from dabs_lib.specs import Sequence1dSpec

SEQ_LEN = 128
CHANNELS = 6
SPEC = Sequence1dSpec(seq_len=SEQ_LEN, segment_size=4, in_channels=CHANNELS)
NUM_CLASSES = 6
NOISE_STD = 0.5
MIN_SEPARATION = 0.5  # mean over channels of 1 - cos(phase difference) between any two activities
FULL = SplitSizes(train=1000, val=200, test=400, extra=1000)
SMOKE = SplitSizes(train=96, val=32, test=48, extra=64)


def phase_offsets(seed: int) -> np.ndarray:
    """(NUM_CLASSES, CHANNELS) D_c in radians, channel 0 at 0, every pair of classes separated."""
    rng = seeded_rng(seed, "sensor/phases")
    while True:
        offsets = rng.uniform(0, 2 * np.pi, size=(NUM_CLASSES, CHANNELS))
        offsets[:, 0] = 0.0
        gaps = 1 - np.cos(offsets[:, None, :] - offsets[None, :, :]).mean(-1)  # (C, C)
        if gaps[~np.eye(NUM_CLASSES, dtype=bool)].min() >= MIN_SEPARATION:
            return offsets


def generate(labels: np.ndarray, seed: int) -> np.ndarray:
    """(N, SEQ_LEN, CHANNELS) float32 windows of activities `labels` (before z-scoring)."""
    rng = seeded_rng(seed, "sensor/windows")
    n = len(labels)
    offsets = phase_offsets(seed)[labels]  # (N, C)
    t = np.arange(SEQ_LEN)[None, :, None]  # (1, L, 1)
    omega = (2 * np.pi * rng.uniform(2, 6, size=n) / SEQ_LEN)[:, None, None]  # (N, 1, 1)
    phi = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
    base = rng.normal(0, 1, size=(n, 1, CHANNELS))
    amp = np.exp(rng.uniform(np.log(0.5), np.log(2), size=(n, 1, CHANNELS)))
    harmonic = rng.uniform(0, 0.5, size=(n, 1, 1))
    psi = rng.uniform(0, 2 * np.pi, size=(n, 1, CHANNELS))
    noise = rng.normal(0, NOISE_STD, size=(n, SEQ_LEN, CHANNELS))
    wave = np.sin(omega * t + phi + offsets[:, None, :]) + harmonic * np.sin(2 * omega * t + psi)
    return (base + amp * wave + noise).astype(np.float32)  # (N, L, C)


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """The synthetic sensor domain; `data_root` is ignored."""
    sizes = SMOKE if smoke else FULL
    labels_np = balanced_labels(sizes.total, NUM_CLASSES, seeded_rng(seed, "sensor/labels"))
    index = random_split(sizes, seed, "sensor")
    raw = torch.from_numpy(generate(labels_np, seed))
    windows = standardize(raw, raw[torch.as_tensor(index.pretrain)], dims=(0, 1))
    inputs = (windows,)
    labels = torch.from_numpy(labels_np)
    return Domain(
        name="sensor",
        specs=(SPEC,),
        pretrain=make_split(inputs, labels, index.pretrain, "sensor/pretrain"),
        tasks={"activity": make_task("sensor", "activity", "multiclass", NUM_CLASSES, inputs, labels, index)},
        pretrain_num_classes=NUM_CLASSES,
        supervised_task="activity",
        batch_size=32 if smoke else 64,  # DABS uses 256 for sensors; 64 keeps 300 steps within a CPU minute
    )
