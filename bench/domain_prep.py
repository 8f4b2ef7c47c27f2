"""Preparing a user's domain: rows per second and peak extra memory, side by side with the built-ins.

For each kind and size the data are written first (not timed), then a fresh child process
prepares the domain once (dabs_lib.userdomain.prepare.prepare, or get_domain for a built-in) and
reports seconds and peak extra memory after imports (imports are paid before the clock starts,
as by a long-lived driver): the peak of anonymous memory (RssAnon, sampled every 10 ms: the
working memory) and VmHWM (which also counts the written memory-mapped output's pages).

Like with like, in one run:
- `image` (32x32 RGB PNGs in class folders: PNG decoding) and `image_npz` (the same pixels as a
  uint8 .npz) against built-in `cifar10_small` (CIFAR-10's pickled arrays, miniature files in the
  real format);
- `audio_libri` (a user's FLAC clips, 150,526 samples kept, 224x224 log-mel) against built-in
  `librispeech` (the same clips in LibriSpeech's layout), at `--libri-sizes` (10 s clips: large);
- `audio` (1 s WAV -> 64x64 log-mel) and `text` (a CSV of 12-word sentences, WordPiece trained
  on them) at every size.
Then `domain check --no-cost` on the prepared image domain of the largest size is timed.

    nice -n 19 .venv/bin/python bench/domain_prep.py --sizes 1000,10000,50000 --libri-sizes 1000 \
        --out bench_out/domain_prep.md
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_tables import markdown  # noqa: E402 (after the sys.path line)

WORDS = [f"w{i}" for i in range(300)]


def write_images(folder: Path, rows: int) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(rows):
        target = folder / "photos" / f"c{i % 10}"
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(target / f"{i}.png")
    (folder / "d.yaml").write_text(
        "name: bench_images\ninputs:\n  - {name: x, kind: image, patch_size: 4}\n"
        "data: {folder: photos}\ntasks:\n  - {name: y, label: folder}\n"
    )
    return folder / "d.yaml"


def write_audio(folder: Path, rows: int) -> Path:
    import soundfile

    rng = np.random.default_rng(0)
    for i in range(rows):
        target = folder / "clips" / f"c{i % 10}"
        target.mkdir(parents=True, exist_ok=True)
        soundfile.write(target / f"{i}.wav", rng.normal(0, 0.1, 16000).astype(np.float32), 16000)
    (folder / "d.yaml").write_text(
        "name: bench_audio\ninputs:\n  - {name: x, kind: audio, size: 64}\n"
        "data: {folder: clips}\ntasks:\n  - {name: y, label: folder}\n"
    )
    return folder / "d.yaml"


def write_text(folder: Path, rows: int) -> Path:
    rng = np.random.default_rng(0)
    lines = ["x,y"] + [f"{' '.join(rng.choice(WORDS, 12))},c{i % 10}" for i in range(rows)]
    (folder / "rows.csv").write_text("\n".join(lines) + "\n")
    (folder / "d.yaml").write_text(
        "name: bench_text\ninputs:\n  - {name: x, kind: text, seq_len: 32}\n"
        "data: {table: rows.csv}\ntasks:\n  - {name: y, label: y}\n"
    )
    return folder / "d.yaml"


def write_table(folder: Path, rows: int) -> Path:
    """A CSV as researchers' tables come: 20 numbers, 3 columns of categories, 5% of the cells missing."""
    rng = np.random.default_rng(0)
    numbers = rng.normal(size=(rows, 20)).round(4).astype(str)
    categories = np.stack([rng.choice(list("abcdefgh"[: 3 + k]), rows) for k in range(3)], axis=1)
    cells = np.concatenate([numbers, categories], axis=1)
    cells[rng.random(cells.shape) < 0.05] = ""
    header = [f"n{j}" for j in range(20)] + ["c0", "c1", "c2", "y"]
    lines = [",".join(header)] + [",".join(row) + f",k{i % 10}" for i, row in enumerate(cells.tolist())]
    (folder / "rows.csv").write_text("\n".join(lines) + "\n")
    (folder / "d.yaml").write_text(
        "name: bench_table\ninputs:\n  - {name: x, kind: tabular, categorical: [c0, c1, c2], missing: mean}\n"
        "data: {table: rows.csv}\ntasks:\n  - {name: y, label: y}\n"
    )
    return folder / "d.yaml"


