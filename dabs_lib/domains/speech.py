"""`speech`: synthesized vowel-sequence "words" said by "speakers" with their own timbre.

Waveforms: 4 kHz, 1,984 samples (~0.5 s), additive (harmonic) synthesis of a voiced source
shaped by two formants, then log-mel spectrograms with torchaudio
(MelSpectrogram n_fft 256, hop 64, 32 mels over 40..2000 Hz -> 32 x 32; AmplitudeToDB power,
top_db 80 per clip) and one z-score for the whole dataset (mean and std of the pretraining
split), as DABS z-scores each speech dataset. Input: Image2dSpec(input_size=32, patch_size=8,
in_channels=1) -> 16 tokens (rows are mel bins, low frequencies first; columns are frames).

Two independent factors (labels balanced and drawn independently):
- word (10 classes): an ordering of the same four vowels (F1, F2 in Hz) a (730, 1100),
  e (500, 1450), i (290, 1750), u (320, 800); the 10 words are 10 of the 24 orderings,
  chosen by `seed`. Each vowel owns a quarter of the utterance: its formants hold for the
  first 90% of it and glide linearly to the next vowel's over the last 10%. Every word holds
  every vowel for the same time, so the time-averaged spectrum differs between words only
  through the short glides (which vowels are neighbours) and the fades at both ends: the
  order of the vowels over time is what tells words apart.
- speaker (8 classes): timbre, i.e. a base pitch (100..220 Hz, log-spaced), a vocal-tract
  formant scale (0.88..1.12, multiplies F1 and F2) and a spectral tilt (harmonic k weighted
  k^-tilt, tilt 0.2..0.9), each spread evenly over the speakers in a seeded order.
Per-utterance nuisance (identical laws for every class): pitch x exp(N(0, 0.04^2)); each
formant x exp(N(0, 0.03^2)); a linear pitch glide of slope U(-0.3, 0.3) over the utterance;
duration U(0.75, 0.9) of the clip at a random onset (silence around it; fade-in and fade-out
over 2% of the utterance); gain
exp(U(log 0.5, log 2)); white noise with std U(0.03, 0.15) x the clip's voiced RMS.
Harmonics (up to 26) weighted by Gaussian formant resonances (bandwidths 90 and 120 Hz,
gains 1 and 0.6, floor 0.02); harmonics at or above 1.95 kHz are dropped (no aliasing).

What pretraining finds (measured; embed 64, depth 4, lr 1e-3, training seeds 0 and 1): a
random-init encoder's probe reaches 0.24-0.26 on `word` (chance 0.1), ShED after 600 steps
0.46-0.50 (0.50 after 800), masked prediction after 400 steps 0.34-0.41; e-Mix stays at
random init. `speaker` is mostly timbre, which even random features show (0.77-0.81;
0.83-0.85 pretrained).

Sizes (full): pretraining 2,000 clips (train + 1,000 extra, unlabelled); tasks `word`
(default, 10 classes) and `speaker` (8 classes), both multiclass accuracy on the same rows:
1,000 train / 200 val / 400 test. smoke: pretraining 160 (96 + 64), 32 val, 48 test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from torch.nn import functional as F

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
from dabs_lib.specs import Image2dSpec

SAMPLE_RATE = 4000
NUM_SAMPLES = 1984  # 1 + 1984 // 64 = 32 frames
NUM_MELS = 32
SPEC = Image2dSpec(input_size=NUM_MELS, patch_size=8, in_channels=1)
VOWELS = np.array([[730.0, 1100.0], [500.0, 1450.0], [290.0, 1750.0], [320.0, 800.0]])  # (4, 2) F1, F2
NUM_WORDS = 10
NUM_SPEAKERS = 8
MAX_HARMONICS = 26  # covers the lowest voice (~78 Hz after jitter and glide) up to TOP_HARMONIC_HZ
TOP_HARMONIC_HZ = 1950.0  # just under Nyquist (2 kHz): no harmonic aliases
BANDWIDTHS = (90.0, 120.0)
GAINS = (1.0, 0.6)
GLIDE = 0.1  # fraction of a vowel's time spent gliding to the next one
RAMP = 0.02  # fade-in and fade-out, as a fraction of the utterance
FULL = SplitSizes(train=1000, val=200, test=400, extra=1000)
SMOKE = SplitSizes(train=96, val=32, test=48, extra=64)
CHUNK = 256  # clips synthesized at once; bounds memory to CHUNK x MAX_HARMONICS x NUM_SAMPLES
COARSE = 32  # samples between two evaluations of the (slowly varying) harmonic weights


def words(seed: int) -> np.ndarray:
    """(NUM_WORDS, 4) vowel indices: the order in which each word says the four vowels."""
    orders = np.array(list(itertools.permutations(range(len(VOWELS)))))
    return orders[np.sort(seeded_rng(seed, "speech/words").choice(len(orders), NUM_WORDS, replace=False))]


def speakers(seed: int) -> np.ndarray:
    """(NUM_SPEAKERS, 3) base pitch (Hz), formant scale, spectral tilt: each spread evenly."""
    rng = seeded_rng(seed, "speech/speakers")
    pitch = np.geomspace(100.0, 220.0, NUM_SPEAKERS)[rng.permutation(NUM_SPEAKERS)]
    scale = np.linspace(0.88, 1.12, NUM_SPEAKERS)[rng.permutation(NUM_SPEAKERS)]
    tilt = np.linspace(0.2, 0.9, NUM_SPEAKERS)[rng.permutation(NUM_SPEAKERS)]
    return np.stack([pitch, scale, tilt], axis=1)


def _draw_params(word: np.ndarray, speaker: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Per-clip synthesis parameters, one row per clip (every draw done here, before chunking)."""
    rng = seeded_rng(seed, "speech/clips")
    n = len(word)
    voice = speakers(seed)[speaker]  # (N, 3)
    duration = rng.uniform(0.75, 0.9, n)
    formants = VOWELS[words(seed)[word]] * voice[:, 1, None, None]  # (N, 4 vowels, 2)
    return {
        "pitch": voice[:, 0] * np.exp(rng.normal(0, 0.04, n)),
        "tilt": voice[:, 2],
        "formants": formants * np.exp(rng.normal(0, 0.03, (n, 1, 2))),
        "glide": rng.uniform(-0.3, 0.3, n),
        "duration": duration,
        "onset": rng.uniform(0, 1, n) * (1 - duration),
        "gain": np.exp(rng.uniform(np.log(0.5), np.log(2), n)),
        "noise_level": rng.uniform(0.03, 0.15, n),
        "noise": rng.normal(0, 1, (n, NUM_SAMPLES)),
    }


