"""Miniature user domains in the formats researchers have, written by the tests (no download).

One writer per input kind plus a multi-input domain; each writes its data files and a domain
file into `folder` and returns the domain file. The tables carry the details real files have:
a UTF-8 byte-order mark and CRLF line ends (CSV), quoting, trailing blank lines.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile
from PIL import Image

WORDS = ("red", "blue", "green", "square", "disk", "big", "small", "left", "right")


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def images(folder: Path, per_class: int = 10) -> Path:
    """A folder per class of 12x12 RGB images, PNG and JPEG mixed."""
    rng = _rng()
    for c, bright in (("cat", 200), ("dog", 90)):
        (folder / "photos" / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = (rng.random((12, 12, 3)) * bright).astype(np.uint8)
            Image.fromarray(pixels).save(folder / "photos" / c / f"{i}.{'png' if i % 2 else 'jpg'}")
    path = folder / "pets.yaml"
    path.write_text(
        "name: pets\ninputs:\n  - {name: image, kind: image, patch_size: 4}\n"
        "data: {folder: photos}\ntasks:\n  - {name: species, label: folder}\n"
        "split: {val: 0.2, test: 0.2, seed: 1}\n"
    )
    return path


def audio(folder: Path, per_class: int = 8) -> Path:
    """A folder per class of 0.25 s clips at 8 kHz, WAV and FLAC mixed."""
    rng = _rng(1)
    t = np.arange(2000) / 8000
    for c, pitch in (("low", 300), ("high", 1500)):
        (folder / "clips" / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            wave = 0.5 * np.sin(2 * np.pi * (pitch + 25 * i) * t) + 0.01 * rng.normal(size=t.size)
            soundfile.write(folder / "clips" / c / f"{i}.{'wav' if i % 2 else 'flac'}", wave.astype(np.float32), 8000)
    path = folder / "tones.yaml"
    path.write_text(
        "name: tones\ninputs:\n  - {name: clip, kind: audio, size: 16, clip_seconds: 0.25}\n"
        "data: {folder: clips}\ntasks:\n  - {name: pitch, label: folder}\n"
    )
    return path


def series(folder: Path, rows: int = 36) -> Path:
    """An .npz of (N, 32, 2) series with an activity label per row."""
    rng = _rng(2)
    labels = np.arange(rows) % 3
    signal = rng.normal(size=(rows, 32, 2)).astype(np.float32) + labels[:, None, None]
    np.savez(folder / "motion.npz", signal=signal, activity=np.array(["walk", "run", "sit"])[labels])
    path = folder / "motion.yaml"
    path.write_text(
        "name: motion\ninputs:\n  - {name: signal, kind: timeseries, segment_size: 4}\n"
        "data: {array: motion.npz}\ntasks:\n  - {name: activity, label: activity}\n"
    )
    return path


def tabular(folder: Path, rows: int = 40) -> Path:
    """A Parquet table of 4 features and a yes/no target."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = _rng(3)
    target = np.arange(rows) % 2
    table = {f"f{j}": (rng.normal(size=rows) + target * j).tolist() for j in range(4)}
    table["target"] = ["yes" if t else "no" for t in target]
    pq.write_table(pa.table(table), folder / "measurements.parquet")
    path = folder / "measurements.yaml"
    path.write_text(
        "name: measurements\ninputs:\n  - {name: features, kind: tabular}\n"
        "data: {table: measurements.parquet}\n"
        "tasks:\n  - {name: target, kind: binary, label: target, classes: ['no', 'yes']}\n"
    )
    return path


def text(folder: Path, rows: int = 40) -> Path:
    """A TSV of texts and topics (BOM, CRLF), and an unlabelled plain-text corpus."""
    rng = _rng(4)
    lines = ["sentence\ttopic"] + [f"{' '.join(rng.choice(WORDS, 5))}\t{'ab'[i % 2]}" for i in range(rows)]
    (folder / "reviews.tsv").write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n\r\n").encode())
    (folder / "corpus.txt").write_text("\n".join(" ".join(rng.choice(WORDS, 6)) for _ in range(30)) + "\n\n")
    path = folder / "reviews.yaml"
    path.write_text(
        "name: reviews\ninputs:\n  - {name: sentence, kind: text, seq_len: 12, vocab_size: 100}\n"
        "data: {table: reviews.tsv}\nunlabelled: {text: corpus.txt}\n"
        "tasks:\n  - {name: topic, label: topic}\n"
    )
    return path


def multi(folder: Path, rows: int = 30) -> Path:
    """A CSV manifest: a grey image path and a quoted caption per row, splits given in a column."""
    rng = _rng(5)
    (folder / "pics").mkdir(parents=True, exist_ok=True)
    lines = ["image,caption,split,match"]
    for i in range(rows):
        Image.fromarray((rng.random((8, 8)) * 255).astype(np.uint8)).save(folder / "pics" / f"{i}.png")
        caption = ", ".join(rng.choice(WORDS, 4))
        lines.append(f'pics/{i}.png,"{caption}",{("train", "train", "val", "test", "train")[i % 5]},{i % 2}')
    (folder / "captions.csv").write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())
    path = folder / "captioned.yaml"
    path.write_text(
        "name: captioned\ninputs:\n  - {name: image, kind: image, channels: 1, patch_size: 4}\n"
        "  - {name: caption, kind: text, seq_len: 8, vocab_size: 100}\n"
        "data: {table: captions.csv}\nsplit: {column: split, min_rows_per_class: 1}\n"
        "tasks:\n  - {name: match, kind: binary, label: match}\n"
    )
    return path


def image_array(folder: Path, rows: int = 30) -> Path:
    """An .npz of (N, 8, 8) grey uint8 images (as MedMNIST ships them) and a label per row."""
    rng = _rng(5)
    labels = np.arange(rows) % 2
    pixels = (rng.random((rows, 8, 8)) * (60 + 120 * labels[:, None, None])).astype(np.uint8)
    np.savez(folder / "scans.npz", scan=pixels, finding=np.array(["clear", "lesion"])[labels])
    path = folder / "scans.yaml"
    path.write_text(
        "name: scans\ninputs:\n  - {name: scan, kind: image, channels: 1, patch_size: 2}\n"
        "data: {array: scans.npz}\ntasks:\n  - {name: finding, label: finding}\n"
        "split: {val: 0.2, test: 0.2}\n"
    )
    return path


WRITERS = {
    "image": images,
    "image_array": image_array,
    "audio": audio,
    "timeseries": series,
    "tabular": tabular,
    "text": text,
    "multi": multi,
}


def write(kind: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return WRITERS[kind](folder)


def jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