def write_image_npz(folder: Path, rows: int) -> Path:
    """The same 32x32 RGB pixels as one uint8 .npz with labels: arrays in, as CIFAR-10's pickles are."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (rows, 32, 32, 3), dtype=np.uint8)
    np.savez(folder / "images.npz", x=pixels, y=np.array([f"c{i % 10}" for i in range(rows)]))
    (folder / "d.yaml").write_text(
        "name: bench_npz\ninputs:\n  - {name: x, kind: image, patch_size: 4}\n"
        "data: {array: images.npz}\ntasks:\n  - {name: y, label: y}\n"
    )
    return folder / "d.yaml"


LIBRI_SECONDS = 10.0  # longer than the 150,526 samples (9.4 s) the built-in keeps: every clip is cut, none padded


def _libri_wave(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0, 0.1, round(LIBRI_SECONDS * 16000)).astype(np.float32)


def write_librispeech(folder: Path, rows: int) -> Path:
    """The built-in LibriSpeech layout (FLAC + transcripts): 1 utterance in each of the three
    pretraining subsets' required folders, the rest half in train-clean-100, half in dev-clean."""
    import soundfile

    rng = np.random.default_rng(0)
    base = folder / "librispeech" / "LibriSpeech"
    plan = {"train-clean-360": 1, "train-other-500": 1, "train-clean-100": (rows - 2) // 2}
    plan["dev-clean"] = rows - sum(plan.values())
    for subset, count in plan.items():
        for speaker in range(2):
            uids = [f"{100 + speaker}-7-{u:04d}" for u in range(speaker, count, 2)]
            if not uids:
                continue
            chapter = base / subset / str(100 + speaker) / "7"
            chapter.mkdir(parents=True, exist_ok=True)
            for uid in uids:
                soundfile.write(chapter / f"{uid}.flac", _libri_wave(rng), 16000, format="FLAC")
            (chapter / f"{100 + speaker}-7.trans.txt").write_text("".join(f"{u} HELLO\n" for u in uids))
    return folder


def write_audio_libri(folder: Path, rows: int) -> Path:
    """A user's audio domain like the built-in LibriSpeech: the same FLAC clips, the same 150,526
    samples kept (9.41 s), a 224x224 log-mel per clip."""
    import soundfile

    rng = np.random.default_rng(0)
    for i in range(rows):
        target = folder / "clips" / f"c{i % 2}"
        target.mkdir(parents=True, exist_ok=True)
        soundfile.write(target / f"{i}.flac", _libri_wave(rng), 16000, format="FLAC")
    (folder / "d.yaml").write_text(
        "name: bench_libri\ninputs:\n  - {name: x, kind: audio, size: 224, clip_seconds: 9.408, patch_size: 16}\n"
        "data: {folder: clips}\ntasks:\n  - {name: y, label: folder}\n"
    )
    return folder / "d.yaml"


def write_cifar(folder: Path, rows: int) -> Path:
    from tests.dabs_lib.datasets.miniature import write_cifar as write

    write(folder, per_batch=rows * 5 // 6 // 5, test=rows // 6)
    return folder


WRITERS = {
    "image": write_images,
    "image_npz": write_image_npz,
    "cifar10_small": write_cifar,
    "audio": write_audio,
    "text": write_text,
    "table": write_table,
    "audio_libri": write_audio_libri,
    "librispeech": write_librispeech,
}
LIBRI_KINDS = ("audio_libri", "librispeech")
BUILT_IN = ("cifar10_small", "librispeech")  # prepared by get_domain(kind, data_root=folder)


def _rss(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


class PeakAnon:
    """The peak of RssAnon (anonymous memory: arrays, buffers) sampled every 10 ms. VmHWM also
    counts the pages of the memory-mapped output files the preparation writes (page cache the
    kernel can drop), so it grows with the rows even when the working memory does not."""

    def __init__(self) -> None:
        import threading

        self.peak, self.done = _rss("RssAnon"), threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.done.wait(0.01):
            self.peak = max(self.peak, _rss("RssAnon"))

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return max(self.peak, _rss("RssAnon"))


def child(kind: str, target: str, root: str) -> None:
    """Prepare once in this fresh process; print seconds and peak extra bytes as JSON."""
    import tokenizers  # noqa: F401  (imports paid before the clock starts, as by a long-lived driver)
    import torchaudio  # noqa: F401

    import dabs_lib.datasets.cifar  # noqa: F401
    from dabs_lib.domains import get_domain
    from dabs_lib.userdomain.prepare import prepare

    if kind == "check":
        import run_search

        start = time.perf_counter()
        assert run_search.main(["domain", "check", target, "--no-cost", "--data-root", root]) == 0
        print(json.dumps({"seconds": time.perf_counter() - start, "peak_extra": 0}))
        return
    base, base_anon = _rss("VmRSS"), _rss("RssAnon")
    anon = PeakAnon()
    start = time.perf_counter()
    if kind in BUILT_IN:
        get_domain(kind, data_root=target)
    else:
        prepare(target, root)
    seconds = time.perf_counter() - start
    peak_anon = anon.stop() - base_anon
    print(json.dumps({"seconds": seconds, "peak_extra": _rss("VmHWM") - base, "peak_anon": peak_anon}))


def _measure(kind: str, target: Path, root: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(target), str(root)], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode:
        raise SystemExit(f"{kind} at {target}: {(done.stderr.strip().splitlines() or ['no message'])[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--kinds", default="image,image_npz,cifar10_small,audio,text")
    parser.add_argument("--libri-sizes", default="500", help="sizes of audio_libri vs librispeech ('' for none)")
    parser.add_argument("--out", default="")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    rows, check_target = [], None
    with tempfile.TemporaryDirectory(prefix="domain_prep_") as tmp:
        plan = [(int(size), kind) for size in args.sizes.split(",") for kind in args.kinds.split(",")]
        plan += [(int(size), k) for size in filter(None, args.libri_sizes.split(",")) for k in LIBRI_KINDS]
        for size, kind in plan:
            folder = Path(tmp) / f"{kind}-{size}"
            folder.mkdir()
            target = WRITERS[kind](folder, size)
            result = _measure(kind, target, folder / "root")
            rows.append(
                {
                    "kind": kind,
                    "rows": size,
                    "seconds": result["seconds"],
                    "rows/s": size / result["seconds"],
                    "peak extra RSS MB": result["peak_extra"] / 2**20,
                    "peak extra anon MB": result.get("peak_anon", 0) / 2**20,
                }
            )
            print(markdown(rows[-1:]), flush=True)
            if kind == "image":
                check_target = (target, folder / "root")
        table = markdown(rows)
        if check_target is not None:
            seconds = _measure("check", *check_target)["seconds"]
            table += (
                f"\n\n`domain check --no-cost` on the prepared {args.sizes.split(',')[-1]}-row image domain: "
                f"{seconds:.1f} s (imports excluded)"
            )
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
