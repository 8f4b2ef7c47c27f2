"""The planted signal of each synthetic domain is really there, and only where it was planted.

Each test fits a logistic regression on a hand-crafted feature that reads the planted
structure (it must beat chance by a wide margin) and, where the generator promises it, on
a feature that ignores that structure (it must stay near chance).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from dabs_lib.domains import captions, get_domain, tokens


def probe_accuracy(features, task, c: float = 1.0) -> float:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    model.fit(features(task.train), task.train.labels.numpy())
    return float(model.score(features(task.test), task.test.labels.numpy()))


def word_counts(split) -> np.ndarray:
    ids = split.inputs[0].numpy()
    counts = np.zeros((len(ids), tokens.SPEC.vocab_size))
    np.add.at(counts, (np.arange(len(ids))[:, None], ids), 1)
    return counts[:, 1:]  # padding dropped


def category_pairs(split) -> np.ndarray:
    """How often each two of the 8 categories occur together: products of category counts."""
    category_of = np.zeros(tokens.SPEC.vocab_size, dtype=np.int64) - 1
    for category, ids in enumerate(tokens.categories(42)):
        category_of[ids] = category
    ids = split.inputs[0].numpy()
    counts = np.stack([((category_of[ids] == k) & (ids != 0)).sum(1) for k in range(tokens.NUM_CATEGORIES)], 1)
    upper = np.triu_indices(tokens.NUM_CATEGORIES, k=1)
    return (counts[:, :, None] * counts[:, None, :])[:, upper[0], upper[1]].astype(float)


def test_tokens_class_lives_in_category_co_occurrence_not_in_word_counts():
    task = get_domain("tokens").tasks["topic_pair"]  # 7 classes: chance 0.14
    assert probe_accuracy(category_pairs, task) > 0.85
    assert probe_accuracy(word_counts, task) < 0.3


def relative_phase(split) -> np.ndarray:
    """cos and sin of each channel's phase relative to channel 0 at the dominant frequency."""
    spectrum = np.fft.rfft(split.inputs[0].numpy(), axis=1)  # (N, F, C)
    peak = np.abs(spectrum[:, 1:16]).sum(-1).argmax(1) + 1
    at_peak = spectrum[np.arange(len(peak)), peak]  # (N, C)
    relative = at_peak * np.conj(at_peak[:, :1])
    relative /= np.maximum(np.abs(relative), 1e-9)
    return np.concatenate([relative.real[:, 1:], relative.imag[:, 1:]], axis=1)


def per_channel_statistics(split) -> np.ndarray:
    """What each channel does on its own: mean, std and amplitude spectrum."""
    x = split.inputs[0].numpy()
    spectrum = np.abs(np.fft.rfft(x, axis=1))[:, :16]
    return np.concatenate([x.mean(1), x.std(1), spectrum.reshape(len(x), -1)], axis=1)


def test_sensor_activity_lives_in_cross_channel_phase_only():
    task = get_domain("sensor").tasks["activity"]  # 6 classes: chance 0.17
    assert probe_accuracy(relative_phase, task) > 0.9
    assert probe_accuracy(per_channel_statistics, task) < 0.3


def formant_centroids(split) -> np.ndarray:
    """Per frame, the energy-weighted mel bin of the low and of the high half of the spectrum."""
    power = np.exp(split.inputs[0].numpy()[:, 0])  # (N, mels, frames)
    bins = np.arange(power.shape[1])[None, :, None]
    half = power.shape[1] // 2
    low = (power[:, :half] * bins[:, :half]).sum(1) / power[:, :half].sum(1)
    high = (power[:, half:] * bins[:, half:]).sum(1) / power[:, half:].sum(1)
    return np.concatenate([low, high], axis=1)


def average_spectrum(split) -> np.ndarray:
    return split.inputs[0].numpy()[:, 0].mean(2)  # (N, mels): time order thrown away


def test_speech_word_is_a_trajectory_and_speaker_a_timbre():
    domain = get_domain("speech")
    word, speaker = domain.tasks["word"], domain.tasks["speaker"]  # chance 0.1 and 0.125
    assert probe_accuracy(formant_centroids, word) > 0.85
    assert probe_accuracy(average_spectrum, speaker) > 0.8
    assert probe_accuracy(average_spectrum, word) < 0.5  # order matters more than content


def colour_agreement(split) -> np.ndarray:
    """Caption says colour k (0/1) x how strongly the image shows colour k, for 5 colours."""
    images, captions_ = split.inputs[0].numpy(), split.inputs[1].numpy()
    rgb = np.array(list(captions.COLOURS.values()))
    likeness = np.einsum("kc,ncp->nkp", rgb - rgb.mean(0), images.reshape(len(images), 3, -1))
    shown = np.sort(likeness, axis=-1)[..., -8:].mean(-1)  # (N, 5): the 8 most colour-like pixels
    said = np.stack([(captions_ == captions.WORD_ID[c]).any(1) for c in captions.COLOURS], 1)
    return np.concatenate([said * shown, said, shown], axis=1)


def image_pixels(split) -> np.ndarray:
    return split.inputs[0].numpy().reshape(len(split), -1)


def test_captions_mismatch_needs_the_pairing_of_words_and_pixels():
    task = get_domain("captions").tasks["mismatched"]  # binary: chance 0.5
    assert probe_accuracy(colour_agreement, task) > 0.8
    assert probe_accuracy(image_pixels, task, c=0.01) < 0.6  # the image alone says nothing
