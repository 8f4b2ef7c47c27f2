"""Where each speech dataset lives and how its files, labels and splits are listed.

Every lister returns `Clips` (paths, labels, parts) in a fixed order; parts follow each
dataset's official or DABS split: 0 train, 1 val, 2 test (DABS's "val"), 3 pretraining.
VoxCeleb1 follows its official `iden_split.txt` (1 train, 2 val, 3 test); DABS trained on
1 and 2 and reported 3 as "val".
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from dabs_lib.datasets.audio import Clips
from dabs_lib.datasets.errors import DatasetFileError, not_a_file
from dabs_lib.datasets.splits import DABS_SEED
from dabs_lib.datasets.textfiles import raw_lines, read_text, text_lines
from dabs_lib.datasets.catalog_speech import (  # noqa: F401 (the sources, re-exported for speech.py)
    AUDIO_MNIST,
    FLUENT_SPEECH,
    LIBRISPEECH,
    PRETRAIN_SUBSETS,
    SPEECH_COMMANDS,
    VOXCELEB1,
)

_log = logging.getLogger(__name__)

# DABS's speaker lists for AudioMNIST (its own train/val/test split of the 60 speakers).
AUDIO_MNIST_SPEAKERS = {
    0: (
        28,
        56,
        7,
        19,
        35,
        1,
        6,
        16,
        23,
        34,
        46,
        53,
        36,
        57,
        9,
        24,
        37,
        2,
        8,
        17,
        29,
        39,
        48,
        54,
        43,
        58,
        14,
        25,
        38,
        3,
        10,
        20,
        30,
        40,
        49,
        55,
    ),
    1: (12, 47, 59, 15, 27, 41, 4, 11, 21, 31, 44, 50),
    2: (26, 52, 60, 18, 32, 42, 5, 13, 22, 33, 45, 51),
}
SPEECH_COMMANDS_LABELS = (
    "eight",
    "right",
    "happy",
    "three",
    "yes",
    "up",
    "no",
    "stop",
    "on",
    "four",
    "nine",
    "zero",
    "down",
    "go",
    "six",
    "two",
    "left",
    "five",
    "off",
    "seven",
    "one",
    "cat",
    "bird",
    "marvin",
    "wow",
    "tree",
    "dog",
    "sheila",
    "bed",
    "house",
    "follow",
    "visual",
    "backward",
    "forward",
    "learn",
    "_background_noise_",
)
FLUENT_LABELS = {
    "action": ("change language", "activate", "deactivate", "increase", "decrease", "bring"),
    "object": (
        "none",
        "music",
        "lights",
        "volume",
        "heat",
        "lamp",
        "newspaper",
        "juice",
        "socks",
        "shoes",
        "Chinese",
        "Korean",
        "English",
        "German",
    ),
    "location": ("none", "kitchen", "bedroom", "washroom"),
}


def librispeech_utterances(subset_dir: Path) -> list[Path]:
    """FLAC files listed by every chapter's `<speaker>-<chapter>.trans.txt`, sorted by utterance id."""
    paths = []
    for transcript in subset_dir.glob("*/*/*.trans.txt"):
        lines = list(text_lines(transcript))
        if not lines:  # the release never ships one; skipping it would silently drop a chapter (or a speaker)
            raise DatasetFileError(
                transcript,
                "is empty, but every LibriSpeech chapter's transcript lists its utterances (truncated extraction?)",
                "Extract the subset's archive again.",
            )
        for line in lines:
            path = transcript.parent / f"{line.split(' ', 1)[0]}.flac"
            if path.is_dir():
                raise not_a_file(path, f"the FLAC file {transcript.name} lists")
            if not path.is_file():
                raise DatasetFileError(path, f"is listed in {transcript.name} but missing (incomplete extraction)")
            paths.append(path)
    if not paths:
        raise DatasetFileError(subset_dir, "holds no <speaker>/<chapter>/*.trans.txt with utterances")
    return sorted(paths, key=lambda p: p.stem)


def _speakers(paths: list[Path]) -> np.ndarray:
    return np.array([int(p.stem.split("-")[0]) for p in paths])


def librispeech_pretrain(folder: Path, limit: int | None) -> Clips:
    paths = [p for s in PRETRAIN_SUBSETS for p in librispeech_utterances(folder / "LibriSpeech" / s)[:limit]]
    _, labels = np.unique(_speakers(paths), return_inverse=True)
    return Clips(paths, labels, np.full(len(paths), 3))


