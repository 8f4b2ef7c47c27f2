"""Preparing a user's domain: rows per second and peak extra memory, side by side with built-in CIFAR-10.

For each kind (image: 32x32 RGB PNGs in class folders; audio: 1 s 16 kHz WAV clips -> 64x64
log-mel; text: a CSV of 12-word sentences, WordPiece trained on them) and each size, the data
are written first (not timed), then a fresh child process prepares the domain once
(dabs_lib.userdomain.prepare.prepare) and reports seconds and peak extra memory: the child's
peak resident set (VmHWM) minus its resident set after imports (the two decoding threads included).
`cifar10_small` builds the built-in
CIFAR-10 (pickled 32x32 rows, miniature files in the real format) of the same size the same
way, so rows/s compare in one run (imports are paid before the clock starts). Then `domain check
--no-cost` on the prepared image domain of the largest size is timed (a cached, verified domain).

    nice -n 19 .venv/bin/python bench/domain_prep.py --sizes 1000,10000 --out bench_out/domain_prep.md
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


def write_cifar(folder: Path, rows: int) -> Path:
    from tests.dabs_lib.datasets.miniature import write_cifar as write

    write(folder, per_batch=rows * 5 // 6 // 5, test=rows // 6)
    return folder


WRITERS = {"image": write_images, "audio": write_audio, "text": write_text, "cifar10_small": write_cifar}


def _rss(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


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
    base = _rss("VmRSS")
    start = time.perf_counter()
    if kind == "cifar10_small":
        get_domain("cifar10_small", data_root=target)
    else:
        prepare(target, root)
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_extra": _rss("VmHWM") - base}))


def _measure(kind: str, target: Path, root: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(target), str(root)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--kinds", default="image,cifar10_small,audio,text")
    parser.add_argument("--out", default="")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    rows, check_target = [], None
    with tempfile.TemporaryDirectory(prefix="domain_prep_") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            for kind in args.kinds.split(","):
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
                        "peak extra MB": result["peak_extra"] / 2**20,
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


if __name__ == "__main__":
    main()
