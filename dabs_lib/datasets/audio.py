"""Audio -> DABS's 1x224x224 log-mel spectrogram, computed once into a float16 memmap.

Per clip (as DABS): first channel, padded with silence or cropped to 150,526 samples;
mel spectrogram with n_fft 2048, hop 672 (224 frames), 224 mel bands at the file's own
sample rate (librosa's defaults: Slaney mel scale and norm, Hann window, constant
padding); power -> dB (10 log10, 80 dB floor below the clip's peak); then a per-dataset
z-score with the mean and std of the training clips' dB values, applied on read.

Differences, on purpose: audio is decoded with soundfile and transformed with torchaudio
instead of librosa; clips longer than 150,526 samples keep their first part (DABS chose
the side at random for training clips); DABS took power_to_db of the *squared* power,
doubling every dB value (a defect; z-scoring removes the scale but not its 40 dB floor).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile
import torch
import torchaudio

from dabs_lib.datasets.errors import DatasetFileError, not_a_file
from dabs_lib.datasets.cache import ArrayWriter

MAX_SAMPLES = 150_526
N_FFT = 2048
HOP = 672
N_MELS = 224
TOP_DB = 80.0
BATCH = 16  # clips transformed at once
PARAMS = {"max_samples": MAX_SAMPLES, "n_fft": N_FFT, "hop": HOP, "n_mels": N_MELS, "top_db": TOP_DB, "version": 1}


def _check_wav(path: Path) -> None:
    """A RIFF/WAVE file whose data chunk runs past the end of the file is truncated."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return  # not plain RIFF: let soundfile decide
        offset = 12
        while offset + 8 <= size:
            handle.seek(offset)
            chunk, length = struct.unpack("<4sI", handle.read(8))
            if chunk == b"data":
                if offset + 8 + length > size:
                    raise DatasetFileError(
                        path, f"its data chunk needs {length} bytes but the file ends early (truncated)"
                    )
                return
            offset += 8 + length + (length & 1)


def read_audio(path: Path | str) -> tuple[np.ndarray, int]:
    """(first channel as float32, sample rate), via soundfile; bad files raise DatasetFileError."""
    path = Path(path)
    if not path.is_file():
        raise not_a_file(path, "an audio file")
    if path.suffix.lower() == ".wav":
        _check_wav(path)
    try:
        data, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.SoundFileError, RuntimeError) as error:
        raise DatasetFileError(path, f"cannot be decoded ({error})") from error
    return data[:, 0], int(rate)


def pad_or_crop(wave: np.ndarray) -> np.ndarray:
    """(MAX_SAMPLES,): the first MAX_SAMPLES samples, zero-padded at the end."""
    out = np.zeros(MAX_SAMPLES, dtype=np.float32)
    out[: min(len(wave), MAX_SAMPLES)] = wave[:MAX_SAMPLES]
    return out


@lru_cache(maxsize=8)
def _mel(rate: int) -> torch.nn.Module:
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=rate,
        n_fft=N_FFT,
        hop_length=HOP,
        n_mels=N_MELS,
        power=2.0,
        mel_scale="slaney",
        norm="slaney",
        pad_mode="constant",
    )


def log_mel(waves: np.ndarray, rate: int) -> np.ndarray:
    """(B, MAX_SAMPLES) waves -> (B, 1, 224, 224) dB, float32."""
    with torch.no_grad():
        power = _mel(rate)(torch.from_numpy(waves))  # (B, 224 mels, 224 frames)
        db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=TOP_DB)(power.unsqueeze(1))
    return db.numpy()


@dataclass
class Clips:
    """Audio files of one dataset, with a label and a part per file."""

    paths: list[Path]
    labels: np.ndarray  # (N,) int64
    parts: np.ndarray  # (N,) int8: 0 train, 1 val, 2 test, 3 pretraining only

    def __post_init__(self) -> None:
        assert len(self.paths) == len(self.labels) == len(self.parts)


def spectrogram_builder(clips: Clips) -> Callable[[ArrayWriter], None]:
    """A cache build function writing `spectrograms` (N, 1, 224, 224) float16, labels, parts, z-score stats."""

    def build(writer: ArrayWriter) -> None:
        out = writer.create("spectrograms", (len(clips.paths), 1, N_MELS, N_MELS), np.float16)
        total, total_sq, count = 0.0, 0.0, 0
        pending: dict[int, list[tuple[int, np.ndarray]]] = {}

        def flush(rate: int) -> None:
            nonlocal total, total_sq, count
            rows, waves = zip(*pending.pop(rate))
            specs = log_mel(np.stack(waves), rate)
            for row, spec in zip(rows, specs):
                out[row] = spec
                if clips.parts[row] in (0, 3):  # training clips set the z-score
                    total += float(spec.sum(dtype=np.float64))
                    total_sq += float(np.square(spec, dtype=np.float64).sum())
                    count += spec.size

        for row, path in enumerate(clips.paths):
            wave, rate = read_audio(path)
            pending.setdefault(rate, []).append((row, pad_or_crop(wave)))
            if len(pending[rate]) == BATCH:
                flush(rate)
        for rate in list(pending):
            flush(rate)
        mean = total / max(count, 1)
        writer.meta["mean"] = mean
        writer.meta["std"] = max((total_sq / max(count, 1) - mean * mean) ** 0.5, 1e-6)
        writer.save("labels", clips.labels.astype(np.int64))
        writer.save("parts", clips.parts.astype(np.int8))

    return build


def file_list_signature(paths: list[Path], base: Path) -> str:
    """A hash of the relative paths and sizes: part of the cache key."""
    import hashlib

    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path.relative_to(base)}:{path.stat().st_size}\n".encode())
    return f"{len(paths)}:{digest.hexdigest()[:16]}"