def librispeech_speakers(folder: Path, limit: int | None) -> Clips:
    """dev-clean, split per speaker 80/20 exactly as DABS (RandomState(42), speakers in sorted order)."""
    paths = librispeech_utterances(folder / "LibriSpeech" / "dev-clean")
    speakers = _speakers(paths)
    if limit:
        keep = np.concatenate([np.flatnonzero(speakers == s)[:limit] for s in np.unique(speakers)])
        paths, speakers = [paths[i] for i in sorted(keep)], speakers[np.sort(keep)]
    parts, rng = np.full(len(paths), 2), np.random.RandomState(DABS_SEED)
    for speaker in np.unique(speakers):
        members = np.where(speakers == speaker)[0]
        rng.shuffle(members)
        parts[members[: int(0.8 * len(members))]] = 0
    return Clips(paths, np.unique(speakers, return_inverse=True)[1], parts)


def audio_mnist(folder: Path, limit: int | None) -> Clips:
    paths, labels, parts = [], [], []
    for part, speakers in AUDIO_MNIST_SPEAKERS.items():
        for speaker in speakers:
            files = sorted((folder / "AudioMNIST" / "data" / f"{speaker:02d}").glob("*.wav"))[:limit]
            paths += files
            labels += [int(f.name.split("_")[0]) for f in files]
            parts += [part] * len(files)
    if not paths:
        raise DatasetFileError(folder / "AudioMNIST" / "data", "holds no <speaker>/<digit>_<speaker>_<n>.wav files")
    return Clips(paths, np.array(labels), np.array(parts))


def speech_commands(folder: Path, limit: int | None) -> Clips:
    """Official lists: validation_list.txt -> val, testing_list.txt -> test, the rest -> train."""
    lists = {
        part: set(read_text(folder / name).split())
        for part, name in ((1, "validation_list.txt"), (2, "testing_list.txt"))
    }
    paths, labels, parts = [], [], []
    for label, word in enumerate(SPEECH_COMMANDS_LABELS):
        files = sorted((folder / word).glob("*.wav"))
        if not files:
            _log.warning("speech_commands: no clips for %r in %s", word, folder)
        for path in files[:limit]:
            rel = f"{word}/{path.name}"
            paths.append(path)
            labels.append(label)
            parts.append(1 if rel in lists[1] else 2 if rel in lists[2] else 0)
    return Clips(paths, np.array(labels), np.array(parts))


def fluent_speech(folder: Path, limit: int | None) -> Clips:
    """The three official CSVs; labels (N, 3) = action, object, location indices."""
    base = folder / "fluent_speech_commands_dataset"
    paths, labels, parts = [], [], []
    for part, name in enumerate(("train", "valid", "test")):
        csv = base / "data" / f"{name}_data.csv"
        try:
            frame = pd.read_csv(csv).head(limit)
            rows = [
                [FLUENT_LABELS[k].index(v) for k, v in zip(FLUENT_LABELS, r)]
                for r in frame[list(FLUENT_LABELS)].itertuples(index=False)
            ]
        except (KeyError, ValueError, pd.errors.ParserError) as error:
            raise DatasetFileError(
                csv, f"must have columns path, action, object, location with known values ({error})"
            ) from error
        paths += [base / p for p in frame["path"]]
        labels += rows
        parts += [part] * len(frame)
    return Clips(paths, np.array(labels).reshape(-1, 3), np.array(parts))


def _iden_split(path: Path) -> list[tuple[int, str]]:
    """(part 0/1/2, "id10001/<youtube id>/00001.wav") per line of VoxCeleb1's iden_split.txt."""
    rows = []
    for number, line in enumerate(raw_lines(path), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[0] not in ("1", "2", "3") or fields[1].count("/") != 2:
            raise DatasetFileError(
                path, f"line {number} must be '<1|2|3> <speaker>/<video>/<clip>.wav', but got {line!r}"
            )
        rows.append((int(fields[0]) - 1, fields[1]))
    if not rows:
        raise DatasetFileError(path, "lists no clips")
    return rows


def voxceleb1(folder: Path, limit: int | None) -> tuple[list[str], Clips]:
    """(every speaker of iden_split.txt, sorted; its clips), labels indexing the sorted speakers.
    `limit` keeps the first clips of each part (the speakers stay all 1,251)."""
    rows = _iden_split(folder / "iden_split.txt")
    speakers = sorted({rel.split("/")[0] for _, rel in rows})
    if limit:
        rows = [row for part in range(3) for row in [r for r in rows if r[0] == part][:limit]]
    paths = [folder / "wav" / rel for _, rel in rows]
    missing = next((p for p in paths if not p.is_file()), None)
    if missing is not None:
        raise DatasetFileError(missing, "is listed in iden_split.txt but missing (incomplete extraction)")
    index = {speaker: i for i, speaker in enumerate(speakers)}
    labels = np.array([index[rel.split("/")[0]] for _, rel in rows])
    return speakers, Clips(paths, labels, np.array([part for part, _ in rows]))
