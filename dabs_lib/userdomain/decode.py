"""Decoding one file into one fixed-shape row: images, audio clips (log-mel), time series.

Imports numpy, PIL and soundfile only (no torch). Decoding runs in two threads (PIL, soundfile
and numpy's FFT release the GIL). Every problem is a DomainDataError naming the file (picklable).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dabs_lib.userdomain.rows import DomainDataError

TOP_DB = 80.0  # dB floor below a clip's peak, as DABS's spectrograms


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the header, without decoding the pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise DomainDataError(path, f"cannot be decoded as an image ({error})") from None


def decode_image(path: Path, size: int, channels: int, resize: bool) -> np.ndarray:
    """(size, size, channels) uint8; without `resize` the file must already be size x size."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            if not resize and image.size != (size, size):
                raise DomainDataError(
                    path,
                    f"is {image.size[0]}x{image.size[1]} pixels, but the first image is "
                    f"{size}x{size} (mixed image sizes): set the input's `size` to resize "
                    "every image",
                )
            image = image.convert("L" if channels == 1 else "RGB")
            if resize:
                image = image.resize((size, size), Image.BILINEAR)
            array = np.asarray(image, dtype=np.uint8)
    except DomainDataError:
        raise
    except (FileNotFoundError, IsADirectoryError):
        raise DomainDataError(path, "is missing (the table or folder names it)") from None
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
        raise DomainDataError(path, f"cannot be decoded as an image ({error})") from None
    return array[..., None] if array.ndim == 2 else array


@dataclass(frozen=True)
class AudioParams:
    rate: int  # every clip's sample rate
    samples: int  # kept per clip (clip_seconds * rate)
    size: int  # mel bands = frames = size
    hop: int
    n_fft: int
    fbank: Any  # (n_fft // 2 + 1, size) mel filter bank
    window: Any  # (n_fft,) periodic Hann window, float32


def audio_params(rate: int, clip_seconds: float, size: int) -> AudioParams:
    import torchaudio

    samples = max(size, round(clip_seconds * rate))
    hop = max(1, samples // size)
    n_fft = 2 ** math.ceil(math.log2(max(3 * hop, 2 * size, 64)))  # about 3 hops, as DABS's 2048 for hop 672
    fbank = torchaudio.functional.melscale_fbanks(
        n_fft // 2 + 1, 0.0, rate / 2, size, rate, norm="slaney", mel_scale="slaney"
    ).numpy()
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    return AudioParams(rate, samples, size, hop, n_fft, fbank, window)


def read_wave(path: Path) -> tuple[np.ndarray, int]:
    import soundfile

    try:
        data, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (FileNotFoundError, IsADirectoryError):
        raise DomainDataError(path, "is missing (the table or folder names it)") from None
    except (soundfile.SoundFileError, RuntimeError, ValueError) as error:
        raise DomainDataError(path, f"cannot be decoded as audio ({error})") from None
    if len(data) == 0:
        raise DomainDataError(path, "holds no audio samples (an empty clip)")
    return data[:, 0], int(rate)


def decode_audio(path: Path, params: AudioParams) -> np.ndarray:
    """(1, size, size) float16 log-mel dB: first channel, cropped or zero-padded to `samples`."""
    wave, rate = read_wave(path)
    if rate != params.rate:
        raise DomainDataError(
            path, f"has sample rate {rate} Hz, but the first clip has {params.rate} Hz (every clip must share one rate)"
        )
    clip = np.zeros(params.samples, dtype=np.float32)
    clip[: min(len(wave), params.samples)] = wave[: params.samples]
    padded = np.pad(clip, params.n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, params.n_fft)[:: params.hop][: params.size]
    spectrum = np.fft.rfft(frames * params.window, axis=1)  # (T, n_fft/2 + 1) complex64
    power = np.square(spectrum.real) + np.square(spectrum.imag)
    mel = power @ params.fbank  # (T, size)
    db = 10.0 * np.log10(np.maximum(mel, 1e-10))
    db = np.maximum(db, db.max() - TOP_DB)
    out = np.full((params.size, params.size), db.min(), dtype=np.float32)
    out[:, : len(db)] = db.T  # (mels, frames)
    return out[None].astype(np.float16)


def decode_series(path: Path) -> np.ndarray:
    """(L, C) float32 from an .npy ((L,) or (L, C)) or a CSV of numbers (a header line is skipped)."""
    try:
        if path.suffix.lower() == ".npy":
            array = np.load(path, allow_pickle=False)
        else:
            with open(path, encoding="utf-8-sig") as handle:
                first = handle.readline()
            header = any(c.isalpha() for c in first.replace("e", "").replace("E", "").replace("nan", ""))
            array = np.loadtxt(
                path, delimiter=",", skiprows=int(header), dtype=np.float32, ndmin=2, encoding="utf-8-sig"
            )
    except (FileNotFoundError, IsADirectoryError):
        raise DomainDataError(path, "is missing (the table names it)") from None
    except (ValueError, OSError, EOFError) as error:
        raise DomainDataError(path, f"cannot be read as a time series (.npy or CSV of numbers: {error})") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
        raise DomainDataError(
            path,
            f"must be a (length,) or (length, channels) array of numbers, but has shape "
            f"{array.shape} and dtype {array.dtype}",
        )
    return array.astype(np.float32)


def decode_chunk(kind: str, params: Any, paths: list[Path]) -> np.ndarray:
    """One chunk of rows as a stacked array (a pool task)."""
    if kind == "image":
        return np.stack([decode_image(p, *params) for p in paths])
    if kind == "audio":
        return np.stack([decode_audio(p, params) for p in paths])
    out = []
    for path in paths:
        series = decode_series(path)
        if series.shape != tuple(params):
            raise DomainDataError(
                path,
                f"has shape {series.shape}, but the first series has {tuple(params)} "
                "(every series must have the same length and channels)",
            )
        out.append(series)
    return np.stack(out)