def _formant_track(r: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(B, T, 2) formants: each of the 4 vowels (B, 4, 2) held for a quarter of the utterance,
    gliding linearly to the next vowel over the last GLIDE fraction of its quarter."""
    position = np.clip(r * 4, 0, 4 - 1e-9)  # (B, T), in vowel slots
    vowel = np.floor(position).astype(np.int64)  # which slot we are in, 0..3
    frac = np.clip((position - vowel - (1 - GLIDE)) / GLIDE, 0, 1)[..., None]  # (B, T, 1)
    at = lambda i: np.take_along_axis(centres, i[..., None], axis=1)  # noqa: E731, (B, T, 2)
    return at(vowel) * (1 - frac) + at(np.minimum(vowel + 1, 3)) * frac


def _harmonic_weights(r: np.ndarray, f0: np.ndarray, k: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """(B, K, T') amplitude of harmonics k (1, K, 1) over coarse time: formants x tilt, no aliasing."""
    track = _formant_track(r, p["formants"])  # (B, T', 2) F1, F2 over time
    freq = k * f0[:, None, :]  # (B, K, T')
    # clamp the exponent: far-off harmonics would otherwise make subnormal floats (very slow)
    resonance = sum(
        g * np.exp(-np.minimum(((freq - track[:, None, :, j]) / bw) ** 2 / 2, 30))
        for j, (g, bw) in enumerate(zip(GAINS, BANDWIDTHS))
    )
    return (resonance + 0.02) * k ** (-p["tilt"][:, None, None]) * (freq < TOP_HARMONIC_HZ)


def _synthesize(p: dict[str, np.ndarray]) -> torch.Tensor:
    """(B, NUM_SAMPLES) waveforms from a chunk of parameters.

    Per-clip timelines are cheap numpy work; only the (B, K, T) harmonic bank runs in torch.
    """
    t = np.arange(NUM_SAMPLES) / NUM_SAMPLES  # clip time in [0, 1)
    r = (t[None, :] - p["onset"][:, None]) / p["duration"][:, None]  # (B, T) utterance time
    envelope = np.clip(r / RAMP, 0, 1) * np.clip((1 - r) / RAMP, 0, 1)  # zero outside [0, 1]
    r = np.clip(r, 0, 1)
    f0 = p["pitch"][:, None] * (1 + p["glide"][:, None] * (r - 0.5))  # (B, T) Hz
    phase = torch.from_numpy(2 * np.pi * np.cumsum(f0, axis=1) / SAMPLE_RATE).float()  # (B, T)
    # harmonics above TOP_HARMONIC_HZ weigh exactly 0: skip them (low voices need the most)
    k = np.arange(1, min(MAX_HARMONICS, math.ceil(TOP_HARMONIC_HZ / f0.min())) + 1)[None, :, None]
    # timbre changes slowly: weigh harmonics every COARSE samples, then interpolate linearly
    coarse = _harmonic_weights(r[:, COARSE // 2 :: COARSE], f0[:, COARSE // 2 :: COARSE], k, p)
    weights = F.interpolate(torch.from_numpy(coarse).float(), size=NUM_SAMPLES, mode="linear")  # (B, K, T)
    harmonics = torch.sin(torch.from_numpy(k).float() * phase[:, None, :])  # (B, K, T)
    voiced = (weights * harmonics).sum(1).double().numpy() * envelope  # (B, T)
    rms = np.sqrt((voiced**2).sum(1) / np.maximum((envelope**2).sum(1), 1))  # voiced RMS, (B,)
    wave = (voiced + (p["noise_level"] * rms)[:, None] * p["noise"]) * p["gain"][:, None]
    return torch.from_numpy(wave).float()


def generate(word: np.ndarray, speaker: np.ndarray, seed: int) -> torch.Tensor:
    """(N, 1, NUM_MELS, 32) log-mel spectrograms in dB (before the dataset z-score)."""
    import torchaudio  # imported here: only this domain needs it

    params = _draw_params(word, speaker, seed)
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=SAMPLE_RATE, n_fft=256, hop_length=64, n_mels=NUM_MELS, f_min=40.0, f_max=2000.0
    )
    to_db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=80.0)
    # chunks of similar lowest pitch, so each chunk synthesizes only the harmonics it needs
    order = np.argsort(params["pitch"] * (1 - np.abs(params["glide"]) / 2), kind="stable")
    out = torch.empty(len(word), 1, NUM_MELS, NUM_SAMPLES // 64 + 1)
    for start in range(0, len(word), CHUNK):
        rows = order[start : start + CHUNK]
        power = mel(_synthesize({k: v[rows] for k, v in params.items()}))  # (B, mels, frames)
        out[torch.as_tensor(rows)] = to_db(power.unsqueeze(1))  # 4-D input: top_db cut per clip
    return out


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """The synthetic speech domain; `data_root` is ignored."""
    sizes = SMOKE if smoke else FULL
    word = balanced_labels(sizes.total, NUM_WORDS, seeded_rng(seed, "speech/word_labels"))
    speaker = balanced_labels(sizes.total, NUM_SPEAKERS, seeded_rng(seed, "speech/speaker_labels"))
    index = random_split(sizes, seed, "speech")
    raw = generate(word, speaker, seed)
    inputs = (standardize(raw, raw[torch.as_tensor(index.pretrain)], dims=(0, 1, 2, 3)),)
    tasks = {
        "word": make_task("speech", "word", "multiclass", NUM_WORDS, inputs, torch.from_numpy(word), index),
        "speaker": make_task("speech", "speaker", "multiclass", NUM_SPEAKERS, inputs, torch.from_numpy(speaker), index),
    }
    return Domain(
        name="speech",
        specs=(SPEC,),
        pretrain=make_split(inputs, None, index.pretrain, "speech/pretrain"),
        tasks=tasks,
        supervised_task="word",
        batch_size=32 if smoke else 128,  # 16 tokens per clip: 128 clips cost what 64 sequences of 32 do
    )
