"""Speech: LibriSpeech 960h pretraining; LibriSpeech speakers, AudioMNIST, Speech Commands,
Fluent Speech (action/object/location) and VoxCeleb1 (1,251 speakers) transfer. Every item
is a 1x224x224 z-scored log-mel spectrogram, patch 16 (see audio.py for the exact transform).

LibriSpeech speakers (dev-clean, 40 speakers, DABS's per-speaker 80/20 split) is always
built; the other transfer sets are built when their files are present and skipped with a
warning otherwise (AudioMNIST, Fluent Speech and VoxCeleb1 need a manual download).
Validation splits: AudioMNIST uses DABS's own validation speakers, Speech Commands and
Fluent Speech their official validation lists, VoxCeleb1 its iden_split.txt (1 train,
2 val, 3 test); LibriSpeech speakers carves 10% of train per speaker.
"""

from __future__ import annotations

import hashlib

import numpy as np

from dabs_lib.datasets import speech_sources as src
from dabs_lib.datasets.audio import PARAMS, Clips, file_list_signature, spectrogram_builder
from dabs_lib.datasets.cache import ensure_processed
from dabs_lib.datasets.common import Source, make_task, optional_task, resolve_root, shrink
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.transforms import Standardize
from dabs_lib.domains.base import Domain, TransferTask
from dabs_lib.specs import Image2dSpec
from dabs_lib.datasets.cache import Processed
from pathlib import Path
from typing import Callable

SMOKE_CLIPS = 4  # smoke builds compute spectrograms of this many clips per list (per speaker / word / file)
SPEC = Image2dSpec(input_size=224, patch_size=16, in_channels=1)


def processed_clips(root: str | Path, source: Source, name: str, clips: Clips) -> Processed:
    labels_parts = hashlib.sha256(clips.labels.astype(np.int64).tobytes() + clips.parts.astype(np.int8).tobytes())
    params = {
        **PARAMS,
        "files": file_list_signature(clips.paths, source.folder(root)),
        "labels_parts": labels_parts.hexdigest()[:16],
    }
    return ensure_processed(root, source.name, name, params, spectrogram_builder(clips))


def _split(processed: Processed, name: str, part: int | None, column: int | None, smoke: bool) -> MemmapSplit:
    labels, parts = processed.load("labels", mmap=False), processed.load("parts", mmap=False)
    rows = np.arange(len(parts)) if part is None else np.flatnonzero(parts == part)
    values = labels[rows] if column is None else labels[rows, column]
    stats = Standardize((processed.meta["mean"],), (processed.meta["std"],))
    field = Field(str(processed.path("spectrograms")), transform=stats)
    return shrink(MemmapSplit(name, (field,), rows, values, processed.fingerprint), smoke)


def _official(
    processed: Processed, name: str, num_classes: int, smoke: bool, column: int | None = None
) -> TransferTask:
    """A task whose train/val/test are the dataset's parts 0/1/2."""
    train, val, test = (
        _split(processed, f"{name}/{p}", i, column, smoke) for i, p in enumerate(("train", "val", "test"))
    )
    return TransferTask(
        name=name, kind="multiclass", metric="accuracy", num_classes=num_classes, train=train, val=val, test=test
    )


def _listing(source: Source, lister: Callable[[Path, int | None], Clips], root: str | Path, smoke: bool) -> Clips:
    return lister(source.check(root), SMOKE_CLIPS if smoke else None)


def _audio_mnist(root: str | Path, smoke: bool) -> dict[str, TransferTask]:
    processed = processed_clips(
        root, src.AUDIO_MNIST, "spectrograms", _listing(src.AUDIO_MNIST, src.audio_mnist, root, smoke)
    )
    return {"audio_mnist": _official(processed, "audio_mnist", 10, smoke)}


def _speech_commands(root: str | Path, smoke: bool) -> dict[str, TransferTask]:
    clips = _listing(src.SPEECH_COMMANDS, src.speech_commands, root, smoke)
    processed = processed_clips(root, src.SPEECH_COMMANDS, "spectrograms", clips)
    return {"speech_commands": _official(processed, "speech_commands", len(src.SPEECH_COMMANDS_LABELS), smoke)}


def _fluent(root: str | Path, smoke: bool) -> dict[str, TransferTask]:
    clips = _listing(src.FLUENT_SPEECH, src.fluent_speech, root, smoke)
    processed = processed_clips(root, src.FLUENT_SPEECH, "spectrograms", clips)
    return {
        f"fluent_{key}": _official(processed, f"fluent_{key}", len(names), smoke, column)
        for column, (key, names) in enumerate(src.FLUENT_LABELS.items())
    }


def _voxceleb1(root: str | Path, smoke: bool) -> dict[str, TransferTask]:
    speakers, clips = src.voxceleb1(src.VOXCELEB1.check(root), SMOKE_CLIPS if smoke else None)
    processed = processed_clips(root, src.VOXCELEB1, "spectrograms", clips)
    return {"voxceleb1": _official(processed, "voxceleb1", len(speakers), smoke)}


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """LibriSpeech -> speakers (40), AudioMNIST (10), Speech Commands (36), Fluent Speech (6/14/4), VoxCeleb1 (1251)."""
    root = resolve_root(data_root)
    folder = src.LIBRISPEECH.check(root)
    limit = SMOKE_CLIPS if smoke else None
    pretrain_clips = src.librispeech_pretrain(folder, limit)
    pretrain = _split(
        processed_clips(root, src.LIBRISPEECH, "pretrain", pretrain_clips), "librispeech/pretrain", None, None, smoke
    )
    speakers = processed_clips(root, src.LIBRISPEECH, "dev-clean", src.librispeech_speakers(folder, limit))
    tasks = {
        "librispeech": make_task(
            "librispeech",
            "multiclass",
            "accuracy",
            int(speakers.load("labels", mmap=False).max()) + 1,
            _split(speakers, "librispeech/train", 0, None, smoke),
            _split(speakers, "librispeech/test", 2, None, smoke),
            seed,
        )
    }
    for source, builder in (
        (src.AUDIO_MNIST, _audio_mnist),
        (src.SPEECH_COMMANDS, _speech_commands),
        (src.FLUENT_SPEECH, _fluent),
        (src.VOXCELEB1, _voxceleb1),
    ):
        tasks.update(optional_task(builder, source, root, root, smoke) or {})
    return Domain(
        name="librispeech",
        specs=(SPEC,),
        pretrain=pretrain,
        tasks=tasks,
        pretrain_num_classes=int(pretrain_clips.labels.max()) + 1,
        supervised_task="librispeech",
        batch_size=64,
    )
